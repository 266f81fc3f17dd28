package cli

import (
	"bytes"
	"encoding/json"
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
	"testing"

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

	// Nothing changed: nothing goes up.
	out = mustRun(t, "site", "push", dir, url, "--endpoint-url", proxy.URL)
	if w := proxy.writes(); len(w) != 0 || !strings.Contains(out, "0 files uploaded") {
		t.Fatalf("a second push wrote %v:\n%s", w, out)
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
