package testutil

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Fuzz targets whose input would be a whole file take an edit of a real file instead: Go's fuzzer
// minimizes every new input in a loop quadratic in its length, and a file of a few kilobytes
// keeps it there for up to a minute (executions stall at 0/sec), while a few bytes of edits
// minimize at once. See docs/testing.md, "Fuzzing".

// MaxEdits bounds the edits (and raw inputs) of such a target, so that minimizing stays quick.
const MaxEdits = 64

// The edit operations of ApplyEdits, an operation byte's value modulo 3.
const (
	EditSet = iota
	EditInsert
	EditDelete
)

// ApplyEdits returns a copy of file with edits applied in order: each is 4 bytes, an operation
// (EditSet, EditInsert or EditDelete, modulo 3), a little-endian offset (modulo the length) and a
// value. A trailing part shorter than 4 bytes is ignored.
func ApplyEdits(file, edits []byte) []byte {
	b := bytes.Clone(file)
	for ; len(edits) >= 4; edits = edits[4:] {
		if len(b) == 0 {
			if edits[0]%3 == EditInsert {
				b = append(b, edits[3])
			}
			continue
		}
		off := int(binary.LittleEndian.Uint16(edits[1:])) % len(b)
		switch edits[0] % 3 {
		case EditSet:
			b[off] = edits[3]
		case EditInsert:
			b = slices.Insert(b, off, edits[3])
		case EditDelete:
			b = slices.Delete(b, off, off+1)
		}
	}
	return b
}
