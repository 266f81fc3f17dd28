package sessionstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/internal/testutil/tcplink"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// realStore starts versitygw and returns a client of it, and the place ep1 in its bucket.
func realStore(t *testing.T) (*s3server.Server, *objstore.Client, objstore.URL) {
	t.Helper()
	srv := s3server.Start(t)
	srv.Setenv(t)
	c, err := objstore.New(context.Background(), objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, objstore.URL{Bucket: srv.Bucket, Prefix: "shows/ep1"}
}

// getBytes reads bucket/key whole ("" when there is none).
func getBytes(t *testing.T, c *objstore.Client, bucket, key string) []byte {
	t.Helper()
	r, _, err := c.Get(context.Background(), bucket, key, nil)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listKeys lists the keys under prefix, relative to it.
func listKeys(t *testing.T, c *objstore.Client, bucket, prefix string) []string {
	t.Helper()
	var out []string
	for o, err := range c.List(context.Background(), bucket, prefix) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimPrefix(o.Key, prefix))
	}
	return out
}

// grow appends to a track of the spool dir and marks it finished and sealed: what the recorder
// that was cut off does when its room ends.
func grow(t *testing.T, dir string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "tracks", "ada-1.opus"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("the seconds recorded while cut off")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// pullVerified pulls the session at u and verifies it (its seal).
func pullVerified(t *testing.T, st Store, u objstore.URL) *session.Manifest {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pulled")
	if _, err := Pull(context.Background(), st, u, out, Options{}); err != nil {
		t.Fatalf("pull %s: %v", u, err)
	}
	if _, err := session.Verify(out, nil); err != nil {
		t.Fatalf("verify %s: %v", u, err)
	}
	s, err := session.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	return s.Manifest
}

// TestFenceJoinTakesThePlace (real versitygw): a recorder writes part 1 of a session, another
// part 2; the join takes part 1's place (its live manifest) and makes the session one at ep1.
// The first recorder, alive, then sends its next round and its finished session: both are
// fenced off (a *FencedError, nothing written: no piece under .live/, the joined files
// untouched), its spool is kept, and the joined session still pulls and verifies.
func TestFenceJoinTakesThePlace(t *testing.T) {
	ctx := context.Background()
	_, c, u := realStore(t)
	p2 := objstore.URL{Bucket: u.Bucket, Prefix: session.PartName(u.Prefix, 2)}
	dir1 := demoPart(t, 1, 0, false, false)
	a := StartMirror(c, dir1, u, MirrorOptions{Interval: time.Hour})
	defer a.Stop()
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if a.unconditional || a.etag == "" {
		t.Fatalf("versitygw taken for a store without conditional writes (etag %q)", a.etag)
	}
	if _, err := Push(ctx, c, demoPart(t, 2, 120, true, false), p2, Options{}); err != nil {
		t.Fatal(err)
	}
	rep, err := JoinParts(ctx, c, u, JoinOptions{Finalize: finalize, Now: func() time.Time { return time.Now().Add(time.Hour) }})
	if err != nil || !rep.Joined || rep.Parts[0].Recovered == nil {
		t.Fatalf("join: %+v, %v", rep, err)
	}
	before := map[string][]byte{}
	for _, k := range listKeys(t, c, u.Bucket, u.Dir()) {
		before[k] = getBytes(t, c, u.Bucket, u.Dir()+k)
	}

	grow(t, dir1)
	err = a.Flush(ctx)
	var fe *FencedError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFenced) || fe.URL != u.String() {
		t.Fatalf("the old recorder's next round: %v; want a FencedError for %s", err, u)
	}
	t.Logf("fenced: %v", err)
	if err := finalize(dir1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Finish(ctx, Options{}); !errors.Is(err, ErrFenced) {
		t.Fatalf("the old recorder's finished session: %v; want fenced", err)
	}
	after := listKeys(t, c, u.Bucket, u.Dir())
	if len(after) != len(before) {
		t.Errorf("the place holds %v after the fenced writes, %d objects before", after, len(before))
	}
	for _, k := range after {
		if !bytes.Equal(getBytes(t, c, u.Bucket, u.Dir()+k), before[k]) {
			t.Errorf("%s changed", k)
		}
	}
	if _, err := os.Stat(filepath.Join(dir1, session.ManifestName)); err != nil {
		t.Errorf("the fenced recorder's spool: %v", err)
	}
	m := pullVerified(t, c, u)
	if len(m.Parts) != 2 || len(m.Tracks) != 8 {
		t.Errorf("the joined session: %d parts, %d tracks; want 2 and 8", len(m.Parts), len(m.Tracks))
	}
}

// TestFenceCases (real versitygw): what fences a mirror off, and what does not.
func TestFenceCases(t *testing.T) {
	ctx := context.Background()
	srv, c, _ := realStore(t)
	n := 0
	place := func() objstore.URL {
		n++
		return objstore.URL{Bucket: srv.Bucket, Prefix: "cases/ep" + string(rune('0'+n))}
	}
	t.Run("a recovery's take fences the recorder before its next pieces", func(t *testing.T) {
		u, dir := place(), unfinishedDemo(t)
		a := StartMirror(c, dir, u, MirrorOptions{Interval: time.Hour})
		defer a.Stop()
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		man := getBytes(t, c, u.Bucket, a.liveKey())
		o, err := c.Head(ctx, u.Bucket, a.liveKey())
		if err != nil {
			t.Fatal(err)
		}
		if err := takeLive(ctx, c, u, man, o.ETag, time.Second); err != nil {
			t.Fatal(err)
		}
		pieces := listKeys(t, c, u.Bucket, u.Key(LiveDir)+"/")
		grow(t, dir)
		var fe *FencedError
		if err := a.Flush(ctx); !errors.As(err, &fe) || fe.Holder != "a recovery or a join of the session" {
			t.Fatalf("next round after the take: %v", err)
		}
		if got := listKeys(t, c, u.Bucket, u.Key(LiveDir)+"/"); !slices.Equal(got, pieces) {
			t.Errorf("pieces after the take: %v, before %v", got, pieces)
		}
		// A second take of a taken place is refused: its recorder (or taker) wrote meanwhile.
		if err := takeLive(ctx, c, u, man, o.ETag, time.Second); !errors.Is(err, ErrRecording) {
			t.Errorf("a take on an old ETag: %v; want ErrRecording", err)
		}
	})
	t.Run("a session written at the place meanwhile is not overwritten by the finished upload", func(t *testing.T) {
		u, dir := place(), unfinishedDemo(t)
		a := StartMirror(c, dir, u, MirrorOptions{Interval: time.Hour})
		defer a.Stop()
		if err := finalize(dir); err != nil {
			t.Fatal(err)
		}
		g, err := a.last(ctx)
		if err != nil || g == nil {
			t.Fatalf("last round: %v, %v", g, err)
		}
		// Another writer puts its file where the recorder's goes (a taker whose take came after
		// the last round: a push that stalled past the quiet time).
		key := u.Key("tracks/ada-1.opus")
		if _, err := c.Put(ctx, u.Bucket, key, strings.NewReader("another session's track"), objstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err = pushRetry(ctx, c, dir, u, Options{}, g)
		var fe *FencedError
		if !errors.As(err, &fe) || fe.Key != key {
			t.Fatalf("push under the guard: %v; want fenced at %s", err, key)
		}
		if got := string(getBytes(t, c, u.Bucket, key)); got != "another session's track" {
			t.Errorf("the other writer's track was overwritten")
		}
		if getBytes(t, c, u.Bucket, u.Key(session.ManifestName)) != nil {
			t.Error("a manifest was written")
		}
	})
	t.Run("a write whose answer was lost is the mirror's own", func(t *testing.T) {
		u, dir := place(), unfinishedDemo(t)
		a := StartMirror(c, dir, u, MirrorOptions{Interval: time.Hour})
		defer a.Stop()
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		s, _ := session.Open(dir)
		s.Manifest.Room.Name = "renamed"
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		man, _ := os.ReadFile(filepath.Join(dir, session.ManifestName))
		// The write went through; its answer did not.
		if _, err := c.Put(ctx, u.Bucket, a.liveKey(), bytes.NewReader(man), objstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		a.tried = append(a.tried, man)
		grow(t, dir)
		if err := a.Flush(ctx); err != nil {
			t.Fatalf("the round after a lost answer: %v", err)
		}
		if err := finalize(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Finish(ctx, Options{}); err != nil {
			t.Fatalf("finish: %v", err)
		}
		pullVerified(t, c, u)
	})
	t.Run("a single recorder finishes over what a stopped push left, and a retried push is its own", func(t *testing.T) {
		u, dir := place(), unfinishedDemo(t)
		if _, err := c.Put(ctx, u.Bucket, u.Key("tracks/ada-1.opus"), strings.NewReader("a stopped push's file"), objstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := CheckFree(ctx, c, u); err != nil {
			t.Fatal(err)
		}
		a := StartMirror(c, dir, u, MirrorOptions{Interval: time.Hour})
		defer a.Stop()
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := finalize(dir); err != nil {
			t.Fatal(err)
		}
		g, err := a.last(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// A first push that stopped after one file (its answer lost), then the retry.
		if _, err := g.put(ctx, c, filepath.Join(dir, "tracks", "ada-1.opus"), u.Bucket, u.Key("tracks/ada-1.opus")); err != nil {
			t.Fatal(err)
		}
		if _, err := pushRetry(ctx, c, dir, u, Options{}, g); err != nil {
			t.Fatalf("the retried push: %v", err)
		}
		if err := DeleteLive(ctx, c, u); err != nil {
			t.Fatal(err)
		}
		pullVerified(t, c, u)
		if left := listKeys(t, c, u.Bucket, u.Key(LiveDir)+"/"); len(left) > 0 {
			t.Errorf("pieces left: %v", left)
		}
	})
}

// TestFenceCutOffRecorder (real versitygw): the worker scenario on the storage side. Recorder A
// mirrors part 1 through a link to the store every 100 ms; the link is cut (A's rounds fail, its
// spool grows); recorder B records part 2; the join, once A's live manifest has gone quiet, takes
// part 1 and joins the parts at ep1. The link comes back: A's next round is fenced off, its loop
// stops, its finished session is fenced off too, nothing it sends changes the place, and the
// joined session verifies with both parts' tracks.
func TestFenceCutOffRecorder(t *testing.T) {
	ctx := context.Background()
	srv, c, u := realStore(t)
	link, addr := tcplink.New(t, strings.TrimPrefix(srv.Endpoint, "http://"))
	ca, err := objstore.New(ctx, objstore.Config{Endpoint: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	dir1 := demoPart(t, 1, 0, false, false)
	statuses := make(chan MirrorStatus, 16)
	a := StartMirror(ca, dir1, u, MirrorOptions{Interval: 100 * time.Millisecond, RequestTimeout: time.Second,
		OnStatus: func(s MirrorStatus) { statuses <- s }})
	defer a.Stop()
	for a.Status().Last.IsZero() {
		time.Sleep(20 * time.Millisecond) // no signal for a first round that went through
	}
	link.SetCut(true)
	grow(t, dir1) // recorded while cut off
	if s := <-statuses; !s.Behind {
		t.Fatalf("status %+v: want behind", s)
	}
	p2 := objstore.URL{Bucket: u.Bucket, Prefix: session.PartName(u.Prefix, 2)}
	if _, err := Push(ctx, c, demoPart(t, 2, 120, true, false), p2, Options{}); err != nil {
		t.Fatal(err)
	}
	// The join waits for part 1's live manifest to be quiet (here: 1 s).
	var rep *JoinReport
	for {
		rep, err = JoinParts(ctx, c, u, JoinOptions{Finalize: finalize, Quiet: time.Second})
		if !errors.Is(err, ErrRecording) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil || !rep.Joined {
		t.Fatalf("join: %+v, %v", rep, err)
	}
	before := listKeys(t, c, u.Bucket, u.Dir())
	link.SetCut(false)
	var fenced MirrorStatus
	for s := range statuses {
		if errors.Is(s.Err, ErrFenced) {
			fenced = s
			break
		}
	}
	t.Logf("link back: %v", fenced.Err)
	if err := finalize(dir1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Finish(ctx, Options{}); !errors.Is(err, ErrFenced) {
		t.Fatalf("A's finished session: %v; want fenced", err)
	}
	if after := listKeys(t, c, u.Bucket, u.Dir()); !slices.Equal(after, before) {
		t.Errorf("the place holds %v, %v after the join", after, before)
	}
	m := pullVerified(t, c, u)
	if len(m.Parts) != 2 || len(m.Tracks) != 8 {
		t.Errorf("the joined session: %d parts, %d tracks; want 2 and 8", len(m.Parts), len(m.Tracks))
	}
}

// joinRacer is the store of a join that another writer races: before the join's conditional
// write of the joined manifest, race runs once.
type joinRacer struct {
	*objstore.Client
	once sync.Once
	race func()
}

func (s *joinRacer) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, opt objstore.PutOptions) (objstore.Object, error) {
	if opt.IfMatch != "" && strings.HasSuffix(key, "/"+session.ManifestName) {
		s.once.Do(s.race)
	}
	return s.Client.Put(ctx, bucket, key, body, opt)
}

// TestFenceJoinManifest (real versitygw): the join writes the joined manifest over part 1's
// manifest as it read it; another one written there meanwhile stays, and the join fails with a
// *FencedError instead of replacing it.
func TestFenceJoinManifest(t *testing.T) {
	ctx := context.Background()
	_, c, u := realStore(t)
	p2 := objstore.URL{Bucket: u.Bucket, Prefix: session.PartName(u.Prefix, 2)}
	for i, p := range []objstore.URL{u, p2} {
		if _, err := Push(ctx, c, demoPart(t, i+1, 120*i, true, false), p, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	other := []byte(`{"another": "manifest"}`)
	st := &joinRacer{Client: c, race: func() {
		if _, err := c.Put(ctx, u.Bucket, u.Key(session.ManifestName), bytes.NewReader(other), objstore.PutOptions{}); err != nil {
			t.Error(err)
		}
	}}
	_, err := JoinParts(ctx, st, u, JoinOptions{Finalize: finalize})
	var fe *FencedError
	if !errors.As(err, &fe) || fe.Holder != "another join of the session" {
		t.Fatalf("join raced by another manifest: %v; want fenced", err)
	}
	if got := getBytes(t, c, u.Bucket, u.Key(session.ManifestName)); !bytes.Equal(got, other) {
		t.Errorf("the manifest written meanwhile was replaced: %s", got)
	}
}
