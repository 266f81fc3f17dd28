package capture

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spacecast/spacecast/pkg/session"
)

// Options configures a Recorder.
type Options struct {
	// Dir is the session folder to create. It must not exist or be empty.
	Dir string
	// Retain sets the manifest's delete_after to the start plus Retain (0: no date).
	Retain time.Duration
	Room   session.Room
	// Latency is how long the jitter buffer waits for a missing packet (reordered or being
	// retransmitted after a NACK) before giving it up. Default 200 ms.
	Latency time.Duration
	// MixDelay is how far behind real time the live mix runs. Default Latency + 300 ms.
	MixDelay time.Duration
	// SyncInterval is how often track files are flushed and synced and the manifest rewritten.
	// Default 1 s: a crash loses at most this plus one packet of any track.
	SyncInterval time.Duration
	// OnEvent receives events (joined speakers, gaps, …), one at a time, from the recorder's goroutines.
	OnEvent func(Event)
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Consent says whom to record: Policy "announced" (the default) or "assume" records everyone
	// but Exclude; "opt-in" records only Allow and those who signal consent (SetConsent), from
	// that moment until they withdraw it. Events is ignored: the recorder keeps the ledger.
	Consent session.Consent

	// manual leaves pumping to the caller (benchmarks drive a simulated clock).
	manual bool
}

// Recorder writes a session folder as a room runs: one Ogg Opus file per speaker with the packets
// as received, a live mix, and the manifest, rewritten atomically every SyncInterval. Adapters call
// Join, Leave, AddTrack and BeginGap; Close finalizes the session.
//
// It is the composition of the parts doc.go describes (ingest, roster, consent gate, live mix,
// session writer), and holds the locks that make them work together.
type Recorder struct {
	opts  Options
	dir   string
	now   func() time.Time
	clock sessionClock

	// mu serialises the adapters' and the operator's calls and the manifest's save, so that every
	// manifest written is a state those calls left whole; it guards the fields below.
	mu     sync.Mutex
	closed bool
	roster roster
	gate   *gate
	w      *sessionWriter
	tracks []*track

	evmu sync.Mutex // serialises OnEvent

	mix *mixer // the timer loop's (and Close's, once the loop stopped)

	stop    chan struct{}
	done    chan struct{}
	failed  chan struct{}
	errOnce sync.Once
	err     error
	bad     atomic.Bool    // err is set
	wg      sync.WaitGroup // readers
}

// Create makes the session folder and starts the recorder's clock: session tick 0 is now.
func Create(opts Options) (*Recorder, error) {
	if opts.Latency <= 0 {
		opts.Latency = 200 * time.Millisecond
	}
	if opts.MixDelay <= 0 {
		opts.MixDelay = opts.Latency + 300*time.Millisecond
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Recorder{
		opts:   opts,
		dir:    opts.Dir,
		now:    opts.Now,
		roster: newRoster(),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		failed: make(chan struct{}),
	}
	r.clock.start = r.now()
	room := opts.Room
	room.URL = session.RedactURL(room.URL) // the manifest keeps no credentials, whoever calls
	man := &session.Manifest{
		Format:    session.FormatName,
		Version:   session.Version,
		ID:        newID(),
		Room:      room,
		StartedAt: r.clock.start.UTC().Truncate(time.Millisecond),
		ClockRate: session.ClockRate,
		Mix:       &session.MixFile{File: "mix.opus", Channels: 1},
	}
	if opts.Retain > 0 {
		man.DeleteAfter = man.StartedAt.Add(opts.Retain)
	}
	var err error
	if r.w, err = newSessionWriter(opts.Dir, man, opts.SyncInterval); err != nil {
		return nil, err
	}
	if r.gate, err = newGate(opts.Consent); err != nil {
		return nil, err
	}
	man.Consent = &session.Consent{Policy: r.gate.policy, Allow: opts.Consent.Allow, Exclude: opts.Consent.Exclude,
		Events: r.gate.ledger}
	if r.mix, err = openMix(r.dir, man.Mix.File); err != nil {
		return nil, err
	}
	if err := r.saveLocked(); err != nil {
		r.mix.file.Close()
		return nil, err
	}
	if opts.manual {
		close(r.done)
	} else {
		go r.loop()
	}
	return r, nil
}

// Dir is the session folder.
func (r *Recorder) Dir() string { return r.dir }

// Start is the wall-clock time of session tick 0.
func (r *Recorder) Start() time.Time { return r.clock.start }

// ID is the session's unique id (Manifest.ID).
func (r *Recorder) ID() string { return r.w.man.ID }

// Failed is closed when the recorder hit an error it cannot record through (the disk filled):
// call Close, which reports the error, and stop.
func (r *Recorder) Failed() <-chan struct{} { return r.failed }

func (r *Recorder) fail(err error) {
	r.errOnce.Do(func() {
		r.err = err
		r.bad.Store(true)
		close(r.failed)
		r.emit(Event{Type: EventError, Message: err.Error()})
	})
}

// ticks is the session tick of wall-clock time t.
func (r *Recorder) ticks(t time.Time) int64 { return r.clock.ticks(t) }

// stamp is now, for the consent ledger.
func (r *Recorder) stamp() stamp {
	now := r.now()
	return stamp{t: now, ticks: r.ticks(now)}
}

// emit hands e to OnEvent. Never called with r.mu held: an observer may call the recorder.
func (r *Recorder) emit(e Event) {
	if r.opts.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	e.At = session.Duration(r.ticks(e.Time)).Seconds()
	r.evmu.Lock()
	defer r.evmu.Unlock()
	r.opts.OnEvent(e)
}

func (r *Recorder) emitAll(evs []Event) {
	for _, e := range evs {
		r.emit(e)
	}
}

// Join records that a participant is in the room (again).
func (r *Recorder) Join(p Participant) {
	r.mu.Lock()
	joined := r.joinLocked(p)
	pending := r.gate.takeEvents()
	r.mu.Unlock()
	if joined {
		r.emit(Event{Type: EventParticipantJoined, Identity: p.Identity, Name: p.Name})
	}
	r.emitAll(pending)
}

// joinLocked puts p in the roster, and in the consent ledger at their first appearance.
func (r *Recorder) joinLocked(p Participant) bool {
	if r.roster.add(p) {
		r.gate.firstSeen(r.stamp(), p.Identity)
	}
	return r.roster.enter(p.Identity, r.ticks(r.now()))
}

// Leave records that a participant left the room.
func (r *Recorder) Leave(identity string) {
	r.mu.Lock()
	left := r.roster.leave(identity, r.ticks(r.now()))
	r.mu.Unlock()
	if left {
		r.emit(Event{Type: EventParticipantLeft, Identity: identity})
	}
}

// Seen lists the identities that appeared in the room so far (joined or spoke), in order.
func (r *Recorder) Seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.roster.seen()
}

// BeginGap marks the start of a stretch where the recorder itself hears nothing (reconnecting,
// paused); calling the returned function ends it and records it in the manifest. The gap starts
// at since when that is earlier (the adapter noticed a dead network only after it went quiet), and
// never before the session.
func (r *Recorder) BeginGap(cause string, since time.Time) (end func()) {
	start := r.now()
	if !since.IsZero() && since.Before(start) {
		start = since
	}
	if start.Before(r.clock.start) {
		start = r.clock.start
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			g := session.Gap{StartTicks: r.ticks(start), DurationTicks: r.ticks(r.now()) - r.ticks(start), Cause: cause}
			r.mu.Lock()
			r.w.addGap(g)
			r.mu.Unlock()
			r.emit(Event{Type: EventGap, Time: start, Cause: cause, Duration: session.Duration(g.DurationTicks).Seconds()})
		})
	}
}

// Close stops recording: what the jitter buffers hold is written, every file is closed, the mix
// ends where the last speaker ended, and the manifest is saved finalized. Adapters must have
// stopped delivering (their sources return errors) first. It returns the error that made the
// recorder fail, if one did.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.err
	}
	r.closed = true
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	r.pump(r.now(), true)
	r.endPause()

	var errs []error
	if r.err != nil {
		errs = append(errs, r.err)
	}
	end := r.mix.pos
	for _, t := range r.snapshot() {
		t.mu.Lock()
		if t.file != nil {
			end = max(end, t.file.lastEnd)
		}
		t.mu.Unlock()
	}
	end = max(end, r.ticks(r.now())-session.Ticks(r.opts.MixDelay))
	if !r.bad.Load() {
		if err := r.mix.mixUntil((end+mixFrame-1)/mixFrame*mixFrame, r.rings()); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, r.mix.close())
	failed, err := r.finish(errs)
	if failed != nil {
		// The manifest of the last sync stays: it matches what is on disk (`spacecast recover`
		// finishes the job once there is room).
		r.emit(Event{Type: EventStopped, Message: failed.Error()})
		return failed
	}
	if err != nil {
		return err
	}
	r.emit(Event{Type: EventStopped})
	return nil
}

// finish closes the track files and ends everyone's presence; then, when nothing failed (errs
// holds no error), it saves the manifest finalized (saveErr).
func (r *Recorder) finish(errs []error) (failed, saveErr error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tracks {
		t.mu.Lock()
		if t.file != nil {
			errs = append(errs, t.file.close())
		}
		t.mu.Unlock()
	}
	r.roster.leaveAll(r.ticks(r.now()))
	if err := errors.Join(errs...); err != nil {
		return err, nil
	}
	r.w.man.Finalized = true
	r.w.man.EndedAt = r.now().UTC().Truncate(time.Millisecond)
	return nil, r.saveLocked()
}
