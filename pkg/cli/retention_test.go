package cli

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/session"
)

// sealedDemo copies the demo session to a temp folder and seals it, signed with a new key.
func sealedDemo(t *testing.T) (dir, keyFile string) {
	t.Helper()
	tmp := t.TempDir()
	dir = filepath.Join(tmp, "town-hall")
	if err := os.CopyFS(dir, os.DirFS(demoSession)); err != nil {
		t.Fatal(err)
	}
	keyFile = filepath.Join(tmp, "sign.key")
	mustRun(t, "keygen", "-o", keyFile)
	k, err := session.LoadPrivateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := session.Seal(dir, k); err != nil {
		t.Fatal(err)
	}
	return dir, keyFile
}

func TestVerifyCommand(t *testing.T) {
	dir, key := sealedDemo(t)
	otherKey := filepath.Join(t.TempDir(), "other.key")
	mustRun(t, "keygen", "-o", otherKey)

	out := mustRun(t, "verify", dir, "--key", key+".pub")
	if !strings.Contains(out, "all 4 match") || !strings.Contains(out, "signature: valid") || !strings.Contains(out, "manifest:  sha256 ") {
		t.Errorf("verify of a clean session:\n%s", out)
	}

	cases := []struct {
		name     string
		args     []string
		change   func()
		code     int
		contains string
	}{
		{"a wrong --key fails with exit 1 and names the trusted key", []string{"--key", otherKey + ".pub"}, func() {}, 1, "not with the trusted key"},
		{"an unknown key file is bad input", []string{"--key", "/nonexistent.pub"}, func() {}, 3, "/nonexistent.pub"},
		{"a private key given as --key is refused", []string{"--key", key}, func() {}, 3, "PUBLIC KEY"},
		{"a flipped byte is a changed file, exit 1", nil, func() {
			p := filepath.Join(dir, "tracks", "cyd-1.opus")
			b, _ := os.ReadFile(p)
			b[100] ^= 0x80
			os.WriteFile(p, b, 0o644)
		}, 1, "changed  tracks/cyd-1.opus: same size, different content"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.change()
			out, errOut, code := run(t, append([]string{"verify", dir}, c.args...)...)
			if code != c.code || !strings.Contains(out+errOut, c.contains) {
				t.Errorf("exit %d, want %d; want %q in\n%s%s", code, c.code, c.contains, out, errOut)
			}
		})
	}

	// JSON for scripts.
	out, _, code := run(t, "verify", dir, "--json")
	var rep session.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.OK || len(rep.Changed) != 1 {
		t.Errorf("verify --json: exit %d, %+v, %v", code, rep, err)
	}

	// Not a session; an unsealed session.
	if _, errOut, code := run(t, "verify", t.TempDir()); code != 3 || !strings.Contains(errOut, "is not a spacecast session") {
		t.Errorf("verify of a plain folder: exit %d: %s", code, errOut)
	}
	if out, errOut, code := run(t, "verify", demoSession); code != 1 || !strings.Contains(out, "not sealed") || !strings.Contains(errOut, "never sealed") {
		t.Errorf("verify of an unsealed session: exit %d:\n%s%s", code, out, errOut)
	}
}

func TestKeygenRefusesToOverwrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k")
	mustRun(t, "keygen", "-o", p)
	before, _ := os.ReadFile(p)
	if _, errOut, code := run(t, "keygen", "-o", p); code != 3 || !strings.Contains(errOut, "never overwrites") {
		t.Errorf("second keygen: exit %d: %s", code, errOut)
	}
	after, _ := os.ReadFile(p)
	if string(before) != string(after) {
		t.Error("keygen overwrote a key")
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", st.Mode().Perm())
	}
	if _, _, code := run(t, "keygen"); code != 2 {
		t.Errorf("keygen without -o: exit %d", code)
	}
}

func TestExportThenVerifyWithGNUTar(t *testing.T) {
	dir, key := sealedDemo(t)
	mustRun(t, "hold", dir, "--reason", "moderation request 42")
	tarFile := filepath.Join(t.TempDir(), "town-hall.tar")
	mustRun(t, "export", dir, "-o", tarFile)
	gnu, err := exec.LookPath("tar")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("GNU tar is required in CI")
		}
		t.Skip("no tar")
	}
	out := t.TempDir()
	if o, err := exec.Command(gnu, "-xf", tarFile, "-C", out).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, o)
	}
	res := mustRun(t, "verify", filepath.Join(out, "town-hall"), "--key", key+".pub")
	if !strings.Contains(res, "signature: valid") || !strings.Contains(res, "hold:      held") {
		t.Errorf("verify of the unpacked export:\n%s", res)
	}
	if _, errOut, code := run(t, "export", t.TempDir(), "-o", filepath.Join(out, "x.tar")); code != 3 || !strings.Contains(errOut, "not a spacecast session") {
		t.Errorf("export of a plain folder: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(out, "x.tar")); err == nil {
		t.Error("a failed export left its output")
	}
}

// craftSession writes a minimal finalized session under root with the given dates, files dated
// two hours ago.
func craftSession(t *testing.T, root, name string, started, deleteAfter time.Time) string {
	t.Helper()
	dir := filepath.Join(root, name)
	m := &session.Manifest{Format: session.FormatName, Version: 1, ID: name, ClockRate: session.ClockRate,
		StartedAt: started, DeleteAfter: deleteAfter, Finalized: true, Participants: []session.Participant{}, Tracks: []session.Track{}}
	b, _ := m.Marshal()
	os.MkdirAll(filepath.Join(dir, "tracks"), 0o755)
	os.WriteFile(filepath.Join(dir, session.ManifestName), b, 0o644)
	os.WriteFile(filepath.Join(dir, "tracks", "a-1.opus"), []byte("OggS"), 0o644)
	old := time.Now().Add(-2 * time.Hour)
	for _, p := range []string{filepath.Join(dir, "tracks", "a-1.opus"), filepath.Join(dir, session.ManifestName)} {
		os.Chtimes(p, old, old)
	}
	return dir
}

func TestPruneCommandBadInput(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	past := craftSession(t, root, "past", now.AddDate(0, 0, -40), now.AddDate(0, 0, -10))
	notes := filepath.Join(root, "notes.txt")
	os.WriteFile(notes, []byte("x"), 0o644)
	for _, c := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"--older-than that is not a duration is a usage error showing the forms", []string{"prune", root, "--older-than", "a month"}, 2, "30d"},
		{"--older-than in days with a fraction is refused", []string{"prune", root, "--older-than", "1.5d"}, 2, "2w"},
		{"a ROOT with no session is bad input", []string{"prune", t.TempDir()}, 3, "holds no spacecast session"},
		{"a ROOT that is a file is bad input", []string{"prune", notes}, 3, "holds no spacecast session"},
		{"a ROOT that does not exist is bad input", []string{"prune", filepath.Join(root, "nope")}, 3, "nope"},
		{"hold without --reason is a usage error", []string{"hold", past}, 2, "--reason"},
		{"hold of a folder that is not a session is bad input", []string{"hold", root, "--reason", "x"}, 3, "not a spacecast session"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := run(t, c.args...)
			if code != c.code || !strings.Contains(errOut, c.contains) {
				t.Errorf("exit %d, want %d; want %q in\n%s%s", code, c.code, c.contains, out, errOut)
			}
			if _, err := os.Stat(past); err != nil {
				t.Error("bad input deleted a session")
			}
		})
	}

	// --dry-run lists, deletes nothing; a hold keeps it; release lets prune delete it.
	out := mustRun(t, "prune", root, "--dry-run")
	if !strings.Contains(out, "would delete past") {
		t.Errorf("dry run:\n%s", out)
	}
	mustRun(t, "hold", past, "--reason", "moderation request 42")
	if out := mustRun(t, "prune", root); !strings.Contains(out, "kept past (held since") {
		t.Errorf("prune of a held session:\n%s", out)
	}
	if _, err := os.Stat(past); err != nil {
		t.Fatal("a held session was deleted")
	}
	if out := mustRun(t, "release", past); !strings.Contains(out, "released") {
		t.Errorf("release:\n%s", out)
	}
	if out := mustRun(t, "prune", root); !strings.Contains(out, "deleted past") {
		t.Errorf("prune after release:\n%s", out)
	}
	if _, err := os.Stat(past); err == nil {
		t.Error("a released session past its date was kept")
	}
	if _, err := os.Stat(notes); err != nil {
		t.Error("prune deleted a file that is not a session")
	}
}

// Two prune processes of the real binary on one ROOT: each due session is deleted exactly once,
// none of the others is touched.
func TestPruneTwoAtOnce(t *testing.T) {
	bin := spacecastBinary(t)
	root := t.TempDir()
	now := time.Now()
	var due, keep []string
	for i := range 30 {
		name := "due-" + string(rune('a'+i/10)) + string(rune('0'+i%10))
		craftSession(t, root, name, now.AddDate(0, 0, -40), now.AddDate(0, 0, -10))
		due = append(due, name)
	}
	for i := range 10 {
		name := "keep-" + string(rune('0'+i))
		craftSession(t, root, name, now.AddDate(0, 0, -5), now.AddDate(0, 0, 25))
		keep = append(keep, name)
	}
	var wg sync.WaitGroup
	reports := make([]session.PruneReport, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			out, err := exec.Command(bin, "prune", root, "--json").Output()
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = json.Unmarshal(out, &reports[i])
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var deleted []string
	for _, r := range reports {
		for _, e := range r.Deleted {
			deleted = append(deleted, e.Path)
		}
	}
	slices.Sort(deleted)
	if !slices.Equal(deleted, due) {
		t.Errorf("the two prunes together deleted %v, want each of %v exactly once", deleted, due)
	}
	ents, _ := os.ReadDir(root)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	want := append([]string{session.PruneLockName}, keep...)
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("left in ROOT: %v, want %v", left, want)
	}
}

// recover seals a finalized session that is not sealed, signs it with --sign-key, and never
// seals a sealed one again.
func TestRecoverSeals(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "s")
	if err := os.CopyFS(dir, os.DirFS(demoSession)); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(tmp, "k")
	mustRun(t, "keygen", "-o", key)
	if _, errOut, code := run(t, "recover", dir, "--sign-key", "/nonexistent.key"); code != 3 || !strings.Contains(errOut, "--sign-key") {
		t.Errorf("recover with an unknown key: exit %d: %s", code, errOut)
	}
	if out := mustRun(t, "recover", dir, "--sign-key", key); !strings.Contains(out, "seal: sealed and signed") {
		t.Errorf("recover of an unsealed session:\n%s", out)
	}
	mustRun(t, "verify", dir, "--key", key+".pub")
	os.WriteFile(filepath.Join(dir, "tracks", "extra.opus"), []byte("x"), 0o644)
	if out := mustRun(t, "recover", dir); !strings.Contains(out, "already sealed") {
		t.Errorf("recover of a sealed session:\n%s", out)
	}
	if _, _, code := run(t, "verify", dir); code != 1 {
		t.Errorf("recover re-sealed a changed session: verify exit %d", code)
	}
}

// TestRecoverExitStatus: damage recover skipped is exit 1 with the skip in the output; a session
// whose signature no longer matches its manifest (its seal dropped after a track was changed) is
// refused with exit 3 and left as it was, instead of sealed again with the stale signature removed.
func TestRecoverExitStatus(t *testing.T) {
	dir := demoCopy(t)
	s, _ := session.Open(dir)
	s.Manifest.Finalized = false
	s.Save()
	p := filepath.Join(dir, "tracks", "ada-1.opus")
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 4
	os.WriteFile(p, b, 0o644)
	out, errOut, code := run(t, "recover", dir)
	if code != 1 || !strings.Contains(out, "damaged bytes at byte") || !strings.Contains(out, "kept as a gap") || !strings.Contains(errOut, "was recovered") {
		t.Errorf("recover of a damaged track: exit %d\n%s\n%s", code, out, errOut)
	}
	mustRun(t, "verify", dir)

	signed := demoCopy(t)
	key := filepath.Join(t.TempDir(), "k")
	mustRun(t, "keygen", "-o", key)
	mustRun(t, "recover", signed, "--sign-key", key)
	q := filepath.Join(signed, "tracks", "cyd-1.opus")
	c, _ := os.ReadFile(q)
	c[100] ^= 1
	os.WriteFile(q, c, 0o644)
	s, _ = session.Open(signed)
	s.Manifest.Files = nil // hide the change from the seal
	s.Save()
	before := folderDigest(t, signed)
	if _, errOut, code := run(t, "recover", signed); code != 3 || !strings.Contains(errOut, "signature") {
		t.Errorf("recover of a session whose signature no longer matches: exit %d: %s", code, errOut)
	}
	if folderDigest(t, signed) != before {
		t.Errorf("the refused session changed")
	}
}

// TestRecoverControlFile: the control file of a session names the dead recorder's socket, and
// recover removes both; a control file naming any other file (it is input like the rest of the
// session) never makes recover delete that file. The old recover removed whatever it named.
func TestRecoverControlFile(t *testing.T) {
	dir := demoCopy(t)
	victim := filepath.Join(t.TempDir(), "precious.txt")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	os.WriteFile(filepath.Join(dir, "control"), []byte(victim+"\n"), 0o644)
	mustRun(t, "recover", dir)
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("recover deleted the file the control file named: %v", err)
	}

	dir = demoCopy(t)
	sock := filepath.Join(t.TempDir(), "spacecast-x.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // a dead recorder's socket: still there, nobody answers
	os.WriteFile(filepath.Join(dir, "control"), []byte(sock+"\n"), 0o644)
	mustRun(t, "recover", dir)
	for _, p := range []string{sock, filepath.Join(dir, "control")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
}
