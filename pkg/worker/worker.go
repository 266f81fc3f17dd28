package worker

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// Claim is what the worker needs of a job's claim (*fleet.Claim).
type Claim interface {
	Progress(ctx context.Context) error
	Done(ctx context.Context, sessionURL string) error
	Fail(ctx context.Context, reason string) error
	Release(ctx context.Context) error
}

var _ Claim = (*fleet.Claim)(nil)

// Taken is one job a Source handed out.
type Taken struct {
	Job    fleet.Job
	Number uint64 // the claim's fencing number
	Times  int    // how many times the job was taken, this claim included
	Claim  Claim
}

// Source hands out jobs (a fleet queue: QueueSource).
type Source interface {
	Take(ctx context.Context, worker string) (*Taken, error)
}

// QueueSource is a fleet queue as a Source.
type QueueSource struct{ Q *fleet.Queue }

// Take takes a job from the queue.
func (s QueueSource) Take(ctx context.Context, worker string) (*Taken, error) {
	c, err := s.Q.Take(ctx, worker)
	if err != nil {
		return nil, err
	}
	return &Taken{Job: c.Job, Number: c.Number, Times: c.Taken(), Claim: c}, nil
}

// Recording is a running recording (*record.Recording).
type Recording interface {
	Done() <-chan struct{}
	Stop()
	Wait() (*record.Result, error)
	Stats() capture.Stats
}

var _ Recording = (*record.Recording)(nil)

// Options configure a worker.
type Options struct {
	Source Source
	// Name is the worker's name in the jobs it holds.
	Name string
	// MaxRooms is how many rooms it records at once (at least 1), MaxSpeakers how many speakers
	// over all its rooms (0: no bound): it takes a job only while it records fewer of both, a room
	// it is joining counting as one speaker.
	MaxRooms, MaxSpeakers int
	// Store is the store the worker records into, Bucket and Prefix where in it: a job whose
	// session is elsewhere fails.
	Store          sessionstore.LiveStore
	Bucket, Prefix string
	// Spool is the folder under which each recording has its own spool folder,
	// Spool/BUCKET/PREFIX/NAME of the place it records into (as 'record' makes it).
	Spool string
	// Base is what every recording takes that a job does not carry (the dial's network options).
	Base record.Options
	// Start starts a recording (default record.Start).
	Start func(ctx context.Context, o record.Options) (Recording, error)
	// Join, if set, makes one session of a job recorded in parts: the claim that finishes a job
	// whose session has continuation parts (the job was taken before, or its place held a part
	// already) calls it with the job's session place and its signing key (nil: unsigned) before
	// it marks the job done. It joins session, Continuation(session, 2), Continuation(session,
	// 3)… into one session, and returns where that is (session, unless the first claim wrote
	// nothing); a part may be missing (a claim that wrote nothing). nil leaves the parts as they
	// are.
	Join func(ctx context.Context, session objstore.URL, key ed25519.PrivateKey) (string, error)
	// ProgressEvery is how often a claim's Progress is called (default fleet.ProgressEvery);
	// Fence how long the worker goes on after the start of the last Progress that reached the
	// queue before it stops the recording (default fleet.AckWait - fleet.ProgressEvery: before
	// the queue hands the job on).
	ProgressEvery, Fence time.Duration
	// UploadInterval is how often a recording sends its new bytes to the bucket (default
	// DefaultUploadInterval): what a worker killed loses of a room is about this plus the time
	// until another worker records it again (up to fleet.AckWait and the join).
	UploadInterval time.Duration
	// DrainTimeout is how long running recordings go on once Run's context ends (0: stop them at once).
	DrainTimeout time.Duration
	// JoinTimeout bounds a Join (default 10 minutes).
	JoinTimeout time.Duration
	Log         *slog.Logger

	// Followups are the follow-up jobs (mix, publish) the worker runs and queues (followup.go).
	Followups FollowupOptions
}

// Worker runs jobs; see Run.
type Worker struct {
	o       Options
	m       *Metrics
	stopAll chan struct{}
	once    sync.Once
	wg      sync.WaitGroup

	mu       sync.Mutex
	jobs     map[*Taken]Recording // running jobs; nil until the recording started
	draining bool
	changed  chan struct{} // a job ended (capacity may be free)

	followupsRunning atomic.Int64 // follow-up jobs being run
}

// New checks o and returns a worker.
func New(o Options) (*Worker, error) {
	if o.Source == nil || o.Store == nil || o.Bucket == "" || o.Spool == "" || o.Name == "" {
		return nil, errors.New("worker: a source, a store, its bucket, a spool and a name are needed")
	}
	if o.MaxRooms < 1 {
		return nil, &CapacityError{What: "rooms", N: o.MaxRooms}
	}
	if o.MaxSpeakers < 0 {
		return nil, &CapacityError{What: "speakers", N: o.MaxSpeakers}
	}
	if o.Start == nil {
		o.Start = func(ctx context.Context, ro record.Options) (Recording, error) { return record.Start(ctx, ro) }
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = fleet.ProgressEvery
	}
	if o.Fence <= 0 {
		o.Fence = fleet.AckWait - fleet.ProgressEvery
	}
	if o.UploadInterval <= 0 {
		o.UploadInterval = DefaultUploadInterval
	}
	if o.JoinTimeout <= 0 {
		o.JoinTimeout = 10 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	w := &Worker{o: o, stopAll: make(chan struct{}), jobs: map[*Taken]Recording{}, changed: make(chan struct{}, 1)}
	w.m = newMetrics(w)
	return w, nil
}

// StopNow stops every running recording at once (each is still finalized and uploaded) and hands
// its job back to the queue. Run returns once they have.
func (w *Worker) StopNow() { w.once.Do(func() { close(w.stopAll) }) }

// Draining reports whether the worker has stopped taking jobs (Run's context ended).
func (w *Worker) Draining() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.draining
}

// Rooms is how many jobs the worker holds (recording, or joining their room).
func (w *Worker) Rooms() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.jobs)
}

// Speakers is how many speakers the worker records now, over all its rooms.
func (w *Worker) Speakers() int { return w.speakers(false) }

// speakers is Speakers; with joining, a room being joined counts as one (its speakers are not
// known yet, and a room to record has one at least).
func (w *Worker) speakers(joining bool) int {
	w.mu.Lock()
	recs := make([]Recording, 0, len(w.jobs))
	n := 0
	for _, r := range w.jobs {
		if r != nil {
			recs = append(recs, r)
		} else if joining {
			n++
		}
	}
	w.mu.Unlock()
	for _, r := range recs {
		n += r.Stats().Speakers
	}
	return n
}

// full reports whether the worker records as many rooms or speakers as it may.
func (w *Worker) full() bool {
	if w.Rooms() >= w.o.MaxRooms {
		return true
	}
	return w.o.MaxSpeakers > 0 && w.speakers(true) >= w.o.MaxSpeakers
}

// DefaultUploadInterval is how often a worker's recordings send their new bytes to the bucket:
// more often than 'record' does (sessionstore.DefaultInterval), because a worker killed loses
// what it had not sent, and the fleet loses at most 10 s of a room.
const DefaultUploadInterval = 2 * time.Second

// capacityPoll is how often a worker at its speaker bound looks again (speakers come and go
// without a job ending).
const capacityPoll = time.Second

// waitRoom waits until the worker has room for a job; false when ctx ended first.
func (w *Worker) waitRoom(ctx context.Context) bool {
	t := time.NewTicker(capacityPoll)
	defer t.Stop()
	for w.full() {
		select {
		case <-ctx.Done():
			return false
		case <-w.changed:
		case <-t.C:
		}
	}
	return ctx.Err() == nil
}

// Run takes jobs until ctx ends, each while the worker has room for it (Options.MaxRooms and
// MaxSpeakers, checked before each take), and records them. Then it takes no more: running
// recordings go on for up to DrainTimeout (or until StopNow), and are then stopped and their jobs
// handed back. It returns when every recording has finished; the error is one from the source
// that is not ctx's end (NATS closed for good).
func (w *Worker) Run(ctx context.Context) error {
	stopFollowups := w.startFollowups(ctx)
	var err error
	for err == nil && w.waitRoom(ctx) {
		var t *Taken
		t, err = w.o.Source.Take(ctx, w.o.Name)
		if err != nil {
			if ctx.Err() != nil {
				err = nil
				break
			}
			var ue *fleet.UnavailableError
			if errors.As(err, &ue) {
				w.o.Log.Error("take a job", "err", err)
				break
			}
			w.o.Log.Warn("take a job", "err", err)
			err = nil
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		w.mu.Lock()
		w.jobs[t] = nil
		w.mu.Unlock()
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.run(t)
			w.mu.Lock()
			delete(w.jobs, t)
			w.mu.Unlock()
			select {
			case w.changed <- struct{}{}:
			default:
			}
		}()
	}
	w.mu.Lock()
	w.draining = true
	w.mu.Unlock()
	stopFollowups()
	w.drain()
	return err
}

// drain waits for the recordings up to DrainTimeout, then stops them.
func (w *Worker) drain() {
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	if n := w.Rooms(); n > 0 {
		w.o.Log.Info("draining: taking no more jobs, letting the rooms go on", "rooms", n, "timeout", w.o.DrainTimeout)
	}
	t := time.NewTimer(w.o.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
		w.o.Log.Info("drain timeout: stopping the recordings and handing their jobs back", "rooms", w.Rooms())
	case <-w.stopAll:
	}
	w.StopNow()
	<-done
}

// outcome says how a recording ended for its job.
type outcome int

const (
	finished   outcome = iota // by itself: Done or Fail
	cancelled                 // the job was cancelled: Done (the session stays with it)
	superseded                // another claim holds the job: nothing more
	fenced                    // the queue was unreachable too long: nothing more
	handedBack                // the worker stops: Release
)

// call makes one of a job's calls to the queue: bounded, and not ended by the worker's stop.
func call(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return f(ctx)
}

// run records one job, from its claim to Done, Fail or Release.
func (w *Worker) run(t *Taken) {
	j := t.Job.Record
	log := w.o.Log.With("job", string(t.Job.ID), "room", roomOf(j), "claim", t.Number)
	m := w.m
	m.taken(t.Times > 1)
	log.Info("job taken", "times", t.Times, "session", j.Session)
	fail := func(reason string) {
		m.Failed.Inc()
		log.Error("job failed", "reason", reason)
		if err := call(func(ctx context.Context) error { return t.Claim.Fail(ctx, reason) }); err != nil {
			log.Warn("job failed: not recorded in the queue", "err", err)
		}
	}
	u, err := objstore.ParseURL(j.Session)
	if err != nil {
		fail(err.Error())
		return
	}
	if pre := strings.Trim(w.o.Prefix, "/"); u.Bucket != w.o.Bucket || pre != "" && !strings.HasPrefix(u.Prefix, pre+"/") {
		fail((&BucketError{Session: j.Session, Store: objstore.URL{Bucket: w.o.Bucket, Prefix: pre}.String()}).Error())
		return
	}
	var place objstore.URL
	var part int
	if err := call(func(ctx context.Context) error {
		var err error
		place, part, err = Place(ctx, w.o.Store, u, t.Times)
		return err
	}); err != nil {
		fail(err.Error())
		return
	}
	if part > 1 {
		log.Warn("job taken over: recording a continuation", "part", part, "into", place.String())
	}
	dir := filepath.Join(w.o.Spool, place.Bucket, filepath.FromSlash(place.Prefix))
	ro, err := RecordOptions(j, w.o.Base, dir, &record.Upload{Store: w.o.Store, URL: place, Interval: w.o.UploadInterval})
	if err != nil {
		fail(err.Error())
		return
	}
	ro.Observer = record.ObserverFunc(func(e record.Event) {
		if e.Kind == record.KindUploaded {
			m.UploadedBytes.Add(float64(e.Upload.Bytes))
		}
	})
	// The recording's own context: it ends only when the worker stops it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	var rec Recording
	var startErr error
	go func() { // Start joins the room, which may wait long: progress goes on meanwhile
		defer close(started)
		rec, startErr = w.o.Start(ctx, ro)
	}()
	p := &progress{w: w, log: log, t: t}
	out := p.watch(started, cancel)
	if out != finished {
		<-started
		if startErr == nil {
			rec.Stop()
			_, _ = rec.Wait()
		}
		w.end(log, p, out, u, part, startErr == nil, ro.SignKey)
		return
	}
	if startErr != nil {
		if t.Times > 1 && (errors.Is(startErr, room.ErrNoRoom) || errors.Is(startErr, room.ErrEmptyRoom)) {
			// Taken over, but the room ended (or its speakers left) while no worker held it: what
			// was recorded is in the earlier parts.
			log.Info("the room is gone: the job ends with the parts recorded before", "err", startErr)
			w.end(log, p, finished, u, part, false, ro.SignKey)
			return
		}
		fail("start recording: " + startErr.Error())
		return
	}
	w.mu.Lock()
	w.jobs[t] = rec
	w.mu.Unlock()
	log.Info("recording", "into", place.String(), "part", part, "spool", dir)
	out = p.watch(rec.Done(), rec.Stop)
	res, err := rec.Wait()
	w.mu.Lock()
	w.jobs[t] = nil
	w.mu.Unlock()
	if fe := (*sessionstore.FencedError)(nil); errors.As(err, &fe) {
		// The store fenced this part off: a join or recovery of the session took its place (this
		// worker was taken for dead). Nothing more was written there; the spool keeps the part.
		m.Fenced.Inc()
		log.Warn("fenced off by the store: another worker took the part's place; the spool is kept",
			"part", place.String(), "holder", fe.Holder, "key", fe.Key, "spool", dir)
		if out == finished {
			out = superseded
		}
	}
	if out == finished && err != nil && (res == nil || !res.Uploaded) {
		fail(err.Error())
		return
	}
	if err != nil {
		log.Warn("recording ended with an error", "err", err)
	}
	w.end(log, p, out, u, part, true, ro.SignKey)
}

// end tells the queue how the job ended, unless the claim no longer holds it. recorded says this
// claim wrote a part; key signs a joined session.
func (w *Worker) end(log *slog.Logger, p *progress, out outcome, u objstore.URL, part int, recorded bool, key ed25519.PrivateKey) {
	t := p.t
	var err error
	switch out {
	case finished, cancelled:
		if !recorded && t.Times <= 1 { // cancelled before the room was joined: nothing recorded
			err = call(func(ctx context.Context) error { return t.Claim.Fail(ctx, "cancelled before recording") })
			break
		}
		url := Continuation(u, part).String()
		if !recorded { // this claim's part is missing: the session's place names the parts
			url = u.String()
		}
		if t.Times > 1 || part > 1 {
			if w.o.Join == nil {
				log.Info("the session is in parts; not joined", "session", u.String(), "parts_up_to", part)
			} else {
				joined, lost, jerr := w.join(p, u, key)
				if lost != finished { // the claim was lost while joining: the next holder joins
					log.Warn("job no longer held by this worker while joining its parts", "outcome", lost.String())
					switch lost {
					case handedBack:
						w.m.HandedBack.Inc()
						err = call(t.Claim.Release)
					case superseded, fenced:
						w.m.Lost.Inc()
					}
					break
				}
				if jerr != nil {
					w.m.Failed.Inc()
					reason := (&JoinError{Session: u.String(), Part: part, Err: jerr}).Error()
					log.Error("job failed", "reason", reason)
					err = call(func(ctx context.Context) error { return t.Claim.Fail(ctx, reason) })
					break
				}
				url = joined
			}
		}
		if out == finished && !w.enqueueFollowup(log, t, url, w.o.Join != nil || t.Times <= 1 && part <= 1) {
			return
		}
		w.m.Done.Inc()
		log.Info("job done", "session", url, "cancelled", out == cancelled)
		err = call(func(ctx context.Context) error { return t.Claim.Done(ctx, url) })
	case handedBack:
		w.m.HandedBack.Inc()
		log.Info("job handed back", "part", Continuation(u, part).String(), "recorded", recorded)
		err = call(t.Claim.Release)
	case superseded, fenced:
		w.m.Lost.Inc()
		log.Warn("job no longer held by this worker: stopped recording", "part", Continuation(u, part).String(), "fenced", out == fenced)
	}
	if err != nil {
		log.Warn("job end not recorded in the queue", "err", err)
	}
}

// join runs Options.Join while it keeps the claim alive: a join may wait for a dead worker's
// part to go quiet, longer than the queue waits for a word from the claim's holder. If the claim
// is lost meanwhile (superseded, fenced, the worker stopping, cancelled) the join is stopped and
// lost says how; else lost is finished.
func (w *Worker) join(p *progress, u objstore.URL, key ed25519.PrivateKey) (joined string, lost outcome, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.JoinTimeout)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		joined, err = w.o.Join(ctx, u, key)
	}()
	if lost = p.watch(done, cancel); lost != finished {
		<-done
		return "", lost, nil
	}
	return joined, finished, err
}

// String names an outcome, for a log line.
func (o outcome) String() string {
	switch o {
	case finished:
		return "finished"
	case cancelled:
		return "cancelled"
	case superseded:
		return "superseded"
	case fenced:
		return "fenced"
	case handedBack:
		return "handed back"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// progress keeps one claim alive.
type progress struct {
	w      *Worker
	log    *slog.Logger
	t      *Taken
	lastOK time.Time // the start of the last Progress that reached the queue (zero: the take)
}

// watch calls Progress every ProgressEvery until done closes (finished), or the claim no longer
// holds the job, the fence passes or the worker stops: then it calls stop and says why. The fence
// is a timer of its own: a Progress that hangs does not hold it up.
func (p *progress) watch(done <-chan struct{}, stop func()) outcome {
	w := p.w
	if p.lastOK.IsZero() {
		p.lastOK = time.Now()
	}
	tick := time.NewTicker(w.o.ProgressEvery)
	defer tick.Stop()
	fence := time.NewTimer(time.Until(p.lastOK.Add(w.o.Fence)))
	defer fence.Stop()
	type result struct {
		at  time.Time
		err error
	}
	results := make(chan result, 1)
	inFlight := false
	// A Progress that failed is tried again soon rather than on the next tick: a queue back after
	// a short outage (a nats-server restart) hears from the claim as soon as it answers.
	var retry <-chan time.Time
	start := func() {
		if inFlight {
			return
		}
		inFlight, retry = true, nil
		at := time.Now()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), w.o.ProgressEvery)
			defer cancel()
			results <- result{at, p.t.Claim.Progress(ctx)}
		}()
	}
	// settle waits for a Progress under way: the claim takes one call at a time.
	settle := func(o outcome) outcome {
		if inFlight {
			<-results
		}
		return o
	}
	for {
		select {
		case <-done:
			return settle(finished)
		case <-w.stopAll:
			stop()
			return settle(handedBack)
		case <-fence.C:
			p.log.Error("queue unreachable: stopping before another worker takes the job",
				"since", time.Since(p.lastOK).Round(time.Millisecond))
			stop()
			return settle(fenced)
		case r := <-results:
			inFlight = false
			var se *fleet.SupersededError
			switch {
			case r.err == nil:
				p.lastOK = r.at
				fence.Reset(time.Until(r.at.Add(w.o.Fence)))
			case errors.Is(r.err, fleet.ErrCancelled):
				p.log.Info("job cancelled: stopping")
				stop()
				return cancelled
			case errors.As(r.err, &se):
				p.log.Warn("job superseded: stopping", "by", se.By)
				stop()
				return superseded
			default:
				p.log.Warn("progress not recorded", "err", r.err)
				retry = time.After(w.o.ProgressEvery / 4)
			}
		case <-tick.C:
			start()
		case <-retry:
			start()
		}
	}
}

func roomOf(j *fleet.RecordJob) string {
	if j.Room != "" {
		return j.Room
	}
	return j.URL
}

// String names the worker's capacity, for a log line.
func (o Options) String() string {
	if o.MaxSpeakers == 0 {
		return fmt.Sprintf("%d rooms", o.MaxRooms)
	}
	return fmt.Sprintf("%d rooms, %d speakers", o.MaxRooms, o.MaxSpeakers)
}
