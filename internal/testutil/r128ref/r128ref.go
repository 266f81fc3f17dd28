// Package r128ref measures audio with ffmpeg's ebur128 filter, the independent judge for the
// loudness meter and the limiter. It is imported only from tests (TestNoTestingInProduct).
package r128ref

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// Result is what ffmpeg's ebur128 reports.
type Result struct {
	Integrated float64 // LUFS, from the last lavfi.r128.I (3 decimals)
	Range      float64 // LU, from the last lavfi.r128.LRA
	TruePeak   float64 // dBTP, the largest lavfi.r128.true_peak (linear, 3 decimals) in dB
	SummaryTP  float64 // dBTP, the summary's "Peak:" line (1 decimal, covers the whole input)
}

// Measure writes samples as raw float32 and runs ffmpeg -af ebur128=peak=true over them.
// ffmpeg resamples to 48 kHz for loudness (its filter only takes 48 kHz) and to 192 kHz for true peak.
func Measure(t testing.TB, samples []float32, rate, channels int) Result {
	t.Helper()
	dir := t.TempDir()
	raw := filepath.Join(dir, "in.f32")
	b := make([]byte, 4*len(samples))
	for i, v := range samples {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(raw, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return MeasureFile(t, raw, rate, channels)
}

// MeasureFile measures a file: raw float32 when rate > 0, else any file ffmpeg reads.
func MeasureFile(t testing.TB, path string, rate, channels int) Result {
	t.Helper()
	// The metadata file's path goes inside a filter graph, where a test name's commas would split
	// it: use a directory with a plain name.
	dir, err := os.MkdirTemp("", "r128ref")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	meta := filepath.Join(dir, "meta.txt")
	args := []string{"-nostdin", "-hide_banner", "-nostats"}
	if rate > 0 {
		args = append(args, "-f", "f32le", "-ar", strconv.Itoa(rate), "-ac", strconv.Itoa(channels))
	}
	args = append(args, "-i", path,
		"-af", "ebur128=peak=true:metadata=1,ametadata=mode=print:file="+meta, "-f", "null", "-")
	_, stderr := testutil.Run(t, "ffmpeg", args...)
	r := Result{Integrated: math.Inf(-1), TruePeak: math.Inf(-1), SummaryTP: math.Inf(-1)}
	m, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(m))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch k {
		case "lavfi.r128.I":
			r.Integrated = x
		case "lavfi.r128.LRA":
			r.Range = x
		case "lavfi.r128.true_peak":
			r.TruePeak = math.Max(r.TruePeak, 20*math.Log10(x))
		}
	}
	sc = bufio.NewScanner(bytes.NewReader(stderr))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "Peak:" {
			if x, err := strconv.ParseFloat(f[1], 64); err == nil {
				r.SummaryTP = x
			}
		}
	}
	return r
}
