package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
)

// awsTry runs the aws CLI like awsCLI, but returns its failure instead of failing the test: for
// what the store must refuse.
func awsTry(t *testing.T, srv *s3server.Server, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(testutil.Require(t, "aws"), args...)
	cmd.Env = srv.Env(t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

type awsVersion struct {
	Key       string
	VersionID string `json:"VersionId"`
}

// awsVersions lists every object version under prefix, as the aws CLI sees them.
func awsVersions(t *testing.T, srv *s3server.Server, bucket, prefix string) []awsVersion {
	t.Helper()
	out := awsCLI(t, srv, "s3api", "list-object-versions", "--bucket", bucket, "--prefix", prefix, "--output", "json")
	var l struct {
		Versions      []awsVersion
		DeleteMarkers []awsVersion
	}
	if strings.TrimSpace(out) == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("aws s3api list-object-versions: %v\n%s", err, out)
	}
	return append(l.Versions, l.DeleteMarkers...)
}

// TestHoldS3: in the Object Lock bucket, hold puts a legal hold on every object version of the
// session: the aws CLI's delete-object --version-id is refused for each, as is a prune; after
// release each is allowed. In the plain bucket hold writes hold.json, which prune honours.
func TestHoldS3(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, _ := sealedDemo(t)
	locked := "s3://" + srv.LockedBucket + "/shows/town-hall"
	mustRun(t, "push", dir, locked)
	out := mustRun(t, "hold", locked, "--reason", "legal request #9")
	if !strings.Contains(out, "held "+locked) || !strings.Contains(out, "every version of the session is under a legal hold (7 put now)") {
		t.Fatalf("hold printed %q", out)
	}
	vs := awsVersions(t, srv, srv.LockedBucket, "shows/town-hall/")
	if len(vs) != 7 {
		t.Fatalf("versions in the bucket: %+v, want 7 (manifest, signature, 4 tracks, hold.json)", vs)
	}
	for _, v := range vs {
		lh := awsCLI(t, srv, "s3api", "get-object-legal-hold", "--bucket", srv.LockedBucket, "--key", v.Key, "--version-id", v.VersionID)
		if !strings.Contains(lh, "ON") {
			t.Errorf("%s: legal hold %s", v.Key, lh)
		}
		if out, err := awsTry(t, srv, "s3api", "delete-object", "--bucket", srv.LockedBucket, "--key", v.Key, "--version-id", v.VersionID); err == nil {
			t.Errorf("the store deleted %s version %s under a legal hold:\n%s", v.Key, v.VersionID, out)
		}
	}
	// Prune sees the marker and the legal holds, and keeps the session.
	out = mustRun(t, "prune", "s3://"+srv.LockedBucket+"/shows", "--older-than", "1h")
	if !strings.Contains(out, "kept town-hall (held since") || !strings.Contains(out, "deleted 0 session(s)") {
		t.Fatalf("prune of a held session printed %q", out)
	}

	out = mustRun(t, "release", locked, "--json")
	var rel struct {
		Held     bool `json:"held"`
		Released struct {
			Reason string `json:"reason"`
		} `json:"released"`
		Lifted int `json:"legal_holds_lifted"`
	}
	if err := json.Unmarshal([]byte(out), &rel); err != nil || rel.Held || rel.Released.Reason != "legal request #9" || rel.Lifted != 7 {
		t.Fatalf("release --json: %v\n%s", err, out)
	}
	vs = awsVersions(t, srv, srv.LockedBucket, "shows/town-hall/")
	if len(vs) != 6 {
		t.Fatalf("versions after release: %+v, want the session's 6 (hold.json gone, every version of it)", vs)
	}
	for _, v := range vs {
		awsCLI(t, srv, "s3api", "delete-object", "--bucket", srv.LockedBucket, "--key", v.Key, "--version-id", v.VersionID)
	}

	// The plain bucket: the marker only, honoured by prune.
	plain := "s3://" + srv.Bucket + "/shows/town-hall"
	mustRun(t, "push", dir, plain)
	out = mustRun(t, "hold", plain, "--reason", "moderation #3")
	if !strings.Contains(out, "the bucket has no Object Lock") {
		t.Fatalf("hold on the plain bucket printed %q", out)
	}
	got := filepath.Join(t.TempDir(), "hold.json")
	awsCLI(t, srv, "s3", "cp", plain+"/hold.json", got)
	if b, _ := os.ReadFile(got); !strings.Contains(string(b), `"reason": "moderation #3"`) {
		t.Fatalf("hold.json in the bucket: %s", b)
	}
	out = mustRun(t, "prune", "s3://"+srv.Bucket+"/shows", "--older-than", "1h")
	if !strings.Contains(out, "kept town-hall (held since") {
		t.Fatalf("prune of a held session printed %q", out)
	}
	mustRun(t, "release", plain)
	out = mustRun(t, "prune", "s3://"+srv.Bucket+"/shows", "--older-than", "1h")
	if !strings.Contains(out, "deleted town-hall") {
		t.Fatalf("prune after release printed %q", out)
	}
	if ls, _ := awsTry(t, srv, "s3", "ls", "--recursive", "s3://"+srv.Bucket+"/shows/"); strings.TrimSpace(ls) != "" {
		t.Fatalf("left in the bucket after prune:\n%s", ls)
	}
}

// TestPruneS3: prune of a prefix deletes the old session (every version of it in the versioned
// bucket) and keeps an incomplete one (files without manifest), one being recorded (pieces under
// .live/) and other objects; --dry-run --json says the same and deletes nothing.
func TestPruneS3(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, _ := sealedDemo(t)
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		root := "s3://" + b + "/shows"
		mustRun(t, "push", dir, root+"/old")
		small := filepath.Join(t.TempDir(), "x.opus")
		os.WriteFile(small, []byte("OggS"), 0o644)
		for _, k := range []string{"half/tracks/ada-1.opus", "rec/.live/ada-1/000001.opus", "notes.txt"} {
			awsCLI(t, srv, "s3", "cp", small, root+"/"+k)
		}
		before := awsVersions(t, srv, b, "shows/")
		out := mustRun(t, "prune", root, "--older-than", "1h", "--dry-run", "--json")
		var rep struct {
			DryRun  bool `json:"dry_run"`
			Deleted []struct{ Path string }
			Kept    []struct{ Path, Reason string }
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("--json: %v\n%s", err, out)
		}
		if !rep.DryRun || len(rep.Deleted) != 1 || rep.Deleted[0].Path != "old" || len(rep.Kept) != 2 ||
			!strings.Contains(rep.Kept[0].Reason, "incomplete") || !strings.Contains(rep.Kept[1].Reason, ".live/") {
			t.Fatalf("%s: prune --dry-run --json:\n%s", b, out)
		}
		if after := awsVersions(t, srv, b, "shows/"); len(after) != len(before) {
			t.Fatalf("%s: the dry run changed the bucket: %d versions, then %d", b, len(before), len(after))
		}
		out = mustRun(t, "prune", root, "--older-than", "1h")
		if !strings.Contains(out, "deleted old") || !strings.Contains(out, "deleted 1 session(s)") {
			t.Fatalf("%s: prune printed %q", b, out)
		}
		var left []string
		for _, v := range awsVersions(t, srv, b, "shows/") {
			left = append(left, v.Key)
		}
		slices.Sort(left)
		if want := []string{"shows/half/tracks/ada-1.opus", "shows/notes.txt", "shows/rec/.live/ada-1/000001.opus"}; !slices.Equal(left, want) {
			t.Fatalf("%s: versions left: %q, want %q", b, left, want)
		}
	}
}

// maxVolume is ffmpeg's volumedetect max_volume (dB) of seconds [from, from+dur) of file.
func maxVolume(t *testing.T, file string, from, dur float64) float64 {
	t.Helper()
	out, err := exec.Command(testutil.Require(t, "ffmpeg"), "-hide_banner", "-nostats", "-ss", strconv.FormatFloat(from, 'f', 3, 64),
		"-t", strconv.FormatFloat(dur, 'f', 3, 64), "-i", file, "-af", "volumedetect", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", file, err, out)
	}
	m := regexp.MustCompile(`max_volume: (-?[0-9.]+|-inf) dB`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("ffmpeg gave no max_volume:\n%s", out)
	}
	if m[1] == "-inf" {
		return -200
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestRedactS3: a stretch of a speaker redacted in the Object Lock bucket: the aws CLI's copy of
// the session verifies with the signer's key, the stretch decodes (ffmpeg) to silence where the
// original had speech, and no version of the unredacted track is left. A second redaction's
// --json names the file's next name.
func TestRedactS3(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, key := sealedDemo(t)
	url := "s3://" + srv.LockedBucket + "/shows/town-hall"
	mustRun(t, "push", dir, url)
	out := mustRun(t, "redact", url, "--speaker", "ada", "--from", "1", "--to", "3", "--sign-key", key)
	for _, w := range []string{"redacted ada (Ada (host)) in " + url, "replaced by silence", "sealed again and signed", "stored     tracks/ada-1.opus as tracks/ada-1.r1.opus"} {
		if !strings.Contains(out, w) {
			t.Errorf("redact output lacks %q:\n%s", w, out)
		}
	}
	copyDir := filepath.Join(t.TempDir(), "copy")
	awsCLI(t, srv, "s3", "cp", "--recursive", url+"/", copyDir)
	if out := mustRun(t, "verify", copyDir, "--key", key+".pub"); !strings.Contains(out, "signature: valid") {
		t.Fatalf("verify of the aws CLI's copy:\n%s", out)
	}
	if before, after := maxVolume(t, filepath.Join(dir, "tracks", "ada-1.opus"), 1.1, 1.8), maxVolume(t, filepath.Join(copyDir, "tracks", "ada-1.r1.opus"), 1.1, 1.8); before < -30 || after > -60 {
		t.Fatalf("max volume of 1.1-2.9 s: %.1f dB before, %.1f dB after; want speech, then silence", before, after)
	}
	if after := maxVolume(t, filepath.Join(copyDir, "tracks", "ada-1.r1.opus"), 4, 2); after < -30 {
		t.Fatalf("after the stretch the speech is gone too: %.1f dB", after)
	}
	for _, v := range awsVersions(t, srv, srv.LockedBucket, "shows/town-hall/") {
		if v.Key == "shows/town-hall/tracks/ada-1.opus" {
			t.Fatalf("a version of the unredacted track is left: %+v", v)
		}
	}

	// Again, with --json: the result as on disk, and what was stored where.
	out = mustRun(t, "redact", url, "--speaker", "ada", "--from", "4", "--to", "5", "--json")
	var res struct {
		Session  string            `json:"session"`
		Identity string            `json:"identity"`
		From     float64           `json:"from_seconds"`
		Renamed  map[string]string `json:"renamed"`
		Uploaded int               `json:"uploaded"`
		Deleted  int               `json:"deleted"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("redact --json: %v\n%s", err, out)
	}
	if res.Session != url || res.Identity != "ada" || res.From != 4 || res.Renamed["tracks/ada-1.r1.opus"] != "tracks/ada-1.r2.opus" || res.Uploaded != 1 || res.Deleted != 2 {
		t.Fatalf("redact --json: %s", out)
	}
}

// TestHoldPruneRedactS3Refusals: bad URLs are usage errors, wrong credentials and a missing
// bucket the store's (exit 5), a missing session and a legally held one bad input (exit 3).
func TestHoldPruneRedactS3Refusals(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, _ := sealedDemo(t)
	held := "s3://" + srv.LockedBucket + "/held"
	mustRun(t, "push", dir, held)
	mustRun(t, "hold", held, "--reason", "court order")
	const secret = "spacecast-wrong-secret-7Hk1"
	runStoreCases(t, secret, []storeCase{
		{"a bucket name S3 refuses is a usage error", nil, []string{"hold", "s3://Bad_Bucket/x", "--reason", "r"}, ExitUsage, []string{"lowercase letters"}},
		{"a whole bucket is no session to redact", nil, []string{"redact", "s3://" + srv.Bucket, "--speaker", "ada"}, ExitUsage, []string{"names a whole bucket"}},
		{"hold without a reason is a usage error", nil, []string{"hold", held}, ExitUsage, []string{"--reason"}},
		{"a wrong secret key is the store's refusal", []string{"AWS_SECRET_ACCESS_KEY=" + secret}, []string{"prune", "s3://" + srv.Bucket + "/x"}, ExitStore,
			[]string{"the store refused the credentials", "AWS_SECRET_ACCESS_KEY"}},
		{"a missing bucket is the store's", nil, []string{"release", "s3://no-such-bucket/x"}, ExitStore, []string{"no such bucket"}},
		{"a session not in the bucket is bad input", nil, []string{"hold", "s3://" + srv.Bucket + "/none", "--reason", "r"}, ExitBadInput, []string{"no session there"}},
		{"a prefix without sessions is bad input", nil, []string{"prune", "s3://" + srv.Bucket + "/none"}, ExitBadInput, []string{"holds no spacecast session", "nothing was deleted"}},
		{"a session under a legal hold is not redacted", nil, []string{"redact", held, "--speaker", "ada"}, ExitBadInput,
			[]string{"under an Object Lock legal hold", "spacecast release " + held}},
	})
}

// storeCase is a command line against the S3 server that must fail: with env set, its exit
// status and what stderr must say.
type storeCase struct {
	name string
	env  []string // KEY=VALUE set for the case
	args []string
	code int
	want []string
}

// runStoreCases runs each case as a subtest (storeCase.check).
func runStoreCases(t *testing.T, secret string, cases []storeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, secret) })
	}
}

// check runs the case's command line: its exit status, every wanted text on stderr, one line of
// stderr only (no library prints), and neither secret (nor the server's) in the output.
func (c storeCase) check(t *testing.T, secret string) {
	t.Helper()
	for _, kv := range c.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	out, errOut, code := run(t, c.args...)
	if code != c.code {
		t.Fatalf("spacecast %s: exit %d, want %d\n%s%s", strings.Join(c.args, " "), code, c.code, out, errOut)
	}
	for _, w := range c.want {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
	if strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr holds more than the error (a library printed?):\n%s", errOut)
	}
	if strings.Contains(out+errOut, secret) || strings.Contains(out+errOut, s3server.SecretKey) {
		t.Errorf("a secret key is in the output:\n%s%s", out, errOut)
	}
}
