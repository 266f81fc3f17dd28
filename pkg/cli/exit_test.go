package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

// TestInputErrExitCodes: an input that is wrong is exit 3; a machine that fails while reading or
// writing it (a full disk, an I/O error) is exit 1, whichever command met it.
func TestInputErrExitCodes(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"a missing file is bad input", &fs.PathError{Op: "open", Path: "x.mp3", Err: fs.ErrNotExist}, ExitBadInput},
		{"a corrupt file is bad input", errors.New("mp3: no frames"), ExitBadInput},
		{"a full disk during recover is a failure", fmt.Errorf("recover: %w", &fs.PathError{Op: "write", Path: "m.json", Err: syscall.ENOSPC}), ExitFailure},
		{"an I/O error is a failure", &fs.PathError{Op: "read", Path: "t.opus", Err: syscall.EIO}, ExitFailure},
		{"a read-only file system is a failure", &fs.PathError{Op: "open", Path: "s", Err: syscall.EROFS}, ExitFailure},
		{"no error is success", nil, ExitOK},
	}
	for _, c := range cases {
		if got := ExitCode(inputErr(c.err)); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
}

// TestIsTerminal: /dev/null is a character device but not a terminal: no status line is drawn
// into it. (A real terminal is checked through a pty in record_status_test.go.)
func TestIsTerminal(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Errorf("%s is taken for a terminal", os.DevNull)
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Errorf("a buffer is taken for a terminal")
	}
}
