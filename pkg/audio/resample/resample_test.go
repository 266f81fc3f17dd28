package resample_test

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/audio/resample"
)

// slice is an in-memory stream; sized adds a Len; failAt makes Read fail at that sample.
type slice struct {
	f      audio.Format
	data   []float32
	failAt int
}

var errBoom = errors.New("boom")

func (s *slice) Format() audio.Format { return s.f }
func (s *slice) Read(p []float32) (int, error) {
	if s.failAt > 0 && len(s.data) <= s.failAt {
		return 0, errBoom
	}
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

type sized struct{ slice }

func (s *sized) Len() int64 { return int64(len(s.data) / s.f.Channels) }

// readChunked drains s with reads of chunk frames.
func readChunked(t *testing.T, s audio.Stream, chunk int) []float32 {
	t.Helper()
	buf := make([]float32, chunk*s.Format().Channels)
	var out []float32
	for {
		n, err := s.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func stereoChirp(frames, rate int) []float32 {
	c := testutil.Chirp(frames, rate, 0.5)
	x := make([]float32, 2*frames)
	for i, v := range c {
		x[2*i], x[2*i+1] = v, -0.5*v
	}
	return x
}

func TestLength(t *testing.T) {
	cases := []struct {
		name     string
		from, to int
		frames   int
	}{
		{"44.1 to 48 kHz, one second", 44100, 48000, 44100},
		{"48 to 44.1 kHz, an odd length that rounds down", 48000, 44100, 48001},
		{"48 to 44.1 kHz, an odd length that rounds up", 48000, 44100, 48011},
		{"22.05 to 48 kHz, espeak's rate to ours", 22050, 48000, 22050*3 + 7},
		{"48 to 16 kHz, exact third", 48000, 16000, 30000},
		{"8 to 48 kHz, a short clip", 8000, 48000, 123},
		{"48 to 44.1 kHz, a single frame (too short for soxr: padded)", 48000, 44100, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := int64(math.Round(float64(tc.frames) * float64(tc.to) / float64(tc.from)))
			for _, chunk := range []int{1, 1000, 8192} {
				src := &sized{slice{f: audio.Format{SampleRate: tc.from, Channels: 2}, data: stereoChirp(tc.frames, tc.from)}}
				r, err := resample.New(src, tc.to)
				if err != nil {
					t.Fatal(err)
				}
				if n, ok := audio.Length(r); !ok || n != want {
					t.Errorf("Len = %d, %v; want %d", n, ok, want)
				}
				if got := int64(len(readChunked(t, r, chunk)) / 2); got != want {
					t.Fatalf("chunk %d: %d frames out, want round(%d·%d/%d) = %d", chunk, got, tc.frames, tc.to, tc.from, want)
				}
			}
		})
	}
}

// TestAgainstFFmpegSoxr compares with ffmpeg's own soxr resampling at the same precision (28 bits,
// soxr's "very high"): no time shift, the same length, and the same samples to within 90 dB.
func TestAgainstFFmpegSoxr(t *testing.T) {
	testutil.Require(t, "ffmpeg")
	cases := []struct {
		name     string
		from, to int
		ch       int
	}{
		{"stereo 44.1 to 48 kHz", 44100, 48000, 2},
		{"stereo 48 to 44.1 kHz", 48000, 44100, 2},
		{"mono 22.05 to 48 kHz", 22050, 48000, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames := 2*tc.from + 17
			in := stereoChirp(frames, tc.from)
			if tc.ch == 1 {
				in = testutil.Chirp(frames, tc.from, 0.5)
			}
			raw := filepath.Join(t.TempDir(), "in.f32")
			b := make([]byte, 4*len(in))
			for i, v := range in {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
			}
			if err := os.WriteFile(raw, b, 0o644); err != nil {
				t.Fatal(err)
			}
			refBytes, _ := testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "f32le",
				"-ar", strconv.Itoa(tc.from), "-ac", strconv.Itoa(tc.ch), "-i", raw,
				"-af", "aresample=resampler=soxr:precision=28", "-ar", strconv.Itoa(tc.to), "-f", "f32le", "-")
			ref := make([]float32, len(refBytes)/4)
			for i := range ref {
				ref[i] = math.Float32frombits(binary.LittleEndian.Uint32(refBytes[4*i:]))
			}
			r, err := resample.New(&slice{f: audio.Format{SampleRate: tc.from, Channels: tc.ch}, data: in}, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			got := readChunked(t, r, 777)
			if len(got) != len(ref) {
				t.Errorf("%d frames, ffmpeg's soxr %d", len(got)/tc.ch, len(ref)/tc.ch)
			}
			lag, corr := testutil.Lag(testutil.Mono(ref, tc.ch), testutil.Mono(got, tc.ch), 50)
			if lag != 0 || corr < 0.999 {
				t.Errorf("lag %d frames (correlation %.5f) against ffmpeg's soxr, want 0", lag, corr)
			}
			var sig, noise float64
			for i := range min(len(got), len(ref)) {
				d := float64(got[i] - ref[i])
				sig += float64(ref[i]) * float64(ref[i])
				noise += d * d
			}
			snr := 10 * math.Log10(sig/noise)
			t.Logf("SNR against ffmpeg's soxr: %.1f dB", snr)
			if snr < 90 {
				t.Errorf("SNR against ffmpeg's soxr %.1f dB, want ≥ 90", snr)
			}
		})
	}
}

func TestSameRate(t *testing.T) {
	src := &slice{f: audio.Format{SampleRate: 48000, Channels: 1}, data: []float32{1, 2}}
	r, err := resample.New(src, 48000)
	if err != nil {
		t.Fatal(err)
	}
	if r != audio.Stream(src) {
		t.Fatal("a stream already at the rate must come back unchanged")
	}
}

func TestErrors(t *testing.T) {
	src := &slice{f: audio.Format{SampleRate: 44100, Channels: 1}, data: make([]float32, 20000), failAt: 10000}
	r, err := resample.New(src, 48000)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 4096)
	for err == nil {
		_, err = r.Read(buf)
	}
	if !errors.Is(err, errBoom) {
		t.Fatalf("err = %v, want the source's error", err)
	}
	if _, err := resample.New(&slice{f: audio.Format{SampleRate: 48000, Channels: 1}}, 10); err == nil {
		t.Fatal("resampling to 10 Hz succeeded")
	}
}

func BenchmarkResample(b *testing.B) {
	in := stereoChirp(44100, 44100)
	b.SetBytes(int64(4 * len(in)))
	b.ReportAllocs()
	buf := make([]float32, 8192)
	for range b.N {
		r, err := resample.New(&slice{f: audio.Format{SampleRate: 44100, Channels: 2}, data: in}, 48000)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(buf); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}
