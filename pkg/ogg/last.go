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
		if g, s, ok := lastGranuleIn(buf); ok {
			return g, s, nil
		}
		if start == 0 {
			break
		}
		end = start + MaxPageSize // overlap: a page that began before start is whole next time
	}
	return -1, 0, fmt.Errorf("ogg: %w", ErrNoGranule)
}

// lastGranuleIn finds the last whole, checksummed page in b with a granule position.
func lastGranuleIn(b []byte) (int64, uint32, bool) {
	for i := len(b) - headerSize; i >= 0; i-- {
		if [4]byte(b[i:i+4]) != capturePattern {
			continue
		}
		if p, _, err := ParsePage(b[i:]); err == nil && p.Granule >= 0 {
			return p.Granule, p.Serial, true
		}
	}
	return -1, 0, false
}
