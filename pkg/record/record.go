package record

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/record/control"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/protocols"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// Options configure one recording.
type Options struct {
	// URL is the room's address; Protocol its protocol, or "" to take it from the URL
	// (protocols.Detect).
	URL      string
	Protocol protocols.Protocol
	// Dial is what the protocol's adapter takes (protocols.DialOptions): the room, credentials,
	// the network, and in its room.Options the recorder's identity, how long to wait for the
	// room and the reconnect timeout. Its Events are the recording's: they reach Observer.
	Dial protocols.DialOptions
	// Dialer joins the room; default protocols.Dial.
	Dialer func(ctx context.Context, proto protocols.Protocol, rawURL string, o protocols.DialOptions) (room.Conn, error)

	// Dir is the session folder to create: it must not exist or be empty.
	Dir string
	// RoomName is the room's name in the manifest (default Dial.Room).
	RoomName string
	// Retain sets the session's delete-after date to its start plus Retain (0: none).
	Retain time.Duration
	// Consent says whom to record (capture.Options.Consent).
	Consent session.Consent
	// Participants are people known to be in the room before it says so (a room the caller runs).
	Participants []capture.Participant

	// Duration stops the recording after this long (0: no limit).
	Duration time.Duration
	// StopWhenEmpty stops it when no speaker has been on for this long (0: never).
	StopWhenEmpty time.Duration
	// SignKey signs the manifest when the session is sealed (nil: sealed unsigned).
	SignKey ed25519.PrivateKey
	// Announce tells the room when recording starts, pauses, resumes and stops, where the
	// protocol carries messages.
	Announce bool
	// Control opens the control socket (package control) while the recording runs.
	Control bool
	// Observer receives the recording's events (may be nil).
	Observer Observer
	// Upload, when set, sends the session to a bucket as it is recorded; Dir is then the local
	// spool, which holds what is not sent yet and is removed once the finished session is up.
	Upload *Upload
}

// Upload says where in a bucket a recording goes, and how (sessionstore.Mirror): the recording's
// new bytes go up in pieces every Interval while it runs, and the finished session, as
// sessionstore.Push leaves it, when it ends.
type Upload struct {
	Store sessionstore.LiveStore
	URL   objstore.URL
	// Interval between two rounds of pieces (default sessionstore.DefaultInterval).
	Interval time.Duration
	// FinishTimeout bounds the upload of the finished session when the recording stops, retries
	// included (default DefaultFinishTimeout): past it, the recording ends with an *UploadError
	// and the spool stays.
	FinishTimeout time.Duration
	// KeepSpool keeps Dir once the session is in the bucket.
	KeepSpool bool
}

// DefaultFinishTimeout is how long a recording waits for a store that is down when it stops.
const DefaultFinishTimeout = 2 * time.Minute

// Announcements: what the room is told.
const (
	textStarted = "⏺ recording started by spacecast"
	textOptIn   = " (opt-in: only those who set spacecast.consent=yes are recorded)"
	textPaused  = "⏸ recording paused"
	textResumed = "⏺ recording resumed"
	textStopped = "⏹ recording stopped"
)

// How long announcements may take: the one at the end holds up finalizing.
const (
	announceTimeout     = 5 * time.Second
	announceStopTimeout = 2 * time.Second
)

// emptyCheck is how often the number of speakers is looked at for StopWhenEmpty.
const emptyCheck = 250 * time.Millisecond

// Recording is one recording running: from a joined room to a sealed session.
type Recording struct {
	opts  Options
	proto protocols.Protocol
	conn  room.Conn
	rec   *capture.Recorder
	ctl   *control.Server
	// mirror sends the spool to the bucket (Options.Upload).
	mirror *sessionstore.Mirror

	evmu sync.Mutex // serialises Observer

	mu       sync.Mutex // guards stopping and queue; held across Pause and Resume
	stopping bool
	queue    []announcement // what the room is to be told, in order
	kick     chan struct{}  // something was queued

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	// tell is the context of pause and resume announcements: it ends when the recording stops.
	tell       context.Context
	cancelTell context.CancelFunc
	telling    sync.WaitGroup

	res *Result
	err error
}

// Result is what a finished recording did.
type Result struct {
	Dir      string
	ID       string // the session's id
	Protocol protocols.Protocol
	Reason   StopReason
	// Stats is the last view of the recording: how long it ran, its tracks and bytes.
	Stats capture.Stats
	// Seen are the identities seen in the room, recorded or not.
	Seen []string
	// Sealed says the session is finalized and sealed.
	Sealed bool
	// Uploaded says the finished session is in the bucket (Options.Upload) at URL.
	Uploaded bool
	URL      string
}

// PerSpeaker reports whether consent decides per person (opt-in, or anyone excluded): a room whose
// server mixes every speaker into one track cannot honour it.
func PerSpeaker(c session.Consent) bool {
	return c.Policy == capture.PolicyOptIn || len(c.Exclude) > 0
}

// Start joins the room, creates the session folder and starts recording; the recording runs until
// a stop condition, Stop, or the end of ctx (StopInterrupted). Wait returns its result.
func Start(ctx context.Context, o Options) (*Recording, error) {
	proto, err := protocols.Detect(o.URL, string(o.Protocol))
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	r := &Recording{opts: o, proto: proto, stop: make(chan struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1)}
	if u := o.Upload; u != nil {
		// Before the room is joined: a place taken is refused with nothing written anywhere.
		if err := sessionstore.CheckFree(ctx, u.Store, u.URL); err != nil {
			return nil, err
		}
	}
	do := o.Dial
	do.Events = r.captureEvent
	dial := o.Dialer
	if dial == nil {
		dial = protocols.Dial
	}
	conn, err := dial(ctx, proto, o.URL, do)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, &JoinError{Protocol: proto, Err: err}
	}
	r.conn = conn
	if PerSpeaker(o.Consent) && room.ServerMixes(conn) {
		return nil, errors.Join(&ServerMixesError{Policy: o.Consent.Policy, Exclude: o.Consent.Exclude}, conn.Close())
	}
	name := o.RoomName
	if name == "" {
		name = o.Dial.Room
	}
	r.rec, err = capture.Create(capture.Options{
		Dir:     o.Dir,
		Retain:  o.Retain,
		Room:    session.Room{Name: name, Protocol: string(proto), URL: session.RedactURL(o.URL)},
		OnEvent: r.captureEvent,
		Consent: o.Consent,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("record: %w", err), conn.Close())
	}
	if u := o.Upload; u != nil {
		r.mirror = sessionstore.StartMirror(u.Store, o.Dir, u.URL, sessionstore.MirrorOptions{Interval: u.Interval, OnStatus: r.uploadStatus})
	}
	r.tell, r.cancelTell = context.WithCancel(context.WithoutCancel(ctx))
	r.emit(Event{Kind: KindJoined, Dir: o.Dir})
	for _, p := range o.Participants {
		r.rec.Join(p)
	}
	if o.Control {
		if r.ctl, err = control.Listen(o.Dir, r.rec.ID(), r.handle); err != nil {
			r.emit(Event{Kind: KindWarning, Err: err})
		}
	}
	go r.run(ctx)
	return r, nil
}

// Dir is the session folder.
func (r *Recording) Dir() string { return r.opts.Dir }

// ID is the session's id.
func (r *Recording) ID() string { return r.rec.ID() }

// Protocol is the room's protocol.
func (r *Recording) Protocol() protocols.Protocol { return r.proto }

// Stats is a live view of the recording, for a status line.
func (r *Recording) Stats() capture.Stats { return r.rec.Stats() }

// Paused says whether the recording is paused.
func (r *Recording) Paused() bool { return r.rec.Paused() }

// Done is closed when the recording has finished: Wait returns at once.
func (r *Recording) Done() <-chan struct{} { return r.done }

// Stop ends the recording (StopRequested), unless it is ending already. It does not wait: Wait does.
func (r *Recording) Stop() {
	r.stopOnce.Do(func() { close(r.stop) })
}

// Wait waits for the recording to finish and returns what it did. The error is a
// *FinalizeError or *SealError when the session could not be finished, a *LostError when the room
// was lost; the Result is there in every case.
func (r *Recording) Wait() (*Result, error) {
	<-r.done
	return r.res, r.err
}

// Pause takes the recording off the record until Resume: nobody's audio is kept, and the session
// shows a "paused" gap. It reports false when the recording was paused already, and
// ErrStopping once the recording stops.
func (r *Recording) Pause(reason string) (bool, error) {
	return r.pauseResume(true, reason)
}

// Resume ends a Pause. It reports false when the recording was not paused.
func (r *Recording) Resume(reason string) (bool, error) {
	return r.pauseResume(false, reason)
}

func (r *Recording) pauseResume(pause bool, reason string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return false, ErrStopping
	}
	var changed bool
	what, text := AnnounceResumed, textResumed
	if pause {
		changed, what, text = r.rec.Pause(reason), AnnouncePaused, textPaused
	} else {
		changed = r.rec.Resume(reason)
	}
	if changed && r.opts.Announce {
		r.queue = append(r.queue, announcement{what, text})
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	return changed, nil
}

type announcement struct {
	what Announcement
	text string
}

// tellRoom tells the room the queued announcements, one after the other, until the recording stops.
func (r *Recording) tellRoom() {
	defer r.telling.Done()
	for {
		select {
		case <-r.tell.Done():
			return
		case <-r.kick:
		}
		for {
			r.mu.Lock()
			if len(r.queue) == 0 {
				r.mu.Unlock()
				break
			}
			a := r.queue[0]
			r.queue = r.queue[1:]
			r.mu.Unlock()
			ctx, cancel := context.WithTimeout(r.tell, announceTimeout)
			r.announce(ctx, a.what, a.text)
			cancel()
		}
	}
}

// handle answers the control socket.
func (r *Recording) handle(op control.Op, reason string) control.Reply {
	changed, err := r.pauseResume(op == control.Pause, reason)
	if err != nil {
		return control.Reply{Message: "the recorder is busy stopping"}
	}
	paused := r.rec.Paused()
	if !changed {
		return control.Reply{Paused: paused, Message: map[bool]string{true: "already paused", false: "not paused"}[paused]}
	}
	return control.Reply{OK: true, Paused: paused, Message: map[bool]string{true: "recording paused", false: "recording resumed"}[paused]}
}

// announce tells the room text; a failure is a warning, unless ctx ended first.
func (r *Recording) announce(ctx context.Context, what Announcement, text string) {
	err := r.conn.Announce(ctx, text)
	switch {
	case err == nil:
		r.emit(Event{Kind: KindAnnounced, Text: text})
	case errors.Is(err, room.ErrNoMessages), ctx.Err() != nil, what == AnnounceStopped:
	default:
		name := r.opts.Dial.Identity.Name
		if name == "" {
			name = room.DefaultIdentity.Name
		}
		r.emit(Event{Kind: KindWarning, Err: &AnnounceError{What: what, Text: text, Name: name, Err: err}})
	}
}

// run records until a stop condition, then finalizes and seals the session.
func (r *Recording) run(ctx context.Context) {
	defer close(r.done)
	o := r.opts
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- r.conn.Run(runCtx, r.rec) }()
	// Announce once tracks are being read: the data channel may take seconds to open, and tracks
	// left unread meanwhile would arrive in one burst.
	if o.Announce {
		text := textStarted
		if o.Consent.Policy == capture.PolicyOptIn {
			text += textOptIn
		}
		r.announce(ctx, AnnounceStarted, text)
		r.telling.Add(1)
		go r.tellRoom() // pauses and resumes, after the start
	}
	reason, failure := r.wait(ctx, &runErr)

	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
	r.emit(Event{Kind: KindStopping, Reason: reason})
	if r.ctl != nil {
		_ = r.ctl.Close() // it removes what it can; nothing to report
	}
	r.cancelTell()
	r.telling.Wait()
	if o.Announce && runErr != nil { // the room is still there to hear it
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), announceStopTimeout)
		r.announce(actx, AnnounceStopped, textStopped)
		cancel()
	}
	stopRun()
	if runErr != nil {
		<-runErr
	}
	_ = r.conn.Close() // leaving the room fails only where the room is gone already
	closeErr := r.rec.Close()
	st := r.rec.Stats()
	r.res = &Result{Dir: o.Dir, ID: r.rec.ID(), Protocol: r.proto, Reason: reason, Stats: st, Seen: r.rec.Seen()}
	switch {
	case closeErr != nil:
		r.err = &FinalizeError{Dir: o.Dir, Elapsed: st.Elapsed, Err: closeErr}
	default:
		if err := session.Seal(o.Dir, o.SignKey); err != nil {
			r.err = &SealError{Dir: o.Dir, Elapsed: st.Elapsed, Err: err}
			break
		}
		r.res.Sealed = true
		r.emit(Event{Kind: KindSealed, Dir: o.Dir})
		if failure != nil {
			r.err = &LostError{Dir: o.Dir, Protocol: r.proto, Err: failure}
		}
	}
	if r.mirror != nil {
		r.finishUpload(ctx)
	}
}

// uploadStatus passes the mirror's news on as events.
func (r *Recording) uploadStatus(s sessionstore.MirrorStatus) {
	info := UploadInfo{URL: r.opts.Upload.URL.String(), Pending: s.Pending, At: r.rec.Stats().Elapsed}
	if s.Behind {
		r.emit(Event{Kind: KindUploadBehind, Err: s.Err, Upload: info})
		return
	}
	info.Behind = time.Since(s.Since)
	r.emit(Event{Kind: KindUploadCaughtUp, Upload: info})
}

// finishUpload uploads the finished session and removes the spool; a session that could not be
// finished has what the spool holds sent in pieces, for sessionstore.RecoverLive. The upload
// outlasts an interruption (it ends the recording, not the upload) up to the FinishTimeout.
func (r *Recording) finishUpload(ctx context.Context) {
	u, dir := r.opts.Upload, r.opts.Dir
	url := u.URL.String()
	r.res.URL = url
	timeout := u.FinishTimeout
	if timeout <= 0 {
		timeout = DefaultFinishTimeout
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if !r.res.Sealed {
		r.mirror.Stop()
		r.err = &UploadError{Dir: dir, URL: url, Err: errors.Join(r.err, r.mirror.Flush(fctx))}
		return
	}
	at := r.res.Stats.Elapsed
	rep, err := r.mirror.Finish(fctx, sessionstore.Options{OnFile: func(n, of int, rel string, bytes int64) {
		r.emit(Event{Kind: KindUploading, Upload: UploadInfo{URL: url, At: at, N: n, Of: of, File: rel, Bytes: bytes}})
	}})
	if rep == nil {
		r.err = errors.Join(&UploadError{Dir: dir, URL: url, Finished: true, Err: err}, r.err)
		return
	}
	if err != nil { // the session is up; only pieces are left over
		r.emit(Event{Kind: KindWarning, Err: fmt.Errorf("record: the session is up at %s, but deleting its pieces under %s/: %w", url, sessionstore.LiveDir, err)})
	}
	r.res.Uploaded = true
	r.emit(Event{Kind: KindUploaded, Upload: UploadInfo{URL: url, At: at, Files: rep.Files, Bytes: rep.Bytes}})
	if !u.KeepSpool {
		if err := os.RemoveAll(dir); err != nil {
			r.emit(Event{Kind: KindWarning, Err: fmt.Errorf("record: remove the spool: %w", err)})
		}
	}
}

// Upload is how far the bucket is behind the recording (Options.Upload); ok is false without one.
func (r *Recording) Upload() (s sessionstore.MirrorStatus, ok bool) {
	if r.mirror == nil {
		return s, false
	}
	return r.mirror.Status(), true
}

// wait waits for a stop condition. It sets *runErr to nil when the room's Run has returned.
func (r *Recording) wait(ctx context.Context, runErr *chan error) (StopReason, error) {
	o := r.opts
	var durC <-chan time.Time
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		durC = t.C
	}
	var tickC <-chan time.Time
	if o.StopWhenEmpty > 0 {
		tick := time.NewTicker(emptyCheck)
		defer tick.Stop()
		tickC = tick.C
	}
	emptySince := time.Now()
	for {
		select {
		case <-ctx.Done():
			return StopInterrupted, nil
		case <-r.stop:
			return StopRequested, nil
		case <-durC:
			return StopDuration, nil
		case <-r.rec.Failed():
			return StopFailed, nil
		case err := <-*runErr:
			*runErr = nil
			if err == nil || errors.Is(err, room.ErrRoomClosed) {
				return StopRoomClosed, nil
			}
			return StopLost, err
		case now := <-tickC:
			if r.rec.Speakers() > 0 {
				emptySince = now
			} else if now.Sub(emptySince) >= o.StopWhenEmpty {
				return StopEmpty, nil
			}
		}
	}
}

// captureEvent passes an event of the recorder or the room on to the Observer.
func (r *Recording) captureEvent(e capture.Event) {
	r.emit(Event{Kind: KindCapture, Time: e.Time, Capture: e})
}

func (r *Recording) emit(e Event) {
	if r.opts.Observer == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.evmu.Lock()
	defer r.evmu.Unlock()
	r.opts.Observer.Event(e)
}
