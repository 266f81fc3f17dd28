package janus

// The real Janus (Debian's janus 1.1.2, started by internal/testutil/janusserver) and its pion
// speakers for the end-to-end tests, with the recording helpers that judge what the adapter wrote.
// Janus runs in the client namespace of internal/testutil/netns (10.77.0.2 on sc1); the test
// process, with the recorder and the speakers, is on the other end of the veth (10.77.0.1 on sc0).

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/janusserver"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/session"
)

// The test server's rooms (internal/testutil/janusserver).
const (
	vrRoom   = janusserver.VideoRoomID
	abRoom   = janusserver.AudioBridgeID
	bothRoom = janusserver.BothID
	pinRoom  = janusserver.PINRoomID
	roomPIN  = janusserver.PIN
)

// recName is how the recorder shows itself in the tests' rooms.
const recName = "⏺ REC spacecast test"

// startJanus starts the real Janus in the client namespace (janusserver.Start).
func startJanus(t *testing.T, ns *netns.NS) *janusserver.Server { return janusserver.Start(t, ns) }

// testRTC keeps pion on the test process's end of the veth.
func testRTC(ns *netns.NS) rtc.Options { return janusserver.RTC(ns) }

// newSpeaker joins a pion publisher to a room (janusserver.NewSpeaker).
func newSpeaker(t *testing.T, ns *netns.NS, url, plugin, roomID, display string, freq float64) *janusserver.Speaker {
	t.Helper()
	return janusserver.NewSpeaker(t, ns, url, plugin, roomID, display, freq)
}

// ask sends a plugin request through a speaker's own session and decodes the answer.
func ask(ctx context.Context, s *janusserver.Speaker, body map[string]any) (*pluginEvent, error) {
	data, err := s.Request(ctx, body)
	if err != nil {
		return nil, err
	}
	var ev pluginEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("%v answer %s: %w", body["request"], data, err)
	}
	return &ev, nil
}

// recording is a real capture.Recorder with the events it emitted.
type recording struct {
	*capture.Recorder
	t      *testing.T
	mu     sync.Mutex
	events []capture.Event
	notify chan struct{}
}

func newRecording(t *testing.T, url string) *recording {
	t.Helper()
	r := &recording{t: t, notify: make(chan struct{}, 1)}
	rec, err := capture.Create(capture.Options{
		Dir:     filepath.Join(t.TempDir(), "session"),
		Room:    session.Room{Name: "janus test", Protocol: "janus", URL: url},
		OnEvent: r.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Recorder = rec
	t.Cleanup(func() { rec.Close() })
	return r
}

func (r *recording) add(e capture.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// wait waits for the n-th event (counting from 1) that matches.
func (r *recording) wait(what string, n int, match func(capture.Event) bool) capture.Event {
	r.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		r.mu.Lock()
		seen := 0
		for _, e := range r.events {
			if match(e) {
				if seen++; seen == n {
					r.mu.Unlock()
					return e
				}
			}
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-deadline:
			r.t.Fatalf("no %s within 15 s; events: %+v", what, r.snapshot())
		}
	}
}

func (r *recording) snapshot() []capture.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]capture.Event(nil), r.events...)
}

// speakerJoined waits for the n-th track a participant named name got.
func (r *recording) speakerJoined(name string, n int) capture.Event {
	r.t.Helper()
	return r.wait("speaker-joined "+name, n, func(e capture.Event) bool { return e.Type == "speaker-joined" && e.Name == name })
}

// left waits for the participant named name to leave (the n-th time).
func (r *recording) left(identityOf func() string, n int) {
	r.t.Helper()
	r.wait("participant-left", n, func(e capture.Event) bool { return e.Type == "participant-left" && e.Identity == identityOf() })
}

// identity returns the identity the recorder reported for the participant named name.
func (r *recording) identity(name string) string {
	for _, e := range r.snapshot() {
		if e.Name == name && e.Identity != "" {
			return e.Identity
		}
	}
	return ""
}

// runConn runs conn into rec until the test ends; the error Run returned is checked then.
func runConn(t *testing.T, conn room.Conn, rec room.Sink) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- conn.Run(ctx, rec) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(5 * time.Second):
				err = fmt.Errorf("Run did not return within 5 s of its context ending")
			}
			if cerr := conn.Close(); cerr != nil && err == nil {
				err = cerr
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// A judged track: the decoded audio on the session clock and where tones are in it.

// tonePart is a stretch of audible signal, on the session clock in ticks.
type tonePart struct{ start, end int64 }

func (p tonePart) String() string {
	return fmt.Sprintf("[%.3f s, %.3f s)", session.Duration(p.start).Seconds(), session.Duration(p.end).Seconds())
}

// trackAudio reads a track through pkg/session: mono audio from tick start on.
func trackAudio(t *testing.T, s *session.Session, tr *session.Track) (x []float32, start int64) {
	t.Helper()
	ts, err := s.OpenTrack(tr)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	ch := ts.Format().Channels
	buf := make([]float32, 4800*ch)
	for {
		n, err := ts.Read(buf)
		x = append(x, testutil.Mono(buf[:n], ch)...)
		if err != nil {
			break
		}
	}
	return x, ts.Start()
}

// parts finds the audible stretches of x (5 ms blocks above -30 dBFS RMS, gaps under 60 ms
// bridged, stretches under 60 ms dropped), in ticks from start.
func parts(x []float32, start int64) []tonePart {
	const block = 240
	var out []tonePart
	in := false
	var cur tonePart
	lastLoud := int64(0)
	for i := 0; i+block <= len(x); i += block {
		var e float64
		for _, v := range x[i : i+block] {
			e += float64(v) * float64(v)
		}
		loud := math.Sqrt(e/block) > 0.03
		at := start + int64(i)
		switch {
		case loud && !in:
			if len(out) > 0 && at-out[len(out)-1].end < session.Ticks(60*time.Millisecond) {
				cur = out[len(out)-1]
				out = out[:len(out)-1]
			} else {
				cur = tonePart{start: at}
			}
			in = true
		case !loud && in:
			cur.end = lastLoud + block
			out = append(out, cur)
			in = false
		}
		if loud {
			lastLoud = at
		}
	}
	if in {
		cur.end = lastLoud + block
		out = append(out, cur)
	}
	var kept []tonePart
	for _, p := range out {
		if p.end-p.start >= session.Ticks(60*time.Millisecond) {
			kept = append(kept, p)
		}
	}
	return kept
}

// power is the Goertzel power of freq in x, normalised by length.
func power(x []float32, freq float64) float64 {
	w := 2 * math.Pi * freq / 48000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return p / float64(len(x)*len(x))
}

// slice returns x between two session ticks (x starts at tick start).
func slice(x []float32, start, from, to int64) []float32 {
	a, b := max(from-start, 0), min(to-start, int64(len(x)))
	if a >= b {
		return nil
	}
	return x[a:b]
}

// near reports whether a session tick is within tol of the wall-clock time at, relative to the
// recording's start.
func near(tick int64, rec time.Time, at time.Time, tol time.Duration) (time.Duration, bool) {
	want := at.Sub(rec)
	got := session.Duration(tick)
	d := got - want
	return d, d.Abs() <= tol
}

func names(m *session.Manifest) string {
	var s []string
	for _, p := range m.Participants {
		s = append(s, p.Identity+"="+p.Name)
	}
	return strings.Join(s, ", ")
}
