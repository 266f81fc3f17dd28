package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/session"
)

// awsCLI runs the aws CLI (Debian's awscli), an S3 client independent of spacecast's, against
// the server, and returns its output.
func awsCLI(t *testing.T, srv *s3server.Server, args ...string) string {
	t.Helper()
	cmd := exec.Command(testutil.Require(t, "aws"), args...)
	cmd.Env = srv.Env(t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPushPull: a sealed, signed session pushed to a real S3-compatible server is there file for
// file as an independent client (the aws CLI) sees it, byte for byte; pulled back into a new
// folder it is identical to the original and verifies with the signer's key.
func TestPushPull(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, key := sealedDemo(t)
	url := "s3://" + srv.Bucket + "/shows/2026/town-hall"
	out := mustRun(t, "push", dir, url)
	if !strings.Contains(out, "pushed "+dir+" to "+url+": 6 files") {
		t.Fatalf("push printed %q", out)
	}

	ls := awsCLI(t, srv, "s3", "ls", "--recursive", url+"/")
	for _, f := range []string{"manifest.json", "manifest.json.sig", "tracks/ada-1.opus", "tracks/brook-1.opus", "tracks/brook-2.opus", "tracks/cyd-1.opus"} {
		if !strings.Contains(ls, "shows/2026/town-hall/"+f+"\n") {
			t.Errorf("the bucket lacks %s:\n%s", f, ls)
		}
	}
	got := filepath.Join(t.TempDir(), "ada.opus")
	awsCLI(t, srv, "s3", "cp", url+"/tracks/ada-1.opus", got)
	testutil.SameTree(t, "the aws CLI's copy of a track", testutil.TreeHash(t, filepath.Join(dir, "tracks"), func(rel string) bool { return rel != "." && rel != "ada-1.opus" }),
		map[string]string{"./": "dir", "ada-1.opus": testutil.TreeHash(t, filepath.Dir(got), nil)["ada.opus"]})

	copyDir := filepath.Join(t.TempDir(), "copy")
	out = mustRun(t, "pull", url, copyDir)
	if !strings.Contains(out, "every file matches the seal") {
		t.Fatalf("pull printed %q", out)
	}
	testutil.SameTree(t, "the pulled copy", testutil.TreeHash(t, dir, nil), testutil.TreeHash(t, copyDir, nil))
	mustRun(t, "verify", copyDir, "--key", key+".pub")
}

// TestPushPullRefusals: each command line or store problem is refused with its exit status and
// a message naming what is wrong and what to do, and no secret in it.
func TestPushPullRefusals(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, _ := sealedDemo(t)
	unfinalized := unfinalizedCopy(t, dir)
	b := "s3://" + srv.Bucket
	mustRun(t, "push", dir, b+"/taken")
	existing := t.TempDir()
	const secret = "spacecast-wrong-secret-9Xq2"
	runStoreCases(t, secret, []storeCase{
		{"a URL of another scheme is a usage error", nil, []string{"pull", "https://example.com/x", "d"}, ExitUsage, []string{`"https://example.com/x" is not an s3://BUCKET/PREFIX URL`}},
		{"a bucket name S3 refuses is a usage error naming the rule", nil, []string{"push", dir, "s3://My_Bucket/x"}, ExitUsage, []string{"lowercase letters, digits, dots and hyphens"}},
		{"a whole bucket is not a session's place", nil, []string{"push", dir, b}, ExitUsage, []string{"names a whole bucket", b + "/PREFIX/NAME"}},
		{"a prefix with an empty segment is a usage error", nil, []string{"pull", b + "/a//b", "d"}, ExitUsage, []string{"empty segment"}},
		{"credentials in a URL are refused and not repeated", nil, []string{"push", dir, "s3://AKIA1:" + secret + "@" + srv.Bucket + "/x"}, ExitUsage, []string{"holds credentials", "never in a URL"}},
		{"a session not in the bucket is bad input", nil, []string{"pull", b + "/nothing-here", filepath.Join(t.TempDir(), "d")}, ExitBadInput, []string{"no session there", "aws s3 ls " + b + "/nothing-here/"}},
		{"a pull into a session folder is a usage error", nil, []string{"pull", b + "/taken", filepath.Join(dir, "tracks", "copy")}, ExitUsage, []string{"is inside the spacecast session"}},
		{"a pull into an existing folder is refused", nil, []string{"pull", b + "/taken", existing}, ExitBadInput, []string{"already exists", "a folder that does not exist yet"}},
		{"a push onto a session is refused", nil, []string{"push", dir, b + "/taken"}, ExitBadInput, []string{"taken/manifest.json: already exists", "push never replaces a session"}},
		{"an unfinalized session is not pushed", nil, []string{"push", unfinalized, b + "/live"}, ExitBadInput, []string{"not finalized", "spacecast recover " + unfinalized}},
		{"a folder that is no session is named", nil, []string{"push", t.TempDir(), b + "/x"}, ExitBadInput, []string{"is not a spacecast session"}},
		{"a wrong secret key is refused by the store, and not shown", []string{"AWS_SECRET_ACCESS_KEY=" + secret}, []string{"push", dir, b + "/x"}, ExitStore,
			[]string{"push: check bucket " + b + ": the store refused the credentials: SignatureDoesNotMatch", "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}},
		{"an unknown access key is refused by the store", []string{"AWS_ACCESS_KEY_ID=nobody"}, []string{"pull", b + "/taken", filepath.Join(t.TempDir(), "d")}, ExitStore,
			[]string{"the store refused the credentials"}},
		{"no credentials anywhere says where they are looked for", []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}, []string{"push", dir, b + "/x"}, ExitStore,
			[]string{"push: credentials: no credentials found: none in the environment", "check AWS_ACCESS_KEY_ID"}},
		{"a missing bucket is named", nil, []string{"pull", "s3://no-such-bucket/x", filepath.Join(t.TempDir(), "d")}, ExitStore, []string{"s3://no-such-bucket: no such bucket", "check the bucket's name"}},
		{"an endpoint that does not answer is named, with the flag", nil, []string{"pull", "--endpoint-url", "http://127.0.0.1:9", b + "/taken", filepath.Join(t.TempDir(), "d")}, ExitStore,
			[]string{"the store does not answer: endpoint http://127.0.0.1:9", "check --endpoint-url"}},
		{"a profile that does not exist is named", nil, []string{"push", "--profile", "nobody", dir, b + "/x"}, ExitStore, []string{"nobody", "--profile"}},
	})
	if ents, _ := os.ReadDir(existing); len(ents) != 0 {
		t.Errorf("the pull into an existing folder wrote into it")
	}
}

// unfinalizedCopy copies the session dir into a new folder and marks the copy not finalized (a
// recording still running, or whose recorder died).
func unfinalizedCopy(t *testing.T, dir string) string {
	t.Helper()
	live := filepath.Join(t.TempDir(), "live")
	if err := os.CopyFS(live, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.Finalized = false
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return live
}

// TestJSONGoldenStore: push's and pull's --json (needs the S3 server, so apart from
// TestJSONGolden).
func TestJSONGoldenStore(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	tmp := t.TempDir()
	if r, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = r
	}
	sess := filepath.Join(tmp, "town-hall")
	if err := os.CopyFS(sess, os.DirFS(demoSession)); err != nil {
		t.Fatal(err)
	}
	if err := session.Seal(sess, nil); err != nil {
		t.Fatal(err)
	}
	url := "s3://" + srv.Bucket + "/shows/town-hall"
	jsonGolden(t, tmp, "push", 0, "push", sess, url)
	jsonGolden(t, tmp, "pull", 0, "pull", url, filepath.Join(tmp, "copy"))

	// A site with an episode mixed from the session by spacecast (the same bytes every run).
	site := filepath.Join(tmp, "site")
	art := filepath.Join(tmp, "cover.png")
	testArtwork(t, art, 1400, 1400)
	mustRun(t, initArgs(site, art)...)
	mustRun(t, "publish", site, sess, "--title", "Town hall, May", "--date", "2025-05-01T09:00:00Z")
	place := "s3://" + srv.Bucket + "/town-hall"
	jsonGolden(t, tmp, "site_push_dry_run", 0, "site", "push", site, place, "--dry-run")
	jsonGolden(t, tmp, "site_push", 0, "site", "push", site, place)
	jsonGolden(t, tmp, "site_push_unchanged", 0, "site", "push", site, place)
}
