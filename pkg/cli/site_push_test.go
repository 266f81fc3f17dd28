package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
)

// These tests push sites to a real S3-compatible server (versitygw) and judge the bucket with
// the aws CLI. Requests go through s3Proxy, a pass-through that logs them and injects the faults
// (a request held forever, a connection dropped), so the order of writes is seen from outside.

const siteBase = "https://podcast.example.com/town-hall" // initArgs' base URL

// s3Proxy forwards every request to the server, logging "METHOD key" in order.
type s3Proxy struct {
	URL    string
	bucket string

	mu   sync.Mutex
	log  []string
	hold func(method, key string) bool // true: the request is held, never forwarded
	drop func(method, key string) bool // true: the connection is closed without an answer
	held chan string                   // each held request's "METHOD key"
}

func newS3Proxy(t *testing.T, srv *s3server.Server) *s3Proxy {
	t.Helper()
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &s3Proxy{bucket: srv.Bucket, held: make(chan string, 64)}
	fwd := httputil.NewSingleHostReverseProxy(target)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"+p.bucket), "/")
		what := r.Method + " " + key
		p.mu.Lock()
		p.log = append(p.log, what)
		hold, drop := p.hold, p.drop
		p.mu.Unlock()
		if hold != nil && hold(r.Method, key) {
			// The body is read first: only then does the server notice the client going away.
			io.Copy(io.Discard, r.Body)
			p.held <- what
			<-r.Context().Done()
			return
		}
		if drop != nil && drop(r.Method, key) {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		fwd.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	p.URL = ts.URL
	return p
}

// count is how many requests of method the log holds.
func (p *s3Proxy) count(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.log {
		if strings.HasPrefix(l, method+" ") {
			n++
		}
	}
	return n
}

// writes is the log's PUT and DELETE requests of site files (not the push's own objects), and
// resets the log.
func (p *s3Proxy) writes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.log {
		if (strings.HasPrefix(l, "PUT ") || strings.HasPrefix(l, "DELETE ")) && !strings.Contains(l, "/.spacecast-push") && !strings.Contains(l, "?") {
			out = append(out, l)
		}
	}
	p.log = nil
	return out
}

func (p *s3Proxy) set(hold, drop func(method, key string) bool) {
	p.mu.Lock()
	p.hold, p.drop = hold, drop
	p.mu.Unlock()
}

// pushSiteFixture makes a site with artwork and two episodes: one with chapters and a WebVTT
// transcript, one with an SRT transcript; and the files of a third episode to publish later.
func pushSiteFixture(t *testing.T) (dir string, third func()) {
	t.Helper()
	dir = newTestSite(t)
	tmp := t.TempDir()
	p := func(name string) string { return filepath.Join(tmp, name) }
	for i, name := range []string{"one.mp3", "two.mp3", "three.mp3"} {
		toneMP3(t, p(name), 2, 440+110*i)
	}
	os.WriteFile(p("ch.json"), []byte(`{"version":"1.2.0","chapters":[{"startTime":0,"title":"Opening"},{"startTime":1,"title":"The vote"}]}`), 0o644)
	os.WriteFile(p("one.vtt"), []byte("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nWelcome.\n"), 0o644)
	os.WriteFile(p("two.srt"), []byte("1\n00:00:00,000 --> 00:00:01,000\nHello again.\n"), 0o644)
	mustRun(t, "publish", dir, p("one.mp3"), "--title", "One", "--date", "2025-05-01T09:00:00Z", "--chapters", p("ch.json"), "--transcript", p("one.vtt"))
	mustRun(t, "publish", dir, p("two.mp3"), "--title", "Two", "--date", "2025-06-01T09:00:00Z", "--transcript", p("two.srt"))
	return dir, func() {
		mustRun(t, "publish", dir, p("three.mp3"), "--title", "Three", "--date", "2025-07-01T09:00:00Z")
	}
}

// bucketKeys lists the keys under prefix/ as the aws CLI sees them.
func bucketKeys(t *testing.T, srv *s3server.Server, prefix string) []string {
	t.Helper()
	out := awsCLI(t, srv, "s3api", "list-objects-v2", "--bucket", srv.Bucket, "--prefix", prefix+"/", "--query", "Contents[].Key", "--output", "json")
	var keys []string
	if strings.TrimSpace(out) != "null" {
		if err := json.Unmarshal([]byte(out), &keys); err != nil {
			t.Fatalf("aws list: %v\n%s", err, out)
		}
	}
	for i := range keys {
		keys[i] = strings.TrimPrefix(keys[i], prefix+"/")
	}
	slices.Sort(keys)
	return keys
}

// bucketFile downloads prefix/rel with the aws CLI.
func bucketFile(t *testing.T, srv *s3server.Server, prefix, rel string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "object")
	awsCLI(t, srv, "s3", "cp", "s3://"+srv.Bucket+"/"+prefix+"/"+rel, p)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	feedURLs = regexp.MustCompile(regexp.QuoteMeta(siteBase) + `/([^"<>\s?#]+)`)
	pageRefs = regexp.MustCompile(`(?:src|href)="([^"#:]+?)(?:\?[^"]*)?"`)
)

// checkConsistent fails the test unless every file the feed and the page in the bucket name is
// in the bucket (the aws CLI's view): a listener never meets a dangling link.
func checkConsistent(t *testing.T, srv *s3server.Server, prefix string) {
	t.Helper()
	keys := bucketKeys(t, srv, prefix)
	if !slices.Contains(keys, "feed.xml") {
		t.Fatalf("the bucket has no feed.xml: %v", keys)
	}
	var named []string
	for _, m := range feedURLs.FindAllStringSubmatch(string(bucketFile(t, srv, prefix, "feed.xml")), -1) {
		named = append(named, m[1])
	}
	if slices.Contains(keys, "index.html") {
		for _, m := range pageRefs.FindAllStringSubmatch(string(bucketFile(t, srv, prefix, "index.html")), -1) {
			named = append(named, m[1])
		}
	}
	for _, rel := range named {
		if rel != "" && !slices.Contains(keys, rel) {
			t.Errorf("the feed or page in the bucket names %s, which is not there (bucket: %v)", rel, keys)
		}
	}
}

// siteFiles is what a push of dir must leave in the bucket: the served files of the site.
func siteFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || rel == "podcast.yaml" || rel == "episodes.json" {
			return nil
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	slices.Sort(out)
	return out
}

type headInfo struct {
	ContentType  string            `json:"ContentType"`
	CacheControl string            `json:"CacheControl"`
	Metadata     map[string]string `json:"Metadata"`
	ETag         string            `json:"ETag"`
}

func headObject(t *testing.T, srv *s3server.Server, key string) headInfo {
	t.Helper()
	var h headInfo
	out := awsCLI(t, srv, "s3api", "head-object", "--bucket", srv.Bucket, "--key", key, "--output", "json")
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("head-object %s: %v\n%s", key, err, out)
	}
	return h
}

// TestSitePush: a site pushed to a real server is there file for file (and nothing else but the
// push's record), every object with its Content-Type, Cache-Control and SHA-256, feed and page
// byte for byte; audio went up before chapters and transcripts, and those before feed.xml and
// index.html. A second push uploads nothing. After an unpublish, the episode's objects are
// deleted, after the new feed and page are up.
func TestSitePush(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	proxy := newS3Proxy(t, srv)
	dir, _ := pushSiteFixture(t)
	const prefix = "town-hall"
	url := "s3://" + srv.Bucket + "/" + prefix
	out := mustRun(t, "site", "push", dir, url, "--endpoint-url", proxy.URL)
	if !strings.Contains(out, "pushed "+dir+" to "+url+": 10 files uploaded") {
		t.Fatalf("site push printed:\n%s", out)
	}
	want := append(siteFiles(t, dir), ".spacecast-push.json")
	slices.Sort(want)
	if got := bucketKeys(t, srv, prefix); !slices.Equal(got, want) {
		t.Fatalf("the bucket holds %v\nwant %v (the site's served files and the push's record)", got, want)
	}
	order := proxy.writes()
	rank := func(key string) int {
		switch {
		case strings.HasSuffix(key, "/index.html"):
			return 3
		case strings.HasSuffix(key, "/feed.xml"):
			return 2
		case strings.HasSuffix(key, ".json") || strings.HasSuffix(key, ".vtt") || strings.HasSuffix(key, ".srt"):
			return 1
		}
		return 0
	}
	for i := 1; i < len(order); i++ {
		if rank(order[i]) < rank(order[i-1]) {
			t.Errorf("%s went up after %s: %v", order[i], order[i-1], order)
		}
	}

	types := map[string][2]string{
		"feed.xml":                   {"application/rss+xml; charset=utf-8", "public, max-age=60"},
		"index.html":                 {"text/html; charset=utf-8", "public, max-age=60"},
		"artwork.png":                {"image/png", "public, max-age=86400"},
		"assets/style.css":           {"text/css; charset=utf-8", "public, max-age=3600"},
		"assets/player.js":           {"text/javascript; charset=utf-8", "public, max-age=3600"},
		"episodes/one.mp3":           {"audio/mpeg", "public, max-age=86400"},
		"episodes/two.mp3":           {"audio/mpeg", "public, max-age=86400"},
		"episodes/one.chapters.json": {"application/json+chapters", "public, max-age=86400"},
		"episodes/one.vtt":           {"text/vtt; charset=utf-8", "public, max-age=86400"},
		"episodes/two.srt":           {"application/x-subrip", "public, max-age=86400"},
		"episodes/two.chapters.json": {"application/json+chapters", "public, max-age=86400"},
	}
	for _, rel := range siteFiles(t, dir) {
		tc, ok := types[rel]
		if !ok {
			t.Errorf("no expected headers for %s", rel)
			continue
		}
		h := headObject(t, srv, prefix+"/"+rel)
		sum := sha256File(t, filepath.Join(dir, rel))
		if h.ContentType != tc[0] || h.CacheControl != tc[1] || h.Metadata["sha256"] != sum {
			t.Errorf("%s: Content-Type %q, Cache-Control %q, sha256 %q; want %q, %q, %s", rel, h.ContentType, h.CacheControl, h.Metadata["sha256"], tc[0], tc[1], sum)
		}
	}
	for _, rel := range []string{"feed.xml", "index.html", "episodes/one.mp3"} {
		local, _ := os.ReadFile(filepath.Join(dir, rel))
		if !bytes.Equal(bucketFile(t, srv, prefix, rel), local) {
			t.Errorf("%s in the bucket differs from the site's", rel)
		}
	}
	checkConsistent(t, srv, prefix)

	// Nothing changed: nothing goes up, and no object is asked about (the push's record,
	// checked against the listing's ETags, vouches for all).
	out = mustRun(t, "site", "push", dir, url, "--endpoint-url", proxy.URL)
	heads := proxy.count("HEAD")
	if w := proxy.writes(); len(w) != 0 || heads != 0 || !strings.Contains(out, "0 files uploaded") {
		t.Fatalf("a second push wrote %v and sent %d HEAD requests:\n%s", w, heads, out)
	}

	// Unpublished: its objects go, after the feed and the page.
	mustRun(t, "unpublish", dir, "one")
	out = mustRun(t, "site", "push", dir, url, "--endpoint-url", proxy.URL)
	w := proxy.writes()
	wantW := []string{"PUT " + prefix + "/feed.xml", "PUT " + prefix + "/index.html",
		"DELETE " + prefix + "/episodes/one.chapters.json", "DELETE " + prefix + "/episodes/one.mp3", "DELETE " + prefix + "/episodes/one.vtt"}
	if !slices.Equal(w, wantW) {
		t.Errorf("the push after an unpublish wrote %v\nwant %v\n%s", w, wantW, out)
	}
	want = append(siteFiles(t, dir), ".spacecast-push.json")
	slices.Sort(want)
	if got := bucketKeys(t, srv, prefix); !slices.Equal(got, want) {
		t.Fatalf("after the unpublish the bucket holds %v\nwant %v", got, want)
	}
	checkConsistent(t, srv, prefix)
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	out, _ := exec.Command("sha256sum", p).Output()
	f := strings.Fields(string(out))
	if len(f) == 0 {
		t.Fatalf("sha256sum %s failed", p)
	}
	return f[0]
}

// v2 makes the second version of the fixture's site: a third episode published, the first one
// unpublished.
func toV2(t *testing.T, dir string, third func()) {
	t.Helper()
	third()
	mustRun(t, "unpublish", dir, "one")
}

// TestSitePushDryRun: --dry-run lists what a push would upload and delete, and writes nothing:
// no request that changes the bucket reaches the server, and the bucket is as it was.
func TestSitePushDryRun(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	proxy := newS3Proxy(t, srv)
	dir, third := pushSiteFixture(t)
	url := "s3://" + srv.Bucket + "/show"
	out := mustRun(t, "site", "push", dir, url, "--dry-run", "--endpoint-url", proxy.URL)
	if !strings.Contains(out, "would upload show/episodes/one.mp3 (new,") || !strings.Contains(out, "would push "+dir+" to "+url+": 10 files uploaded") {
		t.Fatalf("dry run printed:\n%s", out)
	}
	if keys := bucketKeys(t, srv, "show"); len(keys) != 0 || len(proxy.writes()) != 0 {
		t.Fatalf("a dry run wrote to the bucket: %v", keys)
	}
	mustRun(t, "site", "push", dir, url)
	before := awsCLI(t, srv, "s3api", "list-objects-v2", "--bucket", srv.Bucket, "--output", "json")
	toV2(t, dir, third)
	proxy.writes()
	out = mustRun(t, "site", "push", dir, url, "--dry-run", "--endpoint-url", proxy.URL)
	for _, w := range []string{"would upload show/episodes/three.mp3 (new,", "would upload show/feed.xml (changed,", "would delete show/episodes/one.mp3"} {
		if !strings.Contains(out, w) {
			t.Errorf("dry run does not say %q:\n%s", w, out)
		}
	}
	if w := proxy.writes(); len(w) != 0 {
		t.Errorf("a dry run sent %v", w)
	}
	if after := awsCLI(t, srv, "s3api", "list-objects-v2", "--bucket", srv.Bucket, "--output", "json"); after != before {
		t.Errorf("a dry run changed the bucket:\n%s\nthen\n%s", before, after)
	}
}

// startPush runs `spacecast site push` as a process through the proxy.
func startPush(t *testing.T, srv *s3server.Server, endpoint string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(spacecastBinary(t), append([]string{"site", "push"}, append(args, "--endpoint-url", endpoint)...)...)
	cmd.Env = srv.Env(t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &out
}

// TestSitePushInterrupted: a push of a new version of the site stopped half-way — killed (kill
// -9) while feed.xml goes up, cut off from the server (the connection dropped), or interrupted
// with Ctrl-C — leaves the bucket serving a site whose feed and page name only objects that are
// there; the next push completes it (taking over the dead push's lock at once) and leaves the
// bucket holding exactly the new site.
func TestSitePushInterrupted(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	proxy := newS3Proxy(t, srv)
	holdFeed := func(method, key string) bool { return method == "PUT" && strings.HasSuffix(key, "/feed.xml") }
	cases := []struct {
		name string
		stop func(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer)
	}{
		{"kill -9 while the feed goes up", func(t *testing.T, cmd *exec.Cmd, _ *bytes.Buffer) {
			proxy.set(holdFeed, nil)
			<-proxy.held
			cmd.Process.Kill()
			cmd.Wait()
		}},
		{"the connection dropped before the feed", func(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer) {
			proxy.set(nil, func(method, key string) bool {
				return method == "PUT" && strings.HasSuffix(key, "/feed.xml") || strings.Contains(key, ".spacecast-push.lock") && method == "DELETE"
			})
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitStore {
				t.Fatalf("a push cut off from the store: %v, want exit %d\n%s", err, ExitStore, out)
			}
		}},
		{"Ctrl-C while the feed goes up", func(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer) {
			proxy.set(holdFeed, nil)
			<-proxy.held
			proxy.set(nil, nil)
			cmd.Process.Signal(syscall.SIGINT)
			err := cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitInterrupted || !strings.Contains(out.String(), "the bucket serves the old site or the new one") {
				t.Fatalf("an interrupted push: %v, want exit %d\n%s", err, ExitInterrupted, out)
			}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, third := pushSiteFixture(t)
			prefix := fmt.Sprintf("show-%d", i)
			url := "s3://" + srv.Bucket + "/" + prefix
			mustRun(t, "site", "push", dir, url)
			v1 := bucketFile(t, srv, prefix, "feed.xml")
			toV2(t, dir, third)
			cmd, out := startPush(t, srv, proxy.URL, dir, url)
			c.stop(t, cmd, out)
			proxy.set(nil, nil)
			if !bytes.Equal(bucketFile(t, srv, prefix, "feed.xml"), v1) {
				t.Errorf("the feed changed although its upload never reached the store")
			}
			checkConsistent(t, srv, prefix)
			keys := bucketKeys(t, srv, prefix)
			if !slices.Contains(keys, "episodes/one.mp3") || !slices.Contains(keys, "episodes/three.mp3") {
				t.Errorf("half-way, the bucket should hold the old episode (the live feed names it) and the new audio: %v", keys)
			}

			start := time.Now()
			out2 := mustRun(t, "site", "push", dir, url, "--lock-timeout", "5s")
			if time.Since(start) > 4*time.Second {
				t.Errorf("the next push waited %s for a dead push's lock", time.Since(start))
			}
			want := append(siteFiles(t, dir), ".spacecast-push.json")
			slices.Sort(want)
			if got := bucketKeys(t, srv, prefix); !slices.Equal(got, want) {
				t.Fatalf("after the next push the bucket holds %v\nwant %v\n%s", got, want, out2)
			}
			local, _ := os.ReadFile(filepath.Join(dir, "feed.xml"))
			if !bytes.Equal(bucketFile(t, srv, prefix, "feed.xml"), local) {
				t.Errorf("the next push did not put the new feed up")
			}
			checkConsistent(t, srv, prefix)
		})
	}
}

// TestSitePushConcurrent: two pushes of different versions of a site to one place at once, in
// rounds, every request slowed so that they overlap: each succeeds, one waits for the other's
// lock, and after each round the bucket's feed and page name only objects that are there.
func TestSitePushConcurrent(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	proxy := newS3Proxy(t, srv)
	v1, _ := pushSiteFixture(t)
	v2, third := pushSiteFixture(t)
	toV2(t, v2, third)
	url := "s3://" + srv.Bucket + "/show"
	proxy.set(func(method, key string) bool {
		time.Sleep(20 * time.Millisecond)
		return false
	}, nil)
	waited := 0
	for round := 0; round < 3; round++ {
		a, outA := startPush(t, srv, proxy.URL, v1, url)
		b, outB := startPush(t, srv, proxy.URL, v2, url)
		errA, errB := a.Wait(), b.Wait()
		if errA != nil || errB != nil {
			t.Fatalf("round %d: %v, %v\n%s\n%s", round, errA, errB, outA, outB)
		}
		for _, o := range []*bytes.Buffer{outA, outB} {
			if strings.Contains(o.String(), "waiting for s3://"+srv.Bucket+"/show/.spacecast-push.lock") {
				waited++
			}
		}
		checkConsistent(t, srv, "show")
	}
	if waited == 0 {
		t.Errorf("no push ever waited for the other's lock: the pushes did not overlap, or the lock let both in")
	}
}

// TestSitePushRefusals: each problem is refused with its exit status and a message naming it,
// without a secret; a publish --push whose store cannot be used publishes nothing.
func TestSitePushRefusals(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, _ := pushSiteFixture(t)
	const secret = "spacecast-wrong-secret-7Yp3"
	b := "s3://" + srv.Bucket
	mp3 := filepath.Join(t.TempDir(), "four.mp3")
	toneMP3(t, mp3, 1, 330)
	before := siteTree(t, dir, true)
	runStoreCases(t, secret, []storeCase{
		{"a URL that is no s3 URL is a usage error", nil, []string{"site", "push", dir, "https://example.com/x"}, ExitUsage, []string{`"https://example.com/x" is not an s3://BUCKET/PREFIX URL`}},
		{"a folder that is no site says how to make one", nil, []string{"site", "push", t.TempDir(), b + "/x"}, ExitBadInput, []string{"not a site folder", "feed init"}},
		{"a wrong secret key is refused and not shown", []string{"AWS_SECRET_ACCESS_KEY=" + secret}, []string{"site", "push", dir, b + "/x"}, ExitStore,
			[]string{"site push: check bucket " + b + ": the store refused the credentials", "check AWS_ACCESS_KEY_ID"}},
		{"a missing bucket is named", nil, []string{"site", "push", dir, "s3://no-such-bucket"}, ExitStore, []string{"no such bucket"}},
		{"publish --push with refused credentials publishes nothing", []string{"AWS_SECRET_ACCESS_KEY=" + secret},
			[]string{"publish", dir, mp3, "--title", "Four", "--push", b + "/x"}, ExitStore, []string{"publish: check bucket " + b + ": the store refused the credentials"}},
		{"publish --push with a bad URL is a usage error", nil, []string{"publish", dir, mp3, "--title", "Four", "--push", "s3://x"}, ExitUsage, []string{"a bucket name is 3 to 63 characters"}},
	})
	testutil.SameTree(t, "the site after refused pushes", before, siteTree(t, dir, true))
}

// TestPublishPush: publish --push, and podcast.yaml's push:, upload the site after publishing
// (and unpublishing); the bucket then holds the site with the new episode (or without the
// unpublished one), and --json carries what the push did.
func TestPublishPush(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir, _ := pushSiteFixture(t)
	url := "s3://" + srv.Bucket + "/pod"
	tmp := t.TempDir()
	mp3 := filepath.Join(tmp, "four.mp3")
	toneMP3(t, mp3, 1, 330)
	out := mustRun(t, "publish", dir, mp3, "--title", "Four", "--push", url)
	if !strings.Contains(out, `published "Four" as four`) || !strings.Contains(out, "pushed "+dir+" to "+url) {
		t.Fatalf("publish --push printed:\n%s", out)
	}
	want := append(siteFiles(t, dir), ".spacecast-push.json")
	slices.Sort(want)
	if got := bucketKeys(t, srv, "pod"); !slices.Equal(got, want) {
		t.Fatalf("after publish --push the bucket holds %v\nwant %v", got, want)
	}
	checkConsistent(t, srv, "pod")

	// podcast.yaml's push: the target of every publish; --no-push skips it once.
	yml := filepath.Join(dir, "podcast.yaml")
	b, _ := os.ReadFile(yml)
	os.WriteFile(yml, append(b, []byte("push: "+url+"\n")...), 0o644)
	mp3b := filepath.Join(tmp, "five.mp3")
	toneMP3(t, mp3b, 1, 220)
	mustRun(t, "publish", dir, mp3b, "--title", "Five", "--no-push")
	if slices.Contains(bucketKeys(t, srv, "pod"), "episodes/five.mp3") {
		t.Fatalf("--no-push pushed")
	}
	var rep struct {
		Slug string `json:"slug"`
		Push struct {
			Uploaded []struct {
				Path string `json:"path"`
			} `json:"uploaded"`
		} `json:"push"`
	}
	out = mustRun(t, "publish", "--update", dir, "five", "--description", "Now pushed.", "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("publish --json: %v\n%s", err, out)
	}
	var paths []string
	for _, u := range rep.Push.Uploaded {
		paths = append(paths, u.Path)
	}
	if !slices.Contains(paths, "episodes/five.mp3") || !slices.Contains(paths, "feed.xml") {
		t.Errorf("podcast.yaml's push uploaded %v", paths)
	}
	want = append(siteFiles(t, dir), ".spacecast-push.json")
	slices.Sort(want)
	if got := bucketKeys(t, srv, "pod"); !slices.Equal(got, want) {
		t.Fatalf("after podcast.yaml's push the bucket holds %v\nwant %v", got, want)
	}

	// unpublish pushes too: the episode's objects leave the bucket after the new feed.
	out = mustRun(t, "unpublish", dir, "four")
	if !strings.Contains(out, "deleted pod/episodes/four.mp3") {
		t.Errorf("unpublish with podcast.yaml's push printed:\n%s", out)
	}
	if keys := bucketKeys(t, srv, "pod"); slices.Contains(keys, "episodes/four.mp3") {
		t.Errorf("the unpublished episode is still in the bucket: %v", keys)
	}
	checkConsistent(t, srv, "pod")
}
