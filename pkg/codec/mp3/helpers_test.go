package mp3

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// source describes a test input and how to encode it.
type source struct {
	name     string
	rate, ch int
	seconds  float64
	tool     string   // "lame" or "ffmpeg"
	args     []string // encoder arguments between input and output
	tagged   bool     // the encoder writes an Info/Xing frame with a LAME tag
}

// sources are the encoder variants every integration test runs over.
var sources = []source{
	{"lame CBR 128k stereo 44.1 kHz", 44100, 2, 3, "lame", []string{"--quiet", "-b", "128"}, true},
	{"lame CBR 320k stereo 48 kHz (no higher bitrate for a join to use)", 48000, 2, 3, "lame", []string{"--quiet", "-b", "320"}, true},
	{"lame VBR V4 mono 48 kHz", 48000, 1, 3, "lame", []string{"--quiet", "-V", "4", "-m", "m"}, true},
	{"lame CBR 64k MPEG-2 24 kHz stereo", 24000, 2, 3, "lame", []string{"--quiet", "-b", "64"}, true},
	{"lame CBR 32k MPEG-2 24 kHz mono with CRC (lame -p writes no Info tag)", 24000, 1, 3, "lame", []string{"--quiet", "-b", "32", "-m", "m", "-p", "--resample", "24"}, false},
	{"ffmpeg libmp3lame CBR 128k stereo 48 kHz (Lavc LAME tag)", 48000, 2, 3, "ffmpeg", []string{"-c:a", "libmp3lame", "-b:a", "128k"}, true},
	{"ffmpeg libmp3lame VBR q4 mono 44.1 kHz", 44100, 1, 3, "ffmpeg", []string{"-c:a", "libmp3lame", "-q:a", "4"}, true},
	{"ffmpeg libmp3lame without Xing/LAME tag", 44100, 2, 3, "ffmpeg", []string{"-c:a", "libmp3lame", "-b:a", "96k", "-write_xing", "0"}, false},
}

// mpeg25 is MPEG-2.5 (8 kHz), which go-mp3 cannot decode but Scan and Cut handle.
var mpeg25 = source{"lame CBR 16k MPEG-2.5 8 kHz mono", 8000, 1, 3, "lame", []string{"--quiet", "-b", "16", "-m", "m", "--resample", "8"}, true}

// signal makes a deterministic test signal: a chirp, with the right channel a scaled, delayed copy
// so that a channel swap or a mono/stereo mistake shows.
func signal(n, rate, ch int) []float32 {
	c := testutil.Chirp(n+100, rate, 0.5)
	out := make([]float32, n*ch)
	for i := 0; i < n; i++ {
		out[i*ch] = c[i+100]
		if ch == 2 {
			out[i*ch+1] = 0.7 * c[i]
		}
	}
	return out
}

// encode writes the source's signal and encodes it; it returns the MP3's path.
func (s source) encode(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	wav := filepath.Join(dir, "in.wav")
	out := filepath.Join(dir, "out.mp3")
	n := int(s.seconds * float64(s.rate))
	testutil.WriteWAV16(t, wav, signal(n, s.rate, s.ch), s.rate, s.ch)
	switch s.tool {
	case "lame":
		testutil.Run(t, "lame", append(append([]string{}, s.args...), wav, out)...)
	default:
		args := append([]string{"-nostdin", "-v", "error", "-y", "-i", wav}, s.args...)
		testutil.Run(t, "ffmpeg", append(args, out)...)
	}
	return out
}

func scanPath(t testing.TB, path string) *File {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	f, err := Scan(fh, st.Size())
	if err != nil {
		t.Fatalf("Scan(%s): %v", path, err)
	}
	return f
}

// maxDiff is the largest absolute sample difference between a and b over their common length.
func maxDiff(a, b []float32) float64 {
	m := 0.0
	for i := range min(len(a), len(b)) {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// snrDB is the ratio of a's energy to the energy of a-b, in dB.
func snrDB(a, b []float32) float64 {
	var s, e float64
	for i := range min(len(a), len(b)) {
		s += float64(a[i]) * float64(a[i])
		d := float64(a[i]) - float64(b[i])
		e += d * d
	}
	if e == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(s/e)
}
