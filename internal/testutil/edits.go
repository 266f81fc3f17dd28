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

// FixOggCRCs rewrites in place the checksum of every Ogg page in b (RFC 3533 §6) that starts at a
// capture pattern and whose header, segment table and body fit in b, and returns b. Edits of an Ogg
// file almost always break a page checksum, and the page parser then stops there; with the
// checksums fixed, they reach the parsers behind it.
func FixOggCRCs(b []byte) []byte {
	const header = 27 // RFC 3533 §6: the fixed part of a page header
	for i := 0; i+header <= len(b); i++ {
		if string(b[i:i+4]) != "OggS" {
			continue
		}
		n := header + int(b[i+26])
		if i+n > len(b) {
			continue
		}
		for _, lacing := range b[i+header : i+n] {
			n += int(lacing)
		}
		if i+n > len(b) {
			continue
		}
		clear(b[i+22 : i+26])
		crc := uint32(0)
		for _, v := range b[i : i+n] {
			crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^v]
		}
		binary.LittleEndian.PutUint32(b[i+22:], crc)
		i += n - 1
	}
	return b
}

// oggCRCTable is the table of the Ogg CRC-32: generator polynomial 0x04c11db7, initial value 0,
// no reflection, no final XOR (RFC 3533 §6).
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()
