package capture

import (
	"bytes"
	"os"
	"testing"

	"github.com/spacecast/spacecast/pkg/ogg"
)

// FuzzRecoverStream damages the first pages of a real track where the fuzzer says (pairs of
// bytes: where, and what to XOR there) and cuts it: recovery never panics, what it writes is a
// clean stream (every page whole, numbered without holes, granules that never go back, the last
// page ending the stream), and every audio page the damage did not touch is in it.
func FuzzRecoverStream(f *testing.F) {
	full, err := os.ReadFile("../../testdata/demo/session/tracks/brook-2.opus")
	if err != nil {
		f.Fatal(err)
	}
	var file []byte
	for _, p := range ogg.Scan(full).Pages[:12] {
		file = append(file, full[p.Offset:p.Offset+int64(p.Size)]...)
	}
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{128, 1}, uint16(0))
	f.Add([]byte{1, 0xff, 200, 4}, uint16(30))
	f.Add([]byte{0, 'x', 3, 1, 250, 9}, uint16(0))
	f.Fuzz(func(t *testing.T, damage []byte, cut uint16) {
		b := bytes.Clone(file)
		touched := make([]bool, len(b))
		for i := 0; i+1 < len(damage); i += 2 {
			at := int(damage[i]) * len(b) / 256
			if damage[i+1] != 0 {
				b[at] ^= damage[i+1]
				touched[at] = true
			}
		}
		b = b[:len(b)-int(cut)%(len(b)/2)]
		sr := recoverStream(b, 1)
		if sr.empty {
			return
		}
		out := sr.out
		if out == nil {
			out = b
		}
		res := ogg.Scan(out)
		if len(res.Damaged) != 0 || res.Tail.Bytes != 0 || len(res.Pages) < 2 {
			t.Fatalf("recovered stream: %d pages, damaged %v, tail %v", len(res.Pages), res.Damaged, res.Tail)
		}
		g := int64(0)
		for i, p := range res.Pages {
			if p.Page.Sequence != uint32(i) || p.Page.Serial != res.Pages[0].Page.Serial {
				t.Fatalf("page %d: sequence %d, serial %d", i, p.Page.Sequence, p.Page.Serial)
			}
			if p.Page.Granule >= 0 {
				if p.Page.Granule < g {
					t.Fatalf("page %d: granule %d after %d", i, p.Page.Granule, g)
				}
				g = p.Page.Granule
			}
			if eos := p.Page.Flags&ogg.FlagEOS != 0; eos != (i == len(res.Pages)-1) {
				t.Fatalf("page %d of %d: end of stream %v", i, len(res.Pages), eos)
			}
		}
		if g != sr.granule {
			t.Fatalf("final granule %d, reported %d", g, sr.granule)
		}
		// Every audio page the damage left alone is there, its packets whole.
		for _, p := range ogg.Scan(file).Pages[2:] {
			end := p.Offset + int64(p.Size)
			if end > int64(len(b)) || slicesContain(touched[p.Offset:end]) {
				continue
			}
			if !bytes.Contains(out, p.Page.Body) {
				t.Fatalf("the intact page at %d is lost", p.Offset)
			}
		}
	})
}

func slicesContain(b []bool) bool {
	for _, v := range b {
		if v {
			return true
		}
	}
	return false
}
