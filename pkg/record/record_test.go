package record

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/record/control"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/protocols"
	"github.com/spacecast/spacecast/pkg/session"
)

// finalized checks that the session in dir is finalized and sealed.
func finalized(t *testing.T, dir string) *session.Manifest {
	t.Helper()
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Manifest.Finalized {
		t.Errorf("%s is not finalized", dir)
	}
	if err := session.CheckSeal(dir); err != nil {
		t.Errorf("%s is not sealed: %v", dir, err)
	}
	return s.Manifest
}

// TestStopConditions: each stop condition ends the recording with its reason, and the session is
// finalized and sealed; a lost room is also an error that says so.
func TestStopConditions(t *testing.T) {
	cases := []struct {
		name     string
		room     func() *fakeRoom
		opts     Options
		act      func(r *Recording, cancel context.CancelFunc)
		want     StopReason
		minTime  time.Duration
		wantLost bool
	}{
		{name: "the duration passes", room: func() *fakeRoom { return newFakeRoom("ada") },
			opts: Options{Duration: 400 * time.Millisecond}, want: StopDuration, minTime: 400 * time.Millisecond},
		{name: "nobody speaks for the stop-when-empty time", room: func() *fakeRoom { return newFakeRoom() },
			opts: Options{StopWhenEmpty: 300 * time.Millisecond}, want: StopEmpty, minTime: 300 * time.Millisecond},
		{name: "a speaker holds stop-when-empty off until they stop", room: func() *fakeRoom {
			f := newFakeRoom("ada")
			f.speakFor = 800 * time.Millisecond
			return f
		}, opts: Options{StopWhenEmpty: 300 * time.Millisecond}, want: StopEmpty, minTime: 1100 * time.Millisecond},
		{name: "the room closes", room: func() *fakeRoom {
			f := newFakeRoom("ada")
			f.end, f.endAfter = fmt.Errorf("livekit: %w", room.ErrRoomClosed), 300*time.Millisecond
			return f
		}, want: StopRoomClosed, minTime: 300 * time.Millisecond},
		{name: "the adapter ends without an error: the room is over", room: func() *fakeRoom {
			f := newFakeRoom("ada")
			f.endAfter = 300 * time.Millisecond
			return f
		}, want: StopRoomClosed},
		{name: "the room is lost", room: func() *fakeRoom {
			f := newFakeRoom("ada")
			f.end, f.endAfter = fmt.Errorf("whep: %w", room.ErrLost), 300*time.Millisecond
			return f
		}, want: StopLost, wantLost: true},
		{name: "the context ends", room: func() *fakeRoom { return newFakeRoom("ada") },
			act: func(_ *Recording, cancel context.CancelFunc) { time.Sleep(300 * time.Millisecond); cancel() }, want: StopInterrupted},
		{name: "the caller stops it", room: func() *fakeRoom { return newFakeRoom("ada") },
			act: func(r *Recording, _ context.CancelFunc) { time.Sleep(300 * time.Millisecond); r.Stop(); r.Stop() }, want: StopRequested},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := c.room()
			began := time.Now()
			r, ev := start(t, ctx, f, c.opts)
			if c.act != nil {
				go c.act(r, cancel)
			}
			res, err := waitFor(t, r, 10*time.Second)
			if took := time.Since(began); took < c.minTime {
				t.Errorf("stopped after %s, before %s", took, c.minTime)
			}
			if res.Reason != c.want {
				t.Errorf("stopped for %q, want %q", res.Reason, c.want)
			}
			var lost *LostError
			if c.wantLost != errors.As(err, &lost) || (c.wantLost && !errors.Is(err, room.ErrLost)) {
				t.Errorf("Wait: %v (want a LostError: %v)", err, c.wantLost)
			} else if !c.wantLost && err != nil {
				t.Errorf("Wait: %v", err)
			}
			if !res.Sealed {
				t.Error("the result says the session is not sealed")
			}
			finalized(t, r.Dir())
			if got, want := ev.kinds(), []Kind{KindJoined, KindStopping, KindSealed}; !slices.Equal(got, want) {
				t.Errorf("lifecycle events %v, want %v", got, want)
			}
			for _, e := range ev.list() {
				if e.Kind == KindStopping && e.Reason != c.want {
					t.Errorf("the stopping event says %q, want %q", e.Reason, c.want)
				}
			}
			if !f.closed {
				t.Error("the room was not left")
			}
		})
	}
}

// TestRecorderFails: a recorder that cannot write its manifest stops the recording as failed;
// Wait says the session could not be finalized, and names the folder.
func TestRecorderFails(t *testing.T) {
	r, _ := start(t, context.Background(), newFakeRoom("ada"), Options{})
	man := filepath.Join(r.Dir(), session.ManifestName)
	// A directory where the manifest goes: its next atomic rewrite (every second) fails.
	if err := os.Remove(man); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(man, "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := waitFor(t, r, 10*time.Second)
	var fin *FinalizeError
	if !errors.As(err, &fin) || fin.Dir != r.Dir() || fin.Elapsed <= 0 {
		t.Fatalf("Wait: %v, want a FinalizeError naming %s", err, r.Dir())
	}
	if res.Reason != StopFailed || res.Sealed {
		t.Errorf("stopped for %q, sealed %v; want failed, not sealed", res.Reason, res.Sealed)
	}
}

// TestPauseResume: Pause and Resume say whether they changed anything, the manifest shows the
// pause as a gap, the room is told each change (when announcing), and once the recording stops
// they are refused.
func TestPauseResume(t *testing.T) {
	f := newFakeRoom("ada")
	r, ev := start(t, context.Background(), f, Options{Announce: true})
	steps := []struct {
		pause bool
		want  bool
	}{{true, true}, {true, false}, {false, true}, {false, false}}
	for i, s := range steps {
		var changed bool
		var err error
		if s.pause {
			changed, err = r.Pause("test")
		} else {
			changed, err = r.Resume("test")
		}
		if err != nil || changed != s.want {
			t.Errorf("step %d (pause %v): changed %v, %v; want %v", i, s.pause, changed, err, s.want)
		}
		if r.Paused() != s.pause {
			t.Errorf("step %d: Paused() = %v", i, r.Paused())
		}
		time.Sleep(150 * time.Millisecond)
	}
	r.Stop()
	if _, err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Pause("late"); !errors.Is(err, ErrStopping) {
		t.Errorf("Pause after the end: %v, want ErrStopping", err)
	}
	m := finalized(t, r.Dir())
	paused := 0
	for _, g := range m.Gaps {
		if g.Cause == "paused" {
			paused++
		}
	}
	if paused != 1 {
		t.Errorf("%d paused gaps in the manifest (%+v), want 1", paused, m.Gaps)
	}
	if got, want := f.announcements(), []string{textStarted, textPaused, textResumed, textStopped}; !slices.Equal(got, want) {
		t.Errorf("the room was told %q, want %q", got, want)
	}
	types := ev.captureTypes()
	if !slices.Contains(types, capture.EventPaused) || !slices.Contains(types, capture.EventResumed) {
		t.Errorf("events %v lack paused and resumed", types)
	}
}

// TestAnnouncements: what the room is told, with announcements on and off, under opt-in, and
// what a room that cannot be told gives: a warning when the announcement failed, nothing when
// the protocol carries no messages.
func TestAnnouncements(t *testing.T) {
	cases := []struct {
		name        string
		opts        Options
		announceErr error
		want        []string
		warn        bool
	}{
		{"announcing: started and stopped", Options{Announce: true}, nil, []string{textStarted, textStopped}, false},
		{"not announcing: nothing", Options{}, nil, nil, false},
		{"opt-in says who is recorded", Options{Announce: true, Consent: session.Consent{Policy: capture.PolicyOptIn}}, nil,
			[]string{textStarted + textOptIn, textStopped}, false},
		{"a failed announcement is a warning", Options{Announce: true}, errBoom, nil, true},
		{"a protocol without messages is no warning", Options{Announce: true}, room.ErrNoMessages, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeRoom("ada")
			f.announceErr = c.announceErr
			r, ev := start(t, context.Background(), f, c.opts)
			time.Sleep(100 * time.Millisecond)
			r.Stop()
			if _, err := r.Wait(); err != nil {
				t.Fatal(err)
			}
			if got := f.announcements(); !slices.Equal(got, c.want) {
				t.Errorf("the room was told %q, want %q", got, c.want)
			}
			var warned []error
			for _, e := range ev.list() {
				if e.Kind == KindWarning {
					warned = append(warned, e.Err)
				}
			}
			var ae *AnnounceError
			if c.warn != (len(warned) == 1) || (c.warn && (!errors.As(warned[0], &ae) || ae.What != AnnounceStarted || !errors.Is(ae, errBoom) || ae.Name != room.DefaultIdentity.Name)) {
				t.Errorf("warnings %v, want one about the start naming the recorder as the room sees it: %v", warned, c.warn)
			}
		})
	}
}

// TestJoinErrors: a room that cannot be joined is a JoinError carrying the adapter's error; an
// interrupted join is the context's error; a server that mixes the room refuses per-speaker
// consent before any folder is made.
func TestJoinErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "session")
	_, err := Start(context.Background(), Options{URL: "wss://example.com", Dir: dir,
		Dialer: func(context.Context, protocols.Protocol, string, protocols.DialOptions) (room.Conn, error) {
			return nil, fmt.Errorf("livekit: %w", room.ErrAuth)
		}})
	var join *JoinError
	if !errors.As(err, &join) || join.Protocol != protocols.LiveKit || !errors.Is(err, room.ErrAuth) {
		t.Errorf("a refused join: %v, want a JoinError wrapping room.ErrAuth", err)
	}
	_, err = Start(context.Background(), Options{URL: "wss://example.com", Dir: dir,
		Dialer: func(context.Context, protocols.Protocol, string, protocols.DialOptions) (room.Conn, error) {
			return nil, fmt.Errorf("livekit: %w", context.Canceled)
		}})
	if !errors.Is(err, context.Canceled) || errors.As(err, &join) {
		t.Errorf("an interrupted join: %v, want context.Canceled", err)
	}
	f := newFakeRoom("ada")
	for _, consent := range []session.Consent{{Policy: capture.PolicyOptIn}, {Exclude: []string{"bob"}}} {
		_, err = Start(context.Background(), Options{URL: "http://127.0.0.1/janus", Dir: dir, Consent: consent,
			Dialer: func(context.Context, protocols.Protocol, string, protocols.DialOptions) (room.Conn, error) {
				return mixingRoom{f}, nil
			}})
		var mixes *ServerMixesError
		if !errors.Is(err, ErrServerMixes) || !errors.As(err, &mixes) || mixes.Policy != consent.Policy || !slices.Equal(mixes.Exclude, consent.Exclude) {
			t.Errorf("consent %+v in a mixed room: %v, want a ServerMixesError with that policy and those excluded", consent, err)
		}
	}
	if !f.closed {
		t.Error("the mixed room was not left")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused recording made its folder: %v", err)
	}
	if _, err := Start(context.Background(), Options{URL: "ftp://example.com/x", Dir: dir}); !errors.Is(err, room.ErrURL) {
		t.Errorf("an ftp URL: %v, want room.ErrURL", err)
	}
}

// TestControlSocket: with Control the recording answers on its socket (DIR/control names it)
// while it runs, and the socket is gone when it stops.
func TestControlSocket(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	r, _ := start(t, context.Background(), newFakeRoom("ada"), Options{Control: true})
	rep, err := control.Send(r.Dir(), control.Pause)
	if err != nil || !rep.OK || !rep.Paused || rep.Message != "recording paused" {
		t.Errorf("pause through the socket: %+v, %v", rep, err)
	}
	if rep, err = control.Send(r.Dir(), control.Pause); err != nil || rep.OK || rep.Message != "already paused" {
		t.Errorf("pause again: %+v, %v", rep, err)
	}
	if rep, err = control.Send(r.Dir(), control.Resume); err != nil || !rep.OK || rep.Paused {
		t.Errorf("resume: %+v, %v", rep, err)
	}
	r.Stop()
	if _, err := r.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.Dir(), control.FileName)); !os.IsNotExist(err) {
		t.Errorf("the control file is left after the recording: %v", err)
	}
	if _, err := control.Send(r.Dir(), control.Pause); !errors.Is(err, control.ErrNoRecorder) {
		t.Errorf("pause after the end: %v, want ErrNoRecorder", err)
	}
}

// TestRoomEvents: what the adapter reports through room.Options.Events reaches the Observer as
// a capture event, and the recording's own identity and wait reach the adapter.
func TestRoomEvents(t *testing.T) {
	f := newFakeRoom()
	id := room.Identity{Identity: "rec", Name: "⏺ REC test"}
	r, ev := start(t, context.Background(), f, Options{Dial: protocols.DialOptions{Options: room.Options{Identity: id, Wait: time.Second}}})
	f.mu.Lock()
	opts := f.opts
	f.mu.Unlock()
	if opts.Identity != id || opts.Wait != time.Second || opts.Events == nil {
		t.Fatalf("the adapter got %+v", opts)
	}
	opts.Events(capture.Event{Type: capture.EventReconnecting, Cause: "test"})
	r.Stop()
	r.Wait()
	if !slices.Contains(ev.captureTypes(), capture.EventReconnecting) {
		t.Errorf("events %v lack the adapter's reconnecting", ev.captureTypes())
	}
}

// TestTwoRecordings: two recordings run at once in one process, each with its own room, folder,
// context, events and stop condition (run with -race).
func TestTwoRecordings(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := newFakeRoom("ada", "bob"), newFakeRoom("cyd")
	ra, eva := start(t, ctx, a, Options{Duration: 700 * time.Millisecond, Control: true, Announce: true})
	rb, evb := start(t, ctx, b, Options{Control: true})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // both are paused and resumed meanwhile, through the socket and directly
		defer wg.Done()
		control.Send(ra.Dir(), control.Pause)
		rb.Pause("test")
		time.Sleep(100 * time.Millisecond)
		control.Send(rb.Dir(), control.Resume)
		ra.Resume("test")
	}()
	resA, errA := waitFor(t, ra, 10*time.Second)
	if rb.Done() == nil {
		t.Fatal("no done channel")
	}
	select {
	case <-rb.Done():
		t.Fatal("stopping one recording stopped the other")
	default:
	}
	rb.Stop()
	resB, errB := waitFor(t, rb, 10*time.Second)
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("Wait: %v, %v", errA, errB)
	}
	if resA.Reason != StopDuration || resB.Reason != StopRequested {
		t.Errorf("reasons %q and %q", resA.Reason, resB.Reason)
	}
	if resA.ID == resB.ID || ra.Dir() == rb.Dir() {
		t.Error("the two recordings share a session")
	}
	for _, c := range []struct {
		res  *Result
		ev   *events
		want []string
	}{{resA, eva, []string{"ada", "bob"}}, {resB, evb, []string{"cyd"}}} {
		m := finalized(t, c.res.Dir)
		var got []string
		for _, tr := range m.Tracks {
			got = append(got, tr.Participant)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s has tracks of %v, want %v", c.res.Dir, got, c.want)
		}
		for _, e := range c.ev.list() {
			if e.Kind == KindCapture && e.Capture.Identity != "" && !slices.Contains(c.want, e.Capture.Identity) {
				t.Errorf("%s's observer got another room's event %+v", c.res.Dir, e.Capture)
			}
		}
	}
	if told := b.announcements(); len(told) != 0 {
		t.Errorf("the room not announced to was told %q", told)
	}
	if told := a.announcements(); len(told) < 2 || !strings.HasPrefix(told[0], "⏺ recording started") {
		t.Errorf("the announced room was told %q", told)
	}
}
