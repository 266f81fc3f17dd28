package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spacecast/spacecast/internal/memfile"
	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// source is a stereo test signal with a full-scale sample at each end of the range.
func source(frames int) []float32 {
	in := make([]float32, 0, frames*2)
	ch := testutil.Chirp(frames, 48000, 0.9)
	for i, v := range ch {
		in = append(in, v, -v*0.5)
		if i == 10 {
			in[len(in)-2], in[len(in)-1] = 1, -1
		}
	}
	return in
}

func readFile(t *testing.T, path string) (*Reader, []float32) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	pcm, err := audio.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(pcm)/r.Format().Channels) != r.Len() {
		t.Errorf("Len %d, read %d frames", r.Len(), len(pcm)/r.Format().Channels)
	}
	return r, pcm
}

// TestReadFFmpegFiles has ffmpeg write every encoding we read and checks we decode each to the
// same floats ffmpeg decodes it to.
func TestReadFFmpegFiles(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.wav")
	testutil.WriteWAV16(t, in, source(4801), 48000, 2)
	tests := []struct {
		name  string
		args  []string
		bits  int
		float bool
		tol   float64
	}{
		{"Unsigned 8-bit.", []string{"-c:a", "pcm_u8"}, 8, false, 0},
		{"16-bit.", []string{"-c:a", "pcm_s16le"}, 16, false, 0},
		{"24-bit, which ffmpeg writes as WAVE_FORMAT_EXTENSIBLE.", []string{"-c:a", "pcm_s24le"}, 24, false, 0},
		{"32-bit integer (float rounding may differ by an ulp).", []string{"-c:a", "pcm_s32le"}, 32, false, 1e-7},
		{"32-bit float.", []string{"-c:a", "pcm_f32le"}, 32, true, 0},
		{"64-bit float.", []string{"-c:a", "pcm_f64le"}, 64, true, 0},
		{"Three channels make ffmpeg write WAVE_FORMAT_EXTENSIBLE.", []string{"-c:a", "pcm_s16le", "-af", "pan=3c|c0=c0|c1=c1|c2=c0"}, 16, false, 0},
		{"Metadata puts a LIST chunk before the data.", []string{"-c:a", "pcm_s16le", "-metadata", "title=odd"}, 16, false, 0},
	}
	for _, tc := range tests {
		out := filepath.Join(t.TempDir(), "ff.wav")
		testutil.Run(t, "ffmpeg", append(append([]string{"-nostdin", "-v", "error", "-i", in}, tc.args...), out)...)
		r, got := readFile(t, out)
		want := testutil.FFmpegDecode(t, out, 0, 0)
		if r.BitsPerSample() != tc.bits || r.Float() != tc.float || r.Len() != 4801 {
			t.Errorf("%s: %d bits float=%v, %d frames", tc.name, r.BitsPerSample(), r.Float(), r.Len())
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d samples, ffmpeg %d", tc.name, len(got), len(want))
			continue
		}
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > tc.tol {
				t.Errorf("%s: sample %d is %g, ffmpeg says %g", tc.name, i, got[i], want[i])
				break
			}
		}
	}
}

// TestWriteReadByFFmpeg writes each of our encodings and has ffmpeg decode it: the samples must
// be the input quantised (exactly, for ffmpeg and for us), clipped where beyond ±1.
func TestWriteReadByFFmpeg(t *testing.T) {
	in := source(4801)
	in[100], in[101] = 1.5, -2 // clipped
	for _, bits := range []int{16, 24, 32} {
		path := filepath.Join(t.TempDir(), "ours.wav")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(f, audio.Format{SampleRate: 48000, Channels: 2}, bits)
		if err != nil {
			t.Fatal(err)
		}
		for rest := in; len(rest) > 0; rest = rest[min(len(rest), 1000):] {
			if err := w.Write(rest[:min(len(rest), 1000)]); err != nil {
				t.Fatal(err)
			}
		}
		if err := errors.Join(w.Close(), f.Close()); err != nil {
			t.Fatal(err)
		}
		byFFmpeg := testutil.FFmpegDecode(t, path, 0, 0)
		_, byUs := readFile(t, path)
		if len(byFFmpeg) != len(in) || len(byUs) != len(in) {
			t.Fatalf("%d bits: ffmpeg %d samples, us %d, wrote %d", bits, len(byFFmpeg), len(byUs), len(in))
		}
		step := math.Ldexp(1, 1-bits)
		for i, v := range in {
			want := float64(max(-1, min(1, v)))
			if bits != 32 {
				want = math.Round(want/step) * step
				want = min(want, 1-step)
			}
			if float64(byFFmpeg[i]) != float64(float32(want)) || byUs[i] != byFFmpeg[i] {
				t.Errorf("%d bits: sample %d (%g): ffmpeg %g, us %g, want %g", bits, i, v, byFFmpeg[i], byUs[i], want)
				break
			}
		}
		stdout, stderr := testutil.Run(t, "ffprobe", "-v", "warning", "-show_entries", "stream=bits_per_sample,codec_name", "-of", "csv=p=0", path)
		if len(stderr) > 0 {
			t.Errorf("%d bits: ffprobe warns: %s", bits, stderr)
		}
		t.Logf("%d bits: ffprobe says %s", bits, bytes.TrimSpace(stdout))
	}
}

// wavBytes builds a 16-bit stereo WAV by hand, with chunks before the data as given.
func wavBytes(frames int, dataSize uint32, extra []byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(0))
	b.WriteString("WAVE")
	b.Write(extra)
	b.WriteString("fmt ")
	binary.Write(&b, le, uint32(16))
	binary.Write(&b, le, []uint16{1, 2})
	binary.Write(&b, le, []uint32{8000, 32000})
	binary.Write(&b, le, []uint16{4, 16})
	b.WriteString("data")
	binary.Write(&b, le, dataSize)
	for i := range frames * 2 {
		binary.Write(&b, le, int16(i*10))
	}
	return b.Bytes()
}

func TestReaderEdgeCases(t *testing.T) {
	odd := append([]byte("junk\x03\x00\x00\x00abc\x00"), "LIST\x04\x00\x00\x00INFO"...)
	tests := []struct {
		name   string
		in     []byte
		frames int64
		err    error
	}{
		{"A plain file reads all frames.", wavBytes(10, 40, nil), 10, nil},
		{"An odd-sized unknown chunk is skipped with its pad byte.", wavBytes(10, 40, odd), 10, nil},
		{"Data size 0 (streamed writer) reads to the end.", wavBytes(10, 0, nil), 10, nil},
		{"Data size 0xFFFFFFFF reads to the end.", wavBytes(10, 0xFFFFFFFF, nil), 10, nil},
		{"A data chunk cut short reads the whole frames that are there.", wavBytes(10, 40, nil)[:44+4*7+3], 7, nil},
		{"An empty input is not WAV.", nil, 0, ErrNotWAV},
		{"An MP3 is not WAV.", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00"), 0, ErrNotWAV},
		{"RIFF that is not WAVE is not WAV.", []byte("RIFF\x04\x00\x00\x00AVI "), 0, ErrNotWAV},
		{"A header with no fmt chunk is malformed.", []byte("RIFF\x04\x00\x00\x00WAVE"), 0, ErrBadFormat},
		{"µ-law is not supported.", func() []byte { b := wavBytes(2, 8, nil); b[20] = 7; return b }(), 0, ErrUnsupported},
		{"A block align that disagrees with the channels is malformed.", func() []byte { b := wavBytes(2, 8, nil); b[32] = 6; return b }(), 0, ErrBadFormat},
	}
	for _, tc := range tests {
		r, err := NewReader(bytes.NewReader(tc.in))
		if !errors.Is(err, tc.err) {
			t.Errorf("%s got %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		pcm, err := audio.ReadAll(r)
		if err != nil || r.Len() != tc.frames || int64(len(pcm)) != 2*tc.frames {
			t.Errorf("%s: Len %d, read %d samples, %v; want %d frames", tc.name, r.Len(), len(pcm), err, tc.frames)
			continue
		}
		for i, v := range pcm {
			if v != float32(i*10)/32768 {
				t.Errorf("%s: sample %d = %g", tc.name, i, v)
				break
			}
		}
	}
}

// TestReadPipedFFmpeg reads what ffmpeg writes to a pipe: it cannot seek back, so RIFF and data
// sizes stay 0xFFFFFFFF and the data runs to the end of the file.
func TestReadPipedFFmpeg(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.wav")
	testutil.WriteWAV16(t, in, source(4801), 48000, 2)
	piped, _ := testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", in, "-c:a", "pcm_s16le", "-f", "wav", "-")
	if binary.LittleEndian.Uint32(piped[4:]) != 0xFFFFFFFF {
		t.Fatalf("ffmpeg wrote a RIFF size to a pipe; this test needs the streamed form")
	}
	r, err := NewReader(bytes.NewReader(piped))
	if err != nil {
		t.Fatal(err)
	}
	got, err := audio.ReadAll(r)
	_, want := readFile(t, in)
	if err != nil || r.Len() != 4801 || !slices.Equal(got, want) {
		t.Errorf("piped WAV: Len %d, %d samples, %v; want 4801 frames equal to the input", r.Len(), len(got), err)
	}
}

func TestSeek(t *testing.T) {
	r, err := NewReader(bytes.NewReader(wavBytes(100, 400, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SeekFrame(37); err != nil {
		t.Fatal(err)
	}
	p := make([]float32, 4)
	if n, err := r.Read(p); n != 4 || err != nil || p[0] != float32(74*10)/32768 {
		t.Errorf("after seek to 37: %v, %d, %v", p, n, err)
	}
	if err := r.SeekFrame(100); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(p); n != 0 || err != io.EOF {
		t.Errorf("at the end: %d, %v", n, err)
	}
	if err := r.SeekFrame(101); !errors.Is(err, ErrSeekRange) {
		t.Errorf("past the end: %v", err)
	}
}

func TestWriterErrors(t *testing.T) {
	ws := &memfile.File{}
	if _, err := NewWriter(ws, audio.Format{SampleRate: 48000, Channels: 1}, 8); !errors.Is(err, ErrUnsupported) {
		t.Errorf("8-bit output: %v", err)
	}
	w, err := NewWriter(ws, audio.Format{SampleRate: 48000, Channels: 2}, 24)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]float32{1}); err == nil {
		t.Error("half a stereo frame must be refused")
	}
	if err := w.Write([]float32{0.5, -0.5}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]float32{0, 0}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	// 6 bytes of data: even, no pad; the file is 44 + 6 bytes and says so.
	if len(ws.Bytes()) != 50 || binary.LittleEndian.Uint32(ws.Bytes()[4:]) != 42 || binary.LittleEndian.Uint32(ws.Bytes()[40:]) != 6 {
		t.Errorf("sizes: file %d, RIFF %d, data %d", len(ws.Bytes()), binary.LittleEndian.Uint32(ws.Bytes()[4:]), binary.LittleEndian.Uint32(ws.Bytes()[40:]))
	}
}
