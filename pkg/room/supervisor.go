package room

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
)

// Attempt is one connection to the room: joined, subscribed, feeding the sink until the connection
// drops. An adapter makes one at Dial and another after each drop; the Supervisor runs them.
type Attempt interface {
	// Serve feeds the room to sink until ctx ends or the attempt is closed (nil), the room ends
	// (an error wrapping ErrRoomClosed), the connection drops (a *DropError: see Dropped), or a
	// failure that reconnecting cannot mend (any other error, returned by Run as it is).
	Serve(ctx context.Context, sink Sink) error
	// LastHeard is when this connection last heard the room (signalling or media); zero: now.
	LastHeard() time.Time
	// Close ends the attempt, and the sources it handed to the sink. leave: the recording stops
	// (leave the room as a participant does); else the connection dropped or the room ended (free
	// what the server may still hold). Close is safe to call more than once.
	Close(leave bool) error
}

// ConnectFunc makes a new attempt after a drop. The supervisor cuts ctx at the reconnect timeout.
type ConnectFunc func(ctx context.Context) (Attempt, error)

// ConnectWith adapts an adapter's connect, which returns its own attempt type, to a ConnectFunc:
// a failed connect's nil pointer does not become a non-nil Attempt.
func ConnectWith[A Attempt](connect func(context.Context) (A, error)) ConnectFunc {
	return func(ctx context.Context) (Attempt, error) {
		a, err := connect(ctx)
		if err != nil {
			return nil, err
		}
		return a, nil
	}
}

// AwaitDrop is the Serve of an attempt whose own goroutines deliver the room (through
// Supervisor.Deliver): it returns nil when ctx ends or closed is closed, and the first error on
// fail, as it is when it wraps ErrRoomClosed, else as a drop.
func AwaitDrop(ctx context.Context, closed <-chan struct{}, fail <-chan error) error {
	select {
	case <-ctx.Done():
		return nil
	case <-closed:
		return nil
	case err := <-fail:
		if errors.Is(err, ErrRoomClosed) {
			return err
		}
		return Dropped(err)
	}
}

// Backoff between tries to join again: the first try at once, then waits from backoffMin doubling
// to backoffMax, each drawn at random from its upper half ("equal jitter"): recorders that lost
// one server together (a restart) do not come back at it in step, and a wait is never under half
// its step. One cap for every protocol: 5 s, so a room back after a long outage is found within 5 s.
const (
	backoffMin = 250 * time.Millisecond
	backoffMax = 5 * time.Second
)

// DefaultReconnectTimeout is how long the supervisor tries to join again when Options leave it 0.
const DefaultReconnectTimeout = 2 * time.Minute

// GapReconnecting is the cause of the gap the supervisor marks while the room cannot be heard
// (session-format.md: gaps[].cause).
const GapReconnecting = "reconnecting"

// Supervisor runs an adapter's attempts: it is the Run and Close of every adapter's Conn.
//
// Run serves the current attempt. When its connection drops, the supervisor marks a gap (cause
// GapReconnecting) from when the room was last heard, emits "reconnecting" with the cause, and
// tries to join again with backoff; the gap ends and "reconnected" (with the outage's duration)
// is emitted when a new attempt is up. After ReconnectTimeout without one, Run returns a
// *LostError (ErrLost). A room the server no longer has when the recorder comes back (ErrNoRoom,
// or ErrRoomClosed, from the connect) has ended: Run returns ErrRoomClosed. Refused credentials
// (ErrAuth) end Run at once.
//
// An attempt may open the gap before its connection is declared lost (Quiet: nothing heard for a
// while) and close it again if the room is heard (Heard). Deliveries made before Run has a sink
// (Deliver) wait for it.
type Supervisor struct {
	connect ConnectFunc
	room    string
	timeout time.Duration
	events  func(capture.Event)
	clock   clock
	jitter  func(time.Duration) time.Duration

	mu      sync.Mutex
	sink    Sink
	queue   []func(Sink)
	cur     Attempt
	serving bool   // cur is served and not dropped: Quiet and Heard apply to it
	gapEnd  func() // ends the open gap; nil when none is open
	running bool
	closed  bool
	done    chan struct{} // closed by Close
}

// NewSupervisor returns a supervisor that makes attempts with connect. roomName is how its errors
// name the room (a name, an id, a URL without credentials); o gives the reconnect timeout (0:
// DefaultReconnectTimeout) and where events go.
func NewSupervisor(roomName string, connect ConnectFunc, o Options) *Supervisor {
	timeout := o.ReconnectTimeout
	if timeout <= 0 {
		timeout = DefaultReconnectTimeout
	}
	return &Supervisor{
		connect: connect, room: roomName, timeout: timeout, events: o.Events,
		clock: realClock{}, jitter: equalJitter, done: make(chan struct{}),
	}
}

func equalJitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}

// Begin makes a the current attempt: Dial's first one.
func (s *Supervisor) Begin(a Attempt) {
	s.mu.Lock()
	s.cur = a
	s.serving = true
	s.mu.Unlock()
}

// Current is the attempt being served or last served (nil before Begin).
func (s *Supervisor) Current() Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Deliver calls f with the sink, or queues it until Run has one.
func (s *Supervisor) Deliver(f func(Sink)) {
	s.mu.Lock()
	sink := s.sink
	if sink == nil {
		s.queue = append(s.queue, f)
	}
	s.mu.Unlock()
	if sink != nil {
		f(sink)
	}
}

// Quiet opens the gap early: a, the current attempt, has heard nothing of the room since since.
// The connection may come back (Heard) or drop; a gap already open stays as it is.
func (s *Supervisor) Quiet(a Attempt, since time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gapEnd == nil && s.sink != nil && !s.closed && s.serving && s.cur == a {
		s.gapEnd = s.sink.BeginGap(GapReconnecting, since)
	}
}

// Heard closes a gap Quiet opened: a, still the current attempt and not dropped, hears the room
// again. A gap opened by a drop lasts until the supervisor is back.
func (s *Supervisor) Heard(a Attempt) {
	s.mu.Lock()
	var end func()
	if s.serving && s.cur == a {
		end, s.gapEnd = s.gapEnd, nil
	}
	s.mu.Unlock()
	if end != nil {
		end()
	}
}

// Run serves the attempts until ctx ends or Close is called (nil), the room closes
// (ErrRoomClosed), the connection stays lost past the reconnect timeout (*LostError), or a
// failure ends it (as the attempt returned it).
func (s *Supervisor) Run(ctx context.Context, sink Sink) error {
	s.mu.Lock()
	if s.running || s.closed || s.cur == nil {
		s.mu.Unlock()
		return errors.New("room: Run called twice, after Close, or before an attempt began")
	}
	s.running = true
	s.sink = sink
	queue := s.queue
	s.queue = nil
	a := s.cur
	s.mu.Unlock()
	defer s.endGap() // a gap open when the recording stops ends there
	for _, f := range queue {
		f(sink)
	}
	for {
		err := a.Serve(ctx, sink)
		if err == nil || ctx.Err() != nil || s.isClosed() {
			a.Close(true)
			return nil
		}
		s.mu.Lock()
		s.serving = false
		s.mu.Unlock()
		var drop *DropError
		if !errors.As(err, &drop) {
			a.Close(false)
			return err
		}
		// The loss is marked and told first: freeing the old connection on the server may wait
		// seconds on a dead network.
		start := s.clock.Now()
		s.beginGap(a.LastHeard())
		s.event(capture.Event{Type: capture.EventReconnecting, Cause: err.Error()})
		a.Close(false)
		if a, err = s.reconnect(ctx, start, err); err != nil || a == nil {
			return err
		}
	}
}

// reconnect joins again with backoff after cause; it returns a nil attempt when ctx ended or Close
// was called. The gap ends when it returns. Each try is cut off at the reconnect timeout, so
// giving up comes on time even while a try hangs on a dead network.
func (s *Supervisor) reconnect(ctx context.Context, start time.Time, cause error) (Attempt, error) {
	defer s.endGap()
	deadline := start.Add(s.timeout)
	step := backoffMin
	var last error
	for {
		left := deadline.Sub(s.clock.Now())
		if left <= 0 {
			return nil, &LostError{Room: s.room, Timeout: s.timeout, Cause: cause, Last: last}
		}
		actx, cancel := context.WithTimeout(ctx, left)
		a, err := s.connect(actx)
		cancel()
		if err == nil {
			s.mu.Lock()
			closed := s.closed
			if !closed {
				s.cur, s.serving = a, true
			}
			s.mu.Unlock()
			if closed {
				a.Close(true)
				return nil, nil
			}
			s.event(capture.Event{Type: capture.EventReconnected, Duration: s.clock.Now().Sub(start).Seconds()})
			return a, nil
		}
		if ctx.Err() != nil || s.isClosed() {
			return nil, nil
		}
		switch {
		case errors.Is(err, ErrAuth):
			return nil, fmt.Errorf("room: %s: reconnecting: %w", s.room, err)
		case errors.Is(err, ErrNoRoom), errors.Is(err, ErrRoomClosed):
			// A room deleted while the recorder was away has ended.
			return nil, fmt.Errorf("room: %s: %w: gone when the recorder came back (%v)", s.room, ErrRoomClosed, err)
		}
		if !errors.Is(err, context.DeadlineExceeded) || last == nil {
			last = err // a try cut off at the deadline says less than the one before it
		}
		wait := s.jitter(step)
		var ra interface{ RetryAfter() time.Duration }
		if errors.As(err, &ra) && ra.RetryAfter() > wait {
			wait = ra.RetryAfter()
		}
		if left = deadline.Sub(s.clock.Now()); left <= 0 {
			continue // gives up above
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-s.done:
			return nil, nil
		case <-s.clock.After(min(wait, left)):
		}
		step = min(2*step, backoffMax)
	}
}

// Close ends the recording: the current attempt leaves the room and Run returns. It is safe to
// call more than once.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	a := s.cur
	s.mu.Unlock()
	if a != nil {
		return a.Close(true)
	}
	return nil
}

func (s *Supervisor) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// beginGap opens the gap unless one is open: the recorder has heard nothing of the room since
// since.
func (s *Supervisor) beginGap(since time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gapEnd == nil && s.sink != nil {
		s.gapEnd = s.sink.BeginGap(GapReconnecting, since)
	}
}

func (s *Supervisor) endGap() {
	s.mu.Lock()
	end := s.gapEnd
	s.gapEnd = nil
	s.mu.Unlock()
	if end != nil {
		end()
	}
}

func (s *Supervisor) event(e capture.Event) {
	if s.events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	s.events(e)
}

// clock is the supervisor's time: real, or a test's.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
