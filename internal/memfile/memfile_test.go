package memfile

import (
	"io"
	"testing"
)

func TestFile(t *testing.T) {
	var f File
	f.Write([]byte("header--body"))
	f.Seek(0, io.SeekStart)
	f.Write([]byte("HEAD"))
	f.Seek(2, io.SeekEnd)
	f.Write([]byte("!"))
	if got := string(f.Bytes()); got != "HEADer--body\x00\x00!" {
		t.Errorf("contents %q: an overwrite at the start and a write past the end after a hole", got)
	}
	if _, err := f.Seek(-1, io.SeekStart); err == nil {
		t.Error("a negative offset must be refused")
	}
}
