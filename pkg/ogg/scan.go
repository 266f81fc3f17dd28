package ogg

import (
	"bytes"
	"errors"
	"io"
)

// ScannedPage is a whole page found by Scan and where it sits in the scanned bytes.
type ScannedPage struct {
	Offset int64
	Size   int // bytes the page occupies, header included
	Page   Page
}

// Span is a stretch of scanned bytes that holds no whole page.
type Span struct {
	Offset int64 `json:"offset"`
	Bytes  int64 `json:"bytes"`
}

// ScanResult is what Scan found: every whole page in order, the stretches between them that hold
// none (damage: a flipped bit, a bad header, garbage), and what follows the last whole page.
type ScanResult struct {
	Pages   []ScannedPage
	Damaged []Span
	// Tail is what follows the last whole page when no whole page comes after it: a page cut
	// short by a crash (Torn) or garbage. Bytes is 0 when the data ends with a whole page.
	Tail Span
	// Torn is true when Tail is the beginning of a page (a capture pattern, a header that parses)
	// that the data ends inside: what a crash in the middle of writing a page leaves.
	Torn bool
}

// Scan reads b as a sequence of Ogg pages (RFC 3533 §6) without stopping at damage. A page whose
// checksum or header is wrong is skipped, and the scan resynchronises at the next capture pattern
// "OggS" where a whole page with a valid checksum begins (RFC 3533 §6: the capture pattern is
// there so that a reader can find pages again after lost data). The pages returned alias b.
//
// Every page with a valid checksum that does not overlap an earlier whole page is found: the
// scan never skips past a capture pattern without trying it.
func Scan(b []byte) ScanResult {
	var res ScanResult
	off := 0
	for off < len(b) {
		p, n, err := ParsePage(b[off:])
		if err == nil {
			res.Pages = append(res.Pages, ScannedPage{Offset: int64(off), Size: n, Page: p})
			off += n
			continue
		}
		next := resync(b, off+1)
		if next < 0 {
			res.Tail = Span{Offset: int64(off), Bytes: int64(len(b) - off)}
			res.Torn = errors.Is(err, io.ErrUnexpectedEOF)
			break
		}
		res.Damaged = append(res.Damaged, Span{Offset: int64(off), Bytes: int64(next - off)})
		off = next
	}
	return res
}

// resync returns the offset of the first whole, checksummed page at or after from, or -1.
func resync(b []byte, from int) int {
	for from < len(b) {
		i := bytes.Index(b[from:], capturePattern[:])
		if i < 0 {
			return -1
		}
		at := from + i
		if _, _, err := ParsePage(b[at:]); err == nil {
			return at
		}
		from = at + 1
	}
	return -1
}
