package ogg

import (
	"errors"
	"fmt"
	"os"
)

// Repair makes an Ogg file cut short by a crash whole again: everything after the last intact page
// that ends a packet is truncated (a half-written page, garbage), and that page is flagged end of
// stream. It returns the stream's final granule position. A file that is already whole and ends
// with an end-of-stream page is left untouched.
func Repair(path string) (granule int64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1, fmt.Errorf("ogg: %w", err)
	}
	var (
		off, keepEnd, lastOff = 0, -1, -1
		last                  Page
	)
	for off < len(b) {
		p, n, err := ParsePage(b[off:])
		if err != nil {
			break
		}
		if p.Granule >= 0 || p.Flags&FlagBOS != 0 {
			keepEnd, lastOff, last = off+n, off, p
		}
		off += n
	}
	if keepEnd < 0 {
		return -1, fmt.Errorf("ogg: %s: %w", path, ErrNoGranule)
	}
	if keepEnd == len(b) && last.Flags&FlagEOS != 0 {
		return last.Granule, nil
	}
	last.Flags |= FlagEOS
	page, err := AppendPage(nil, &last)
	if err != nil {
		return -1, err
	}
	if len(page) != keepEnd-lastOff {
		return -1, fmt.Errorf("ogg: %s: rewritten page changed size", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return -1, fmt.Errorf("ogg: %w", err)
	}
	_, werr := f.WriteAt(page, int64(lastOff))
	terr := f.Truncate(int64(keepEnd))
	serr := f.Sync()
	if err := errors.Join(werr, terr, serr, f.Close()); err != nil {
		return -1, fmt.Errorf("ogg: repair %s: %w", path, err)
	}
	return last.Granule, nil
}
