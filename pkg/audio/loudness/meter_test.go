package loudness_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/r128ref"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/audio/loudness"
)

// tone returns frames of a sine at freq Hz and dBFS peak level on every channel.
func tone(rate, channels int, seconds, freq, dbfs float64) []float32 {
	return testutil.Sine(int(seconds*float64(rate)), rate, channels, freq, audio.DBToAmp(dbfs))
}

func measure(samples []float32, rate, channels int) *loudness.Meter {
	m := loudness.NewMeter(audio.Format{SampleRate: rate, Channels: channels})
	// Odd-sized writes, so block boundaries fall inside writes.
	for len(samples) > 0 {
		n := min(len(samples), 997*channels)
		m.Write(samples[:n])
		samples = samples[n:]
	}
	return m
}

func cat(parts ...[]float32) []float32 {
	var out []float32
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestTech3341 runs the EBU Tech 3341 (2016) §4 minimum requirement signals that can be synthesised:
// stereo 1 kHz sines must read the stated loudness within ±0.1 LU.
func TestTech3341(t *testing.T) {
	const r = 48000
	cases := []struct {
		name string
		in   []float32
		want float64
	}{
		{"case 1: 1 kHz at −23 dBFS on both channels reads −23.0 LUFS", tone(r, 2, 20, 1000, -23), -23},
		{"case 2: 1 kHz at −33 dBFS reads −33.0 LUFS", tone(r, 2, 20, 1000, -33), -33},
		{"case 3: −36, −23, −36 dBFS for 10, 60, 10 s reads −23.0 LUFS (relative gate drops the quiet parts)",
			cat(tone(r, 2, 10, 1000, -36), tone(r, 2, 60, 1000, -23), tone(r, 2, 10, 1000, -36)), -23},
		{"case 4: −72, −36, −23, −36, −72 dBFS reads −23.0 LUFS (absolute gate drops −72)",
			cat(tone(r, 2, 10, 1000, -72), tone(r, 2, 10, 1000, -36), tone(r, 2, 60, 1000, -23),
				tone(r, 2, 10, 1000, -36), tone(r, 2, 10, 1000, -72)), -23},
		{"44.1 kHz: 1 kHz at −23 dBFS still reads −23.0 LUFS (K-weighting designed for the rate)",
			tone(44100, 2, 20, 1000, -23), -23},
		{"mono 1 kHz at −23 dBFS reads −26.0 LUFS: one channel, not dual mono", tone(r, 1, 20, 1000, -23), -26.01},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rate := r
			if len(tc.name) > 3 && tc.name[:3] == "44." {
				rate = 44100
			}
			ch := 2
			if tc.name[:4] == "mono" {
				ch = 1
			}
			got := measure(tc.in, rate, ch).Integrated()
			if math.Abs(got-tc.want) > 0.1 {
				t.Fatalf("integrated %.3f LUFS, want %.1f ± 0.1", got, tc.want)
			}
		})
	}
}

// TestTech3342 runs the EBU Tech 3342 (2016) §3 loudness-range signals: stereo 1 kHz tones in steps.
// The requirement is ±1 LU.
func TestTech3342(t *testing.T) {
	const r = 48000
	seq := func(levels ...float64) []float32 {
		var out []float32
		for _, l := range levels {
			out = append(out, tone(r, 2, 20, 1000, l)...)
		}
		return out
	}
	cases := []struct {
		name string
		in   []float32
		want float64
	}{
		{"case 1: −20 then −30 dBFS gives 10 LU", seq(-20, -30), 10},
		{"case 2: −20 then −15 dBFS gives 5 LU", seq(-20, -15), 5},
		{"case 3: −40 then −20 dBFS gives 20 LU", seq(-40, -20), 20},
		{"case 4: −50, −35, −20, −35, −50 dBFS gives 15 LU (the −50 parts fall under the relative gate)",
			seq(-50, -35, -20, -35, -50), 15},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := measure(tc.in, r, 2).Range(); math.Abs(got-tc.want) > 1 {
				t.Fatalf("LRA %.2f LU, want %.0f ± 1", got, tc.want)
			}
		})
	}
}

func TestPeaksAndEdges(t *testing.T) {
	// A sine at a quarter of the sample rate, phase 45°: samples sit 3.01 dB under the wave's crest.
	n := 48000
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(math.Pi/2*float64(i)+math.Pi/4))
	}
	m := measure(x, 48000, 1)
	if sp := m.SamplePeak(); math.Abs(sp-(-6.02-3.01)) > 0.01 {
		t.Errorf("sample peak %.3f dBFS, want −9.03", sp)
	}
	// Tech 3341 §5 allows +0.2/−0.4 dB for true peak.
	if tp := m.TruePeak(); tp > -6.02+0.2 || tp < -6.02-0.4 {
		t.Errorf("true peak %.3f dBTP, want −6.02 (+0.2/−0.4)", tp)
	}

	silent := measure(make([]float32, 2*48000*5), 48000, 2)
	if !math.IsInf(silent.Integrated(), -1) || silent.Range() != 0 || silent.SilenceShare() != 1 ||
		!math.IsInf(silent.TruePeak(), -1) {
		t.Errorf("digital silence: I %v, LRA %v, silence share %v, TP %v; want −Inf, 0, 1, −Inf",
			silent.Integrated(), silent.Range(), silent.SilenceShare(), silent.TruePeak())
	}
	short := measure(tone(48000, 2, 0.3, 1000, -20), 48000, 2)
	if !math.IsInf(short.Integrated(), -1) {
		t.Errorf("300 ms is shorter than one gating block but reads %v LUFS", short.Integrated())
	}
	// 5 s of tone then 5 s of silence: 100 steps of 100 ms give 97 blocks of 400 ms; the 50 that end
	// on steps 4 to 53 hold some tone, the 47 ending on steps 54 to 100 are silent.
	half := measure(cat(tone(48000, 1, 5, 1000, -20), make([]float32, 5*48000)), 48000, 1)
	if got, want := half.SilenceShare(), 47.0/97; math.Abs(got-want) > 1e-9 {
		t.Errorf("silence share %v, want %v (47 of 97 blocks)", got, want)
	}
}

// speech makes a spoken sentence with espeak-ng and returns it at rate Hz, mono.
func speech(t *testing.T, rate int, text, voice string) []float32 {
	t.Helper()
	wav := filepath.Join(t.TempDir(), "speech.wav")
	testutil.Run(t, "espeak-ng", "-v", voice, "-w", wav, text)
	return testutil.FFmpegDecode(t, wav, rate, 1)
}

const (
	sentence1 = "Recording a live audio room is harder than it looks. Every speaker arrives on a separate " +
		"track, some join late, some drop out, and the host wants a clean episode an hour later."
	sentence2 = "Loudness is measured in three steps: a filter that weights frequencies like the ear, " +
		"blocks of four hundred milliseconds, and two gates that ignore the pauses."
)

// TestAgainstFFmpeg compares the meter with ffmpeg's ebur128 on speech and tones, mono and stereo,
// 44.1 and 48 kHz: within 0.1 LU integrated, 0.1 dB true peak and 0.5 LU range.
func TestAgainstFFmpeg(t *testing.T) {
	testutil.Require(t, "ffmpeg")
	testutil.Require(t, "espeak-ng")
	stereoSpeech := func(rate int) []float32 {
		a, b := speech(t, rate, sentence1, "en"), speech(t, rate, sentence2, "en-us")
		out := make([]float32, 2*max(len(a), len(b)))
		for i, v := range a {
			out[2*i] = v
		}
		for i, v := range b {
			out[2*i+1] = 0.6 * v
		}
		return out
	}
	// hot speech: 10 dB of gain, so true peaks lie over full scale like an unlimited normalisation.
	hot := func(x []float32) []float32 {
		g := float32(audio.DBToAmp(10))
		out := make([]float32, len(x))
		for i, v := range x {
			out[i] = v * g
		}
		return out
	}
	cases := []struct {
		name     string
		rate, ch int
		in       func() []float32
	}{
		{"mono speech at 48 kHz", 48000, 1, func() []float32 { return speech(t, 48000, sentence1, "en") }},
		{"mono speech at 44.1 kHz", 44100, 1, func() []float32 { return speech(t, 44100, sentence2, "en") }},
		{"stereo speech, different sentences per side, 48 kHz", 48000, 2, func() []float32 { return stereoSpeech(48000) }},
		{"stereo speech at 44.1 kHz, 10 dB hot", 44100, 2, func() []float32 { return hot(stereoSpeech(44100)) }},
		{"stereo tones, 100 Hz then 5 kHz, 48 kHz", 48000, 2, func() []float32 {
			return cat(tone(48000, 2, 6, 100, -12), tone(48000, 2, 6, 5000, -30))
		}},
		{"mono tones, 440 Hz then 9 kHz, 44.1 kHz", 44100, 1, func() []float32 {
			return cat(tone(44100, 1, 6, 440, -18), tone(44100, 1, 6, 9000, -8))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in()
			m := measure(in, tc.rate, tc.ch)
			ref := r128ref.Measure(t, in, tc.rate, tc.ch)
			t.Logf("I %.3f / ffmpeg %.3f LUFS, LRA %.2f / %.2f LU, TP %.3f / %.3f dBTP",
				m.Integrated(), ref.Integrated, m.Range(), ref.Range, m.TruePeak(), ref.TruePeak)
			if d := m.Integrated() - ref.Integrated; math.Abs(d) > 0.1 {
				t.Errorf("integrated %.3f LUFS, ffmpeg %.3f: off by %.3f LU", m.Integrated(), ref.Integrated, d)
			}
			if d := m.TruePeak() - ref.TruePeak; math.Abs(d) > 0.1 {
				t.Errorf("true peak %.3f dBTP, ffmpeg %.3f: off by %.3f dB", m.TruePeak(), ref.TruePeak, d)
			}
			if d := m.Range() - ref.Range; math.Abs(d) > 0.5 {
				t.Errorf("LRA %.2f LU, ffmpeg %.2f: off by %.2f LU", m.Range(), ref.Range, d)
			}
		})
	}
}

// IntegratedFromSteps on a stream's own steps must give what the meter gives: the same blocks,
// the same gates.
func TestIntegratedFromStepsMatchesMeter(t *testing.T) {
	f := audio.Format{SampleRate: 48000, Channels: 1}
	m := loudness.NewMeter(f)
	m.KeepSteps()
	sig := testutil.Chirp(48000*7, 48000, 0.3)
	for i := 48000 * 2; i < 48000*3; i++ {
		sig[i] *= 0.01 // a quiet second the relative gate must drop
	}
	m.Write(sig)
	want := m.Integrated()
	got := loudness.IntegratedFromSteps(m.Steps())
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("IntegratedFromSteps = %.6f LUFS, meter says %.6f", got, want)
	}
	// Two uncorrelated streams that never overlap: the sum of their steps is their mix's steps.
	a, b := loudness.NewMeter(f), loudness.NewMeter(f)
	a.KeepSteps()
	b.KeepSteps()
	x := testutil.Chirp(48000*4, 48000, 0.3)
	silence := make([]float32, 48000*4)
	a.Write(append(append([]float32{}, x...), silence...))
	b.Write(append(append([]float32{}, silence...), x...))
	mix := loudness.NewMeter(f)
	mix.Write(append(append([]float32{}, x...), x...))
	sum := make([]float64, len(a.Steps()))
	for i := range sum {
		sum[i] = a.Steps()[i] + b.Steps()[i]
	}
	if got, want := loudness.IntegratedFromSteps(sum), mix.Integrated(); math.Abs(got-want) > 0.05 {
		t.Errorf("summed steps give %.3f LUFS, the mix measures %.3f", got, want)
	}
}
