package audio_test

import (
	"io"
	"math"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/r128ref"
	"github.com/spacecast/spacecast/pkg/audio"
)

// slice is a minimal in-memory stream for the external tests.
type slice struct {
	f    audio.Format
	data []float32
}

func (s *slice) Format() audio.Format { return s.f }
func (s *slice) Len() int64           { return int64(len(s.data) / s.f.Channels) }
func (s *slice) Read(p []float32) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// speech returns a hot speech-like test signal: a log chirp with noise, shaped into 4 Hz
// "syllables" with pauses, scaled by gainDB; stereo has a quieter, slightly different right channel.
func speech(rate, channels, frames int, gainDB float64) []float32 {
	c := testutil.Chirp(frames, rate, 0.9)
	g := audio.DBToAmp(gainDB)
	out := make([]float32, frames*channels)
	for i, v := range c {
		env := math.Max(0, math.Sin(2*math.Pi*4*float64(i)/float64(rate)))
		x := float32(float64(v) * env * g)
		out[i*channels] = x
		if channels == 2 {
			prev := float32(0)
			if i > 0 {
				prev = c[i-1]
			}
			out[i*channels+1] = float32(float64(0.7*v+0.2*prev) * env * g)
		}
	}
	return out
}

func TestLimiterCeiling(t *testing.T) {
	testutil.Require(t, "ffmpeg")
	testutil.Require(t, "espeak-ng")
	espeak := func(rate int, gainDB float64) []float32 {
		wav := filepath.Join(t.TempDir(), "speech.wav")
		testutil.Run(t, "espeak-ng", "-w", wav, "Speech pushed twelve decibels hot, so that every vowel "+
			"peaks over full scale, must come out of the limiter under its ceiling.")
		x := testutil.FFmpegDecode(t, wav, rate, 1)[:4*rate]
		g := float32(audio.DBToAmp(gainDB))
		for i := range x {
			x[i] *= g
		}
		return x
	}
	cases := []struct {
		name     string
		rate, ch int
		ceiling  float64
		in       func(rate, ch int) []float32
	}{
		{"stereo speech-like chirp 8 dB over full scale held under −1 dBTP", 48000, 2, -1,
			func(r, c int) []float32 { return speech(r, c, 4*r, 8) }},
		{"mono 44.1 kHz speech-like chirp 8 dB hot held under −2 dBTP", 44100, 1, -2,
			func(r, c int) []float32 { return speech(r, c, 4*r, 8) }},
		{"stereo speech-like chirp 20 dB hot held under −1 dBTP", 48000, 2, -1,
			func(r, c int) []float32 { return speech(r, c, 4*r, 20) }},
		{"espeak-ng speech at 48 kHz, 12 dB hot, held under −1 dBTP", 48000, 1, -1,
			func(r, c int) []float32 { return espeak(r, 12) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in(tc.rate, tc.ch)
			src := &slice{f: audio.Format{SampleRate: tc.rate, Channels: tc.ch}, data: in}
			lim := audio.NewLimiter(src, tc.ceiling)
			if n, ok := audio.Length(lim); !ok || n != int64(4*tc.rate) {
				t.Fatalf("Len = %d, %v; want %d", n, ok, 4*tc.rate)
			}
			out, err := audio.ReadAll(lim)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(in) {
				t.Fatalf("output %d samples, input %d", len(out), len(in))
			}
			before := r128ref.Measure(t, in, tc.rate, tc.ch)
			after := r128ref.Measure(t, out, tc.rate, tc.ch)
			t.Logf("true peak in %.2f dBTP, out %.3f dBTP (summary %.1f); I %.2f → %.2f LUFS",
				before.TruePeak, after.TruePeak, after.SummaryTP, before.Integrated, after.Integrated)
			if before.TruePeak < tc.ceiling+3 {
				t.Fatalf("test signal peaks at %.2f dBTP, not hot enough to test a %.1f ceiling", before.TruePeak, tc.ceiling)
			}
			// ffmpeg's metadata peak has 3 decimals of linear amplitude (≈0.01 dB near full scale).
			if after.TruePeak > tc.ceiling+0.01 || after.SummaryTP > tc.ceiling {
				t.Errorf("ffmpeg true peak %.3f dBTP (summary %.1f) over the %.1f dBTP ceiling", after.TruePeak, after.SummaryTP, tc.ceiling)
			}
			if after.TruePeak < tc.ceiling-0.5 {
				t.Errorf("ffmpeg true peak %.3f dBTP: the limiter pulls more than 0.5 dB below its ceiling", after.TruePeak)
			}
			// No time shift: the limited signal lines up with its input at lag 0.
			if lag, corr := testutil.Lag(testutil.Mono(in, tc.ch)[:tc.rate], testutil.Mono(out, tc.ch)[:tc.rate], 400); lag != 0 || corr < 0.9 {
				t.Errorf("output lags input by %d frames (correlation %.3f), want 0", lag, corr)
			}
		})
	}
}

func TestLimiterTransparent(t *testing.T) {
	for _, tc := range []struct {
		name string
		amp  float64
	}{
		{"a −6 dBFS sine under a −1 dBTP ceiling passes bit for bit", 0.5},
		{"a sine 0.2 dB under the ceiling passes bit for bit", audio.DBToAmp(-1.2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := testutil.Sine(48000, 48000, 2, 441, tc.amp) // 441 Hz: samples repeat, peaks hit exactly
			out, err := audio.ReadAll(audio.NewLimiter(&slice{f: audio.Format{SampleRate: 48000, Channels: 2}, data: in}, -1))
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(in) {
				t.Fatalf("output %d samples, input %d", len(out), len(in))
			}
			for i := range in {
				if out[i] != in[i] {
					t.Fatalf("sample %d: %v, input %v", i, out[i], in[i])
				}
			}
		})
	}
}
