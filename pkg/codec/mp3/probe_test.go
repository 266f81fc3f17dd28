package mp3

import (
	"bytes"
	"os"
	"testing"
)

// TestProbeCutsLikeScan checks that Probe indexes CBR files lazily and falls back to Scan for
// the others, and that cutting through either File writes the same bytes.
func TestProbeCutsLikeScan(t *testing.T) {
	for _, s := range sources {
		t.Run(s.name, func(t *testing.T) {
			data, err := os.ReadFile(s.encode(t))
			if err != nil {
				t.Fatal(err)
			}
			r := bytes.NewReader(data)
			full, err := Scan(r, int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			lazy, err := Probe(r, int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			// Lazy exactly when the encoder wrote an Info (CBR) tag.
			if wantLazy := s.tagged && !full.VBR; (lazy.Frames == nil) != wantLazy {
				t.Errorf("Probe lazy = %v, want %v", lazy.Frames == nil, wantLazy)
			}
			if lazy.Samples != full.Samples || lazy.FrameCount() != full.FrameCount() || lazy.Skip != full.Skip {
				t.Errorf("Probe: %d samples %d frames skip %d; Scan: %d, %d, %d",
					lazy.Samples, lazy.FrameCount(), lazy.Skip, full.Samples, full.FrameCount(), full.Skip)
			}
			sec := func(x float64) int64 { return int64(x * float64(s.rate)) }
			keep := []Range{{sec(0.2) + 11, sec(1.1)}, {sec(1.7), sec(2.6) + 3}}
			var a, b bytes.Buffer
			if _, err := Cut(&a, r, full, keep, CutOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := Cut(&b, r, lazy, keep, CutOptions{}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("cut through Probe differs from cut through Scan (%d vs %d bytes)", b.Len(), a.Len())
			}
		})
	}
}

// TestProbeFallsBack damages the frame layout of a CBR file so arithmetic would misplace frames:
// Probe must notice and index the file fully.
func TestProbeFallsBack(t *testing.T) {
	data, err := os.ReadFile(sources[0].encode(t))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Scan(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	cut := f.Frames[len(f.Frames)/3]
	junk := append(append(append([]byte{}, data[:cut.Offset]...), []byte("some junk")...), data[cut.Offset:]...)
	g, err := Probe(bytes.NewReader(junk), int64(len(junk)))
	if err != nil {
		t.Fatal(err)
	}
	if g.Frames == nil || g.Junk != 9 {
		t.Errorf("Probe kept the arithmetic index (Frames nil: %v, junk %d) over a shifted stream", g.Frames == nil, g.Junk)
	}
}
