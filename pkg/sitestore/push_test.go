package sitestore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/bucketlock"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/site"
)

var place = objstore.URL{Bucket: "b", Prefix: "pod"}

func testShow() *feed.Show {
	return &feed.Show{Title: "Test Show", Description: "A show for tests.", BaseURL: "https://example.com/pod", Author: "Ada",
		Language: "en", Categories: []string{"Technology"}, Owner: feed.Owner{Name: "Ada", Email: "ada@example.com"}}
}

// toneMP3 encodes a tone with ffmpeg's LAME: an MP3 no spacecast code made.
func toneMP3(t testing.TB, path string, seconds float64, freq int) {
	t.Helper()
	testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
		"sine=f="+strconv.Itoa(freq)+":d="+strconv.FormatFloat(seconds, 'f', 3, 64)+":sample_rate=44100", "-c:a", "libmp3lame", "-b:a", "64k", path)
}

// testSite makes a site with episodes a (with a WebVTT transcript) and b.
func testSite(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	ctx := context.Background()
	if _, err := site.Init(ctx, dir, testShow(), "", site.Options{}); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	vtt := filepath.Join(tmp, "a.vtt")
	os.WriteFile(vtt, []byte("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello.\n"), 0o644)
	for i, slug := range []string{"a", "b"} {
		mp3 := filepath.Join(tmp, slug+".mp3")
		toneMP3(t, mp3, 1, 300+100*i)
		in := site.EpisodeInput{Audio: mp3, Slug: slug, Title: "Episode " + slug, Description: "About " + slug,
			Date: time.Date(2025, 1, 1+i, 0, 0, 0, 0, time.UTC)}
		if slug == "a" {
			in.Transcript = vtt
		}
		if _, err := site.Publish(ctx, dir, in, site.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func push(t *testing.T, st Store, dir string, opt Options) *Report {
	t.Helper()
	rep, err := Push(context.Background(), st, dir, place, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func paths(objs []Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Path)
	}
	return out
}

// TestPushPlan: the order of the writes, the headers and digests stored, what a push skips and
// why it uploads (new, unverified), and deletions after the feed and page.
func TestPushPlan(t *testing.T) {
	dir := testSite(t)
	st := newFakeStore()
	rep := push(t, st, dir, Options{})
	w := st.writes()
	want := []string{"PUT pod/assets/player.js", "PUT pod/assets/style.css", "PUT pod/episodes/a.mp3", "PUT pod/episodes/b.mp3",
		"PUT pod/episodes/a.vtt", "PUT pod/feed.xml", "PUT pod/index.html"}
	slices.Sort(w[:4])
	if !slices.Equal(w, want) {
		t.Fatalf("first push wrote %v\nwant (the first four in any order) %v", w, want)
	}
	if len(rep.Uploaded) != 7 || rep.ConditionalWrites == nil || !*rep.ConditionalWrites {
		t.Fatalf("report %+v", rep)
	}
	if o := st.objs["pod/episodes/a.vtt"]; o.ctype != "text/vtt; charset=utf-8" || o.cache != CacheMedia || !isHexSHA256(o.meta[metaSHA256]) {
		t.Errorf("a.vtt stored as %q, %q, %v", o.ctype, o.cache, o.meta)
	}
	if _, ok := st.objs["pod/"+LockName]; ok {
		t.Errorf("the lock is still there after the push")
	}

	st.heads = 0
	rep = push(t, st, dir, Options{})
	if w := st.writes(); len(w) != 0 || len(rep.Skipped) != 7 || st.heads != 0 {
		t.Fatalf("an unchanged site: wrote %v, skipped %d, %d HEAD requests; want nothing, 7, 0 (the state vouches)", w, len(rep.Skipped), st.heads)
	}

	// Another tool rewrote an object (same size, other bytes, no digest): it goes up again.
	b := slices.Clone(st.objs["pod/episodes/b.mp3"].data)
	b[len(b)-1] ^= 1
	st.set("pod/episodes/b.mp3", b)
	rep = push(t, st, dir, Options{})
	if w := st.writes(); !slices.Equal(w, []string{"PUT pod/episodes/b.mp3"}) || rep.Uploaded[0].Reason != "unverified" {
		t.Fatalf("after another tool's write: wrote %v, %+v", w, rep.Uploaded)
	}

	// Without the state, the digests stored with the objects vouch for them.
	delete(st.objs, "pod/"+StateName)
	st.heads = 0
	rep = push(t, st, dir, Options{})
	if w := st.writes(); len(w) != 0 || st.heads != 7 || len(rep.Uploaded) != 0 {
		t.Fatalf("without the state: wrote %v (uploaded %v) with %d HEAD requests; want nothing, 7", w, paths(rep.Uploaded), st.heads)
	}
	if _, ok := st.objs["pod/"+StateName]; !ok {
		t.Fatalf("the state was not written again")
	}

	// An unpublished episode's objects go after the new feed and page.
	if _, err := site.Unpublish(context.Background(), dir, "a", site.Options{}); err != nil {
		t.Fatal(err)
	}
	rep = push(t, st, dir, Options{})
	want = []string{"PUT pod/feed.xml", "PUT pod/index.html", "DELETE pod/episodes/a.mp3", "DELETE pod/episodes/a.vtt"}
	if w := st.writes(); !slices.Equal(w, want) || !slices.Equal(paths(rep.Deleted), []string{"episodes/a.mp3", "episodes/a.vtt"}) {
		t.Fatalf("after an unpublish: wrote %v\nwant %v", w, want)
	}
	s, err := parseState(st.objs["pod/"+StateName].data)
	if err != nil || len(s.Objects) != 5 {
		t.Fatalf("state after the deletions: %v, %v", s, err)
	}
}

// TestPushKeepsWhatTheLiveFeedNames: on a store that ignores conditional writes, another push
// puts its older feed up after this one's: the objects that feed names are kept (and still in
// the state), and the next push, the feed in the bucket no longer naming them, deletes them.
func TestPushKeepsWhatTheLiveFeedNames(t *testing.T) {
	dir := testSite(t)
	st := newFakeStore()
	st.ignoreConditions = true
	rep := push(t, st, dir, Options{})
	if rep.ConditionalWrites == nil || *rep.ConditionalWrites || len(rep.Warnings) == 0 {
		t.Fatalf("a store ignoring conditional writes is not reported: %+v", rep)
	}
	oldFeed := st.objs["pod/feed.xml"].data
	if _, err := site.Unpublish(context.Background(), dir, "a", site.Options{}); err != nil {
		t.Fatal(err)
	}
	st.afterPut = func(key string) {
		if key == "pod/index.html" {
			st.set("pod/feed.xml", oldFeed) // the other push's feed, naming episode a
		}
	}
	rep = push(t, st, dir, Options{})
	if !slices.Equal(paths(rep.Kept), []string{"episodes/a.mp3", "episodes/a.vtt"}) || len(rep.Deleted) != 0 {
		t.Fatalf("kept %v, deleted %v; want a's files kept", paths(rep.Kept), paths(rep.Deleted))
	}
	if _, ok := st.objs["pod/episodes/a.mp3"]; !ok {
		t.Fatalf("a.mp3, named by the feed in the bucket, was deleted")
	}
	st.afterPut = nil
	rep = push(t, st, dir, Options{})
	if !slices.Equal(paths(rep.Deleted), []string{"episodes/a.mp3", "episodes/a.vtt"}) {
		t.Fatalf("the next push deleted %v", paths(rep.Deleted))
	}
}

// TestPushDamagedState: a state object that is not one is ignored with a warning: nothing is
// deleted (only what the state lists ever is), objects are checked with HEAD instead.
func TestPushDamagedState(t *testing.T) {
	dir := testSite(t)
	st := newFakeStore()
	push(t, st, dir, Options{})
	st.set("pod/"+StateName, []byte(`{"format":"spacecast-site-push","version":1,"objects":{"../x":{}}}`))
	if _, err := site.Unpublish(context.Background(), dir, "b", site.Options{}); err != nil {
		t.Fatal(err)
	}
	st.writes()
	rep := push(t, st, dir, Options{})
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "not a spacecast push record") || len(rep.Deleted) != 0 {
		t.Fatalf("warnings %q, deleted %v", rep.Warnings, paths(rep.Deleted))
	}
	if _, ok := st.objs["pod/episodes/b.mp3"]; !ok {
		t.Fatalf("an object was deleted on the word of a damaged state")
	}
}

// TestPushDryRun: a dry run reports and writes nothing, not even the lock.
func TestPushDryRun(t *testing.T) {
	dir := testSite(t)
	st := newFakeStore()
	rep := push(t, st, dir, Options{DryRun: true})
	if len(rep.Uploaded) != 7 || len(st.objs) != 0 || len(st.log) != 0 {
		t.Fatalf("dry run: %d to upload, bucket %v, log %v", len(rep.Uploaded), st, st.log)
	}
}

// TestPushChangedAudio: audio whose bytes no longer hash to the record's digest is refused
// before anything of it is sent.
func TestPushChangedAudio(t *testing.T) {
	dir := testSite(t)
	p := filepath.Join(dir, "episodes", "a.mp3")
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0xff
	os.WriteFile(p, b, 0o644)
	st := newFakeStore()
	_, err := Push(context.Background(), st, dir, place, Options{})
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("Push of changed audio: %v, want ErrChanged", err)
	}
	if _, ok := st.objs["pod/episodes/a.mp3"]; ok {
		t.Fatalf("the changed audio was stored")
	}
	if _, ok := st.objs["pod/feed.xml"]; ok {
		t.Fatalf("the feed went up after a failed upload")
	}
}

// TestPushLock: a push takes the lock over at once from a dead process of this machine, whatever
// lease it declares; waits for a live push's lock, says once who holds it, and gives up after its
// timeout with a LockedError naming this process; and leaves no lock behind.
func TestPushLock(t *testing.T) {
	ctx := context.Background()
	dir := testSite(t)
	st := newFakeStore()
	dead := `{"format":"spacecast-site-push-lock","owner":"x","host_id":"` + hostID(t, st) + `","pid":` + strconv.Itoa(testutil.DeadPID(t)) + `,"lease_seconds":3600}`
	st.set("pod/"+LockName, []byte(dead))
	start := time.Now()
	if _, err := Push(ctx, st, dir, place, Options{LockTimeout: time.Second}); err != nil || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("a dead process's lock: %v after %s", err, time.Since(start))
	}
	if _, ok := st.objs["pod/"+LockName]; ok {
		t.Fatalf("the push left its lock")
	}

	live := `{"format":"spacecast-site-push-lock","owner":"y","host_id":"` + hostID(t, st) + `","pid":` + strconv.Itoa(os.Getpid()) + `,"lease_seconds":3600}`
	st.set("pod/"+LockName, []byte(live))
	var waits []Holder
	_, err := Push(ctx, st, dir, place, Options{LockTimeout: 300 * time.Millisecond, OnWait: func(h Holder) { waits = append(waits, h) }})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || len(waits) != 1 || waits[0].PID != os.Getpid() || !strings.Contains(err.Error(), "on this machine") {
		t.Fatalf("a live push's lock: %v (told of %+v), want LockedError naming this process", err, waits)
	}
	if string(st.objs["pod/"+LockName].data) != live {
		t.Fatalf("the waiting push touched the live push's lock")
	}
}

// hostID is the host digest a lock of this machine carries, read from one taken in st.
func hostID(t *testing.T, st *fakeStore) string {
	t.Helper()
	ctx := context.Background()
	l, err := bucketlock.Acquire(ctx, st, "b", "probe", bucketlock.Options{Format: lockFormat, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	h, err := bucketlock.Parse(st.objs["probe"].data, lockFormat)
	if err != nil || !h.SameHost() {
		t.Fatalf("the lock taken: %+v, %v", h, err)
	}
	return h.HostID
}
