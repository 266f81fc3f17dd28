package ogg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"
)

// FuzzOggGranules gives the pages of a real stream (our writer's, 12 pages) arbitrary granule
// positions — 8 bytes of input a page, little-endian, the rest kept — and runs them through the
// header check, the reader with a GranuleTracker, LastGranule and the length check. Whatever the
// positions, the work is linear in the file (no concealment loop, no allocation from a claimed
// length), and what the checks accept obeys their rules: positions never go backwards, no step
// exceeds its packets' 120 ms each, and an accepted length fits MaxSamples and the file's bytes.
func FuzzOggGranules(f *testing.F) {
	file, _ := ourFile(f, 40)
	ps := pages(f, file)
	seed := func(set func(i int, g int64) int64) []byte {
		var b []byte
		for i, p := range ps {
			b = binary.LittleEndian.AppendUint64(b, uint64(set(i, p.Granule)))
		}
		return b
	}
	f.Add(seed(func(i int, g int64) int64 { return g }))
	f.Add(seed(func(i int, g int64) int64 { return map[bool]int64{true: math.MaxInt64, false: g}[i == len(ps)-1] }))
	f.Add(seed(func(i int, g int64) int64 { return map[bool]int64{true: 1000, false: g}[i == len(ps)/2] }))
	f.Add(seed(func(i int, g int64) int64 { return map[bool]int64{true: 1 << 62, false: g}[i == 2] }))
	f.Add(seed(func(i int, g int64) int64 { return map[bool]int64{true: -5, false: g}[i == 3] }))
	f.Fuzz(func(t *testing.T, granules []byte) {
		var b []byte
		for i := range ps {
			p := ps[i]
			if len(granules) >= 8*(i+1) {
				p.Granule = int64(binary.LittleEndian.Uint64(granules[8*i:]))
			}
			var err error
			if b, err = AppendPage(b, &p); err != nil {
				t.Fatal(err)
			}
		}
		size := int64(len(b))
		headerErr := CheckGranules(bytes.NewReader(b), size)
		if headerErr != nil && !errors.Is(headerErr, ErrGranule) {
			t.Fatalf("CheckGranules: %v does not wrap ErrGranule", headerErr)
		}

		r, err := NewOpusReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("the headers are untouched: %v", err)
		}
		var tr GranuleTracker
		var first int64 = -1
		prev, packets, samples, pages := int64(-1), 0, int64(0), 0
		var trackErr error
		for trackErr == nil {
			pkt, g, err := r.ReadPacket()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("the pages are whole: %v", err)
			}
			n, err := PacketSamples(pkt)
			if err != nil {
				t.Fatal(err)
			}
			packets++
			samples += int64(n)
			if g == -1 {
				continue
			}
			if trackErr = tr.Page(r.PageOffset(), g, packets, samples); trackErr != nil {
				if !errors.Is(trackErr, ErrGranule) {
					t.Fatalf("Page: %v does not wrap ErrGranule", trackErr)
				}
				break
			}
			if first < 0 {
				first = g
			}
			if g < prev || (prev >= 0 && g-prev > int64(packets)*maxPacketSamples) || g-tr.Start() > MaxSamples {
				t.Fatalf("page %d: position %d accepted after %d with %d packets (start %d)", pages, g, prev, packets, tr.Start())
			}
			prev, packets, samples = g, 0, 0
			pages++
		}
		if headerErr == nil && trackErr != nil {
			t.Fatalf("the reader refused what the header check passed: %v", trackErr)
		}

		last, _, err := LastGranule(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrGranule) && !errors.Is(err, ErrNoGranule) {
				t.Fatalf("LastGranule: %v", err)
			}
			return
		}
		if trackErr != nil || first < 0 {
			return
		}
		if err := CheckSpan(tr.Start(), first, last, size); err == nil {
			if last-tr.Start() > MaxSamplesIn(size) || last-tr.Start() > MaxSamples || last < first {
				t.Fatalf("length %d from %d..%d accepted for %d bytes", last-tr.Start(), tr.Start(), last, size)
			}
		} else if !errors.Is(err, ErrGranule) {
			t.Fatalf("CheckSpan: %v", err)
		}
	})
}
