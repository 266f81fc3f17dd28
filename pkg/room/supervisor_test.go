package room

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
)

// fakeClock is scene time: Now stands still until the supervisor waits, and a wait passes at once
// (unless block says otherwise), moving Now on by its length.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
	block func() bool // true: this wait never ends (the test cancels or closes instead)
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	block := c.block
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if block != nil && block() {
		return ch
	}
	c.advance(d)
	ch <- c.Now()
	return ch
}

// fakeAttempt serves until its script says the connection drops (or the room ends, or it fails);
// with serve nil it serves until ctx ends or it is closed.
type fakeAttempt struct {
	name      string
	serve     error
	lastHeard time.Time

	mu     sync.Mutex
	closed []bool // the leave argument of each Close
	done   chan struct{}
}

func newAttempt(name string, serve error, lastHeard time.Time) *fakeAttempt {
	return &fakeAttempt{name: name, serve: serve, lastHeard: lastHeard, done: make(chan struct{})}
}

func (a *fakeAttempt) Serve(ctx context.Context, sink Sink) error {
	if a.serve != nil {
		return a.serve
	}
	select {
	case <-ctx.Done():
	case <-a.done:
	}
	return nil
}

func (a *fakeAttempt) LastHeard() time.Time { return a.lastHeard }

func (a *fakeAttempt) Close(leave bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.closed) == 0 {
		close(a.done)
	}
	a.closed = append(a.closed, leave)
	return nil
}

// gapSink notes the gaps begun and ended, on the fake clock.
type gapSink struct {
	clock *fakeClock
	mu    sync.Mutex
	gaps  []gap
}

type gap struct {
	cause      string
	since, end time.Time
}

func (s *gapSink) Join(capture.Participant)        {}
func (s *gapSink) Leave(string)                    {}
func (s *gapSink) AddTrack(capture.Source) error   { return nil }
func (s *gapSink) SetConsent(string, bool, string) {}
func (s *gapSink) BeginGap(cause string, since time.Time) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if since.IsZero() {
		since = s.clock.Now()
	}
	i := len(s.gaps)
	s.gaps = append(s.gaps, gap{cause: cause, since: since})
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.gaps[i].end = s.clock.Now()
	}
}

// try is one scripted connect: it takes took of scene time and returns err, or a new attempt
// serving serve.
type try struct {
	took  time.Duration
	err   error
	serve error
}

type retryAfterErr struct{ after time.Duration }

func (e retryAfterErr) Error() string             { return fmt.Sprintf("%v: busy", ErrUnreachable) }
func (e retryAfterErr) Unwrap() error             { return ErrUnreachable }
func (e retryAfterErr) RetryAfter() time.Duration { return e.after }

var t0 = time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)

func TestSupervisor(t *testing.T) {
	unreachable := fmt.Errorf("%w: 10.0.0.1:7880: connection refused", ErrUnreachable)
	drop := Dropped(errors.New("the media connection failed"))
	fatal := errors.New("the disk is full")
	for _, c := range []struct {
		name    string
		serve   error // what the first attempt's Serve returns
		heard   time.Duration
		timeout time.Duration
		tries   []try
		want    error // errors.Is; nil: Run returns nil
		events  []capture.Event
		gaps    []gap // relative to t0
		waits   []time.Duration
	}{
		{
			name:  "a drop, two refused tries, back on the third: one gap from the last packet to the rejoin, reconnected after the outage",
			serve: drop, heard: -2 * time.Second, timeout: time.Minute,
			tries:  []try{{took: 100 * time.Millisecond, err: unreachable}, {took: 100 * time.Millisecond, err: unreachable}, {took: 300 * time.Millisecond}},
			events: []capture.Event{{Type: "reconnecting", Cause: "the media connection failed"}, {Type: "reconnected", Duration: 1.25}},
			gaps:   []gap{{GapReconnecting, t0.Add(-2 * time.Second), t0.Add(1250 * time.Millisecond)}},
			waits:  []time.Duration{250 * time.Millisecond, 500 * time.Millisecond},
		},
		{
			name:  "never back: the backoff doubles to its 5 s cap and Run gives up at the timeout with the last try's error",
			serve: drop, timeout: 20 * time.Second,
			tries:  repeat(try{err: unreachable}, 20),
			want:   ErrLost,
			events: []capture.Event{{Type: "reconnecting", Cause: "the media connection failed"}},
			gaps:   []gap{{GapReconnecting, t0, t0.Add(20 * time.Second)}},
			waits:  []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 2250 * time.Millisecond},
		},
		{
			name:  "a try hanging past the timeout is cut there: Run gives up on time",
			serve: drop, timeout: 3 * time.Second,
			tries:  []try{{took: 3 * time.Second, err: context.DeadlineExceeded}},
			want:   ErrLost,
			events: []capture.Event{{Type: "reconnecting", Cause: "the media connection failed"}},
			gaps:   []gap{{GapReconnecting, t0, t0.Add(3 * time.Second)}},
		},
		{
			name:  "the room gone when the recorder comes back (404, no such room) has closed",
			serve: drop, timeout: time.Minute,
			tries:  []try{{err: unreachable}, {err: fmt.Errorf("%w (HTTP 404)", ErrNoRoom)}},
			want:   ErrRoomClosed,
			events: []capture.Event{{Type: "reconnecting", Cause: "the media connection failed"}},
			gaps:   []gap{{GapReconnecting, t0, t0.Add(250 * time.Millisecond)}},
			waits:  []time.Duration{250 * time.Millisecond},
		},
		{
			name:  "refused credentials on a reconnect end Run at once",
			serve: drop, timeout: time.Minute,
			tries:  []try{{err: fmt.Errorf("%w (HTTP 401)", ErrAuth)}},
			want:   ErrAuth,
			events: []capture.Event{{Type: "reconnecting", Cause: "the media connection failed"}},
			gaps:   []gap{{GapReconnecting, t0, t0}},
		},
		{
			name:  "a server that asks to be retried later is waited for longer than the backoff",
			serve: drop, timeout: time.Minute,
			tries:  []try{{err: retryAfterErr{3 * time.Second}}, {}},
			events: []capture.Event{{Type: "reconnecting", Cause: "the media connection failed"}, {Type: "reconnected", Duration: 3}},
			gaps:   []gap{{GapReconnecting, t0, t0.Add(3 * time.Second)}},
			waits:  []time.Duration{3 * time.Second},
		},
		{
			name:  "a room that ends while served ends Run with ErrRoomClosed: no gap, no reconnect",
			serve: fmt.Errorf("%w (ROOM_DELETED)", ErrRoomClosed), timeout: time.Minute,
			want: ErrRoomClosed,
		},
		{
			name:  "a failure that reconnecting cannot mend is returned as it is",
			serve: fatal, timeout: time.Minute,
			want: fatal,
		},
		{
			name:  "two drops: two gaps, two reconnected events",
			serve: drop, timeout: time.Minute,
			tries: []try{{took: time.Second, serve: Dropped(errors.New("signalling closed"))}, {took: 2 * time.Second}},
			events: []capture.Event{{Type: "reconnecting", Cause: "the media connection failed"}, {Type: "reconnected", Duration: 1},
				{Type: "reconnecting", Cause: "signalling closed"}, {Type: "reconnected", Duration: 2}},
			gaps: []gap{{GapReconnecting, t0, t0.Add(time.Second)}, {GapReconnecting, t0.Add(time.Second), t0.Add(3 * time.Second)}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := &fakeClock{now: t0}
			sink := &gapSink{clock: clk}
			var events []capture.Event
			var attempts []*fakeAttempt
			n := 0
			s := NewSupervisor("room 1", func(ctx context.Context) (Attempt, error) {
				if n >= len(c.tries) {
					t.Fatalf("try %d: the script has only %d", n+1, len(c.tries))
				}
				tr := c.tries[n]
				n++
				clk.advance(tr.took)
				if tr.err != nil {
					return nil, tr.err
				}
				serve := tr.serve
				if serve == nil {
					serve = errNoMore
				}
				a := newAttempt(fmt.Sprint("try ", n), serve, time.Time{})
				attempts = append(attempts, a)
				return a, nil
			}, Options{ReconnectTimeout: c.timeout, Events: func(e capture.Event) {
				e.Time = time.Time{}
				events = append(events, e)
			}})
			s.clock = clk
			s.jitter = func(d time.Duration) time.Duration { return d }
			first := newAttempt("dial", c.serve, t0.Add(c.heard))
			if c.heard == 0 {
				first.lastHeard = time.Time{}
			}
			s.Begin(first)
			err := s.Run(context.Background(), sink)
			if errors.Is(err, errNoMore) {
				err = nil // the last attempt served until the script ended
			}
			switch {
			case c.want == nil && err != nil:
				t.Errorf("Run: %v, want nil", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("Run: %v, want %v", err, c.want)
			}
			if c.want == ErrRoomClosed && errors.Is(err, ErrNoRoom) {
				t.Errorf("Run: %v is still ErrNoRoom", err)
			}
			if fmt.Sprint(events) != fmt.Sprint(c.events) {
				t.Errorf("events\n %v\nwant\n %v", events, c.events)
			}
			if fmt.Sprint(sink.gaps) != fmt.Sprint(c.gaps) {
				t.Errorf("gaps\n %v\nwant\n %v", sink.gaps, c.gaps)
			}
			if fmt.Sprint(clk.waits) != fmt.Sprint(c.waits) {
				t.Errorf("waits %v, want %v", clk.waits, c.waits)
			}
			for _, a := range append([]*fakeAttempt{first}, attempts...) {
				if len(a.closed) == 0 {
					t.Errorf("%s was never closed", a.name)
				}
			}
		})
	}
}

// errNoMore ends the last scripted attempt's Serve: the test is over.
var errNoMore = errors.New("end of the script")

func repeat(tr try, n int) []try {
	out := make([]try, n)
	for i := range out {
		out[i] = tr
	}
	return out
}

// TestSupervisorGiveUpError: the error after the timeout carries the room, the timeout, why the
// connection dropped and why the last try failed, and names no flag.
func TestSupervisorGiveUpError(t *testing.T) {
	clk := &fakeClock{now: t0}
	last := fmt.Errorf("%w: connection refused", ErrUnreachable)
	s := NewSupervisor("ws://10.0.0.1:7880 room \"daily\"", func(context.Context) (Attempt, error) { return nil, last }, Options{ReconnectTimeout: 8 * time.Second})
	s.clock = clk
	s.Begin(newAttempt("dial", Dropped(errors.New("the server stopped answering")), time.Time{}))
	err := s.Run(context.Background(), &gapSink{clock: clk})
	var le *LostError
	if !errors.As(err, &le) {
		t.Fatalf("Run: %v, want a *LostError", err)
	}
	if le.Timeout != 8*time.Second || le.Room != "ws://10.0.0.1:7880 room \"daily\"" || le.Last != last || le.Cause.Error() != "the server stopped answering" {
		t.Errorf("%+v", le)
	}
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("%v does not wrap the last try's error", err)
	}
	if got := clk.Now().Sub(t0); got != 8*time.Second {
		t.Errorf("gave up %v after the drop, want 8 s", got)
	}
	t.Log(err)
}

// TestSupervisorStops: a recording stopped while the supervisor waits between tries ends Run with
// nil, at once, and ends the gap; the attempt being served when the recording stops leaves the
// room.
func TestSupervisorStops(t *testing.T) {
	for _, c := range []struct {
		name string
		stop func(cancel context.CancelFunc, s *Supervisor)
	}{
		{"the context cancelled mid-backoff", func(cancel context.CancelFunc, _ *Supervisor) { cancel() }},
		{"Close called mid-backoff", func(_ context.CancelFunc, s *Supervisor) { s.Close() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := &fakeClock{now: t0}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var s *Supervisor
			clk.block = func() bool { go c.stop(cancel, s); return true }
			s = NewSupervisor("room 1", func(context.Context) (Attempt, error) { return nil, ErrUnreachable }, Options{})
			s.clock = clk
			s.Begin(newAttempt("dial", Dropped(errors.New("lost")), time.Time{}))
			sink := &gapSink{clock: clk}
			if err := s.Run(ctx, sink); err != nil {
				t.Errorf("Run: %v", err)
			}
			if len(sink.gaps) != 1 || sink.gaps[0].end.IsZero() {
				t.Errorf("gaps %v, want one, ended", sink.gaps)
			}
		})
	}
	t.Run("the context cancelled while serving: the attempt leaves the room", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s := NewSupervisor("room 1", nil, Options{})
		a := newAttempt("dial", nil, time.Time{})
		s.Begin(a)
		done := make(chan error)
		go func() { done <- s.Run(ctx, &gapSink{clock: &fakeClock{}}) }()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if fmt.Sprint(a.closed) != "[true]" {
			t.Errorf("closed %v, want [true] (left the room)", a.closed)
		}
	})
	t.Run("Close while serving: Run returns nil", func(t *testing.T) {
		s := NewSupervisor("room 1", nil, Options{})
		a := newAttempt("dial", nil, time.Time{})
		s.Begin(a)
		done := make(chan error)
		go func() { done <- s.Run(context.Background(), &gapSink{clock: &fakeClock{}}) }()
		waitRunning(s)
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if s.Close() != nil || a.closed[0] != true {
			t.Errorf("closed %v", a.closed)
		}
		if err := s.Run(context.Background(), &gapSink{}); err == nil {
			t.Error("Run after Close: nil error")
		}
	})
}

// TestSupervisorQuiet: an attempt that hears nothing for a while opens the gap before its
// connection drops, from when it last heard the room; hearing the room again closes it; a drop
// after a quiet spell keeps one gap, from the quiet spell's start to the rejoin. A stale attempt
// neither opens nor closes the gap.
func TestSupervisorQuiet(t *testing.T) {
	clk := &fakeClock{now: t0}
	sink := &gapSink{clock: clk}
	s := NewSupervisor("room 1", nil, Options{})
	s.clock = clk
	a := newAttempt("dial", nil, time.Time{})
	stale := newAttempt("stale", nil, time.Time{})
	s.Begin(a)
	s.Quiet(a, t0) // before Run: no sink yet, nothing to mark
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error)
	go func() { ran <- s.Run(ctx, sink) }()
	waitRunning(s)
	s.Quiet(stale, t0)
	clk.advance(2 * time.Second)
	s.Quiet(a, t0.Add(500*time.Millisecond))
	s.Quiet(a, t0.Add(time.Second)) // still quiet: the gap stays where it began
	s.Heard(stale)
	clk.advance(time.Second)
	s.Heard(a)
	s.Heard(a)
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	want := []gap{{GapReconnecting, t0.Add(500 * time.Millisecond), t0.Add(3 * time.Second)}}
	if fmt.Sprint(sink.gaps) != fmt.Sprint(want) {
		t.Errorf("gaps %v, want %v", sink.gaps, want)
	}

	// A quiet spell, then the drop: one gap.
	clk = &fakeClock{now: t0}
	sink = &gapSink{clock: clk}
	var b *fakeAttempt
	s = NewSupervisor("room 1", func(context.Context) (Attempt, error) {
		clk.advance(time.Second)
		b = newAttempt("again", errNoMore, time.Time{})
		return b, nil
	}, Options{})
	s.clock = clk
	quiet := &quietAttempt{fakeAttempt: newAttempt("dial", Dropped(errors.New("ping timeout")), t0.Add(4*time.Second)), s: s, since: t0.Add(-time.Second)}
	s.Begin(quiet)
	if err := s.Run(context.Background(), sink); !errors.Is(err, errNoMore) {
		t.Fatal(err)
	}
	want = []gap{{GapReconnecting, t0.Add(-time.Second), t0.Add(time.Second)}}
	if fmt.Sprint(sink.gaps) != fmt.Sprint(want) {
		t.Errorf("gaps %v, want %v", sink.gaps, want)
	}
}

// waitRunning waits for Run to have its sink (a synchronisation, not scene time).
func waitRunning(s *Supervisor) {
	for {
		s.mu.Lock()
		bound := s.sink != nil
		s.mu.Unlock()
		if bound {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// quietAttempt goes quiet, then drops.
type quietAttempt struct {
	*fakeAttempt
	s     *Supervisor
	since time.Time
}

func (a *quietAttempt) Serve(ctx context.Context, sink Sink) error {
	a.s.Quiet(a, a.since)
	return a.fakeAttempt.Serve(ctx, sink)
}

// TestSupervisorDeliver: what an attempt delivers before Run has a sink reaches the sink, in order,
// when Run starts; later deliveries go straight to it.
func TestSupervisorDeliver(t *testing.T) {
	s := NewSupervisor("room 1", nil, Options{})
	a := newAttempt("dial", errNoMore, time.Time{})
	s.Begin(a)
	var got []string
	sink := &recSink{got: &got}
	s.Deliver(func(k Sink) { k.Leave("early-1") })
	s.Deliver(func(k Sink) { k.Leave("early-2") })
	if len(got) != 0 {
		t.Fatalf("delivered before Run: %v", got)
	}
	s.Run(context.Background(), sink)
	s.Deliver(func(k Sink) { k.Leave("late") })
	if fmt.Sprint(got) != "[early-1 early-2 late]" {
		t.Errorf("delivered %v", got)
	}
}

type recSink struct {
	gapSink
	got *[]string
}

func (s *recSink) Leave(id string) { *s.got = append(*s.got, id) }

// TestEqualJitter: a wait is drawn from the upper half of its step.
func TestEqualJitter(t *testing.T) {
	for range 1000 {
		for _, d := range []time.Duration{backoffMin, time.Second, backoffMax} {
			if w := equalJitter(d); w < d/2 || w > d {
				t.Fatalf("equalJitter(%v) = %v", d, w)
			}
		}
	}
}

// TestAwaitDrop: how an attempt whose goroutines deliver the room ends its Serve.
func TestAwaitDrop(t *testing.T) {
	closedRoom := fmt.Errorf("%w (ROOM_DELETED)", ErrRoomClosed)
	for _, c := range []struct {
		name   string
		cancel bool
		closed bool
		fail   error
		drop   bool // a *DropError
		want   error
	}{
		{"the recording stops (ctx ends): nil", true, false, nil, false, nil},
		{"the attempt is closed: nil", false, true, nil, false, nil},
		{"the room closed: returned as it is", false, false, closedRoom, false, closedRoom},
		{"any other failure is a drop", false, false, errors.New("signalling closed"), true, nil},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		closed := make(chan struct{})
		fail := make(chan error, 1)
		if c.cancel {
			cancel()
		}
		if c.closed {
			close(closed)
		}
		if c.fail != nil {
			fail <- c.fail
		}
		err := AwaitDrop(ctx, closed, fail)
		cancel()
		var drop *DropError
		if isDrop := errors.As(err, &drop); isDrop != c.drop || !c.drop && err != c.want {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestConnectWith: a failed connect's nil pointer is a nil Attempt.
func TestConnectWith(t *testing.T) {
	connect := ConnectWith(func(context.Context) (*fakeAttempt, error) { return nil, ErrUnreachable })
	if a, err := connect(context.Background()); a != nil || err != ErrUnreachable {
		t.Errorf("connect = %v, %v; want a nil Attempt", a, err)
	}
}
