package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/internal/testutil/tcplink"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// mirrorRec stands for a recording into the bucket: the demo session as its spool, mirrored by a
// real sessionstore.Mirror; Stop finishes it and uploads it as record does (Mirror.Finish).
type mirrorRec struct {
	dir, url string
	m        *sessionstore.Mirror
	once     sync.Once
	done     chan struct{}
	err      error
}

func (r *mirrorRec) Done() <-chan struct{} { return r.done }
func (r *mirrorRec) Stats() capture.Stats  { return capture.Stats{Speakers: 1} }
func (r *mirrorRec) Stop() {
	r.once.Do(func() {
		go func() {
			defer close(r.done)
			if err := sealFinished(r.dir); err != nil {
				r.err = err
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := r.m.Finish(ctx, sessionstore.Options{}); err != nil {
				r.err = &record.UploadError{Dir: r.dir, URL: r.url, Finished: true, Err: err}
			}
		}()
	})
}
func (r *mirrorRec) Wait() (*record.Result, error) {
	<-r.done
	return &record.Result{URL: r.url, Uploaded: r.err == nil}, r.err
}

// sealFinished marks the session in dir finalized and seals it (what record does at the end).
func sealFinished(dir string) error {
	s, err := session.Open(dir)
	if err != nil {
		return err
	}
	s.Manifest.Finalized = true
	if err := s.Save(); err != nil {
		return err
	}
	return session.Seal(dir, nil)
}

// unfinishedDemo is the demo session as a recorder's spool while it records.
func unfinishedDemo(t *testing.T, id string, after time.Duration) string {
	t.Helper()
	dir := testutil.DemoSession(t)
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.Finalized, s.Manifest.ID = false, id
	s.Manifest.StartedAt = s.Manifest.StartedAt.Add(after)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestWorkerFencedByTheStore (real versitygw; the queue a fake): a worker records part 1 of a job
// into the bucket through a link that the test cuts, with its queue unreachable too: its fence by
// time stops the recording, whose finished upload retries meanwhile. Another worker's part 2 is
// in, and the join takes part 1's place once it is quiet and joins the parts. The link comes
// back: the first worker's upload is fenced off by the store, it counts it and keeps its spool,
// tells the queue nothing, and the joined session verifies with both parts.
func TestWorkerFencedByTheStore(t *testing.T) {
	ctx := context.Background()
	srv := s3server.Start(t)
	srv.Setenv(t)
	c, err := objstore.New(ctx, objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	link, addr := tcplink.New(t, strings.TrimPrefix(srv.Endpoint, "http://"))
	ca, err := objstore.New(ctx, objstore.Config{Endpoint: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	u := objstore.URL{Bucket: srv.Bucket, Prefix: "shows/ep1"}
	src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
	recs := make(chan *mirrorRec, 1)
	o := Options{Source: src, Name: "w1", MaxRooms: 1, Store: ca, Bucket: srv.Bucket, Spool: t.TempDir(),
		ProgressEvery: 50 * time.Millisecond, Fence: 500 * time.Millisecond,
		Start: func(_ context.Context, ro record.Options) (Recording, error) {
			if err := os.CopyFS(ro.Dir, os.DirFS(unfinishedDemo(t, "part-1", 0))); err != nil {
				return nil, err
			}
			r := &mirrorRec{dir: ro.Dir, url: ro.Upload.URL.String(), done: make(chan struct{}),
				m: sessionstore.StartMirror(ro.Upload.Store, ro.Dir, ro.Upload.URL, sessionstore.MirrorOptions{Interval: 100 * time.Millisecond, RequestTimeout: time.Second})}
			recs <- r
			return r, nil
		}}
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	claim := &fakeClaim{}
	tk := job("ep1", claim)
	tk.Job.Record.Session = u.String()
	src.jobs <- tk
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = w.Run(runCtx) }()
	r := <-recs
	defer r.m.Stop()
	for r.m.Status().Last.IsZero() {
		time.Sleep(20 * time.Millisecond) // no signal for a first round that went through
	}
	// Cut off from the store and the queue alike.
	link.SetCut(true)
	claim.mu.Lock()
	claim.progress = errors.New("nats: timeout")
	claim.mu.Unlock()
	// Another worker's part 2 is in; the join waits for part 1 to be quiet (1 s here).
	p2 := Continuation(u, 2)
	if _, err := sessionstore.Push(ctx, c, unfinishedDemoSealed(t, "part-2", 2*time.Minute), p2, sessionstore.Options{}); err != nil {
		t.Fatal(err)
	}
	var rep *sessionstore.JoinReport
	for {
		rep, err = sessionstore.JoinParts(ctx, c, u, sessionstore.JoinOptions{Finalize: sealFinished, Quiet: time.Second})
		if !errors.Is(err, sessionstore.ErrRecording) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the join's own wait for a quiet part (cmd_worker's joinParts)
	}
	if err != nil || !rep.Joined || rep.Parts[0].Recovered == nil {
		t.Fatalf("join: %+v, %v", rep, err)
	}
	before := keysOf(t, c, u)
	link.SetCut(false)
	select {
	case <-r.Done():
	case <-time.After(40 * time.Second):
		t.Fatal("the cut-off worker's upload did not end")
	}
	<-src.takes
	<-src.takes // the slot is free again: the job's goroutine ended
	if _, err := r.Wait(); !errors.Is(err, sessionstore.ErrFenced) {
		t.Fatalf("the cut-off worker's upload: %v; want fenced", err)
	}
	if got := claim.end(); got != "" {
		t.Errorf("the cut-off worker told the queue %q; want nothing", got)
	}
	if f := count(t, w.Metrics().Fenced); f != 1 {
		t.Errorf("spacecast_worker_fenced_total %v, want 1", f)
	}
	if _, err := os.Stat(filepath.Join(r.dir, session.ManifestName)); err != nil {
		t.Errorf("the spool: %v", err)
	}
	if after := keysOf(t, c, u); !slices.Equal(after, before) {
		t.Errorf("the session's place holds %v, %v after the join", after, before)
	}
	out := filepath.Join(t.TempDir(), "pulled")
	if _, err := sessionstore.Pull(ctx, c, u, out, sessionstore.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := session.Verify(out, nil); err != nil {
		t.Fatalf("the joined session: %v", err)
	}
	s, err := session.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Manifest.Parts) != 2 || len(s.Manifest.Tracks) != 8 {
		t.Errorf("the joined session: %d parts, %d tracks; want 2 and 8", len(s.Manifest.Parts), len(s.Manifest.Tracks))
	}
}

// unfinishedDemoSealed is a finished part: the demo session with its own id, started after part 1.
func unfinishedDemoSealed(t *testing.T, id string, after time.Duration) string {
	t.Helper()
	dir := unfinishedDemo(t, id, after)
	if err := sealFinished(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// keysOf lists the keys under the place u.
func keysOf(t *testing.T, c *objstore.Client, u objstore.URL) []string {
	t.Helper()
	var out []string
	for o, err := range c.List(context.Background(), u.Bucket, u.Dir()) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o.Key)
	}
	return out
}
