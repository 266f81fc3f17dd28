package fsutil

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "manifest.json")
	for _, data := range []string{"first", "second, longer than the first"} {
		if err := WriteFileAtomic(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != data {
			t.Fatalf("after writing %q the file holds %q (%v)", data, got, err)
		}
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the given 0600", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d files; the temporary file must be gone", len(entries))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x"), nil, 0o644); err == nil {
		t.Error("a write into a missing folder succeeded")
	}
}

func TestCopyFile(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := os.WriteFile(src, []byte("audio"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		why     string
		prepare func()
		wantErr error
		wantSrc string
	}{
		{"a new dst gets src's bytes", func() {}, nil, "audio"},
		{"an existing dst is refused, not truncated", func() { os.WriteFile(dst, []byte("old"), 0o644) }, fs.ErrExist, "audio"},
		{"a dst hard-linked to src is refused, so src is never truncated through it", func() { os.Link(src, dst) }, fs.ErrExist, "audio"},
	}
	for _, tt := range tests {
		os.Remove(dst)
		tt.prepare()
		n, err := CopyFile(src, dst)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: err %v, want %v", tt.why, err, tt.wantErr)
		}
		if tt.wantErr == nil && n != 5 {
			t.Errorf("%s: copied %d bytes, want 5", tt.why, n)
		}
		if got, _ := os.ReadFile(src); string(got) != tt.wantSrc {
			t.Errorf("%s: src now holds %q", tt.why, got)
		}
		if tt.wantErr == nil {
			if got, _ := os.ReadFile(dst); string(got) != "audio" {
				t.Errorf("%s: dst holds %q", tt.why, got)
			}
		}
	}
	if _, err := CopyFile(filepath.Join(dir, "missing"), filepath.Join(dir, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("copy of a missing file: %v, want ErrNotExist", err)
	}
}

func TestWriteAtomicFailedWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "episode.mp3")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteAtomic(p, 0o600, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err %v, want the write's own error", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Errorf("a failed write left %q; the old content must stay", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d files; the temporary file must be removed", len(entries))
	}
}

func TestSHA256File(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, n, err := SHA256File(p)
	// FIPS 180-2, appendix B.1: SHA-256("abc").
	if err != nil || n != 3 || sum != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("SHA256File = %s, %d, %v", sum, n, err)
	}
	if _, _, err := SHA256File(p + ".missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v, want ErrNotExist", err)
	}
}
