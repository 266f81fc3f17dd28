package studio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckNotSame: the library never writes over a file it reads, however the output is spelt;
// it leaves other paths, even inside a session, to its caller's policy. The old check compared
// FILE@OFFSET as typed and missed the file (mix a.wav@1 -o a.wav overwrote a.wav).
func TestCheckNotSame(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sess := filepath.Join(dir, "session")
	if err := os.CopyFS(sess, os.DirFS(filepath.Join("..", "..", "testdata", "demo", "session"))); err != nil {
		t.Fatal(err)
	}
	wav := filepath.Join(dir, "a.wav")
	if err := os.WriteFile(wav, []byte("RIFF"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(wav, filepath.Join(dir, "hard.wav")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(sess, "tracks"), filepath.Join(dir, "tl")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		in, out string
		same    bool
		why     string
	}{
		{wav + "@1.5", wav, true, "a file given with an offset"},
		{wav, filepath.Join(dir, "hard.wav"), true, "a hard link of the input"},
		{wav, dir + "/tl/../../a.wav", true, "the input spelt through a link and '..', as the kernel walks it"},
		{sess, filepath.Join(sess, "tracks", "ada-1.opus"), true, "a track of a session input"},
		{sess, filepath.Join(dir, "tl", "ada-1.opus"), true, "a track through a link to the tracks folder"},
		{sess, filepath.Join(sess, "manifest.json"), true, "the manifest of a session input"},
		{sess, filepath.Join(sess, "mix.opus"), false, "a new live mix in a session (redact's staged rebuild)"},
		{wav, filepath.Join(dir, "b.wav"), false, "another file"},
	} {
		err := checkNotSame(tt.in, tt.out)
		if got := errors.Is(err, ErrSameFile); got != tt.same {
			t.Errorf("%s: checkNotSame(%s, %s) = %v", tt.why, tt.in, tt.out, err)
		}
	}
}
