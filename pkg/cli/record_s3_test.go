package cli

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// bucketPlace is a place in a real S3-compatible server to record into, and the environment of a
// recorder pointed at it, with a cache folder (for the default spool) of the test's own.
type bucketPlace struct {
	srv   *s3server.Server
	url   string
	cache string
	env   []string
}

func newBucketPlace(t *testing.T, name string) *bucketPlace {
	t.Helper()
	srv := s3server.Start(t)
	cache := t.TempDir()
	return &bucketPlace{srv: srv, url: "s3://" + srv.Bucket + "/shows/" + name, cache: cache,
		env: append(srv.Env(t.TempDir()), "XDG_CACHE_HOME="+cache)}
}

// spool is the recorder's default spool for the place.
func (b *bucketPlace) spool() string {
	u := strings.TrimPrefix(b.url, "s3://")
	return filepath.Join(b.cache, "spacecast", "spool", filepath.FromSlash(u))
}

// recordSpeaker starts a LiveKit room where identity sends a tone of freq Hz for toneLen, and a
// recorder into the place; it returns once the speaker is recorded, and when that was.
func (b *bucketPlace) recordSpeaker(t *testing.T, identity string, freq float64, toneLen time.Duration) (*recorder, time.Time) {
	t.Helper()
	r := newLiveRoom(t, "room-"+identity)
	r.speak(identity, rtptone.Tone{Freq: freq, Duration: toneLen})
	rc := startRecorderEnv(t, b.env, r.recordArgs(b.url)...)
	rc.waitEvent(t, "speaker-joined", 20*time.Second)
	return rc, time.Now()
}

// keys lists the keys under the place as the aws CLI sees them, relative to it.
func (b *bucketPlace) keys(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command(testutil.Require(t, "aws"), "s3", "ls", "--recursive", b.url+"/")
	cmd.Env = b.srv.Env(t.TempDir())
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && len(out) == 0) { // nothing there: exit 1, no output
		t.Fatalf("aws s3 ls: %v\n%s", err, out)
	}
	prefix := strings.TrimPrefix(b.url, "s3://"+b.srv.Bucket+"/") + "/"
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 4 {
			keys = append(keys, strings.TrimPrefix(f[3], prefix))
		}
	}
	return keys
}

// judge checks the finished session in the bucket with the aws CLI: no pieces left, copied into a
// folder by the aws CLI, it passes 'spacecast verify'. It returns the copy.
func (b *bucketPlace) judge(t *testing.T) *session.Session {
	t.Helper()
	keys := b.keys(t)
	for _, k := range keys {
		if strings.HasPrefix(k, ".live/") {
			t.Errorf("a piece was left in the bucket: %s", k)
		}
	}
	if len(keys) == 0 || !strings.Contains(strings.Join(keys, " "), "manifest.json") {
		t.Fatalf("the bucket holds no finished session: %q", keys)
	}
	dir := filepath.Join(t.TempDir(), "copy")
	awsCLI(t, b.srv, "s3", "cp", "--recursive", "--quiet", b.url+"/", dir)
	mustRun(t, "verify", dir)
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Manifest.Finalized {
		t.Fatal("the session in the bucket is not finalized")
	}
	return s
}

// eventsUntilExit reads a recorder's events to its end: each type seen (the last of each), and
// the exit status.
func eventsUntilExit(t *testing.T, rc *recorder, within time.Duration) (map[string]map[string]any, int) {
	t.Helper()
	seen := map[string]map[string]any{}
	deadline := time.After(within)
	for {
		select {
		case e, ok := <-rc.events:
			if !ok {
				<-rc.done
				return seen, rc.cmd.ProcessState.ExitCode()
			}
			if typ, _ := e["type"].(string); typ != "" {
				seen[typ] = e
			} else if _, ok := e["session"]; ok {
				seen["summary"] = e
			}
		case <-deadline:
			rc.cmd.Process.Signal(syscall.SIGQUIT)
			time.Sleep(time.Second)
			t.Fatalf("still running after %v; stderr:\n%s", within, rc.stderr.String())
		}
	}
}

// TestRecordIntoBucket: a LiveKit room recorded with -o s3://…: pieces and the live manifest are
// in the bucket while it runs; Ctrl-C uploads the finished session (the aws CLI's copy verifies,
// no piece is left, the spool is gone) and its audio decodes to the length recorded.
func TestRecordIntoBucket(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		b := newBucketPlace(t, "ep1")
		rc, start := b.recordSpeaker(t, "alice", 440, 30*time.Second)
		time.Sleep(8 * time.Second)
		live := strings.Join(b.keys(t), "\n")
		for _, want := range []string{".live/manifest.json", ".live/tracks/t1-alice.opus/000000000000-", ".live/mix.opus/000000000000-"} {
			if !strings.Contains(live, want) {
				t.Errorf("8 s into the recording the bucket lacks %s:\n%s", want, live)
			}
		}
		if _, err := os.Stat(filepath.Join(b.spool(), "manifest.json")); err != nil {
			t.Errorf("no spool where the docs say: %v", err)
		}
		time.Sleep(2 * time.Second)
		rc.cmd.Process.Signal(syscall.SIGINT)
		recorded := time.Since(start)
		seen, code := eventsUntilExit(t, rc, time.Minute)
		if code != 0 {
			t.Fatalf("record exited %d; stderr:\n%s", code, rc.stderr.String())
		}
		if seen["uploaded"] == nil || seen["summary"]["session"] != b.url {
			t.Errorf("no uploaded event, or a summary not naming the bucket: %v", seen)
		}
		if _, err := os.Stat(b.spool()); !os.IsNotExist(err) {
			t.Errorf("the spool is still there after the upload: %v", err)
		}
		s := b.judge(t)
		m := s.Manifest
		if len(m.Tracks) != 1 || m.Mix == nil {
			t.Fatalf("manifest: %d tracks, mix %v", len(m.Tracks), m.Mix)
		}
		x := testutil.Mono(testutil.OpusdecDecode(t, s.Path(m.Tracks[0].File)), m.Tracks[0].Channels)
		got := float64(len(x)) / 48000
		if want := session.Duration(m.Tracks[0].Samples).Seconds(); math.Abs(got-want) > 0.05 {
			t.Errorf("opusdec decodes %.2f s of alice, the manifest says %.2f s", got, want)
		}
		if math.Abs(got-recorded.Seconds()) > 1.5 {
			t.Errorf("alice's track is %.2f s, she was recorded for %.2f s", got, recorded.Seconds())
		}
		if p := toneEnergy(x, 440); p < 0.1 {
			t.Errorf("alice's track: RMS %.3f at 440 Hz", p)
		}
		mix := testutil.FFmpegDecode(t, s.Path(m.Mix.File), 48000, 1)
		if d, want := float64(len(mix))/48000, session.Duration(m.DurationTicks).Seconds(); math.Abs(d-want) > 0.1 {
			t.Errorf("ffmpeg decodes the mix to %.2f s, the session is %.2f s", d, want)
		}
	})
}

// TestRecordBucketOutage: the store goes away for 30 s in the middle of a recording: the recording
// goes on, the recorder says the upload is behind and, once the store is back, that it caught up;
// the finished session in the bucket has no gap and holds the tone from start to end.
func TestRecordBucketOutage(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		b := newBucketPlace(t, "outage")
		rc, start := b.recordSpeaker(t, "bob", 550, 90*time.Second)
		time.Sleep(6 * time.Second)
		b.srv.Stop()
		rc.waitEvent(t, "upload-behind", 15*time.Second)
		time.Sleep(30 * time.Second)
		b.srv.Restart(t)
		back := rc.waitEvent(t, "upload-caught-up", 20*time.Second)
		if d, _ := back["duration"].(float64); d < 25 {
			t.Errorf("caught up after %.1f s behind, the store was down 30 s", d)
		}
		time.Sleep(3 * time.Second)
		rc.cmd.Process.Signal(syscall.SIGINT)
		recorded := time.Since(start)
		seen, code := eventsUntilExit(t, rc, time.Minute)
		if code != 0 || seen["uploaded"] == nil {
			t.Fatalf("record exited %d (uploaded: %v); stderr:\n%s", code, seen["uploaded"] != nil, rc.stderr.String())
		}
		s := b.judge(t)
		m := s.Manifest
		if len(m.Tracks) != 1 || len(m.Gaps) != 0 || len(m.Tracks[0].Gaps) != 0 {
			t.Fatalf("manifest: %d tracks, session gaps %v, track gaps %v", len(m.Tracks), m.Gaps, m.Tracks[0].Gaps)
		}
		x := onSessionClock(t, s, m.Tracks[0])
		on := session.Duration(m.Tracks[0].Timeline[0].SessionTicks)
		end := session.Duration(m.DurationTicks)
		if q := quietWindows(x, on+200*time.Millisecond, end-200*time.Millisecond, 500*time.Millisecond, 550, 0.05); len(q) > 0 {
			t.Errorf("the tone is missing in %v", q)
		}
		if got := session.Duration(m.Tracks[0].Samples); got < recorded-1500*time.Millisecond {
			t.Errorf("bob's track is %v, he was recorded for %v", got, recorded)
		}
	})
}

// TestRecordBucketKilled: kill -9 of a recorder writing to a bucket, and the machine's spool gone
// with it: 'spacecast recover s3://…' joins the pieces, finalizes the session in the bucket and
// deletes the pieces, at most 10 s of what was sent lost.
func TestRecordBucketKilled(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		b := newBucketPlace(t, "crash")
		rc, joined := b.recordSpeaker(t, "carol", 660, 60*time.Second)
		time.Sleep(17 * time.Second)
		rc.cmd.Process.Kill()
		sent := time.Since(joined)
		<-rc.done
		if err := os.RemoveAll(b.spool()); err != nil { // the machine is gone
			t.Fatal(err)
		}
		b.srv.Setenv(t)
		t.Setenv("XDG_CACHE_HOME", b.cache)
		// Right after the kill the live manifest is seconds old: it may be a running recorder's.
		if _, errOut, code := run(t, "recover", b.url); code != ExitBadInput || !strings.Contains(errOut, "may still be being recorded") {
			t.Errorf("recover right after the kill: exit %d, %s", code, errOut)
		}
		time.Sleep(sessionstore.DefaultQuiet)
		out := mustRun(t, "recover", b.url)
		if !strings.Contains(out, "pieces in the bucket") {
			t.Errorf("recover did not say it joined the pieces:\n%s", out)
		}
		s := b.judge(t)
		m := s.Manifest
		if len(m.Tracks) != 1 {
			t.Fatalf("%d tracks", len(m.Tracks))
		}
		got := session.Duration(m.Tracks[0].Samples)
		t.Logf("sent %v of carol, recovered %v: %v lost", sent.Round(time.Millisecond), got, (sent - got).Round(time.Millisecond))
		if got < sent-10*time.Second {
			t.Errorf("recovered %v of carol, %v was sent: more than 10 s lost", got, sent)
		}
		x := testutil.Mono(testutil.OpusdecDecode(t, s.Path(m.Tracks[0].File)), m.Tracks[0].Channels)
		if d := float64(len(x)) / 48000; math.Abs(d-got.Seconds()) > 0.05 {
			t.Errorf("opusdec decodes %.2f s, the manifest says %v", d, got)
		}
		if p := toneEnergy(x, 660); p < 0.1 {
			t.Errorf("carol's track: RMS %.3f at 660 Hz", p)
		}
		// Again: the session is finished; nothing to do.
		if out := mustRun(t, "recover", b.url); !strings.Contains(out, "already finished") {
			t.Errorf("a second recover:\n%s", out)
		}
	})
}

// TestRecordBucketRefusals: a store that cannot be used, or a place that is taken, is refused
// before the room is joined (the room's URL does not answer: a join would be exit 4), with a
// message naming what is wrong and what to do; no spool folder and nothing in the bucket is left.
func TestRecordBucketRefusals(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	b := "s3://" + srv.Bucket
	demo, _ := sealedDemo(t)
	mustRun(t, "push", demo, b+"/taken")
	awsCLI(t, srv, "s3api", "put-object", "--bucket", srv.Bucket, "--key", "dead/.live/manifest.json")
	busySpool := t.TempDir()
	os.WriteFile(filepath.Join(busySpool, "manifest.json"), []byte("{}"), 0o644)
	const secret = "spacecast-wrong-secret-7Yz"
	room := []string{"record", "ws://127.0.0.1:9", "--room", "r", "--api-key", "k", "--api-secret", "s", "--quiet"}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		code int
		want []string
	}{
		{"a wrong secret key is refused by the store, and not shown", []string{"AWS_SECRET_ACCESS_KEY=" + secret}, []string{"-o", b + "/new"}, ExitStore,
			[]string{"record: check bucket " + b + ": the store refused the credentials", "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"}},
		{"a missing bucket is named", nil, []string{"-o", "s3://no-such-bucket/new"}, ExitStore, []string{"s3://no-such-bucket: no such bucket", "check the bucket's name"}},
		{"an endpoint that does not answer is named", nil, []string{"-o", b + "/new", "--endpoint-url", "http://127.0.0.1:9"}, ExitStore,
			[]string{"the store does not answer: endpoint http://127.0.0.1:9", "check --endpoint-url"}},
		{"a place holding a session is refused", nil, []string{"-o", b + "/taken"}, ExitBadInput, []string{"taken/manifest.json: already exists", "record never replaces a session"}},
		{"a place holding a live recording is refused, naming recover", nil, []string{"-o", b + "/dead"}, ExitBadInput,
			[]string{"being recorded, or whose recorder died", "spacecast recover " + b + "/dead"}},
		{"a spool holding an unfinished recording is refused", nil, []string{"-o", b + "/new", "--spool", busySpool}, ExitBadInput,
			[]string{"the spool " + busySpool + " holds files", "spacecast recover " + b + "/new --spool " + busySpool}},
		{"a whole bucket is no place", nil, []string{"-o", b}, ExitUsage, []string{"names a whole bucket"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, kv := range c.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			out, errOut, code := run(t, append(append([]string(nil), room...), c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(out+errOut, secret) || strings.Contains(out+errOut, s3server.SecretKey) {
				t.Errorf("a secret key is in the output:\n%s%s", out, errOut)
			}
		})
	}
	if ents, _ := os.ReadDir(cache); len(ents) != 0 {
		t.Errorf("a refused recording left %s in the cache folder", ents[0].Name())
	}
	keys := awsCLI(t, srv, "s3", "ls", "--recursive", b+"/")
	for _, line := range strings.Split(strings.TrimSpace(keys), "\n") {
		if !strings.Contains(line, "taken/") && !strings.Contains(line, "dead/.live/manifest.json") {
			t.Errorf("a refused recording wrote to the bucket: %s", line)
		}
	}
}

// TestRecordBucketSpoolFull: the spool's disk fills during a recording into a bucket: the
// recorder stops as on a full disk (exit 1, the error naming the full disk and 'spacecast recover
// s3://… --spool DIR'), after sending what the spool held; with the spool lost, recover finishes
// the session from the pieces.
func TestRecordBucketSpoolFull(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		b := newBucketPlace(t, "full")
		r := newLiveRoom(t, "spool-full")
		for id, f := range map[string]float64{"ann": 440, "ben": 660, "cat": 880} {
			r.speak(id, rtptone.Tone{Freq: f, Duration: 100 * time.Second})
		}
		spool := filepath.Join(netns.DiskFull(t, 256), "spool")
		rc := startRecorderEnv(t, b.env, r.recordArgs(b.url, "--spool", spool)...)
		rc.waitEvent(t, "joined", 15*time.Second)
		seen, code := eventsUntilExit(t, rc, 90*time.Second)
		stderr := rc.stderr.String()
		if code != ExitFailure || seen["summary"]["reason"] != "failed" {
			t.Errorf("exit %d, summary %v; want %d, reason failed", code, seen["summary"], ExitFailure)
		}
		for _, want := range []string{"the disk is full", "no space left on device", "and in pieces in " + b.url, "spacecast recover " + b.url + " --spool " + spool} {
			if !strings.Contains(stderr, want) {
				t.Errorf("the error does not say %q:\n%s", want, stderr)
			}
		}
		live := strings.Join(b.keys(t), "\n")
		if !strings.Contains(live, ".live/manifest.json") || strings.Contains(live, "\nmanifest.json") {
			t.Fatalf("after the stop the bucket holds:\n%s\nwant the live manifest and pieces, no finished session", live)
		}
		if err := os.RemoveAll(spool); err != nil {
			t.Fatal(err)
		}
		b.srv.Setenv(t)
		time.Sleep(sessionstore.DefaultQuiet)
		mustRun(t, "recover", b.url, "--spool", spool)
		s := b.judge(t)
		if len(s.Manifest.Tracks) != 3 {
			t.Errorf("%d tracks recovered, want 3", len(s.Manifest.Tracks))
		}
		for _, tr := range s.Manifest.Tracks {
			x := testutil.Mono(testutil.OpusdecDecode(t, s.Path(tr.File)), tr.Channels)
			if d := float64(len(x)) / 48000; math.Abs(d-session.Duration(tr.Samples).Seconds()) > 0.05 {
				t.Errorf("%s decodes to %.2f s, the manifest says %v", tr.File, d, session.Duration(tr.Samples))
			}
		}
	})
}
