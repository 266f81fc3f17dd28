package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
)

// withoutKey is a command's --json output as a map, without key (which names the input).
func withoutKey(t *testing.T, out, key string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if _, ok := m[key]; !ok {
		t.Fatalf("the JSON has no %q:\n%s", key, out)
	}
	delete(m, key)
	return m
}

func sameJSON(t *testing.T, what string, local, bucket map[string]any) {
	t.Helper()
	a, _ := json.Marshal(local)
	b, _ := json.Marshal(bucket)
	if !bytes.Equal(a, b) {
		t.Errorf("%s of the session in the bucket differs from the local one's:\nlocal  %s\nbucket %s", what, a, b)
	}
}

func sameFile(t *testing.T, what, local, bucket string) {
	t.Helper()
	a, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bucket)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("%s of the session in the bucket (%d bytes) is not the local one's (%d bytes), byte for byte", what, len(b), len(a))
	}
}

// TestBucketSessionCommands: a sealed, signed session pushed to a real S3-compatible server is
// read where it lies by inspect, mix, clip, trim, verify and export, with the results of the
// same commands on the local folder: byte-identical mix, clip and trim, the same inspect and
// verify reports but for the location, an export that unpacks to the session. The aws CLI then
// changes one object behind spacecast's back, and verify of the bucket finds it.
func TestBucketSessionCommands(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, key := sealedDemo(t)
	url := "s3://" + srv.Bucket + "/shows/2026/town-hall"
	mustRun(t, "push", dir, url)
	out := t.TempDir()
	local, bucket := filepath.Join(out, "local"), filepath.Join(out, "bucket")

	for _, c := range []struct {
		name string
		ext  string
		args []string
	}{
		{"the mix, levelled and normalised to MP3", ".mp3", []string{"mix", "--bitrate", "96"}},
		{"a clip of the session", ".wav", []string{"clip", "--start", "20", "--end", "35"}},
		{"a trim of the session", ".mp3", []string{"trim", "--cut", "0-40", "--cut", "1:20-1:30"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lo, bo := local+"-"+c.args[0]+c.ext, bucket+"-"+c.args[0]+c.ext
			lj := mustRun(t, append(append([]string{c.args[0], dir}, c.args[1:]...), "-o", lo, "--json")...)
			bj := mustRun(t, append(append([]string{c.args[0], url}, c.args[1:]...), "-o", bo, "--json")...)
			sameFile(t, c.args[0], lo, bo)
			sameJSON(t, c.args[0]+" --json", withoutKey(t, lj, "output"), withoutKey(t, bj, "output"))
		})
	}

	li := withoutKey(t, mustRun(t, "inspect", dir, "--json"), "path")
	bi := mustRun(t, "inspect", url, "--json")
	if !strings.Contains(bi, `"path": "`+url+`"`) {
		t.Errorf("inspect of the bucket does not name its URL:\n%s", bi)
	}
	sameJSON(t, "inspect --json", li, withoutKey(t, bi, "path"))
	if txt := mustRun(t, "inspect", url); !strings.HasPrefix(txt, url+"\n") || !strings.Contains(txt, "finalized") {
		t.Errorf("inspect of the bucket printed:\n%s", txt)
	}

	lv := withoutKey(t, mustRun(t, "verify", dir, "--key", key+".pub", "--json"), "dir")
	bv := withoutKey(t, mustRun(t, "verify", url, "--key", key+".pub", "--json"), "dir")
	sameJSON(t, "verify --json", lv, bv)
	if bv["ok"] != true || bv["signature"] != "valid" {
		t.Errorf("verify of the bucket: %v", bv)
	}

	tarFile := filepath.Join(out, "export.tar")
	if txt := mustRun(t, "export", url, "-o", tarFile); !strings.Contains(txt, "exported "+url) {
		t.Errorf("export printed %q", txt)
	}
	unpacked := t.TempDir()
	tarCmd := exec.Command(testutil.Require(t, "tar"), "-xf", tarFile, "-C", unpacked)
	if b, err := tarCmd.CombinedOutput(); err != nil {
		t.Fatalf("GNU tar -xf of the export: %v\n%s", err, b)
	}
	testutil.SameTree(t, "the export of the bucket, unpacked", testutil.TreeHash(t, dir, nil), testutil.TreeHash(t, filepath.Join(unpacked, "town-hall"), nil))
	mustRun(t, "verify", filepath.Join(unpacked, "town-hall"), "--key", key+".pub")

	// Another client overwrites a track with other bytes of the same length.
	tampered := filepath.Join(out, "cyd-1.opus")
	b, err := os.ReadFile(filepath.Join(dir, "tracks", "cyd-1.opus"))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	awsCLI(t, srv, "s3", "cp", tampered, url+"/tracks/cyd-1.opus")
	txt, errOut, code := run(t, "verify", url, "--key", key+".pub")
	if code != ExitFailure || !strings.Contains(txt, "changed  tracks/cyd-1.opus: same size, different content") ||
		!strings.Contains(errOut, "verify: "+url+": 1 file(s) differ") {
		t.Errorf("verify of a tampered bucket: exit %d\n%s%s", code, txt, errOut)
	}
}

// TestBucketSessionRefusals: a session in a bucket that cannot be read is refused before any
// work, with the exit status of its kind (2 a bad URL, 3 a bad session, 5 the store), a message
// naming it, and nothing written where the output would have been.
func TestBucketSessionRefusals(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, _ := sealedDemo(t)
	b := "s3://" + srv.Bucket
	mustRun(t, "push", dir, b+"/ok")
	// A push that stopped: tracks without a manifest.
	awsCLI(t, srv, "s3", "cp", filepath.Join(dir, "tracks", "ada-1.opus"), b+"/half/tracks/ada-1.opus")
	// A session still being recorded, copied by another client.
	live := unfinalizedCopy(t, dir)
	awsCLI(t, srv, "s3", "cp", "--recursive", live, b+"/live/")
	// A session pushed without a seal.
	mustRun(t, "push", demoSession, b+"/unsealed")

	const secret = "spacecast-wrong-secret-7Kd1"
	outDir := t.TempDir()
	o := filepath.Join(outDir, "out.mp3")
	cases := []storeCase{
		{"a half-pushed session is refused as incomplete by mix", nil, []string{"mix", b + "/half", "-o", o}, ExitBadInput,
			[]string{"mix: " + b + "/half: the session is incomplete", "push the session again"}},
		{"a half-pushed session is refused by verify", nil, []string{"verify", b + "/half"}, ExitBadInput, []string{"incomplete"}},
		{"verify of a session pushed unsealed says where sealing happens", nil, []string{"verify", b + "/unsealed"}, ExitFailure,
			[]string{"verify: " + b + "/unsealed: it was never sealed: a session is sealed in its folder before it is pushed"}},
		{"a session not finalized is refused by clip", nil, []string{"clip", b + "/live", "--start", "1", "--end", "2", "-o", o}, ExitBadInput,
			[]string{"clip: " + b + "/live: session is not finalized"}},
		{"nothing at the URL says how to look", nil, []string{"inspect", b + "/nothing"}, ExitBadInput,
			[]string{"no session there", "aws s3 ls " + b + "/nothing/"}},
		{"a bucket name S3 refuses is a usage error", nil, []string{"trim", "s3://Bad_Bucket/x", "--cut", "0-1", "-o", o}, ExitUsage,
			[]string{"lowercase letters"}},
		{"a whole bucket is not a session", nil, []string{"export", b, "-o", filepath.Join(outDir, "x.tar")}, ExitUsage,
			[]string{"names a whole bucket"}},
		{"a session in a bucket with another input is a usage error", nil, []string{"mix", b + "/ok", dir, "-o", o}, ExitUsage,
			[]string{"must be the only input"}},
		{"a wrong secret key is refused by the store, and not shown", []string{"AWS_SECRET_ACCESS_KEY=" + secret}, []string{"mix", b + "/ok", "-o", o}, ExitStore,
			[]string{"mix: check bucket " + b + ": the store refused the credentials", "check AWS_ACCESS_KEY_ID"}},
		{"a missing bucket is named", nil, []string{"verify", "s3://no-such-bucket/x"}, ExitStore,
			[]string{"s3://no-such-bucket: no such bucket"}},
		{"an endpoint that does not answer is named, with the flag", nil,
			[]string{"export", "--endpoint-url", "http://127.0.0.1:9", b + "/ok", "-o", filepath.Join(outDir, "x.tar")}, ExitStore,
			[]string{"the store does not answer: endpoint http://127.0.0.1:9", "check --endpoint-url"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, secret)
			if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
				t.Errorf("a refused command left %s in the output folder", ents[0].Name())
			}
		})
	}
}

// TestBucketSessionClipLast: clip --last of a session in a bucket clips its live mix, as of the
// local copy: byte for byte the same clip.
func TestBucketSessionClipLast(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir := filepath.Join(t.TempDir(), "v1-consent")
	if err := os.CopyFS(dir, os.DirFS("../../testdata/sessions/v1-consent")); err != nil {
		t.Fatal(err)
	}
	url := "s3://" + srv.Bucket + "/consent/v1"
	mustRun(t, "push", dir, url)
	out := t.TempDir()
	lj := mustRun(t, "clip", dir, "--last", "1.5s", "-o", filepath.Join(out, "local.wav"), "--json")
	bj := mustRun(t, "clip", url, "--last", "1.5s", "-o", filepath.Join(out, "bucket.wav"), "--json")
	sameFile(t, "clip --last", filepath.Join(out, "local.wav"), filepath.Join(out, "bucket.wav"))
	sameJSON(t, "clip --last --json", withoutKey(t, lj, "output"), withoutKey(t, bj, "output"))
	if ents, _ := os.ReadDir(os.TempDir()); len(ents) > 0 {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "spacecast-mix.opus.") {
				t.Errorf("clip --last left its temporary copy of the live mix: %s", e.Name())
			}
		}
	}
}
