package whep_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/relay"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/room/whep"
	"github.com/spacecast/spacecast/pkg/room/whep/whepserver"
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
func startServer(t *testing.T, token string, tracks ...webrtc.TrackLocal) (*whepserver.Server, string) {
	t.Helper()
	srv, err := whepserver.New(whepserver.Options{Tracks: tracks, BearerToken: token, RTC: loopback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, serveAt(t, srv)
}

// serveAt serves endpoint at http://127.0.0.1:PORT/whep/test, until the test ends.
func serveAt(t *testing.T, endpoint http.Handler) string {
	mux := http.NewServeMux()
	mux.Handle("/whep/test", endpoint)
	mux.Handle("/whep/test/", endpoint)
	hs := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(hs.Close)
	return hs.URL + "/whep/test"
}

// mediaCut is a WHEP endpoint in front of a server that puts the media of the first session
// through UDP relays (internal/testutil/relay), so a test can fail the network under that session
// while its URL still answers. The offer reaches the server without the recorder's candidates and
// the answer comes back with a relay in place of each of the server's, so the relays are the only
// path either way (each side learns the other's peer-reflexive address through them). Later
// sessions, the recorder's reconnects, go direct.
type mediaCut struct {
	t      *testing.T
	server http.Handler

	mu     sync.Mutex
	first  bool // the first session was made
	relays []*relay.Relay
}

// cutMedia puts a mediaCut in front of server and returns its endpoint's URL.
func cutMedia(t *testing.T, server http.Handler) (*mediaCut, string) {
	m := &mediaCut{t: t, server: server}
	t.Cleanup(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, r := range m.relays {
			r.Close()
		}
	})
	return m, serveAt(t, m)
}

func (m *mediaCut) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	first := !m.first && r.Method == http.MethodPost
	m.first = m.first || first
	m.mu.Unlock()
	if !first {
		m.server.ServeHTTP(w, r)
		return
	}
	offer, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(m.candidates(string(offer), nil)))
	r.ContentLength = -1
	res := httptest.NewRecorder()
	m.server.ServeHTTP(res, r)
	body := res.Body.String()
	if res.Code == http.StatusCreated {
		body = m.candidates(body, m.relay)
	}
	maps.Copy(w.Header(), res.Header())
	w.WriteHeader(res.Code)
	io.WriteString(w, body)
}

// candidates rewrites the candidate lines of an SDP: each UDP candidate's address becomes what
// to says (none without to), and the others go.
func (m *mediaCut) candidates(sdp string, to func(addr string) string) string {
	var out []string
	for _, l := range strings.SplitAfter(sdp, "\n") {
		f := strings.Fields(l)
		if !strings.HasPrefix(l, "a=candidate:") {
			out = append(out, l)
			continue
		}
		if to == nil || len(f) < 6 || !strings.EqualFold(f[2], "udp") {
			continue
		}
		host, port, err := net.SplitHostPort(to(net.JoinHostPort(f[4], f[5])))
		if err != nil {
			m.t.Error(err)
			continue
		}
		f[4], f[5] = host, port
		out = append(out, strings.Join(f, " ")+"\r\n")
	}
	return strings.Join(out, "")
}

// relay starts a relay to the server's address and returns where the recorder is to send.
func (m *mediaCut) relay(addr string) string {
	r, err := relay.New("127.0.0.1:0", addr, relay.Faults{})
	if err != nil {
		m.t.Error(err)
		return addr
	}
	m.mu.Lock()
	m.relays = append(m.relays, r)
	m.mu.Unlock()
	return r.Addr().String()
}

// cut drops every packet of the first session, both ways, from now on: a dead network.
func (m *mediaCut) cut() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.relays) == 0 {
		m.t.Fatal("no media went through the relay: the first session was not made through the cut")
	}
	for _, r := range m.relays {
		if err := r.SetFaults(relay.Faults{Loss: 1}); err != nil {
			m.t.Fatal(err)
		}
	}
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
		out = append(out, string(e.Type))
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
	srv, err := whepserver.New(whepserver.Options{Tracks: []webrtc.TrackLocal{opusTrack(t, "erin")}, RTC: loopback})
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

// forwarder passes a sender's packets to the server's track as an SFU forwards a stream:
// sequence numbers contiguous throughout, also across a pause (mute: the timestamp jumps). It
// notes when it forwarded what, the truth the recording is judged against.
type forwarder struct {
	tr *webrtc.TrackLocalStaticRTP

	mu        sync.Mutex
	seq       uint16
	first     time.Time // when the first packet was forwarded
	last      time.Time // and the last
	hold      int       // packets still to hold back (the mute)
	muteFrom  time.Time // the first packet held back
	muteTo    time.Time // the first packet forwarded after the mute
	after     int       // packets forwarded since the mute
	afterDone chan struct{}
	afterWant int
}

func (f *forwarder) WriteRTP(p *rtp.Packet) error {
	f.mu.Lock()
	now := time.Now()
	if f.hold > 0 {
		if f.muteFrom.IsZero() {
			f.muteFrom = now
		}
		f.hold--
		f.mu.Unlock()
		return nil
	}
	if !f.muteFrom.IsZero() {
		if f.muteTo.IsZero() {
			f.muteTo = now
		}
		if f.after++; f.after == f.afterWant {
			close(f.afterDone)
		}
	}
	q := *p
	q.SequenceNumber = f.seq
	f.seq++
	if f.first.IsZero() {
		f.first = now
	}
	f.last = now
	f.mu.Unlock()
	return f.tr.WriteRTP(&q)
}

// mute holds back the next n packets, and says when m more have been forwarded after them.
func (f *forwarder) mute(n, m int) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold, f.afterWant, f.afterDone = n, m, make(chan struct{})
	return f.afterDone
}

// written is how many packets of speaker's the recorder has written or given up (in any track:
// trackOf judges how many there are).
func (r *recording) written(speaker string) uint64 {
	var n uint64
	for _, tr := range r.rec.Stats().Tracks {
		if tr.Identity == speaker {
			n += tr.Received + tr.Lost
		}
	}
	return n
}

// waitWritten waits until the recorder has written n packets of speaker's.
func (r *recording) waitWritten(t *testing.T, ctx context.Context, speaker string, n uint64) {
	t.Helper()
	for r.written(speaker) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("the recorder wrote %d packets of %s's, want %d; events %v; tracks %+v", r.written(speaker), speaker, n, r.eventTypes(), r.rec.Stats().Tracks)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitEvent waits for an event of type typ and returns when it was seen.
func (r *recording) waitEvent(t *testing.T, ctx context.Context, typ string) time.Time {
	t.Helper()
	for !slices.Contains(r.eventTypes(), typ) {
		select {
		case <-ctx.Done():
			t.Fatalf("no %s event; events %v", typ, r.eventTypes())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return time.Now()
}

// TestReconnect: when the network under the media connection fails (a relay on its path drops
// every packet, both ways) while the session URL still answers, Run posts a new offer, deletes the
// dead session, marks the gap from where the room was last heard, and the speaker's audio after it
// lands in the same file at the right time on the session clock.
//
// Each step waits for what it needs (media written, the reconnect, a pause sent), bounded only by
// the test's context: how long the reconnect takes is up to ICE (disconnected 5–7 s after the
// last packet, pion looks every 2 s) plus 3 s plus the new session, 8–10 s unloaded, and more on
// a loaded machine. Where the recording puts the sound is judged against when the forwarder
// actually sent it, not against the tone's schedule, which a starved sender does not keep.
func TestReconnect(t *testing.T) {
	t.Parallel()
	testutil.Require(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := opusTrack(t, "gus")
	srv, _ := startServer(t, "", tr)
	media, url := cutMedia(t, srv)
	r := record(t, ctx, url, whep.Options{})

	// A 440 Hz tone, longer than the test needs: stopped once judged enough.
	fw := &forwarder{tr: tr}
	toneCtx, stopTone := context.WithCancel(ctx)
	defer stopTone()
	toneDone := make(chan error, 1)
	go func() {
		toneDone <- rtptone.Send(toneCtx, fw, rtptone.Tone{Freq: 440, Duration: 50 * time.Second})
	}()
	r.waitWritten(t, ctx, "gus", 50) // a second of tone recorded
	fw.mu.Lock()
	first, lastBefore := fw.first, fw.last
	broke := time.Now()
	fw.mu.Unlock()
	media.cut()
	back := r.waitEvent(t, ctx, "reconnected")
	t.Logf("reconnected %v after the break", back.Sub(broke).Round(time.Millisecond))

	// Once the tone is recorded again, a 1 s pause (50 packets held back, the sequence numbers
	// contiguous), then 2 s more: where the tone resumes shows where the recorder put it.
	r.waitWritten(t, ctx, "gus", r.written("gus")+25)
	w0 := r.written("gus")
	resumed := fw.mute(50, 100)
	select {
	case <-resumed:
	case err := <-toneDone:
		t.Fatalf("the tone ended (%v) before the pause and 2 s after it were sent", err)
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	r.waitWritten(t, ctx, "gus", w0+100)
	stopTone()
	if err := <-toneDone; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	fw.mu.Lock()
	muteFrom, muteTo := fw.muteFrom, fw.muteTo
	fw.mu.Unlock()

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
	// The gap starts at the last packet the recorder read before the break: after the forwarder's
	// last one was sent (give or take a packet the relay dropped as it was cut), and no later than
	// a delivery after the break.
	if g := start.Add(session.Duration(gap.StartTicks)); g.Before(lastBefore.Add(-100*time.Millisecond)) || g.After(broke.Add(time.Second)) {
		t.Errorf("the gap starts %v after the last packet sent before the break (the break %v after it), want about there",
			g.Sub(lastBefore).Round(time.Millisecond), broke.Sub(lastBefore).Round(time.Millisecond))
	}
	if end := start.Add(session.Duration(gap.StartTicks + gap.DurationTicks)); end.Before(broke) || end.After(back.Add(time.Second)) {
		t.Errorf("the gap ends %v after the reconnected event, want about there", end.Sub(back).Round(time.Millisecond))
	}
	pcm := testutil.Mono(testutil.FFmpegDecode(t, s.Path(gus.File), 48000, 0), gus.Channels)
	at := func(w time.Time) time.Duration {
		return session.Duration(mediaAt(gus, session.Ticks(w.Sub(start))))
	}
	before := window(pcm, at(first.Add(300*time.Millisecond)), at(broke.Add(-200*time.Millisecond)))
	muted := window(pcm, at(muteFrom.Add(200*time.Millisecond)), at(muteTo.Add(-200*time.Millisecond)))
	after := window(pcm, at(muteTo.Add(200*time.Millisecond)), at(muteTo.Add(1600*time.Millisecond)))
	t.Logf("timeline %+v, ssrcs %v, gaps %+v, samples %d; pause sent %v–%v after the break", gus.Timeline, gus.SSRCs, m.Gaps, gus.Samples,
		muteFrom.Sub(broke).Round(time.Millisecond), muteTo.Sub(broke).Round(time.Millisecond))
	if before == nil || muted == nil || after == nil {
		t.Fatalf("track too short (%.2f s) for the windows", float64(len(pcm))/48000)
	}
	if f := dominant(before); math.Abs(f-440) > 10 {
		t.Errorf("before the break: %.0f Hz, want 440", f)
	}
	if p := power(muted, 440); p > 1e-6 {
		t.Errorf("the tone paused for %v, but the file holds 440 Hz (power %.2g) there", muteTo.Sub(muteFrom).Round(time.Millisecond), p)
	}
	if p, f := power(after, 440), dominant(after); math.Abs(f-440) > 10 || p < 1e-3 {
		t.Errorf("after the reconnect and the pause: %.0f Hz, 440 Hz power %.2g at the session time it was sent", f, p)
	}
}
