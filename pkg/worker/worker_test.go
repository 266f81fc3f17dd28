package worker

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// fakeClaim records what the worker told the queue; progress is what Progress returns.
type fakeClaim struct {
	mu       sync.Mutex
	progress error
	calls    int    // Progress calls
	ended    string // "done URL", "fail REASON", "release"
}

func (c *fakeClaim) Progress(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return c.progress
}

func (c *fakeClaim) progressCalls() int { c.mu.Lock(); defer c.mu.Unlock(); return c.calls }
func (c *fakeClaim) Done(_ context.Context, u string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = "done " + u
	return nil
}
func (c *fakeClaim) Fail(_ context.Context, r string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = "fail " + r
	return nil
}
func (c *fakeClaim) Release(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = "release"
	return nil
}
func (c *fakeClaim) end() string { c.mu.Lock(); defer c.mu.Unlock(); return c.ended }

// fakeSource hands out its jobs in order, then waits.
type fakeSource struct {
	jobs  chan *Taken
	takes chan time.Time // a Take was called
}

func (s *fakeSource) Take(ctx context.Context, _ string) (*Taken, error) {
	s.takes <- time.Now()
	select {
	case t := <-s.jobs:
		return t, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fakeRec runs until Stop or its end closes.
type fakeRec struct {
	done     chan struct{}
	stopped  chan struct{}
	once     sync.Once
	url      string
	speakers int
}

func (r *fakeRec) Done() <-chan struct{} { return r.done }
func (r *fakeRec) Stop()                 { r.once.Do(func() { close(r.stopped); close(r.done) }) }
func (r *fakeRec) Wait() (*record.Result, error) {
	<-r.done
	return &record.Result{URL: r.url, Uploaded: true}, nil
}
func (r *fakeRec) Stats() capture.Stats { return capture.Stats{Speakers: r.speakers} }

// store answers CheckFree from its keys: nothing else is at any place.
type store struct {
	sessionstore.LiveStore
	keys []string
}

func (s store) List(_ context.Context, _, prefix string) iter.Seq2[objstore.Object, error] {
	return func(yield func(objstore.Object, error) bool) {
		for _, k := range s.keys {
			if strings.HasPrefix(k, prefix) && !yield(objstore.Object{Key: k}, nil) {
				return
			}
		}
	}
}

func job(name string, c *fakeClaim) *Taken {
	return &Taken{Job: fleet.Job{ID: fleet.JobID(name), Kind: fleet.KindRecord, Record: &fleet.RecordJob{
		URL: "ws://127.0.0.1:1", Protocol: "livekit", Room: name, Session: "s3://bkt/" + name, Consent: "assume"}},
		Number: 5, Times: 1, Claim: c}
}

// testOptions are a worker's options with fakes; each recording started is sent on recs.
func testOptions(t *testing.T, src Source, recs chan *fakeRec) Options {
	return Options{Source: src, Name: "w1", MaxRooms: 1, Store: store{}, Bucket: "bkt", Spool: t.TempDir(),
		ProgressEvery: 20 * time.Millisecond, Fence: time.Second, DrainTimeout: time.Minute,
		Start: func(_ context.Context, o record.Options) (Recording, error) {
			r := &fakeRec{done: make(chan struct{}), stopped: make(chan struct{}), url: o.Upload.URL.String(), speakers: 2}
			recs <- r
			return r, nil
		}}
}

func newTestWorker(t *testing.T, src Source, recs chan *fakeRec) *Worker {
	t.Helper()
	w, err := New(testOptions(t, src, recs))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// With room for one recording, the worker asks for a second job only once the first ended, and
// each ends Done with the session it was recorded into.
func TestCapacity(t *testing.T) {
	src := &fakeSource{jobs: make(chan *Taken, 2), takes: make(chan time.Time, 10)}
	recs := make(chan *fakeRec, 2)
	w := newTestWorker(t, src, recs)
	c1, c2 := &fakeClaim{}, &fakeClaim{}
	src.jobs <- job("one", c1)
	src.jobs <- job("two", c2)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	<-src.takes
	r1 := <-recs
	select {
	case <-src.takes:
		t.Fatal("a second Take while the one room is recording")
	case <-time.After(100 * time.Millisecond):
	}
	close(r1.done)
	<-src.takes
	r2 := <-recs
	waitFor(t, "job one done", func() bool { return c1.end() == "done s3://bkt/one" })
	close(r2.done)
	waitFor(t, "job two done", func() bool { return c2.end() == "done s3://bkt/two" })
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// What Progress says decides how a running recording ends for its job.
func TestProgressOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		progress error
		want     string
	}{
		{"a cancelled job is stopped and finished with its session", fleet.ErrCancelled, "done s3://bkt/j"},
		{"a superseded claim stops writing and tells the queue nothing", &fleet.SupersededError{ID: "j", Claim: 5, By: 9}, ""},
		{"a queue unreachable past the fence stops the recording and tells nothing", errors.New("nats: timeout"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
			recs := make(chan *fakeRec, 1)
			w := newTestWorker(t, src, recs)
			w.o.Fence = 50 * time.Millisecond
			c := &fakeClaim{progress: tc.progress}
			src.jobs <- job("j", c)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { _ = w.Run(ctx) }()
			r := <-recs
			select {
			case <-r.stopped:
			case <-time.After(5 * time.Second):
				t.Fatal("the recording was not stopped")
			}
			<-src.takes
			<-src.takes // the slot is free again: the job's goroutine ended
			if got := c.end(); got != tc.want {
				t.Fatalf("the job ended %q, want %q", got, tc.want)
			}
		})
	}
}

// A worker that stops takes no more jobs, lets the running recording go on, and on StopNow
// stops it and hands its job back.
func TestDrainHandsBack(t *testing.T) {
	src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
	recs := make(chan *fakeRec, 1)
	w := newTestWorker(t, src, recs)
	c := &fakeClaim{}
	src.jobs <- job("j", c)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	r := <-recs
	cancel()
	select {
	case <-r.stopped:
		t.Fatal("the recording stopped when the worker stopped taking jobs")
	case err := <-errc:
		t.Fatalf("Run returned (%v) while a recording runs", err)
	case <-time.After(100 * time.Millisecond):
	}
	w.StopNow()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got := c.end(); got != "release" {
		t.Fatalf("the job ended %q, want it handed back", got)
	}
}

// Secrets are read where the reference points (fleet.SecretRef.Resolve); one that is missing
// fails with its field named.
func TestRecordOptionsSecrets(t *testing.T) {
	t.Setenv("SC_TEST_SECRET", "s3cret")
	o, err := RecordOptions(&fleet.RecordJob{URL: "ws://x", Protocol: "livekit", Consent: "assume", APISecret: "env:SC_TEST_SECRET"}, record.Options{}, "/d", nil)
	if err != nil || o.Dial.APISecret != "s3cret" || o.Announce {
		t.Fatalf("%+v %v", o.Dial, err)
	}
	_, err = RecordOptions(&fleet.RecordJob{Token: "env:SC_TEST_UNSET_X"}, record.Options{}, "/d", nil)
	var se *SecretError
	if !errors.As(err, &se) || se.Field != "token" || !strings.Contains(err.Error(), "SC_TEST_UNSET_X") {
		t.Fatalf("missing secret: %v", err)
	}
}

// A part n > 1 of a session sits beside it, with -partN.
func TestContinuation(t *testing.T) {
	u := objstore.URL{Bucket: "bkt", Prefix: "shows/panel"}
	if got := Continuation(u, 1).String(); got != "s3://bkt/shows/panel" {
		t.Fatal(got)
	}
	if got := Continuation(u, 3).String(); got != "s3://bkt/shows/panel-part3" {
		t.Fatal(got)
	}
}

// A place holding a session or a live one is taken; each claim records at its own part or later.
func TestPlace(t *testing.T) {
	u := objstore.URL{Bucket: "bkt", Prefix: "shows/panel"}
	for _, tc := range []struct {
		name  string
		keys  []string
		from  int
		want  int
		isErr bool
	}{
		{"the first claim of a free place records at the place", nil, 1, 1, false},
		{"a second claim records part 2 even when the first wrote nothing", nil, 2, 2, false},
		{"a live part is taken", []string{"shows/panel/.live/manifest.json"}, 1, 2, false},
		{"a finished part is taken, and so is a live part 2", []string{"shows/panel/manifest.json", "shows/panel-part2/.live/tracks/t1/000000000000-000000000010"}, 1, 3, false},
		{"another name sharing the prefix is no part", []string{"shows/panel-partial/manifest.json"}, 1, 1, false},
		{"from 0 is from 1", nil, 0, 1, false},
		{"every part taken", nil, session.MaxParts + 1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, n, err := Place(context.Background(), store{keys: tc.keys}, u, tc.from)
			if tc.isErr {
				if !errors.Is(err, ErrNoPlace) {
					t.Fatalf("Place = %v %d %v, want ErrNoPlace", p, n, err)
				}
				return
			}
			if err != nil || n != tc.want || p != Continuation(u, tc.want) {
				t.Fatalf("Place = %v, part %d, %v; want part %d", p, n, err, tc.want)
			}
		})
	}
}

// A worker at its speaker bound takes no job until it is under it again; a room being joined counts
// as one speaker.
func TestSpeakerCapacity(t *testing.T) {
	src := &fakeSource{jobs: make(chan *Taken, 2), takes: make(chan time.Time, 10)}
	recs := make(chan *fakeRec, 2)
	o := testOptions(t, src, recs)
	o.MaxRooms, o.MaxSpeakers = 5, 1
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := &fakeClaim{}, &fakeClaim{}
	src.jobs <- job("one", c1)
	src.jobs <- job("two", c2)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	<-src.takes
	r1 := <-recs // two speakers: past the bound
	waitFor(t, "the recording counted", func() bool { return w.Speakers() == 2 })
	select {
	case <-src.takes:
		t.Fatal("a second Take at the speaker bound")
	case <-time.After(3 * capacityPoll / 2):
	}
	close(r1.done)
	<-src.takes
	r2 := <-recs
	close(r2.done)
	waitFor(t, "both jobs done", func() bool { return c1.end() != "" && c2.end() != "" })
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Source: src, Name: "w", MaxRooms: 1, MaxSpeakers: -1, Store: store{}, Bucket: "bkt", Spool: "/s"}); err == nil {
		t.Error("a negative speaker bound was accepted")
	}
}

// hangClaim's Progress never answers until its context ends (a NATS that takes requests and
// never answers).
type hangClaim struct{ fakeClaim }

func (c *hangClaim) Progress(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

// The fence is a timer of its own: Progress calls that hang do not hold it up.
func TestFenceWithHangingProgress(t *testing.T) {
	src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
	recs := make(chan *fakeRec, 1)
	o := testOptions(t, src, recs)
	o.ProgressEvery, o.Fence = 100*time.Millisecond, 250*time.Millisecond
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	c := &hangClaim{}
	tk := job("j", &c.fakeClaim)
	tk.Claim = c
	src.jobs <- tk
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Run(ctx) }()
	r := <-recs
	started := time.Now()
	select {
	case <-r.stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the recording was not stopped")
	}
	// Measured from the recording's start, which is after the take: at most the fence.
	if d := time.Since(started); d > o.Fence+100*time.Millisecond {
		t.Errorf("stopped %v after the recording started, fence %v", d, o.Fence)
	}
	waitFor(t, "the job counted lost", func() bool { return count(t, w.Metrics().Lost) == 1 })
	if got := c.end(); got != "" {
		t.Errorf("a fenced worker told the queue %q", got)
	}
}

// Past the drain timeout, the recordings are stopped and their jobs handed back.
func TestDrainTimeout(t *testing.T) {
	src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
	recs := make(chan *fakeRec, 1)
	o := testOptions(t, src, recs)
	o.DrainTimeout = 50 * time.Millisecond
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeClaim{}
	src.jobs <- job("j", c)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	<-recs
	cancel()
	waitFor(t, "draining", w.Draining)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got := c.end(); got != "release" {
		t.Fatalf("the job ended %q, want it handed back", got)
	}
	if got := count(t, w.Metrics().HandedBack); got != 1 {
		t.Errorf("handed back %v, want 1", got)
	}
}

// TestJoinKeepsTheClaim: a join that takes longer than the queue waits for a word (it waits for
// a dead worker's part to go quiet) keeps calling Progress, so the job is not handed to another
// worker meanwhile; a claim superseded during the join stops it and tells the queue nothing.
func TestJoinKeepsTheClaim(t *testing.T) {
	for _, superseded := range []bool{false, true} {
		src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
		recs := make(chan *fakeRec, 1)
		o := testOptions(t, src, recs)
		o.Store = store{keys: []string{"j/.live/manifest.json"}}
		c := &fakeClaim{}
		joining := make(chan int, 1) // Progress calls when the join began
		o.Join = func(ctx context.Context, u objstore.URL, _ ed25519.PrivateKey) (string, error) {
			joining <- c.progressCalls()
			if superseded {
				c.mu.Lock()
				c.progress = &fleet.SupersededError{ID: "j", Claim: 5, By: 6}
				c.mu.Unlock()
			}
			select {
			case <-time.After(50 * o.ProgressEvery): // more than the fence allows without a word
				return u.String(), nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		o.Fence = 5 * o.ProgressEvery
		w, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		tk := job("j", c)
		tk.Times = 2
		src.jobs <- tk
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = w.Run(ctx) }()
		close((<-recs).done)
		before := <-joining
		if superseded {
			waitFor(t, "the worker to give the join up", func() bool { return count(t, w.Metrics().Lost) == 1 })
			if got := c.end(); got != "" {
				t.Errorf("superseded while joining: told the queue %q, want nothing", got)
			}
		} else {
			waitFor(t, "the job's end", func() bool { return c.end() != "" })
			if got := c.end(); got != "done s3://bkt/j" {
				t.Errorf("the job ended %q, want done s3://bkt/j", got)
			}
			if n := c.progressCalls() - before; n < 10 {
				t.Errorf("%d Progress calls during a join of 50 progress intervals, want about 50", n)
			}
		}
		cancel()
	}
}

// How the claim that finishes a job ends it: joined when it was recorded in parts.
func TestDoneJoinsParts(t *testing.T) {
	joinErr := errors.New("boom")
	for _, tc := range []struct {
		name     string
		times    int
		keys     []string
		join     error // returned by Join
		noJoin   bool  // Options.Join nil
		wantJoin bool
		want     string
	}{
		{"a job taken once into a free place is not joined", 1, nil, nil, false, false, "done s3://bkt/j"},
		{"a job taken over is joined and done at its place", 2, []string{"j/.live/manifest.json"}, nil, false, true, "done s3://bkt/j"},
		{"a job whose place held a part is joined", 1, []string{"j/manifest.json"}, nil, false, true, "done s3://bkt/j"},
		{"without Join a taken-over job is done with its part", 3, nil, nil, true, false, "done s3://bkt/j-part3"},
		{"a join that fails fails the job, naming the parts", 2, nil, joinErr, false, true, "fail worker: join the parts of s3://bkt/j (up to part 2, which stay in the bucket): boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
			recs := make(chan *fakeRec, 1)
			o := testOptions(t, src, recs)
			o.Store = store{keys: tc.keys}
			var mu sync.Mutex
			var joined []string
			if !tc.noJoin {
				o.Join = func(_ context.Context, u objstore.URL, _ ed25519.PrivateKey) (string, error) {
					mu.Lock()
					defer mu.Unlock()
					joined = append(joined, u.String())
					return u.String(), tc.join
				}
			}
			w, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			c := &fakeClaim{}
			tk := job("j", c)
			tk.Times = tc.times
			src.jobs <- tk
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { _ = w.Run(ctx) }()
			close((<-recs).done)
			waitFor(t, "the job's end", func() bool { return c.end() != "" })
			if got := c.end(); got != tc.want {
				t.Errorf("the job ended %q, want %q", got, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.wantJoin != (len(joined) == 1) || tc.wantJoin && joined[0] != "s3://bkt/j" {
				t.Errorf("joined %q, want a join of s3://bkt/j: %v", joined, tc.wantJoin)
			}
		})
	}
}

// What a claim does when its job cannot be recorded here.
func TestJobsThatCannotStart(t *testing.T) {
	for _, tc := range []struct {
		name     string
		session  string
		times    int
		startErr error
		want     string
	}{
		{"a session in another bucket fails, naming both", "s3://other/j", 1, nil, "fail worker: the job's session s3://other/j is not under s3://bkt, where this worker records"},
		{"a session outside the worker's prefix fails", "s3://bkt/elsewhere/j", 1, nil, "fail worker: the job's session s3://bkt/elsewhere/j is not under s3://bkt/shows, where this worker records"},
		{"a room that does not exist fails", "s3://bkt/j", 1, fmt.Errorf("join: %w", room.ErrNoRoom), "fail start recording: join: no such room"},
		{"a room gone when taken over ends the job with the earlier parts", "s3://bkt/j", 2, fmt.Errorf("join: %w", room.ErrNoRoom), "done s3://bkt/j"},
		{"a room without speakers when taken over ends the job with the earlier parts", "s3://bkt/j", 3, fmt.Errorf("join: %w", room.ErrEmptyRoom), "done s3://bkt/j"},
		{"without Join, a room gone when taken over is done with the session's place", "s3://bkt/j", 2, fmt.Errorf("join: %w", room.ErrNoRoom), "done s3://bkt/j"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
			o := testOptions(t, src, nil)
			if !strings.HasPrefix(tc.name, "without Join") {
				o.Join = func(_ context.Context, u objstore.URL, _ ed25519.PrivateKey) (string, error) { return u.String(), nil }
			}
			if strings.Contains(tc.name, "prefix") {
				o.Prefix = "shows/"
			}
			o.Start = func(context.Context, record.Options) (Recording, error) {
				if tc.startErr == nil {
					t.Error("started a recording")
					return nil, errors.New("no")
				}
				return nil, tc.startErr
			}
			w, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			c := &fakeClaim{}
			tk := job("j", c)
			tk.Job.Record.Session, tk.Times = tc.session, tc.times
			src.jobs <- tk
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { _ = w.Run(ctx) }()
			waitFor(t, "the job's end", func() bool { return c.end() != "" })
			if got := c.end(); got != tc.want {
				t.Errorf("the job ended %q, want %q", got, tc.want)
			}
		})
	}
}

// count is a counter's value, read as Prometheus gathers it.
func count(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v %v", mfs, err)
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}
