package id3

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead feeds Read arbitrary bytes, seeded with tags from ffmpeg, the lame CLI, Marshal and
// the hand-built cases. Read must not panic or claim more bytes than it had; a tag it returns
// and Marshal accepts must survive Marshal → Read → Marshal byte for byte.
// go test -run XXX -fuzz FuzzRead -fuzztime 20s ./pkg/codec/id3
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.id3"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(rawTag(2, 0, frame22("TT2", []byte("\x00t")), frame22("PIC", []byte("\x00PNG\x03\x00x"))))
	f.Add(rawTag(4, flagUnsync|flagExtended, []byte{0, 0, 0, 6, 1, 0},
		frame24("TIT2", v24Unsync|v24DataLength, []byte("\x00\x00\x00\x03\x01\xFF\x00\xFEy\x00"))))
	f.Add(rawTag(3, 0, frame23("TIT2", v23Compressed, cat([]byte{0, 0, 0, 6}, zlibBytes([]byte("\x00squid"))))))
	f.Fuzz(func(t *testing.T, in []byte) {
		tag, n, err := Read(bytes.NewReader(in))
		if n > int64(len(in)) {
			t.Fatalf("consumed %d of %d bytes", n, len(in))
		}
		if err != nil {
			return
		}
		b, err := tag.Marshal()
		if err != nil {
			return // e.g. a chapter ID in Latin-1, which Marshal refuses
		}
		again, _, err := Read(bytes.NewReader(b))
		if b == nil {
			return
		}
		if err != nil {
			t.Fatalf("Read(Marshal(tag)) = %v", err)
		}
		b2, err := again.Marshal()
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("Marshal → Read → Marshal changed the bytes (%v)", err)
		}
	})
}
