package lame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// testSignal returns n frames of interleaved test PCM: a chirp on the left (or only) channel and a
// differently scaled, inverted copy on the right, so a swapped or shifted channel is caught.
func testSignal(n, rate, channels int) []float32 {
	c := testutil.Chirp(n, rate, 0.5)
	if channels == 1 {
		return c
	}
	out := make([]float32, 2*n)
	for i, v := range c {
		out[2*i] = v
		out[2*i+1] = -0.6 * v
	}
	return out
}

func channel(x []float32, channels, c int) []float32 {
	out := make([]float32, len(x)/channels)
	for i := range out {
		out[i] = x[i*channels+c]
	}
	return out
}

// encode writes pcm to path through a Writer, in uneven pieces to exercise buffering, after
// writing lead bytes that are not part of the MP3 (a Writer must start at the current offset).
func encode(t *testing.T, path string, lead []byte, pcm []float32, f audio.Format, opts Options) *Writer {
	t.Helper()
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := file.Write(lead); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(file, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, step := 0, 0; i < len(pcm); step++ {
		n := min(len(pcm)-i, (1000+step*3001)%7000*f.Channels+f.Channels)
		if err := w.Write(pcm[i : i+n]); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestGapless is the reason this package exists: two independent gapless decoders must return
// exactly the samples we encoded, not one more or less, aligned to the sample.
func TestGapless(t *testing.T) {
	testutil.Require(t, "ffmpeg")
	testutil.Require(t, "mpg123")
	testutil.Require(t, "mp3val")
	tests := []struct {
		name     string
		rate     int
		channels int
		opts     Options
		minCorr  float64
	}{
		{"mono 48 kHz at 64 kbit/s CBR is sample-exact", 48000, 1, Options{BitrateKbps: 64}, 0.98},
		{"stereo 48 kHz at 96 kbit/s CBR is sample-exact", 48000, 2, Options{BitrateKbps: 96}, 0.98},
		{"stereo 48 kHz at the default 128 kbit/s is sample-exact", 48000, 2, Options{}, 0.98},
		{"mono 44.1 kHz at 96 kbit/s CBR is sample-exact", 44100, 1, Options{BitrateKbps: 96}, 0.98},
		{"stereo 44.1 kHz at 128 kbit/s CBR is sample-exact", 44100, 2, Options{BitrateKbps: 128}, 0.98},
		{"stereo 44.1 kHz at 64 kbit/s, forced L/R stereo, is sample-exact", 44100, 2, Options{BitrateKbps: 64, Mode: ModeStereo}, 0.98},
		{"mono 48 kHz VBR -V4 is sample-exact", 48000, 1, Options{VBR: true, VBRQuality: 4}, 0.98},
		{"stereo 44.1 kHz VBR -V2 is sample-exact", 44100, 2, Options{VBR: true, VBRQuality: 2}, 0.98},
		{"stereo 48 kHz with an ID3v2 prefix is sample-exact", 48000, 2, Options{BitrateKbps: 96, Prefix: fakeID3(1000)}, 0.98},
		{"mono 24 kHz (MPEG-2, 576-sample frames) is sample-exact", 24000, 1, Options{BitrateKbps: 64}, 0.98},
		{"stereo 16 kHz (MPEG-2) at the lowest bitrate that fits the tag is sample-exact", 16000, 2, Options{BitrateKbps: 40}, 0.98},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := audio.Format{SampleRate: tc.rate, Channels: tc.channels}
			n := tc.rate + 321 // not a whole number of MP3 frames
			pcm := testSignal(n, tc.rate, tc.channels)
			path := filepath.Join(t.TempDir(), "out.mp3")
			lead := []byte(nil)
			if len(tc.opts.Prefix) == 0 {
				lead = []byte("junk before the stream") // the Writer must start where w is
			}
			w := encode(t, path, lead, pcm, f, tc.opts)
			if got := w.Frames(); got != int64(n) {
				t.Fatalf("Frames() = %d, want %d", got, n)
			}
			if len(lead) > 0 {
				trimmed := filepath.Join(t.TempDir(), "trimmed.mp3")
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b[:len(lead)], lead) {
					t.Fatalf("bytes before the stream were overwritten")
				}
				if err := os.WriteFile(trimmed, b[len(lead):], 0o644); err != nil {
					t.Fatal(err)
				}
				path = trimmed
			}
			checkTag(t, path, tc.opts.Prefix, w, n, tc.rate)

			out, stderr := testutil.Run(t, "mp3val", path)
			for _, line := range strings.Split(string(out)+string(stderr), "\n") {
				if strings.Contains(line, "No supported tags in the file") {
					continue // a file without ID3 is fine
				}
				if strings.Contains(line, "WARNING") || strings.Contains(line, "ERROR") {
					t.Errorf("mp3val: %s", line)
				}
			}
			if _, stderr := testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"); len(stderr) > 0 {
				t.Errorf("ffmpeg -v error is not silent:\n%s", stderr)
			}
			decoders := map[string][]float32{
				"ffmpeg": testutil.FFmpegDecode(t, path, 0, 0),
				"mpg123": testutil.Mpg123Decode(t, path, tc.channels),
			}
			for name, dec := range decoders {
				if len(dec) != len(pcm) {
					t.Errorf("%s decodes %d frames, want %d (difference %d)",
						name, len(dec)/tc.channels, n, (len(dec)-len(pcm))/tc.channels)
					continue
				}
				for c := 0; c < tc.channels; c++ {
					lag, corr := testutil.Lag(channel(pcm, tc.channels, c), channel(dec, tc.channels, c), 64)
					if lag != 0 || corr < tc.minCorr {
						t.Errorf("%s channel %d: lag %d, correlation %.4f; want lag 0, correlation ≥ %.2f",
							name, c, lag, corr, tc.minCorr)
					} else {
						t.Logf("%s channel %d: lag 0, correlation %.4f", name, c, corr)
					}
				}
			}
		})
	}
}

// fakeID3 is a minimal valid ID3v2.3 tag with n bytes of padding.
func fakeID3(n int) []byte {
	h := []byte{'I', 'D', '3', 3, 0, 0}
	h = append(h, byte(n>>21&0x7f), byte(n>>14&0x7f), byte(n>>7&0x7f), byte(n&0x7f))
	return append(h, make([]byte, n)...)
}

// checkTag reads the first frame after the prefix as ISO/IEC 11172-3 frame + Xing/LAME tag and
// checks the numbers a gapless decoder relies on: frame count, encoder delay and padding.
func checkTag(t *testing.T, path string, prefix []byte, w *Writer, n, rate int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[:len(prefix)], prefix) {
		t.Fatalf("prefix not at the start of the file")
	}
	fr := b[len(prefix):]
	if len(fr) < 200 || fr[0] != 0xFF || fr[1]&0xE0 != 0xE0 {
		t.Fatalf("no frame sync right after the prefix: % x", fr[:4])
	}
	// Side information length: ISO/IEC 11172-3 §2.4.1.7 (MPEG-1: 17 bytes mono, 32 stereo) and
	// ISO/IEC 13818-3 (MPEG-2: 9 mono, 17 stereo).
	mpeg1 := fr[1]&0x18 == 0x18
	mono := fr[3]>>6 == 3
	side := map[[2]bool]int{{true, true}: 17, {true, false}: 32, {false, true}: 9, {false, false}: 17}[[2]bool{mpeg1, mono}]
	x := fr[4+side:]
	if id := string(x[:4]); id != "Info" && id != "Xing" {
		t.Fatalf("first frame carries %q, want a Xing or Info tag (frame left zeroed?)", id)
	}
	flags := binary.BigEndian.Uint32(x[4:])
	if flags&1 == 0 {
		t.Fatalf("Xing flags %#x: no frame count", flags)
	}
	frames := int(binary.BigEndian.Uint32(x[8:]))
	off := 8
	for bit := uint32(1); bit <= 8; bit <<= 1 {
		if flags&bit != 0 {
			off += map[uint32]int{1: 4, 2: 4, 4: 100, 8: 4}[bit]
		}
	}
	lameTag := x[off:]
	if !bytes.HasPrefix(lameTag, []byte("LAME")) {
		t.Fatalf("no LAME extension after the Xing header: %q", lameTag[:9])
	}
	dp := lameTag[21:24] // LAME tag rev. 1: encoder delay and padding, 12 bits each
	delay := int(dp[0])<<4 | int(dp[1])>>4
	padding := int(dp[1]&0x0f)<<8 | int(dp[2])
	if delay != w.EncoderDelay() || padding != w.Padding() {
		t.Errorf("tag delay/padding %d/%d, Writer says %d/%d", delay, padding, w.EncoderDelay(), w.Padding())
	}
	if delay != 576 {
		t.Errorf("encoder delay %d, want LAME 3.100's 576", delay)
	}
	if got, want := frames*FrameSamples(rate), delay+n+padding; got != want {
		t.Errorf("%d audio frames × %d = %d samples, but delay + input + padding = %d",
			frames, FrameSamples(rate), got, want)
	}
}

// TestOptionErrors checks that settings LAME would silently bend are refused with a clear error.
func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		f    audio.Format
		opts Options
		want error
	}{
		{"96 kHz is not an MPEG rate and must be resampled by the caller", audio.Format{SampleRate: 96000, Channels: 2}, Options{}, ErrSampleRate},
		{"44 kHz is a typo for 44.1 kHz", audio.Format{SampleRate: 44000, Channels: 1}, Options{}, ErrSampleRate},
		{"three channels are not MP3", audio.Format{SampleRate: 48000, Channels: 3}, Options{}, ErrChannels},
		{"100 kbit/s is not in the MPEG-1 table", audio.Format{SampleRate: 48000, Channels: 2}, Options{BitrateKbps: 100}, ErrBitrate},
		{"320 kbit/s does not exist in MPEG-2 (24 kHz)", audio.Format{SampleRate: 24000, Channels: 2}, Options{BitrateKbps: 320}, ErrBitrate},
		{"8 kbit/s does not exist in MPEG-1", audio.Format{SampleRate: 44100, Channels: 1}, Options{BitrateKbps: 8}, ErrBitrate},
		{"24 kHz at 56 kbit/s makes 168-byte frames: no room for the 169-byte LAME tag frame", audio.Format{SampleRate: 24000, Channels: 1}, Options{BitrateKbps: 56}, ErrBitrate},
		{"32 kHz stereo at 40 kbit/s: 180-byte frames, tag frame needs 192", audio.Format{SampleRate: 32000, Channels: 2}, Options{BitrateKbps: 40}, ErrBitrate},
		{"VBR quality 10 is beyond LAME's -V9", audio.Format{SampleRate: 48000, Channels: 2}, Options{VBR: true, VBRQuality: 10}, ErrQuality},
		{"negative VBR quality", audio.Format{SampleRate: 48000, Channels: 2}, Options{VBR: true, VBRQuality: -1}, ErrQuality},
		{"algorithm quality 10 is beyond -q9", audio.Format{SampleRate: 48000, Channels: 2}, Options{Quality: 10}, ErrQuality},
		{"stereo mode needs stereo input", audio.Format{SampleRate: 48000, Channels: 1}, Options{Mode: ModeStereo}, ErrMode},
		{"unknown mode", audio.Format{SampleRate: 48000, Channels: 2}, Options{Mode: Mode(9)}, ErrMode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(&seekBuffer{}, tc.f, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("NewWriter error %v, want %v", err, tc.want)
			}
			if w != nil {
				t.Fatal("got a Writer with an error")
			}
		})
	}
}

// TestMonoDownmix checks that ModeMono turns stereo input into a one-channel file of equal length.
func TestMonoDownmix(t *testing.T) {
	testutil.Require(t, "ffmpeg")
	f := audio.Format{SampleRate: 48000, Channels: 2}
	n := 30000
	pcm := testutil.Sine(n, f.SampleRate, 2, 440, 0.5)
	path := filepath.Join(t.TempDir(), "mono.mp3")
	encode(t, path, nil, pcm, f, Options{Mode: ModeMono, BitrateKbps: 64})
	out, _ := testutil.Run(t, "ffprobe", "-v", "error", "-show_entries", "stream=channels", "-of", "csv=p=0", path)
	if got := strings.TrimSpace(string(out)); got != "1" {
		t.Fatalf("ffprobe reports %s channels, want 1", got)
	}
	if dec := testutil.FFmpegDecode(t, path, 0, 0); len(dec) != n {
		t.Fatalf("decoded %d frames, want %d", len(dec), n)
	}
}

// TestWriteErrors checks misuse and a failing output: errors are reported, sticky, and never lost by Close.
func TestWriteErrors(t *testing.T) {
	f := audio.Format{SampleRate: 48000, Channels: 2}
	t.Run("an odd number of stereo samples is refused", func(t *testing.T) {
		w, err := NewWriter(&seekBuffer{}, f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(make([]float32, 3)); !errors.Is(err, ErrPartialFrame) {
			t.Errorf("Write(3 samples) = %v, want ErrPartialFrame", err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Write after Close fails and Close stays idempotent", func(t *testing.T) {
		w, err := NewWriter(&seekBuffer{}, f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(make([]float32, 2)); !errors.Is(err, ErrClosed) {
			t.Errorf("Write after Close = %v, want ErrClosed", err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
	})
	t.Run("a failing output surfaces from Write and again from every Close", func(t *testing.T) {
		boom := errors.New("disk full")
		out := &seekBuffer{failAfter: 2000, err: boom}
		w, err := NewWriter(out, f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		pcm := testSignal(48000, 48000, 2)
		if err := w.Write(pcm); !errors.Is(err, boom) {
			t.Fatalf("Write = %v, want the output's error", err)
		}
		if err := w.Write(pcm); !errors.Is(err, boom) {
			t.Fatalf("second Write = %v, want the sticky error", err)
		}
		for i := 0; i < 2; i++ {
			if err := w.Close(); !errors.Is(err, boom) {
				t.Fatalf("Close #%d = %v, want the output's error", i+1, err)
			}
		}
	})
	t.Run("a failing prefix write is reported by NewWriter", func(t *testing.T) {
		boom := errors.New("disk full")
		_, err := NewWriter(&seekBuffer{failAfter: 5, err: boom}, f, Options{Prefix: fakeID3(100)})
		if !errors.Is(err, boom) {
			t.Fatalf("NewWriter = %v, want the output's error", err)
		}
	})
}

// TestNonFinite checks that NaN and infinities, which make libmp3lame abort the process, are
// encoded as silence and full scale, and that the caller's slice is left alone.
func TestNonFinite(t *testing.T) {
	testutil.Require(t, "ffmpeg")
	f := audio.Format{SampleRate: 48000, Channels: 1}
	pcm := testutil.Sine(48000, 48000, 1, 440, 0.5)
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for i := 10000; i < 10100; i++ {
		pcm[i], pcm[i+10000], pcm[i+20000] = nan, inf, -inf
	}
	path := filepath.Join(t.TempDir(), "nonfinite.mp3")
	encode(t, path, nil, pcm, f, Options{BitrateKbps: 64})
	if !math.IsNaN(float64(pcm[10000])) {
		t.Fatalf("Write modified the caller's samples")
	}
	dec := testutil.FFmpegDecode(t, path, 0, 0)
	if len(dec) != len(pcm) {
		t.Fatalf("decoded %d frames, want %d", len(dec), len(pcm))
	}
	for i, v := range dec {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 1.5 {
			t.Fatalf("decoded sample %d is %v", i, v)
		}
	}
}

// seekBuffer is an in-memory io.WriteSeeker that can fail after a number of bytes.
type seekBuffer struct {
	b         []byte
	off       int64
	failAfter int
	err       error
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if s.err != nil && int(s.off)+len(p) > s.failAfter {
		return 0, s.err
	}
	if need := int(s.off) + len(p); need > len(s.b) {
		s.b = append(s.b, make([]byte, need-len(s.b))...)
	}
	copy(s.b[s.off:], p)
	s.off += int64(len(p))
	return len(p), nil
}

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += s.off
	case io.SeekEnd:
		off += int64(len(s.b))
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	s.off = off
	return off, nil
}

// BenchmarkEncode reports encode speed as a multiple of realtime for 48 kHz stereo at 128 kbit/s
// and mono at 64 kbit/s: go test -run XXX -bench Encode -benchmem ./pkg/codec/lame
func BenchmarkEncode(b *testing.B) {
	for _, bc := range []struct {
		name string
		f    audio.Format
		opts Options
	}{
		{"stereo48k_cbr128", audio.Format{SampleRate: 48000, Channels: 2}, Options{}},
		{"mono48k_cbr64", audio.Format{SampleRate: 48000, Channels: 1}, Options{BitrateKbps: 64}},
		{"stereo48k_vbr4", audio.Format{SampleRate: 48000, Channels: 2}, Options{VBR: true, VBRQuality: 4}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pcm := testSignal(bc.f.SampleRate, bc.f.SampleRate, bc.f.Channels) // one second
			out := &seekBuffer{}
			w, err := NewWriter(out, bc.f, bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				out.off = 0 // keep memory flat: overwrite the same region
				if err := w.Write(pcm); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
