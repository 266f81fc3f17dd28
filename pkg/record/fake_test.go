package record

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/codec/opus"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/protocols"
)

// fakeRoom is a room.Conn: its speakers send 20 ms Opus packets of silence in real time; Run ends
// with end after endAfter (or when its context ends).
type fakeRoom struct {
	speakers    []string
	speakFor    time.Duration // 0: until the room is left
	end         error
	endAfter    time.Duration // 0: never
	announceErr error

	mu     sync.Mutex
	told   []string
	left   chan struct{}
	closed bool
	opts   room.Options
}

func newFakeRoom(speakers ...string) *fakeRoom {
	return &fakeRoom{speakers: speakers, left: make(chan struct{})}
}

// dial is an Options.Dialer handing out f.
func (f *fakeRoom) dial(_ context.Context, _ protocols.Protocol, _ string, o protocols.DialOptions) (room.Conn, error) {
	f.mu.Lock()
	f.opts = o.Options
	f.mu.Unlock()
	return f, nil
}

func (f *fakeRoom) Run(ctx context.Context, sink room.Sink) error {
	for i, id := range f.speakers {
		sink.Join(capture.Participant{Identity: id, Name: id})
		if err := sink.AddTrack(f.source(id, uint32(i+1))); err != nil {
			return err
		}
	}
	var endC <-chan time.Time
	if f.endAfter > 0 {
		t := time.NewTimer(f.endAfter)
		defer t.Stop()
		endC = t.C
	}
	select {
	case <-ctx.Done():
		return nil
	case <-endC:
		return f.end
	}
}

func (f *fakeRoom) source(id string, ssrc uint32) capture.Source {
	pkt, _ := opus.SilencePacket()
	var seq uint16
	start := time.Now()
	next := start
	return capture.Source{Participant: id, ID: "T" + id, Channels: 1, ReadRTP: func(b []byte) (int, error) {
		if f.speakFor > 0 && time.Since(start) >= f.speakFor {
			return 0, io.EOF
		}
		select {
		case <-f.left:
			return 0, io.EOF
		case <-time.After(time.Until(next)):
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(seq) * 960, SSRC: ssrc}, Payload: pkt}
		seq++
		next = next.Add(20 * time.Millisecond)
		return p.MarshalTo(b)
	}}
}

func (f *fakeRoom) Announce(_ context.Context, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.announceErr != nil {
		return f.announceErr
	}
	f.told = append(f.told, text)
	return nil
}

func (f *fakeRoom) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.left)
	}
	return nil
}

func (f *fakeRoom) announcements() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.told...)
}

// mixingRoom is a fakeRoom whose server mixes every speaker into one track (Janus AudioBridge).
type mixingRoom struct{ *fakeRoom }

func (mixingRoom) ServerMixes() bool { return true }

// events collects a recording's events.
type events struct {
	mu  sync.Mutex
	all []Event
}

func (e *events) Event(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) list() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.all...)
}

// kinds lists the lifecycle events' kinds, capture events left out.
func (e *events) kinds() []Kind {
	var out []Kind
	for _, ev := range e.list() {
		if ev.Kind != KindCapture {
			out = append(out, ev.Kind)
		}
	}
	return out
}

// captureTypes lists the capture events' types.
func (e *events) captureTypes() []capture.EventKind {
	var out []capture.EventKind
	for _, ev := range e.list() {
		if ev.Kind == KindCapture {
			out = append(out, ev.Capture.Type)
		}
	}
	return out
}

// start starts a recording of f into a new folder with o's settings.
func start(t *testing.T, ctx context.Context, f *fakeRoom, o Options) (*Recording, *events) {
	t.Helper()
	ev := &events{}
	o.URL, o.Protocol, o.Dir, o.Observer = "ws://127.0.0.1:7880", protocols.LiveKit, t.TempDir()+"/session", ev
	if o.Dialer == nil {
		o.Dialer = f.dial
	}
	r, err := Start(ctx, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return r, ev
}

// waitFor waits for r, at most d.
func waitFor(t *testing.T, r *Recording, d time.Duration) (*Result, error) {
	t.Helper()
	select {
	case <-r.Done():
	case <-time.After(d):
		r.Stop()
		t.Fatalf("the recording did not stop within %s", d)
	}
	return r.Wait()
}

var errBoom = errors.New("boom")
