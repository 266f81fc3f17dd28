package opus

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// interleave repeats a mono signal over channels, scaling channel c by 1-0.3c so channels differ.
func interleave(mono []float32, channels int) []float32 {
	out := make([]float32, 0, len(mono)*channels)
	for _, v := range mono {
		for c := range channels {
			out = append(out, v*float32(1-0.3*float64(c)))
		}
	}
	return out
}

// writeWAV writes pcm as a 16-bit WAV with the independent test writer and returns its path.
func writeWAV(t testing.TB, pcm []float32, rate, channels int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.wav")
	testutil.WriteWAV16(t, p, pcm, rate, channels)
	return p
}

// encodeOurs encodes pcm with OggWriter and returns the file's path.
func encodeOurs(t testing.TB, pcm []float32, f audio.Format, opts OggWriterOptions) string {
	t.Helper()
	var b bytes.Buffer
	w, err := NewOggWriter(&b, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Feed in odd-sized pieces, as a live source would.
	for rest := pcm; len(rest) > 0; {
		n := min(len(rest), 777*f.Channels)
		if err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ours.opus")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeOurs decodes a file with OggStream, checking Len against what Read yields.
func decodeOurs(t testing.TB, path string) ([]float32, *OggStream) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	s, err := NewOggStream(f)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := audio.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := int64(len(pcm) / s.Format().Channels); got != s.Len() {
		t.Errorf("%s: Len() = %d but Read yields %d frames", filepath.Base(path), s.Len(), got)
	}
	return pcm, s
}

// snrDB is the signal-to-noise ratio of got against ref over their common length.
func snrDB(ref, got []float32) float64 {
	var s, n float64
	for i := range min(len(ref), len(got)) {
		d := float64(ref[i]) - float64(got[i])
		s += float64(ref[i]) * float64(ref[i])
		n += d * d
	}
	if n == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(s/n)
}

// maxAbsDiff is the largest sample difference over the common length.
func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range min(len(a), len(b)) {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}
