package opus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/ogg"
)

// TestDecodeReferenceFiles decodes files made by opusenc and by ffmpeg's libopus encoder. Our
// output must have exactly the length opusdec and ffmpeg give, sit at lag 0 against both and
// against the input, and match opusdec (the same libopus) to float rounding.
func TestDecodeReferenceFiles(t *testing.T) {
	const frames = 48000*2 + 555
	mono := testutil.Chirp(frames, 48000, 0.5)
	for _, channels := range []int{1, 2} {
		in := interleave(mono, channels)
		wav := writeWAV(t, in, 48000, channels)
		dir := t.TempDir()
		files := map[string]string{"opusenc": filepath.Join(dir, "opusenc.opus"), "ffmpeg": filepath.Join(dir, "ffmpeg.opus")}
		testutil.Run(t, "opusenc", "--quiet", "--bitrate", "96", wav, files["opusenc"])
		testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", wav, "-c:a", "libopus", "-b:a", "96k", files["ffmpeg"])
		for maker, path := range files {
			name := fmt.Sprintf("%s %dch", maker, channels)
			ours, s := decodeOurs(t, path)
			byOpusdec := testutil.OpusdecDecode(t, path)
			byFFmpeg := testutil.FFmpegDecode(t, path, 0, 0)
			if len(ours) != len(byOpusdec) || len(ours) != len(byFFmpeg) || s.Len() != frames {
				t.Errorf("%s: lengths ours %d, opusdec %d, ffmpeg %d samples; Len %d, input %d frames",
					name, len(ours), len(byOpusdec), len(byFFmpeg), s.Len(), frames)
			}
			om := testutil.Mono(ours, channels)
			for judge, ref := range map[string][]float32{"opusdec": byOpusdec, "ffmpeg": byFFmpeg, "input": in} {
				if lag, corr := testutil.Lag(testutil.Mono(ref, channels), om, 200); lag != 0 || corr < 0.9 {
					t.Errorf("%s: lag %d (corr %.3f) against %s, want 0", name, lag, corr, judge)
				}
			}
			if d := maxAbsDiff(byOpusdec, ours); d > 1e-4 {
				t.Errorf("%s: differs from opusdec by up to %g", name, d)
			}
			if snr := snrDB(byFFmpeg, ours); snr < 40 {
				t.Errorf("%s: only %.1f dB SNR against ffmpeg's decoder", name, snr)
			}
			t.Logf("%s: max diff vs opusdec %.2g, SNR vs ffmpeg %.1f dB, vs input %.1f dB",
				name, maxAbsDiff(byOpusdec, ours), snrDB(byFFmpeg, ours), snrDB(in, ours))
		}
	}
}

// TestRoundTrip encodes with OggWriter and decodes with opusdec, ffmpeg and OggStream: every one
// must return exactly the frames written (×3 for a 16 kHz input decoded at 48 kHz), and at CELT
// bitrates sit at lag 0 against the input. (At SILK/hybrid rates a chirp's waveform is not kept,
// and ffmpeg 5.1's native decoder departs from libopus there — measured, see the report.)
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		rate, ch int
		frames   int
		opts     OggWriterOptions
		celt     bool // bitrate high enough for CELT-only: waveform SNR and lag are meaningful
	}{
		{"Mono at 48 kHz, 96 kb/s.", 48000, 1, 48000 + 123, OggWriterOptions{BitrateKbps: 96}, true},
		{"Stereo at 48 kHz, 128 kb/s, 100 ms pages.", 48000, 2, 48000*2 + 7, OggWriterOptions{BitrateKbps: 128, MaxPageDuration: 1e8}, true},
		{"A length that is a whole number of 20 ms frames.", 48000, 1, 960 * 50, OggWriterOptions{BitrateKbps: 96}, true},
		{"Speech settings, 24 kb/s VoIP (SILK/hybrid).", 48000, 1, 48000 + 5, OggWriterOptions{BitrateKbps: 24, Application: ApplicationVoIP}, false},
		{"A single sample still decodes to one sample.", 48000, 1, 1, OggWriterOptions{}, false},
		{"16 kHz mono is encoded natively and decodes at 48 kHz.", 16000, 1, 16000 + 333, OggWriterOptions{BitrateKbps: 32}, false},
	}
	for _, tc := range tests {
		in := interleave(testutil.Chirp(tc.frames, tc.rate, 0.5), tc.ch)
		path := encodeOurs(t, in, audio.Format{SampleRate: tc.rate, Channels: tc.ch}, tc.opts)
		want := tc.frames * (48000 / tc.rate) * tc.ch
		ours, s := decodeOurs(t, path)
		if h := s.Head(); h.InputSampleRate != uint32(tc.rate) || h.PreSkip != 312 {
			t.Errorf("%s head: input rate %d, pre-skip %d; want %d, 312", tc.name, h.InputSampleRate, h.PreSkip, tc.rate)
		}
		stdout, stderr := testutil.Run(t, "opusinfo", path)
		if bytes.Contains(bytes.ToLower(append(stdout, stderr...)), []byte("warning")) {
			t.Errorf("%s: opusinfo warns:\n%s%s", tc.name, stdout, stderr)
		}
		byOpusdec := testutil.OpusdecDecode(t, path)
		if d := maxAbsDiff(byOpusdec, ours); d > 1e-4 {
			t.Errorf("%s: ours differs from opusdec (same libopus) by %g", tc.name, d)
		}
		for judge, got := range map[string][]float32{
			"ours": ours, "opusdec": byOpusdec, "ffmpeg": testutil.FFmpegDecode(t, path, 0, 0),
		} {
			if len(got) != want {
				t.Errorf("%s: %s decodes %d samples, want %d", tc.name, judge, len(got), want)
				continue
			}
			if !tc.celt {
				continue
			}
			lag, corr := testutil.Lag(testutil.Mono(in, tc.ch), testutil.Mono(got, tc.ch), 200)
			if snr := snrDB(in, got); lag != 0 || snr < 15 {
				t.Errorf("%s: %s lag %d (corr %.3f), SNR %.1f dB; want lag 0, SNR ≥ 15", tc.name, judge, lag, corr, snr)
			}
		}
	}
}

// TestSeek seeks to frames on and off packet and page boundaries: the rest of the stream must
// have exactly the right length and, after the pre-roll, match a decode from the start.
func TestSeek(t *testing.T) {
	const frames = 48000 * 4
	in := interleave(testutil.Chirp(frames, 48000, 0.5), 2)
	path := encodeOurs(t, in, audio.Format{SampleRate: 48000, Channels: 2}, OggWriterOptions{BitrateKbps: 96, MaxPageDuration: 2e8})
	full, s := decodeOurs(t, path)
	for _, f := range []int64{0, 1, 959, 960, 3000, 48000, 48000*2 + 17, frames - 100, frames} {
		if err := s.SeekFrame(f); err != nil {
			t.Fatalf("seek %d: %v", f, err)
		}
		rest, err := audio.ReadAll(s)
		if err != nil {
			t.Fatalf("read after seek %d: %v", f, err)
		}
		if int64(len(rest)/2) != frames-f {
			t.Errorf("after seek to %d: %d frames left, want %d", f, len(rest)/2, frames-f)
			continue
		}
		if snr := snrDB(full[f*2:], rest); snr < 60 {
			t.Errorf("after seek to %d: %.1f dB SNR against the straight decode", f, snr)
		}
	}
	if err := s.SeekFrame(frames + 1); !errors.Is(err, ErrSeekRange) {
		t.Errorf("seek past the end: %v", err)
	}
}

// TestGapIsConcealed drops one 100 ms page from the middle of a file, as a recorder losing
// packets would leave it. The granule positions still say where everything belongs: the stream
// must keep its length and the audio after the gap must stay where it was.
func TestGapIsConcealed(t *testing.T) {
	const frames = 48000 * 2
	in := testutil.Chirp(frames, 48000, 0.5)
	path := encodeOurs(t, in, audio.Format{SampleRate: 48000, Channels: 1}, OggWriterOptions{BitrateKbps: 64, MaxPageDuration: 1e8})
	full, _ := decodeOurs(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	var gapStart, gapEnd int64
	for i := 0; len(b) > 0; i++ {
		p, n, err := ogg.ParsePage(b)
		if err != nil {
			t.Fatal(err)
		}
		if i == 7 { // an audio page in the middle
			gapEnd = p.Granule - 312
		} else {
			if out, err = ogg.AppendPage(out, &p); err != nil {
				t.Fatal(err)
			}
			if i == 6 {
				gapStart = p.Granule - 312
			}
		}
		b = b[n:]
	}
	gapped := filepath.Join(t.TempDir(), "gap.opus")
	if err := os.WriteFile(gapped, out, 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := decodeOurs(t, gapped)
	if len(got) != len(full) {
		t.Fatalf("with a page missing: %d frames, want %d", len(got), len(full))
	}
	after := gapEnd + 960 // one packet for the decoder to recover
	if lag, corr := testutil.Lag(full[after:], got[after:], 100); lag != 0 || corr < 0.95 {
		t.Errorf("after the gap: lag %d (corr %.3f), want 0", lag, corr)
	}
	if snr := snrDB(full[:gapStart], got[:gapStart]); snr < 100 {
		t.Errorf("before the gap the audio changed: %.1f dB", snr)
	}
	t.Logf("gap %d..%d concealed; after it SNR %.1f dB against the whole file's decode", gapStart, gapEnd, snrDB(full[after:], got[after:]))
}

// rewriteHead returns a copy of the file at path whose OpusHead fields at byte off hold v.
func rewriteHead(t *testing.T, path string, off int, v uint16) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, n, err := ogg.ParsePage(b)
	if err != nil {
		t.Fatal(err)
	}
	p.Body = bytes.Clone(p.Body)
	binary.LittleEndian.PutUint16(p.Body[off:], v)
	out, err := ogg.AppendPage(nil, &p)
	if err != nil {
		t.Fatal(err)
	}
	np := filepath.Join(t.TempDir(), "rewritten.opus")
	if err := os.WriteFile(np, append(out, b[n:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	return np
}

// TestOutputGain sets a -6 dB output gain in the head (RFC 7845 §5.1); opusdec applies it, and so must we.
func TestOutputGain(t *testing.T) {
	in := testutil.Chirp(48000, 48000, 0.5)
	path := encodeOurs(t, in, audio.Format{SampleRate: 48000, Channels: 1}, OggWriterOptions{})
	plain, _ := decodeOurs(t, path)
	gain := int16(-6 * 256)
	gained := rewriteHead(t, path, 16, uint16(gain))
	got, _ := decodeOurs(t, gained)
	if d := maxAbsDiff(testutil.OpusdecDecode(t, gained), got); d > 1e-4 {
		t.Errorf("differs from opusdec by %g with output gain", d)
	}
	for i := 1000; i < len(got); i += 4999 {
		if want := plain[i] * 0.50118724; abs32(got[i]-want) > 1e-6 {
			t.Fatalf("sample %d: %g, want %g (-6 dB)", i, got[i], want)
		}
	}
}

// TestLivePreSkip gives a file the 3840-sample pre-skip a live capture uses (RFC 7845 §4.2): all
// three decoders must drop exactly that much, so they agree on length and alignment.
func TestLivePreSkip(t *testing.T) {
	const frames = 48000
	path := encodeOurs(t, testutil.Chirp(frames, 48000, 0.5), audio.Format{SampleRate: 48000, Channels: 1}, OggWriterOptions{BitrateKbps: 96})
	live := rewriteHead(t, path, 10, 3840)
	ours, _ := decodeOurs(t, live)
	want := frames - (3840 - 312)
	for judge, got := range map[string][]float32{
		"ours": ours, "opusdec": testutil.OpusdecDecode(t, live), "ffmpeg": testutil.FFmpegDecode(t, live, 0, 0),
	} {
		if len(got) != want {
			t.Errorf("%s: %d samples, want %d", judge, len(got), want)
			continue
		}
		if lag, corr := testutil.Lag(ours, got, 100); lag != 0 || corr < 0.999 {
			t.Errorf("%s: lag %d (corr %.4f) against ours", judge, lag, corr)
		}
	}
}

// TestCrashedFile cuts a file inside a page, as a crash mid-write leaves it: it must play, without
// error, every whole page — the same samples a decode of the whole file gives there.
func TestCrashedFile(t *testing.T) {
	path := encodeOurs(t, testutil.Chirp(48000*2, 48000, 0.5), audio.Format{SampleRate: 48000, Channels: 1},
		OggWriterOptions{BitrateKbps: 64, MaxPageDuration: 1e8})
	full, _ := decodeOurs(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "crashed.opus")
	if err := os.WriteFile(cut, b[:len(b)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	got, s := decodeOurs(t, cut) // fails the test on a read error
	if s.Len()%960 != (960-312)%960 || s.Len() < 48000 || s.Len() > 48000*2*2/3+4800 {
		t.Errorf("crashed file Len %d: not a whole number of 20 ms packets less pre-skip, or implausible", s.Len())
	}
	if d := maxAbsDiff(full[:len(got)], got); d != 0 {
		t.Errorf("the surviving audio differs from the whole file's by %g", d)
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func TestOpenErrors(t *testing.T) {
	wav := writeWAV(t, testutil.Chirp(4800, 48000, 0.5), 48000, 1)
	three := writeWAV(t, interleave(testutil.Chirp(4800, 48000, 0.5), 3), 48000, 3)
	surround := filepath.Join(t.TempDir(), "3ch.opus")
	testutil.Run(t, "opusenc", "--quiet", three, surround)
	tests := []struct {
		name string
		path string
		want error
	}{
		{"A WAV file is not Ogg.", wav, ogg.ErrNotOgg},
		{"A 3-channel file uses mapping family 1, which we parse but do not decode.", surround, ErrUnsupportedMapping},
	}
	for _, tc := range tests {
		f, err := os.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewOggStream(f); !errors.Is(err, tc.want) {
			t.Errorf("%s got %v, want %v", tc.name, err, tc.want)
		}
		f.Close()
	}
	if _, err := NewOggWriter(&bytes.Buffer{}, audio.Format{SampleRate: 44100, Channels: 1}, OggWriterOptions{}); !errors.Is(err, ErrFormat) {
		t.Errorf("44.1 kHz input must be refused (resample first): %v", err)
	}
}
