package ogg

import (
	"fmt"
	"io"
)

// LastGranule returns the granule position of the last page in r that carries one (and the
// serial number of its stream), reading backwards from the end: the stream's length without
// reading it all. Damaged or truncated pages at the end — a crashed recording's — are passed over,
// so the answer is the last position whose page is whole. It leaves r's offset unspecified.
func LastGranule(r io.ReadSeeker) (granule int64, serial uint32, err error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return -1, 0, fmt.Errorf("ogg: find end: %w", err)
	}
	// Scan windows ending at `end`; a window overlaps the next one by a page so that no page is
	// cut in two on every try.
	buf := make([]byte, 0, min(size, 2*MaxPageSize))
	end := size
	for end > 0 {
		start := max(0, end-int64(cap(buf)))
		buf = buf[:end-start]
		if _, err := r.Seek(start, io.SeekStart); err != nil {
			return -1, 0, fmt.Errorf("ogg: seek to byte %d: %w", start, err)
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return -1, 0, fmt.Errorf("ogg: read bytes %d-%d: %w", start, end, err)
		}
		if i, ok := lastGranuleIn(buf); ok {
			p, _, _ := ParsePage(buf[i:])
			if err := checkLastStep(buf[:i], start+int64(i), p); err != nil {
				return -1, 0, fmt.Errorf("ogg: %w", err)
			}
			return p.Granule, p.Serial, nil
		}
		if start == 0 {
			break
		}
		end = start + MaxPageSize // overlap: a page that began before start is whole next time
	}
	return -1, 0, fmt.Errorf("ogg: %w", ErrNoGranule)
}

// lastGranuleIn finds the last whole, checksummed page in b with a granule position, and returns
// its index.
func lastGranuleIn(b []byte) (int, bool) {
	for i := len(b) - headerSize; i >= 0; i-- {
		if [4]byte(b[i:i+4]) != capturePattern {
			continue
		}
		if p, _, err := ParsePage(b[i:]); err == nil && p.Granule >= 0 {
			return i, true
		}
	}
	return -1, false
}

// checkLastStep checks the last page's granule position against the page with one before it, when
// that page lies whole in before (the bytes that precede the last page): the step must not go
// backwards or past what the packets completing in between can play (GranuleTracker's rule). A
// position 0 before it is the headers' (RFC 7845 §3), not audio: a stream may start anywhere.
func checkLastStep(before []byte, off int64, last Page) error {
	packets := completed(last)
	for i := len(before) - headerSize; i >= 0; i-- {
		if [4]byte(before[i:i+4]) != capturePattern {
			continue
		}
		p, n, err := ParsePage(before[i:])
		if err != nil || i+n > len(before) || p.Serial != last.Serial {
			continue
		}
		if p.Granule < 0 {
			packets += completed(p)
			continue
		}
		if p.Granule == 0 {
			return nil
		}
		return checkStep(off, p.Granule, last.Granule, packets)
	}
	return nil
}

// completed counts the packets that end on a page: its lacing values below 255 (RFC 3533 §5).
func completed(p Page) int {
	n := 0
	for _, v := range p.Segments {
		if v < maxSegment {
			n++
		}
	}
	return n
}
