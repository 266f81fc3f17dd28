package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/pkg/session"
)

// demoCopy copies the demo session into a temporary folder.
func demoCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "town-hall")
	if err := os.CopyFS(dir, os.DirFS(demoSession)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// folderDigest is one digest over every file of dir (paths and contents).
func folderDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00"))
		h.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestRedactSealedSession redacts a sealed and signed session through the real binary: without
// --sign-key it is sealed again and its stale signature removed (the output says so); with
// --sign-key it is signed again. session.Verify finds every file matching each time, and inspect
// and mix still read the session.
func TestRedactSealedSession(t *testing.T) {
	bin := spacecastBinary(t)
	dir := demoCopy(t)
	key := filepath.Join(t.TempDir(), "key")
	pubPath, err := session.WriteKeyPair(key)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := session.LoadPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := session.LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := session.Seal(dir, priv); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(bin, "redact", dir, "--speaker", "brook", "--from", "20", "--to", "0:35").CombinedOutput()
	if err != nil {
		t.Fatalf("redact: %v\n%s", err, out)
	}
	for _, want := range []string{"redacted brook (Brook)", "brook-1", "replaced by silence", "old signature no longer matched and was removed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	rep, err := session.Verify(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || !rep.Sealed || rep.Signature != session.SigAbsent {
		t.Fatalf("verify after redact without a key: %+v", rep)
	}

	out, err = exec.Command(bin, "redact", dir, "--speaker", "ada", "--sign-key", key, "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("redact --sign-key: %v\n%s", err, out)
	}
	var res struct {
		Whole  bool
		Signed bool
		Mix    string
		Tracks []struct{ Action string }
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if !res.Whole || !res.Signed || res.Mix != "none" || len(res.Tracks) != 1 || res.Tracks[0].Action != "deleted" {
		t.Errorf("--json: %s", out)
	}
	if rep, err = session.Verify(dir, pub); err != nil || !rep.OK || rep.Signature != session.SigValid {
		t.Fatalf("verify with the key after redact --sign-key: %+v, %v", rep, err)
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ev := s.Manifest.Consent.Events; len(ev) != 2 || ev[0].Reason != "redact --from 20 --to 0:35" || ev[1].Identity != "ada" {
		t.Errorf("ledger %+v", ev)
	}
	if _, err := os.Stat(filepath.Join(dir, "tracks", "ada-1.opus")); !os.IsNotExist(err) {
		t.Errorf("ada's track is still there: %v", err)
	}
	mustRun(t, "inspect", dir)
	mustRun(t, "mix", dir, "-o", filepath.Join(t.TempDir(), "ep.wav"))
}

// TestRedactBadInput: each bad command line or session is refused with its exit code and a
// message that says what to do, and the session is left byte-identical.
func TestRedactBadInput(t *testing.T) {
	dir := demoCopy(t)
	unfinal := demoCopy(t)
	s, _ := session.Open(unfinal)
	s.Manifest.Finalized = false
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	badKey := filepath.Join(t.TempDir(), "key")
	os.WriteFile(badKey, []byte("not a key"), 0o600)
	// A signed session whose track changed after sealing: redact --sign-key would have sealed and
	// signed the change.
	tampered := demoCopy(t)
	goodKey := filepath.Join(t.TempDir(), "good")
	if _, err := session.WriteKeyPair(goodKey); err != nil {
		t.Fatal(err)
	}
	priv, _ := session.LoadPrivateKey(goodKey)
	if err := session.Seal(tampered, priv); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(tampered, "tracks", "cyd-1.opus"), []byte("replaced"), 0o644)
	linked := demoCopy(t)
	os.Symlink("/etc/hostname", filepath.Join(linked, "tracks", "x.opus"))
	for _, c := range []struct {
		about string
		args  []string
		code  int
		says  string
	}{
		{"no --speaker says how to find one", []string{"redact", dir}, ExitUsage, "spacecast inspect"},
		{"an unknown identity lists the session's", []string{"redact", dir, "--speaker", "zed"}, ExitBadInput, "ada, brook, cyd"},
		{"--from without --to", []string{"redact", dir, "--speaker", "brook", "--from", "10"}, ExitUsage, "both --from and --to"},
		{"--from after --to", []string{"redact", dir, "--speaker", "brook", "--from", "30", "--to", "20"}, ExitUsage, "is not before"},
		{"a time that is not a time", []string{"redact", dir, "--speaker", "brook", "--from", "soon", "--to", "20"}, ExitUsage, "--from"},
		{"a range past the end names the session's length", []string{"redact", dir, "--speaker", "brook", "--from", "100", "--to", "200"}, ExitBadInput, "outside the session"},
		{"an unfinalized session says to recover it", []string{"redact", unfinal, "--speaker", "brook"}, ExitBadInput, "spacecast recover"},
		{"a folder that is not a session", []string{"redact", t.TempDir(), "--speaker", "brook"}, ExitBadInput, "not a spacecast session"},
		{"a key file that is not a key", []string{"redact", dir, "--speaker", "brook", "--sign-key", badKey}, ExitBadInput, "spacecast keygen"},
		{"a signed session that no longer matches its seal is refused, naming the file", []string{"redact", tampered, "--speaker", "brook", "--sign-key", goodKey}, ExitBadInput, "changed: tracks/cyd-1.opus"},
		{"a session holding a symbolic link is refused", []string{"redact", linked, "--speaker", "brook"}, ExitBadInput, "symbolic link"},
	} {
		t.Run(c.about, func(t *testing.T) {
			target := c.args[1]
			before := folderDigest(t, target)
			_, errOut, code := run(t, c.args...)
			if code != c.code || !strings.Contains(errOut, c.says) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, errOut, c.code, c.says)
			}
			if folderDigest(t, target) != before {
				t.Errorf("the session changed")
			}
			if target == tampered {
				if _, _, code := run(t, "verify", tampered); code != ExitFailure {
					t.Errorf("verify after the refusal: exit %d, want %d (the mismatch stays visible)", code, ExitFailure)
				}
			}
		})
	}
}
