package session

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var pruneNow = time.Date(2026, 11, 24, 21, 0, 0, 0, time.UTC)

// craft writes a minimal session folder under root, its files dated an hour before pruneNow.
func craft(t *testing.T, root, rel string, started, deleteAfter time.Time, finalized bool) string {
	t.Helper()
	dir := filepath.Join(root, filepath.FromSlash(rel))
	m := &Manifest{Format: FormatName, Version: 1, ID: rel, ClockRate: ClockRate, StartedAt: started,
		DeleteAfter: deleteAfter, Finalized: finalized, Participants: []Participant{}, Tracks: []Track{}}
	b, _ := m.Marshal()
	os.MkdirAll(filepath.Join(dir, "tracks"), 0o755)
	os.WriteFile(filepath.Join(dir, ManifestName), b, 0o644)
	os.WriteFile(filepath.Join(dir, "tracks", "a-1.opus"), []byte("OggS"), 0o644)
	age(t, dir, pruneNow.Add(-time.Hour))
	return dir
}

func age(t *testing.T, dir string, at time.Time) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			os.Chtimes(p, at, at)
		}
		return nil
	})
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func TestPrune(t *testing.T) {
	day := 24 * time.Hour
	root := t.TempDir()
	past := craft(t, root, "past", pruneNow.Add(-40*day), pruneNow.Add(-10*day), true)
	future := craft(t, root, "future", pruneNow.Add(-5*day), pruneNow.Add(25*day), true)
	held := craft(t, root, "held", pruneNow.Add(-40*day), pruneNow.Add(-10*day), true)
	if _, err := Hold(held, "moderation request 42"); err != nil {
		t.Fatal(err)
	}
	undated := craft(t, root, "undated", pruneNow.Add(-400*day), time.Time{}, true)
	// Unfinalized, past its date, but a file changed just now: its recorder may be running.
	liveByTime := craft(t, root, "2026/live-mtime", pruneNow.Add(-40*day), pruneNow.Add(-10*day), false)
	age(t, liveByTime, pruneNow.Add(-10*time.Second))
	// Unfinalized, files old, but its control socket answers.
	liveBySock := craft(t, root, "2026/live-sock", pruneNow.Add(-40*day), pruneNow.Add(-10*day), false)
	sock := filepath.Join(t.TempDir(), "c.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	os.WriteFile(filepath.Join(liveBySock, ControlName), []byte(sock+"\n"), 0o644)
	age(t, liveBySock, pruneNow.Add(-time.Hour))
	// Unfinalized, recorder long dead: judged by its dates.
	dead := craft(t, root, "2026/dead", pruneNow.Add(-40*day), pruneNow.Add(-10*day), false)
	// A podcast site beside them holding a folder that looks like a session: never entered.
	site := filepath.Join(root, "site")
	os.MkdirAll(site, 0o755)
	os.WriteFile(filepath.Join(site, "podcast.yaml"), []byte("title: x\n"), 0o644)
	inSite := craft(t, root, "site/episodes/raw", pruneNow.Add(-40*day), pruneNow.Add(-10*day), true)
	// A file that is not a session, and a folder with a foreign manifest.json.
	os.WriteFile(filepath.Join(root, "notes.txt"), []byte("keep me"), 0o644)
	os.MkdirAll(filepath.Join(root, "other"), 0o755)
	os.WriteFile(filepath.Join(root, "other", ManifestName), []byte(`{"format":"something-else"}`), 0o644)

	rep, err := Prune(root, PruneOptions{Now: pruneNow, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var would []string
	for _, e := range rep.Deleted {
		would = append(would, e.Path)
	}
	if want := []string{"2026/dead", "past"}; !slices.Equal(would, want) {
		t.Errorf("dry run would delete %v, want %v (report %+v)", would, want, rep)
	}
	for _, d := range []string{past, dead} {
		if !exists(d) {
			t.Errorf("dry run deleted %s", d)
		}
	}

	rep, err = Prune(root, PruneOptions{Now: pruneNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Deleted) != 2 {
		t.Errorf("deleted %+v", rep.Deleted)
	}
	for _, c := range []struct {
		why  string
		path string
		kept bool
	}{
		{"a session past its delete_after date is deleted", past, false},
		{"an unfinalized session whose recorder is gone is judged by its date", dead, false},
		{"a session whose date is in the future is kept", future, true},
		{"a held session is kept though past its date", held, true},
		{"a session with no date is kept without --older-than", undated, true},
		{"an unfinalized session with a file changed within a minute is kept", liveByTime, true},
		{"an unfinalized session whose control socket answers is kept", liveBySock, true},
		{"a folder inside a podcast site is never touched", inSite, true},
		{"a file that is not a session is never touched", filepath.Join(root, "notes.txt"), true},
		{"a foreign manifest.json is not a session", filepath.Join(root, "other", ManifestName), true},
	} {
		if exists(c.path) != c.kept {
			t.Errorf("%s: exists=%v", c.why, exists(c.path))
		}
	}
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), trashPrefix) {
			t.Errorf("trash left behind: %s", e.Name())
		}
	}

	// --older-than judges by started_at: the undated 400-day-old session goes, the 5-day-old stays.
	rep, err = Prune(root, PruneOptions{Now: pruneNow, OlderThan: 30 * day})
	if err != nil {
		t.Fatal(err)
	}
	if exists(undated) || !exists(future) || !exists(held) {
		t.Errorf("--older-than 30d: undated gone=%v future kept=%v held kept=%v (%+v)", !exists(undated), exists(future), exists(held), rep)
	}
}

func TestPruneFinishesTrashAndRefusesNonSessionRoots(t *testing.T) {
	root := t.TempDir()
	craft(t, root, "keep", pruneNow, pruneNow.Add(time.Hour), true)
	os.MkdirAll(filepath.Join(root, trashPrefix+"crashed", "tracks"), 0o755)
	rep, err := Prune(root, PruneOptions{Now: pruneNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Finished) != 1 || exists(filepath.Join(root, trashPrefix+"crashed")) {
		t.Errorf("a crashed prune's trash was not finished: %+v", rep)
	}

	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "x.txt"), []byte("x"), 0o644)
	site := t.TempDir()
	os.WriteFile(filepath.Join(site, "podcast.yaml"), []byte("x"), 0o644)
	for _, c := range []struct{ why, root string }{
		{"a folder with no session in it", empty},
		{"a podcast site", site},
		{"a file", filepath.Join(empty, "x.txt")},
	} {
		if _, err := Prune(c.root, PruneOptions{Now: pruneNow}); !errors.Is(err, ErrNoSessions) {
			t.Errorf("%s: err %v, want ErrNoSessions", c.why, err)
		}
	}
	if !exists(filepath.Join(empty, "x.txt")) {
		t.Error("prune of a non-session root deleted a file")
	}
}

func TestPruneRootIsASession(t *testing.T) {
	parent := t.TempDir()
	dir := craft(t, parent, "one", pruneNow.Add(-40*24*time.Hour), pruneNow.Add(-time.Hour), true)
	rep, err := Prune(dir, PruneOptions{Now: pruneNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Deleted) != 1 || exists(dir) || !exists(filepath.Join(parent, PruneLockName)) {
		t.Errorf("a ROOT that is a session: %+v, still there %v", rep, exists(dir))
	}
}

func TestParseAge(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"2w", 14 * 24 * time.Hour, true},
		{"720h", 720 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"0d", 0, false},
		{"-5d", 0, false},
		{"1.5d", 0, false},
		{"thirty days", 0, false},
		{"", 0, false},
		{"30", 0, false},
	} {
		got, err := ParseAge(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseAge(%q) = %v, %v", c.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "30d, 2w, 720h") {
			t.Errorf("ParseAge(%q) error does not show the forms: %v", c.in, err)
		}
	}
}

func TestHoldRelease(t *testing.T) {
	dir := copyDemo(t)
	if _, err := Hold(dir, " "); err == nil {
		t.Error("a hold without a reason was accepted")
	}
	if _, err := Hold(t.TempDir(), "x"); !errors.Is(err, ErrNotSession) {
		t.Errorf("hold of a non-session: %v", err)
	}
	if _, err := Hold(dir, "request 42"); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHold(dir)
	if err != nil || h == nil || h.Reason != "request 42" || h.Since.IsZero() {
		t.Fatalf("ReadHold = %+v, %v", h, err)
	}
	if h, err := Release(dir); err != nil || h == nil {
		t.Fatalf("Release = %+v, %v", h, err)
	}
	if h, err := Release(dir); err != nil || h != nil {
		t.Fatalf("second Release = %+v, %v (want nothing to release)", h, err)
	}
}

func TestExportUnpacksToAVerifiedCopy(t *testing.T) {
	dir := copyDemo(t)
	key := newKey(t)
	if err := Seal(dir, key); err != nil {
		t.Fatal(err)
	}
	Hold(dir, "request 42")
	os.WriteFile(filepath.Join(dir, ControlName), []byte("/nowhere"), 0o644)
	var a, b bytes.Buffer
	if err := Export(dir, &a); err != nil {
		t.Fatal(err)
	}
	if err := Export(dir, &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two exports of one session differ")
	}

	// Unpack with Go's archive/tar.
	out := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(a.Bytes()))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		p := filepath.Join(out, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(p, 0o755)
			continue
		}
		data, _ := io.ReadAll(tr)
		os.WriteFile(p, data, 0o644)
	}
	want := []string{"town-hall/", "town-hall/hold.json", "town-hall/manifest.json", "town-hall/manifest.json.sig", "town-hall/tracks/",
		"town-hall/tracks/ada-1.opus", "town-hall/tracks/brook-1.opus", "town-hall/tracks/brook-2.opus", "town-hall/tracks/cyd-1.opus"}
	if !slices.Equal(names, want) {
		t.Errorf("tar entries %q, want %q", names, want)
	}
	checkClean(t, filepath.Join(out, "town-hall"), key)

	// Unpack with GNU tar.
	gnu, err := exec.LookPath("tar")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("GNU tar is required in CI")
		}
		t.Skip("no tar")
	}
	out2 := t.TempDir()
	tf := filepath.Join(out2, "x.tar")
	os.WriteFile(tf, a.Bytes(), 0o644)
	if o, err := exec.Command(gnu, "-xf", tf, "-C", out2).CombinedOutput(); err != nil {
		t.Fatalf("tar -x: %v\n%s", err, o)
	}
	checkClean(t, filepath.Join(out2, "town-hall"), key)
}

func checkClean(t *testing.T, dir string, key ed25519.PrivateKey) {
	t.Helper()
	r, err := Verify(dir, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.Signature != SigValid || !r.Held {
		t.Errorf("unpacked copy %s: %+v", dir, r)
	}
}

func TestPruneThroughASymlinkedRoot(t *testing.T) {
	real := t.TempDir()
	dir := craft(t, real, "old", pruneNow.Add(-40*24*time.Hour), pruneNow.Add(-time.Hour), true)
	link := filepath.Join(t.TempDir(), "recordings")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	rep, err := Prune(link, PruneOptions{Now: pruneNow})
	if err != nil || len(rep.Deleted) != 1 || exists(dir) || rep.Root != link {
		t.Errorf("prune of a symlinked ROOT: %+v, %v", rep, err)
	}
}
