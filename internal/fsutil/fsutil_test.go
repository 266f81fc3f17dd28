package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mk("s/tracks")
	mk("a/b")
	mk("elsewhere")
	if err := os.WriteFile(filepath.Join(root, "s/mix.opus"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ link, target string }{
		{"tl", "s/tracks"},                    // a link to a folder inside the session
		{"a/b/up", ".."},                      // a/b/up -> a
		{"deep", "a/b"},                       // deep/.. is a, not the root
		{"dangling", "s/new.mp3"},             // a dangling link whose target would be created
		{"chain", "dangling"},                 // a link to a dangling link
		{"mixlink", filepath.Join(root, "s")}, // an absolute link
	} {
		if err := os.Symlink(l.target, filepath.Join(root, l.link)); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(root)
	tests := []struct {
		in, want, why string
	}{
		{"s/mix.opus", "s/mix.opus", "an existing file, relative"},
		{"s/../s/mix.opus", "s/mix.opus", "the same file spelt with .."},
		{"./s//tracks/./x.opus", "s/tracks/x.opus", "a new file, spelt loosely"},
		{"tl/x.opus", "s/tracks/x.opus", "a new file through a link to a folder"},
		{"deep/../x.mp3", "a/x.mp3", "'..' after a link goes up from the link's target, as the kernel does"},
		{"dangling", "s/new.mp3", "a dangling link resolves to what a write would create"},
		{"chain", "s/new.mp3", "a chain of links ending dangling"},
		{"mixlink/missing/deeper/x", "s/missing/deeper/x", "several missing parts under an absolute link"},
		{filepath.Join(root, "elsewhere", "x"), "elsewhere/x", "an absolute path"},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.in)
		if err != nil {
			t.Errorf("%s: Resolve(%q): %v", tt.why, tt.in, err)
			continue
		}
		if want := filepath.Join(root, tt.want); got != want {
			t.Errorf("%s: Resolve(%q) = %q, want %q", tt.why, tt.in, got, want)
		}
	}
}

func TestWithinAndSameFile(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := filepath.Join(root, "s")
	if err := os.MkdirAll(filepath.Join(s, "tracks"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(s, "mix.opus")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(root, "hard.opus")
	if err := os.Link(f, hard); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(s, filepath.Join(root, "sl")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		p, dir string
		want   bool
		why    string
	}{
		{s, s, true, "the folder itself"},
		{filepath.Join(s, "tracks", "new.opus"), s, true, "a new file two levels in"},
		{filepath.Join(root, "s2", "x"), s, false, "a sibling whose name starts the same"},
		{filepath.Join(root, "x"), s, false, "the parent"},
		{filepath.Join(s, "x"), filepath.Join(root, "sl"), true, "dir given through a link"},
		{filepath.Join(s, "x"), filepath.Join(root, "missing"), false, "a dir that does not exist"},
	} {
		if got := Within(tt.p, tt.dir); got != tt.want {
			t.Errorf("%s: Within(%q, %q) = %v", tt.why, tt.p, tt.dir, got)
		}
	}
	if !SameFile(hard, f) {
		t.Error("two hard links to one file are the same file")
	}
	if SameFile(filepath.Join(root, "missing"), filepath.Join(root, "missing")) {
		t.Error("a missing file is the same as nothing")
	}
}
