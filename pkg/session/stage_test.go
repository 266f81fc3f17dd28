package session

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// TestStageCommitRollsBack fails a commit at its last rename (the manifest), after a track was
// replaced and another deleted: the session is put back byte for byte. The fault is the file
// system's own: the staged manifest is a folder, which rename(2) cannot put over a file (ENOTDIR).
func TestStageCommitRollsBack(t *testing.T) {
	dir := copyDemo(t)
	before := testutil.TreeHash(t, dir, nil)
	st, err := NewStage(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Replace("tracks/ada-1.opus")
	st.Delete("tracks/brook-2.opus")
	if err := st.Mirror(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(st.Path("tracks/ada-1.opus"), []byte("new"), 0o644)
	if err := os.MkdirAll(filepath.Join(st.Path(ManifestName), "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = st.Commit()
	if !errors.Is(err, syscall.ENOTDIR) || !strings.Contains(err.Error(), ManifestName) {
		t.Fatalf("commit: %v, want the manifest's rename to fail with ENOTDIR", err)
	}
	st.Close()
	testutil.SameTree(t, "after a failed commit", before, testutil.TreeHash(t, dir, nil))
}

// TestCheckSealAndPlain: a sealed session that changed, or whose signature no longer matches,
// fails CheckSeal naming what changed; a link anywhere in the folder fails CheckPlain.
func TestCheckSealAndPlain(t *testing.T) {
	dir := copyDemo(t)
	if err := CheckSeal(dir); err != nil {
		t.Errorf("an unsealed session: %v", err)
	}
	if err := Seal(dir, newKey(t)); err != nil {
		t.Fatal(err)
	}
	if err := CheckSeal(dir); err != nil {
		t.Errorf("a sealed, unchanged session: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "tracks", "extra.opus"), []byte("x"), 0o644)
	var mm *SealMismatchError
	if err := CheckSeal(dir); !errors.As(err, &mm) || len(mm.Added) != 1 {
		t.Errorf("an added file: %v", err)
	}
	os.Remove(filepath.Join(dir, "tracks", "extra.opus"))
	// A manifest changed after signing (its seal dropped, say): the signature says so.
	s, _ := Open(dir)
	s.Manifest.Files = nil
	s.Save()
	if err := CheckSeal(dir); !errors.As(err, &mm) || mm.Signature == "" {
		t.Errorf("a manifest changed after signing: %v", err)
	}
	if err := CheckPlain(dir); err != nil {
		t.Errorf("a plain session: %v", err)
	}
	os.Symlink("/etc/passwd", filepath.Join(dir, "tracks", "x.opus"))
	if err := CheckPlain(dir); !errors.Is(err, ErrIrregular) {
		t.Errorf("a link: %v", err)
	}
}

// TestStageOneChangeAtATime: while one change of a session is staged, a second (another redact
// or a recover) is refused with ErrBusy and leaves the first's stage alone; once the first is
// closed the next may begin. Without the lock the second removed the first's staging folder, or
// the last manifest written undid the other's change.
func TestStageOneChangeAtATime(t *testing.T) {
	dir := copyDemo(t)
	first, err := NewStage(dir, "redact")
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewStage(dir, "recover")
	if !errors.Is(err, ErrBusy) {
		if second != nil {
			second.Close()
		}
		t.Fatalf("a second change while one is staged: %v, want ErrBusy", err)
	}
	if _, err := os.Stat(first.Dir); err != nil {
		t.Errorf("the first change's stage is gone: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	third, err := NewStage(dir, "recover")
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	third.Close()
	if m, _ := filepath.Glob(filepath.Join(dir, StagePrefix+"*")); len(m) > 0 {
		t.Errorf("staging folders left: %v", m)
	}
}
