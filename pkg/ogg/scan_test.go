package ogg

import (
	"bytes"
	"testing"
)

// pageSpans lists where each page of a whole file sits.
func pageSpans(t testing.TB, b []byte) []Span {
	t.Helper()
	var out []Span
	for off := 0; off < len(b); {
		_, n, err := ParsePage(b[off:])
		if err != nil {
			t.Fatalf("page at %d: %v", off, err)
		}
		out = append(out, Span{Offset: int64(off), Bytes: int64(n)})
		off += n
	}
	return out
}

func TestScan(t *testing.T) {
	file, _ := ourFile(t, 60)
	spans := pageSpans(t, file)
	mid := spans[len(spans)/2]
	last := spans[len(spans)-1]
	flip := func(at int64) []byte {
		b := bytes.Clone(file)
		b[at] ^= 0x40
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		pages   int // whole pages found
		damaged []Span
		tail    Span
		torn    bool
	}{
		{"a whole file is every page, nothing damaged", file, len(spans), nil, Span{}, false},
		{"a flipped byte in the body of a middle page loses that page only, and the scan goes on at the next",
			flip(mid.Offset + mid.Bytes/2), len(spans) - 1, []Span{mid}, Span{}, false},
		{"a flipped capture pattern loses that page only",
			flip(mid.Offset), len(spans) - 1, []Span{mid}, Span{}, false},
		{"a flipped byte in the first page loses it only",
			flip(10), len(spans) - 1, []Span{spans[0]}, Span{}, false},
		{"a file cut inside its last page ends with a torn tail",
			file[:last.Offset+last.Bytes-3], len(spans) - 1, nil, Span{last.Offset, last.Bytes - 3}, true},
		{"a damaged last page is a tail that is not torn",
			flip(last.Offset + last.Bytes - 1), len(spans) - 1, nil, last, false},
		{"garbage before the first page is damage",
			append([]byte("garbage!"), file...), len(spans), []Span{{0, 8}}, Span{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Scan(tc.in)
			if len(res.Pages) != tc.pages {
				t.Errorf("%d pages, want %d", len(res.Pages), tc.pages)
			}
			if len(res.Damaged) != len(tc.damaged) {
				t.Fatalf("damaged %v, want %v", res.Damaged, tc.damaged)
			}
			for i := range tc.damaged {
				if res.Damaged[i] != tc.damaged[i] {
					t.Errorf("damaged %v, want %v", res.Damaged, tc.damaged)
				}
			}
			if res.Tail != tc.tail || res.Torn != tc.torn {
				t.Errorf("tail %v torn %v, want %v %v", res.Tail, res.Torn, tc.tail, tc.torn)
			}
		})
	}
}

// FuzzScan damages a whole file at places the fuzzer picks (each pair of damage bytes: where,
// and what to XOR there) and may cut it: the scan never panics, accounts for every byte, and
// finds every page the damage did not touch.
//
// The 64 files (1 to 64 packets) and their pages are made once, not on every run: writing the
// file and finding its pages again took about a third of each run.
func FuzzScan(f *testing.F) {
	var files [64][]byte
	var fileSpans [64][]Span
	for i := range files {
		files[i], _ = ourFile(f, i+1)
		fileSpans[i] = pageSpans(f, files[i])
	}
	f.Add(uint8(12), []byte{}, uint16(0))
	f.Add(uint8(40), []byte{0, 1}, uint16(0))
	f.Add(uint8(40), []byte{200, 0x80, 7, 0xff}, uint16(100))
	f.Add(uint8(3), []byte{30, 'O'}, uint16(9))
	f.Fuzz(func(t *testing.T, n uint8, damage []byte, cut uint16) {
		file, spans := files[n%64], fileSpans[n%64]
		b := bytes.Clone(file)
		touched := make([]bool, len(b))
		for i := 0; i+1 < len(damage); i += 2 {
			// Spread the positions over the file: a byte picks one of 256 stretches.
			at := int(damage[i]) * len(b) / 256
			if damage[i+1] != 0 {
				b[at] ^= damage[i+1]
				touched[at] = true
			}
		}
		if c := int(cut) % (len(b) + 1); cut != 0 {
			b = b[:len(b)-c]
		}
		res := Scan(b)
		found := map[int64]bool{}
		covered := int64(0)
		for _, p := range res.Pages {
			found[p.Offset] = true
			covered += int64(p.Size)
			if !bytes.Equal(b[p.Offset:p.Offset+int64(p.Size)], mustPage(t, p.Page)) {
				t.Fatalf("page at %d does not re-encode to its bytes", p.Offset)
			}
		}
		for _, d := range res.Damaged {
			covered += d.Bytes
		}
		if covered+res.Tail.Bytes != int64(len(b)) {
			t.Fatalf("pages, damage and tail cover %d+%d of %d bytes", covered, res.Tail.Bytes, len(b))
		}
		for _, s := range spans {
			if s.Offset+s.Bytes > int64(len(b)) {
				continue
			}
			intact := true
			for i := s.Offset; i < s.Offset+s.Bytes; i++ {
				intact = intact && !touched[i]
			}
			if intact && !found[s.Offset] {
				t.Fatalf("the intact page at %d (%d bytes) was lost", s.Offset, s.Bytes)
			}
		}
	})
}

func mustPage(t *testing.T, p Page) []byte {
	out, err := AppendPage(nil, &p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
