// Package memfile is an in-memory io.WriteSeeker, for encoders that seek back to finish a header
// (LAME's tag frame, a WAV's sizes) when the result is wanted in memory rather than on disk.
package memfile

import (
	"errors"
	"io"
)

// File grows as it is written; writing past the end after a seek fills the hole with zeros.
type File struct {
	off int64
	b   []byte
}

var errNegative = errors.New("memfile: seek to a negative offset")

// Bytes returns the contents written so far (not a copy).
func (f *File) Bytes() []byte { return f.b }

// Write writes p at the current offset.
func (f *File) Write(p []byte) (int, error) {
	if need := f.off + int64(len(p)); need > int64(len(f.b)) {
		f.b = append(f.b, make([]byte, need-int64(len(f.b)))...)
	}
	n := copy(f.b[f.off:], p)
	f.off += int64(n)
	return n, nil
}

// Seek sets the offset for the next Write.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += int64(len(f.b))
	}
	if offset < 0 {
		return 0, errNegative
	}
	f.off = offset
	return offset, nil
}
