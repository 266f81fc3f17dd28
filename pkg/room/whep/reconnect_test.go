package whep

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// gapSink is a room.Sink that notes where gaps begin.
type gapSink struct {
	mu     sync.Mutex
	begins []time.Time
}

func (s *gapSink) Join(capture.Participant)        {}
func (s *gapSink) Leave(string)                    {}
func (s *gapSink) AddTrack(capture.Source) error   { return nil }
func (s *gapSink) SetConsent(string, bool, string) {}
func (s *gapSink) BeginGap(_ string, since time.Time) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.begins = append(s.begins, since)
	return func() {}
}

func (s *gapSink) first() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.begins) == 0 {
		return time.Time{}, false
	}
	return s.begins[0], true
}

// quietGaps notes where the attempt said it went quiet (what room.Supervisor takes as the gap's
// start).
type quietGaps struct{ gapSink }

func (g *quietGaps) Quiet(_ room.Attempt, since time.Time) { g.BeginGap("reconnecting", since) }
func (g *quietGaps) Heard(room.Attempt)                    {}

// TestGapStartsWhereLastHeard: when ICE calls the connection disconnected, the reconnecting gap
// starts at the last packet the recorder read from it, not a fixed 5 s before: pion's ICE says
// so 5 to 7 s after its last packet (it looks every 2 s), later on a loaded machine. Without a
// packet for longer, the gap starts 7 s back, the earliest ICE can have heard the server.
func TestGapStartsWhereLastHeard(t *testing.T) {
	for _, c := range []struct {
		name  string
		heard time.Duration // before the disconnect; 0: no packet ever
		want  time.Duration // where the gap starts, before the disconnect
	}{
		{"ICE noticed 5 s after the last packet: the gap starts at that packet", 5 * time.Second, 5 * time.Second},
		{"ICE noticed late, 6.8 s after: the gap still starts at the last packet", 6800 * time.Millisecond, 6800 * time.Millisecond},
		{"a silent stream whose last packet came 40 s ago: 7 s back, where ICE last heard the server at the earliest", 40 * time.Second, 7 * time.Second},
		{"no packet ever: 7 s back", 0, 7 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &quietGaps{}
			a := &attempt{c: &Conn{}, g: g, closed: make(chan struct{})}
			close(a.closed) // the 3 s watch ends at once
			now := time.Now()
			if c.heard > 0 {
				a.heard.Store(now.Add(-c.heard).UnixNano())
			}
			a.watch(webrtc.PeerConnectionStateDisconnected)
			since, ok := g.first()
			if !ok {
				t.Fatal("no gap begun")
			}
			if d := now.Sub(since) - c.want; d < -50*time.Millisecond || d > 50*time.Millisecond {
				t.Errorf("the gap starts %v before the disconnect, want %v", now.Sub(since).Round(time.Millisecond), c.want)
			}
		})
	}
}

// TestReconnectingToldFirst: a lost connection is marked and told ("reconnecting") as soon as it
// is declared lost, not after the old session has been freed on the server: on a dead network
// that DELETE waits its whole timeout (3 s).
func TestReconnectingToldFirst(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a server that no longer answers
	}))
	defer hang.Close()
	ep, err := url.Parse(hang.URL + "/whep")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := url.Parse(hang.URL + "/whep/sessions/1")
	if err != nil {
		t.Fatal(err)
	}
	api, err := rtc.NewAPI(rtc.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	told := make(chan time.Time, 1)
	sink := &gapSink{}
	conn := &Conn{endpoint: ep, api: api, hc: &http.Client{}, tracks: 1, opts: Options{DialTimeout: time.Second,
		Options: room.Options{ReconnectTimeout: time.Minute, Events: func(e capture.Event) {
			if e.Type == "reconnecting" {
				told <- time.Now()
				cancel() // no need to connect again
			}
		}}}}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	conn.sup = room.NewSupervisor("test", room.ConnectWith(conn.connect), conn.opts.Options)
	a := &attempt{c: conn, g: conn.sup, pc: pc, session: sess, fail: make(chan error, 1), bye: make(chan struct{}, 1), closed: make(chan struct{})}
	a.hear()
	conn.sup.Begin(a)
	ran := make(chan error, 1)
	go func() { ran <- conn.Run(ctx, sink) }()
	lost := time.Now()
	a.failWith(fmt.Errorf("%w: test", errLost))
	select {
	case at := <-told:
		if d := at.Sub(lost); d > time.Second {
			t.Errorf("reconnecting told %v after the loss, want at once (the old session's DELETE waits on the dead server)", d.Round(time.Millisecond))
		}
	case err := <-ran:
		t.Fatalf("Run returned %v without reconnecting", err)
	}
	if since, ok := sink.first(); !ok || lost.Sub(since) > 100*time.Millisecond {
		t.Errorf("gap begun %v (ok %v), want at the last packet, just before the loss", since, ok)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
}
