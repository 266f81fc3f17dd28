package worker

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
	"github.com/spacecast/spacecast/pkg/site"
)

// fakeFollowups records the follow-ups queued, in order with the claim's end (log).
type fakeFollowups struct {
	mu       sync.Mutex
	err      error // what Enqueue returns
	queued   []fleet.FollowupJob
	attempts int
}

func (f *fakeFollowups) TakeFollowup(ctx context.Context, _ string) (*Taken, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (f *fakeFollowups) Enqueue(_ context.Context, j fleet.FollowupJob) (fleet.JobID, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.err != nil {
		return "", false, f.err
	}
	f.queued = append(f.queued, j)
	return fleet.FollowupID(j.RecordJob), true, nil
}

func (f *fakeFollowups) state() (int, []fleet.FollowupJob) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts, append([]fleet.FollowupJob(nil), f.queued...)
}

// A record job that asks for follow-ups queues them before it is done, with the session it
// ended with; a session left in parts queues none; a queue that refuses leaves the job unfinished
// (its claim lapses, and the worker that takes it over queues them).
func TestFinishQueuesFollowups(t *testing.T) {
	const id = fleet.JobID("0123456789abcdef-01234567")
	for _, tc := range []struct {
		name     string
		times    int
		noJoin   bool
		err      error
		attempts int
		queued   bool
		want     string // the claim's end
	}{
		{"a job done queues its follow-up first", 1, false, nil, 1, true, "done s3://bkt/j"},
		{"a job joined from parts queues its follow-up with the joined session", 2, false, nil, 1, true, "done s3://bkt/j"},
		{"a job left in parts queues none", 3, true, nil, 0, false, "done s3://bkt/j-part3"},
		{"a follow-up the queue cannot take leaves the job unfinished", 1, false, &fleet.UnavailableError{What: "enqueue", Err: errors.New("down")}, 3, false, ""},
		{"a follow-up the queue refuses as malformed does not hold up the job", 1, false, &fleet.JobError{Field: "followup.mix", Reason: "is missing"}, 1, false, "done s3://bkt/j"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
			recs := make(chan *fakeRec, 1)
			o := testOptions(t, src, recs)
			fq := &fakeFollowups{err: tc.err}
			o.Followups = FollowupOptions{Queue: fq}
			if !tc.noJoin {
				o.Join = func(_ context.Context, u objstore.URL, _ ed25519.PrivateKey) (string, error) { return u.String(), nil }
			}
			w, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			c := &fakeClaim{}
			tk := job("j", c)
			tk.Job.ID, tk.Times = id, tc.times
			tk.Job.Record.Then = &fleet.Then{Mix: &fleet.MixStep{To: "s3://bkt/mixes", Format: "mp3", LoudnessLUFS: -16, TruePeakDBTP: -1}}
			src.jobs <- tk
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() { _ = w.Run(ctx) }()
			close((<-recs).done)
			waitFor(t, "the job's end or its follow-up's attempts", func() bool {
				n, _ := fq.state()
				return c.end() != "" || tc.want == "" && n == tc.attempts
			})
			time.Sleep(50 * time.Millisecond) // a Done after the last attempt would show now
			n, queued := fq.state()
			if got := c.end(); got != tc.want {
				t.Errorf("the job ended %q, want %q", got, tc.want)
			}
			if n != tc.attempts || (len(queued) == 1) != tc.queued {
				t.Errorf("%d enqueues, %d queued; want %d, queued %v", n, len(queued), tc.attempts, tc.queued)
			}
			if tc.queued && (queued[0].RecordJob != id || queued[0].Session != "s3://bkt/j" || queued[0].Mix.To != "s3://bkt/mixes") {
				t.Errorf("queued %+v", queued[0])
			}
		})
	}
}

// Two follow-ups publishing into one site kept in a real S3 server (versitygw), started at once:
// each mixes its session from the bucket, and the site's publish lock makes them take turns, so
// the site's record in the bucket and the pushed feed list both episodes (a publish that read
// the folder before the other uploaded its own would drop the other's episode). A third, into a
// place without a site, fails naming it.
func TestPublishIntoOneSiteAtOnce(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := objstore.New(ctx, objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := srv.Bucket
	// The site's folder: made by site.Init, copied into the bucket.
	dir := filepath.Join(t.TempDir(), "site")
	show := &feed.Show{Title: "Town Hall", Description: "Our town hall.", BaseURL: "https://podcast.example.com",
		Author: "Ada", Language: "en", Categories: []string{"Government"}, Owner: feed.Owner{Name: "Ada", Email: "ada@example.com"}, Type: "episodic"}
	if _, err := site.Init(ctx, dir, show, "", site.Options{}); err != nil {
		t.Fatal(err)
	}
	siteU := objstore.URL{Bucket: b, Prefix: "site"}
	if err := uploadSite(ctx, cl, siteU, dir, nil); err != nil {
		t.Fatal(err)
	}
	sess := testutil.DemoSession(t)
	if err := session.Seal(sess, nil); err != nil {
		t.Fatal(err)
	}
	rooms := []string{"alpha", "beta", "gamma"}
	for _, room := range rooms {
		if _, err := sessionstore.Push(ctx, cl, sess, objstore.URL{Bucket: b, Prefix: "shows/" + room}, sessionstore.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	// Each publish waits, once it starts reading the site's folder, for the other to start too
	// (up to 5 s): without the lock both would read the same folder and the last upload would
	// drop the other's episode.
	rb := &rendezvousBucket{Bucket: cl, prefix: "site/", both: make(chan struct{})}
	w, err := New(Options{Source: &fakeSource{}, Name: "w1", MaxRooms: 1, Store: store{}, Bucket: b, Spool: t.TempDir(),
		Followups: FollowupOptions{Queue: &fakeFollowups{}, Max: 3, LockWait: time.Minute,
			Bucket: func(context.Context, string) (Bucket, error) { return rb, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(rooms))
	for i, room := range rooms {
		pub := &fleet.PublishStep{Site: "s3://" + b + "/site", Push: "s3://" + b + "/public", Title: "{room} live"}
		if room == "gamma" {
			pub.Site = "s3://" + b + "/nosite"
		}
		f := &fleet.FollowupJob{RecordJob: fleet.JobID(fmt.Sprintf("0123456789abcdef-0000000%d", i)), Session: "s3://" + b + "/shows/" + room,
			Room: room, Mix: &fleet.MixStep{To: "s3://" + b + "/mixes", Format: "mp3", LoudnessLUFS: -16, TruePeakDBTP: -1}, Publish: pub}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.runFollowup(ctx, w.o.Log, fleet.FollowupID(f.RecordJob), f)
		}()
	}
	wg.Wait()
	for i, room := range rooms[:2] {
		if errs[i] != nil {
			t.Errorf("%s: %v", room, errs[i])
		}
	}
	if !errors.Is(errs[2], ErrNoSite) || !strings.Contains(errs[2].Error(), "s3://"+b+"/nosite holds no site") {
		t.Errorf("gamma, into no site: %v, want ErrNoSite naming it", errs[2])
	}
	read := func(key string) string {
		r, _, err := cl.Get(ctx, b, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		body, _ := io.ReadAll(r)
		return string(body)
	}
	for _, key := range []string{"site/episodes.json", "site/feed.xml", "public/feed.xml"} {
		body := read(key)
		for _, room := range rooms[:2] {
			if !strings.Contains(body, room+" live") {
				t.Errorf("%s lacks the episode %q", key, room+" live")
			}
		}
	}
	for _, room := range rooms {
		if _, err := cl.Head(ctx, b, "mixes/"+room+".mp3"); err != nil {
			t.Errorf("the mix of %s: %v", room, err)
		}
	}
}

// rendezvousBucket holds up each listing of prefix until two were asked for, or 5 s passed.
type rendezvousBucket struct {
	Bucket
	prefix string
	mu     sync.Mutex
	n      int
	both   chan struct{}
}

func (r *rendezvousBucket) List(ctx context.Context, bucket, prefix string) iter.Seq2[objstore.Object, error] {
	if prefix == r.prefix {
		r.mu.Lock()
		if r.n++; r.n == 2 {
			close(r.both)
		}
		r.mu.Unlock()
		select {
		case <-r.both:
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
		}
	}
	return r.Bucket.List(ctx, bucket, prefix)
}
