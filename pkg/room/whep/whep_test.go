package whep_test

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/room/whep"
	"github.com/spacecast/spacecast/pkg/session"
)

var loopback = rtc.Options{Loopback: true}

// opusTrack is a server-side track whose stream id names the speaker.
func opusTrack(t *testing.T, speaker string) *webrtc.TrackLocalStaticRTP {
	t.Helper()
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, speaker+"-mic", speaker)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// startServer serves tracks at http://127.0.0.1:PORT/whep/test.
func startServer(t *testing.T, token string, tracks ...webrtc.TrackLocal) (*whep.Server, string) {
	t.Helper()
	srv, err := whep.NewServer(whep.ServerOptions{Tracks: tracks, BearerToken: token, RTC: loopback})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/whep/test", srv)
	mux.Handle("/whep/test/", srv)
	hs := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return srv, hs.URL + "/whep/test"
}

type recording struct {
	rec    *capture.Recorder
	conn   *whep.Conn
	dir    string
	runErr chan error
	stop   context.CancelFunc

	mu     sync.Mutex
	events []capture.Event
}

// record dials url and records it into a fresh session until stop is called.
func record(t *testing.T, ctx context.Context, url string, o whep.Options) *recording {
	t.Helper()
	r := &recording{dir: filepath.Join(t.TempDir(), "s"), runErr: make(chan error, 1)}
	o.RTC = loopback
	o.Events = func(e capture.Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}
	conn, err := whep.Dial(ctx, url, o)
	if err != nil {
		t.Fatal(err)
	}
	r.conn = conn
	t.Cleanup(func() { conn.Close() })
	r.rec, err = capture.Create(capture.Options{Dir: r.dir, Room: session.Room{Name: "whep-test", Protocol: "whep", URL: url}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	r.stop = stop
	go func() { r.runErr <- conn.Run(runCtx, r.rec) }()
	return r
}

func (r *recording) eventTypes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Type)
	}
	return out
}

// finish stops Run (which must return want), closes the recorder and opens the session.
func (r *recording) finish(t *testing.T, want error) *session.Session {
	t.Helper()
	r.stop()
	if err := <-r.runErr; !errors.Is(err, want) {
		t.Fatalf("Run returned %v, want %v", err, want)
	}
	if err := r.rec.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Manifest.Finalized {
		t.Error("manifest not finalized")
	}
	return s
}

func trackOf(t *testing.T, m *session.Manifest, identity string) session.Track {
	t.Helper()
	var found []session.Track
	for _, tr := range m.Tracks {
		if tr.Participant == identity {
			found = append(found, tr)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d tracks of %q, want 1: %+v", len(found), identity, m.Tracks)
	}
	return found[0]
}

// power is the Goertzel power of freq in x (48 kHz).
func power(x []float32, freq float64) float64 {
	w := 2 * math.Pi * freq / 48000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - c*s1*s2) / float64(len(x)*len(x))
}

// bandPower averages power over 100 ms pieces: the live mix may shift a track by a few samples
// when a sender report corrects its clock, and a tone's phase jump must not cancel itself out.
func bandPower(x []float32, freq float64) float64 {
	var sum float64
	n := 0
	for i := 0; i+4800 <= len(x); i += 4800 {
		sum += power(x[i:i+4800], freq)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func dominant(x []float32) float64 {
	best, bestP := 0.0, -1.0
	for f := 100.0; f <= 4000; f += 5 {
		if p := power(x, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

func window(x []float32, from, to time.Duration) []float32 {
	a, b := int(from.Seconds()*48000), int(to.Seconds()*48000)
	a, b = max(a, 0), min(b, len(x))
	if a >= b {
		return nil
	}
	return x[a:b]
}

// TestRecordTwoTones records two speakers served by one WHEP session: a 440 Hz tone from alice and,
// 1.5 s later, a 1000 Hz tone from bob. opusdec and ffmpeg judge the files: the right tone in each
// track, each starting on the session clock within 20 ms of when it was sent, and both in the mix.
func TestRecordTwoTones(t *testing.T) {
	t.Parallel()
	testutil.Require(t, "opusdec")
	testutil.Require(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice, bob := opusTrack(t, "alice"), opusTrack(t, "bob")
	srv, url := startServer(t, "", alice, bob)
	r := record(t, ctx, url, whep.Options{}) // Tracks 0: learns from the audio-tracks link that there are 2

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	send := func(tr *webrtc.TrackLocalStaticRTP, tone rtptone.Tone) time.Time {
		at := time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- rtptone.Send(ctx, tr, tone)
		}()
		return at
	}
	aliceAt := send(alice, rtptone.Tone{Freq: 440, Duration: 4 * time.Second})
	time.Sleep(1500 * time.Millisecond)
	bobAt := send(bob, rtptone.Tone{Freq: 1000, Duration: 3 * time.Second, Seed: 2})
	wg.Wait()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(700 * time.Millisecond)
	start := r.rec.Start()
	s := r.finish(t, nil)
	if n := srv.Sessions(); n != 0 {
		t.Errorf("the server still holds %d session(s) after Run ended: no DELETE?", n)
	}
	m := s.Manifest
	if len(m.Tracks) != 2 {
		t.Fatalf("%d tracks, want 2: %+v", len(m.Tracks), m.Tracks)
	}
	for _, c := range []struct {
		who  string
		freq float64
		sent time.Time
		dur  time.Duration
	}{{"alice", 440, aliceAt, 4 * time.Second}, {"bob", 1000, bobAt, 3 * time.Second}} {
		tr := trackOf(t, m, c.who)
		pcm := testutil.Mono(testutil.OpusdecDecode(t, s.Path(tr.File)), tr.Channels)
		if got := float64(len(pcm)) / 48000; math.Abs(got-c.dur.Seconds()) > 0.15 {
			t.Errorf("%s: %.3f s of audio, sent %.3f s", c.who, got, c.dur.Seconds())
		}
		if f := dominant(window(pcm, 500*time.Millisecond, 1500*time.Millisecond)); math.Abs(f-c.freq) > 10 {
			t.Errorf("%s: dominant %.0f Hz, want %.0f", c.who, f, c.freq)
		}
		// Media sample 0 of the file is PreSkip samples after the first packet's first sample.
		got := session.Duration(tr.Timeline[0].SessionTicks - capture.PreSkip)
		want := c.sent.Sub(start)
		t.Logf("%s: %.3f s of audio, first packet at %v on the session clock, sent at %v (%+.1f ms)",
			c.who, float64(len(pcm))/48000, got, want, float64(got-want)/1e6)
		if d := got - want; d < -20*time.Millisecond || d > 20*time.Millisecond {
			t.Errorf("%s starts at %v on the session clock, sent at %v: off by %v", c.who, got, want, d)
		}
	}
	// The live mix, by ffmpeg: alice alone, then both.
	mix := testutil.FFmpegDecode(t, s.Path(m.Mix.File), 48000, 1)
	a0, b0 := aliceAt.Sub(start), bobAt.Sub(start)
	alone := window(mix, a0+300*time.Millisecond, b0-200*time.Millisecond)
	both := window(mix, b0+300*time.Millisecond, a0+3700*time.Millisecond)
	if alone == nil || both == nil {
		t.Fatalf("mix too short: %.2f s", float64(len(mix))/48000)
	}
	if p4, p1 := bandPower(alone, 440), bandPower(alone, 1000); p4 < 100*p1 {
		t.Errorf("mix while only alice speaks: 440 Hz %.2g, 1000 Hz %.2g", p4, p1)
	}
	p4, p1, p7 := bandPower(both, 440), bandPower(both, 1000), bandPower(both, 700)
	if p4 < 100*p7 || p1 < 100*p7 || p4 > 10*p1 || p1 > 10*p4 {
		t.Errorf("mix while both speak: 440 Hz %.2g, 1000 Hz %.2g, 700 Hz %.2g", p4, p1, p7)
	}
}

// TestRoomClosed: when the server ends the room, Run returns room.ErrRoomClosed within a second
// (RTCP BYE, then the session URL answers 404), and the audio before it is kept.
func TestRoomClosed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := opusTrack(t, "carol")
	srv, url := startServer(t, "", tr)
	r := record(t, ctx, url, whep.Options{})
	if err := rtptone.Send(ctx, tr, rtptone.Tone{Freq: 600, Duration: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	closed := time.Now()
	srv.Close()
	select {
	case err := <-r.runErr:
		if !errors.Is(err, room.ErrRoomClosed) {
			t.Fatalf("Run returned %v, want room.ErrRoomClosed", err)
		}
		t.Logf("Run returned %v after %v", err, time.Since(closed).Round(time.Millisecond))
		if d := time.Since(closed); d > time.Second {
			t.Errorf("Run took %v to notice the room closed", d)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after the server closed the room")
	}
	r.runErr <- room.ErrRoomClosed
	s := r.finish(t, room.ErrRoomClosed)
	if tr := trackOf(t, s.Manifest, "carol"); session.Duration(tr.Samples) < 1800*time.Millisecond {
		t.Errorf("kept %v of carol's 2 s", session.Duration(tr.Samples))
	}
}

// TestDialErrors: each failure to join names its cause, maps to the error the CLI turns into an exit
// code, and comes within a few seconds.
func TestDialErrors(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "s3cret", opusTrack(t, "dave"))
	closedPort := func() string {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String() + "/whep"
	}()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>player</html>"))
	}))
	defer html.Close()
	conflict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "no live publication", http.StatusConflict)
	}))
	defer conflict.Close()
	for _, c := range []struct {
		name, url, token string
		want             error
	}{
		{"a missing endpoint is no room", strings.TrimSuffix(url, "/test") + "/nope", "s3cret", room.ErrNoRoom},
		{"a wrong token is refused", url, "wrong", room.ErrAuth},
		{"no token where one is needed is refused", url, "", room.ErrAuth},
		{"a non-http scheme is a bad URL", "ws://127.0.0.1:1/whep", "", room.ErrURL},
		{"a URL without host is a bad URL", "http:///whep", "", room.ErrURL},
		{"an unparsable URL is a bad URL", "http://[::1", "", room.ErrURL},
		{"a closed port is unreachable", closedPort, "", room.ErrUnreachable},
		{"an HTML page is not a WHEP endpoint", html.URL, "", room.ErrURL},
		{"409 without --wait is an empty room", conflict.URL, "", room.ErrEmptyRoom},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			conn, err := whep.Dial(context.Background(), c.url, whep.Options{BearerToken: c.token, RTC: loopback})
			if err == nil {
				conn.Close()
				t.Fatalf("Dial succeeded, want %v", c.want)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Dial: %v, want %v", err, c.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
			t.Logf("%v", err)
		})
	}
}

// TestWaitRetries409: with --wait, an endpoint without a live stream (409 + Retry-After) is asked
// again until it has one.
func TestWaitRetries409(t *testing.T) {
	t.Parallel()
	srv, err := whep.NewServer(whep.ServerOptions{Tracks: []webrtc.TrackLocal{opusTrack(t, "erin")}, RTC: loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var mu sync.Mutex
	posts := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts++
		n := posts
		mu.Unlock()
		if r.Method == http.MethodPost && n <= 2 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "not live yet", http.StatusConflict)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer hs.Close()
	start := time.Now()
	conn, err := whep.Dial(context.Background(), hs.URL, whep.Options{RTC: loopback, Options: room.Options{Wait: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if d := time.Since(start); d < 2*time.Second || d > 5*time.Second {
		t.Errorf("joined after %v: want two 1 s waits", d)
	}
}

// TestAnnounce: WHEP has no messages; the error says what to do.
func TestAnnounce(t *testing.T) {
	t.Parallel()
	_, url := startServer(t, "", opusTrack(t, "fay"))
	conn, err := whep.Dial(context.Background(), url, whep.Options{RTC: loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Announce(context.Background(), "recording started"); !errors.Is(err, room.ErrNoMessages) {
		t.Fatalf("Announce: %v, want room.ErrNoMessages", err)
	}
}

// mediaAt maps a session tick to the track file's media sample by the timeline in force there.
func mediaAt(tr session.Track, ticks int64) int64 {
	a := tr.Timeline[0]
	for _, b := range tr.Timeline {
		if b.SessionTicks <= ticks {
			a = b
		}
	}
	return a.MediaSample + ticks - a.SessionTicks
}

// TestReconnect: when the media connection dies but the session URL still answers (a network
// failure), Run posts a new offer, marks the gap, and the speaker's audio after it lands in the same
// file at the right time on the session clock.
func TestReconnect(t *testing.T) {
	t.Parallel()
	testutil.Require(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := opusTrack(t, "gus")
	srv, url := startServer(t, "", tr)
	r := record(t, ctx, url, whep.Options{})

	// One tone with seq numbers contiguous throughout (as an SFU forwards a stream): 440 Hz, muted
	// from 13 s to 14 s of its own time, so where it resumes shows where the recorder put it.
	sent := time.Now()
	toneDone := make(chan error, 1)
	go func() {
		toneDone <- rtptone.Send(ctx, tr, rtptone.Tone{Freq: 440, Duration: 16 * time.Second, Mute: [][2]time.Duration{{13 * time.Second, 14 * time.Second}}})
	}()
	time.Sleep(time.Second)
	broke := time.Now()
	srv.BreakMediaForTest()
	var back time.Time
	for back.IsZero() {
		if time.Since(sent) > 12500*time.Millisecond {
			t.Fatalf("no reconnect within %v of the break; events %v", time.Since(broke), r.eventTypes())
		}
		for _, e := range r.eventTypes() {
			if e == "reconnected" {
				back = time.Now()
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("reconnected %v after the break", back.Sub(broke).Round(time.Millisecond))
	if err := <-toneDone; err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	start := r.rec.Start()
	s := r.finish(t, nil)
	if n := srv.Sessions(); n != 0 {
		t.Errorf("the server holds %d session(s): the broken one was not deleted", n)
	}
	m := s.Manifest
	gus := trackOf(t, m, "gus")
	var gap *session.Gap
	for i, g := range m.Gaps {
		if g.Cause == "reconnecting" {
			gap = &m.Gaps[i]
		}
	}
	if gap == nil {
		t.Fatalf("no reconnecting gap in %+v", m.Gaps)
	}
	if d := session.Duration(gap.StartTicks) - broke.Sub(start); d < 0 || d > 7*time.Second {
		t.Errorf("the gap starts %v after the break", d)
	}
	pcm := testutil.Mono(testutil.FFmpegDecode(t, s.Path(gus.File), 48000, 0), gus.Channels)
	at := func(d time.Duration) time.Duration {
		return session.Duration(mediaAt(gus, session.Ticks(d)))
	}
	s0 := sent.Sub(start)
	before := window(pcm, at(s0+300*time.Millisecond), at(broke.Sub(start)-200*time.Millisecond))
	muted := window(pcm, at(s0+13200*time.Millisecond), at(s0+13800*time.Millisecond))
	after := window(pcm, at(s0+14200*time.Millisecond), at(s0+15800*time.Millisecond))
	t.Logf("timeline %+v, ssrcs %v, gaps %+v, samples %d", gus.Timeline, gus.SSRCs, m.Gaps, gus.Samples)
	if before == nil || muted == nil || after == nil {
		t.Fatalf("track too short (%.2f s) for the windows", float64(len(pcm))/48000)
	}
	if f := dominant(before); math.Abs(f-440) > 10 {
		t.Errorf("before the break: %.0f Hz, want 440", f)
	}
	if p := power(muted, 440); p > 1e-6 {
		t.Errorf("the tone was muted from 13 s to 14 s, but the file holds 440 Hz (power %.2g) there", p)
	}
	if p, f := power(after, 440), dominant(after); math.Abs(f-440) > 10 || p < 1e-3 {
		t.Errorf("after the reconnect and the mute: %.0f Hz, 440 Hz power %.2g at the session time it was sent", f, p)
	}
}
