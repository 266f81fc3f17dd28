package worker

import (
	"context"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// fencedRec is a recording whose upload the store fenced off when it finished.
type fencedRec struct{ *fakeRec }

func (r fencedRec) Wait() (*record.Result, error) {
	<-r.done
	return &record.Result{URL: r.url}, &record.UploadError{URL: r.url, Finished: true,
		Err: &sessionstore.FencedError{URL: r.url, Key: "bkt/j/.live/manifest.json", Holder: "a recovery or a join of the session"}}
}

// A recording whose last upload the store fenced off (a join took its place: this worker was
// taken for dead) is counted as fenced and lost, and the job is neither failed nor done by it:
// another claim holds it.
func TestStoreFencedRecording(t *testing.T) {
	src := &fakeSource{jobs: make(chan *Taken, 1), takes: make(chan time.Time, 10)}
	recs := make(chan *fakeRec, 1)
	o := testOptions(t, src, recs)
	o.Start = func(_ context.Context, ro record.Options) (Recording, error) {
		r := &fakeRec{done: make(chan struct{}), stopped: make(chan struct{}), url: ro.Upload.URL.String(), speakers: 1}
		recs <- r
		return fencedRec{r}, nil
	}
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeClaim{}
	src.jobs <- job("j", c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Run(ctx) }()
	r := <-recs
	close(r.done) // the room ended
	<-src.takes
	<-src.takes // the slot is free again: the job's goroutine ended
	if got := c.end(); got != "" {
		t.Errorf("the job ended %q; want nothing told (another claim holds it)", got)
	}
	if f, l := count(t, w.Metrics().Fenced), count(t, w.Metrics().Lost); f != 1 || l != 1 {
		t.Errorf("fenced %v, lost %v; want 1 and 1", f, l)
	}
}
