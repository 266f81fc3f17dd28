package worker

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
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
