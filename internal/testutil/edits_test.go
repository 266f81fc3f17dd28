package testutil_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/ogg"
)

// TestFixOggCRCs: a page whose granule position was edited fails its checksum; FixOggCRCs makes it
// parse again with the edited granule, fixes every page of a stream of several, and leaves bytes
// that are no page (or a page cut short) alone.
func TestFixOggCRCs(t *testing.T) {
	var file []byte
	for i := range 3 {
		var err error
		file, err = ogg.AppendPage(file, &ogg.Page{Serial: 7, Sequence: uint32(i), Granule: int64(960 * i),
			Segments: []byte{5}, Body: []byte{1, 2, 3, 4, byte(i)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	size := len(file) / 3
	edited := bytes.Clone(file)
	for i := range 3 {
		edited[i*size+6] ^= 0x10 // the granule position's low byte
	}
	if _, _, err := ogg.ParsePage(edited[size:]); !errors.Is(err, ogg.ErrBadCRC) {
		t.Fatalf("edited page: %v, want a checksum error", err)
	}
	garbage := []byte("OggS but no page")
	fixed := testutil.FixOggCRCs(append(bytes.Clone(edited), garbage...))
	for i := range 3 {
		p, n, err := ogg.ParsePage(fixed[i*size:])
		if err != nil || n != size || p.Granule != int64(960*i)^0x10 {
			t.Errorf("page %d after the fix: granule %d, %d bytes, %v", i, p.Granule, n, err)
		}
	}
	if !bytes.Equal(fixed[len(edited):], garbage) {
		t.Errorf("bytes after the pages changed: %q", fixed[len(edited):])
	}
	cut := testutil.FixOggCRCs(bytes.Clone(edited[:size-1]))
	if !bytes.Equal(cut, edited[:size-1]) {
		t.Error("a page cut short was changed")
	}
}
