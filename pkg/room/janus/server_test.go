package janus

// The real Janus (Debian's janus 1.1.2) and pion speakers for the end-to-end tests. Janus runs in
// the client namespace of internal/testutil/netns (10.77.0.2 on sc1, its ICE held to sc1); the test
// process, with the recorder and the speakers, is on the other end of the veth (10.77.0.1 on sc0).
// Nothing reaches the machine's own interfaces.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	hopus "gopkg.in/hraban/opus.v2"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/session"
)

// Rooms of the test server: each plugin's own, one both have (for detection), one with a PIN.
// AudioBridge's ids are strings (string_ids), VideoRoom's numbers.
const (
	vrRoom    = "2001"
	abRoom    = "3001"
	bothRoom  = "4001"
	pinRoom   = "5001"
	roomPIN   = "8642"
	janusPort = 8088
)

// recName is how the recorder shows itself in the tests' rooms.
const recName = "⏺ REC spacecast test"

type janusServer struct {
	t    *testing.T
	ns   *netns.NS
	dir  string
	log  string
	url  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startJanus writes a minimal configuration (HTTP transport on the client address, ICE held to
// the client interface, AudioBridge and VideoRoom with the test rooms) and starts Janus in the
// client namespace.
func startJanus(t *testing.T, ns *netns.NS) *janusServer {
	t.Helper()
	bin := testutil.Require(t, "janus")
	libdir := "/usr/lib/x86_64-linux-gnu/janus"
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err == nil && !bytes.Contains(out, []byte("1.1.")) {
		t.Logf("janus --version: %s (the tests were written against 1.1.2)", bytes.TrimSpace(out))
	}
	if m, _ := filepath.Glob("/usr/lib/*/janus/plugins/libjanus_videoroom.so"); len(m) > 0 {
		libdir = filepath.Dir(filepath.Dir(m[0]))
	}
	dir := t.TempDir()
	files := map[string]string{
		"janus.jcfg": fmt.Sprintf(`general: {
	configs_folder = "%[1]s"
	plugins_folder = "%[2]s/plugins"
	transports_folder = "%[2]s/transports"
	events_folder = "%[2]s/events"
	loggers_folder = "%[2]s/loggers"
	debug_level = 4
	admin_secret = "not-used"
	session_timeout = 60
}
certificates: {}
media: { rtp_port_range = "20000-20999" }
nat: {
	ice_enforce_list = "%[3]s"
	ignore_mdns = true
}
plugins: { disable = "libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so" }
transports: { disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so,libjanus_websockets.so" }
loggers: { disable = "libjanus_jsonlog.so" }
events: { broadcast = false }
`, dir, libdir, ns.ClientIface),
		"janus.transport.http.jcfg": fmt.Sprintf(`general: { json = "plain" base_path = "/janus" http = true port = %d interface = "%s" https = false }
admin: { admin_http = false admin_https = false }
cors: {}
`, janusPort, ns.ClientIface),
		"janus.plugin.videoroom.jcfg": fmt.Sprintf(`general: {}
room-%s: { description = "VideoRoom test room" publishers = 6 audiocodec = "opus" videocodec = "vp8" }
room-%s: { description = "In both plugins" publishers = 6 audiocodec = "opus" }
room-%s: { description = "With a PIN" publishers = 6 audiocodec = "opus" pin = "%s" }
`, vrRoom, bothRoom, pinRoom, roomPIN),
		// AudioBridge takes string ids here: the recorder, given digits, must find that out.
		"janus.plugin.audiobridge.jcfg": fmt.Sprintf(`general: { string_ids = true }
room-%s: { description = "AudioBridge test room" sampling_rate = 48000 }
room-%s: { description = "In both plugins" sampling_rate = 48000 }
`, abRoom, bothRoom),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitClientCarrier(t, ns)
	j := &janusServer{t: t, ns: ns, dir: dir, log: filepath.Join(dir, "janus.log"),
		url: fmt.Sprintf("http://%s:%d/janus", ns.ClientIP, janusPort)}
	t.Cleanup(func() {
		j.stop()
		if t.Failed() {
			b, _ := os.ReadFile(j.log)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("janus log (end):\n%s", b)
		}
	})
	j.start()
	return j
}

// waitClientCarrier waits until the client end of the veth is operationally up: the kernel
// reports a veth's carrier up to a second late (linkwatch), and Janus ignores an interface that is
// not running (its ICE enforce list and HTTP bind find no address).
func waitClientCarrier(t *testing.T, ns *netns.NS) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := ns.ClientCommand(context.Background(), "ip", "-o", "link", "show", "dev", ns.ClientIface).CombinedOutput()
		if err != nil {
			t.Fatalf("ip link show %s in the client namespace: %v: %s", ns.ClientIface, err, out)
		}
		if bytes.Contains(out, []byte("state UP")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up within 5 s: %s", ns.ClientIface, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (j *janusServer) start() {
	j.t.Helper()
	logf, err := os.OpenFile(j.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		j.t.Fatal(err)
	}
	cmd := j.ns.ClientCommand(context.Background(), "janus", "-C", filepath.Join(j.dir, "janus.jcfg"), "-F", j.dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := netns.StartTied(cmd); err != nil {
		logf.Close()
		j.t.Fatalf("start janus: %v", err)
	}
	j.cmd, j.done = cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(j.done)
	}()
	deadline := time.Now().Add(15 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(j.url + "/info")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-j.done:
			j.t.Fatalf("janus exited at start; see %s", j.log)
		default:
		}
		if time.Now().After(deadline) {
			j.t.Fatalf("janus did not answer on %s within 15 s: %v", j.url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills Janus at once (a crash, as far as its clients can tell).
func (j *janusServer) stop() {
	if j.cmd == nil {
		return
	}
	j.cmd.Process.Kill()
	<-j.done
	j.cmd = nil
}

// restart kills Janus and starts it again: every session, handle and PeerConnection is gone.
func (j *janusServer) restart() {
	j.stop()
	j.start()
}

// testRTC keeps pion on the test process's end of the veth.
func testRTC(ns *netns.NS) rtc.Options { return rtc.Options{Interfaces: []string{ns.ServerIface}} }

// speaker is a pion participant that publishes Opus: silence, with tones when asked.
type speaker struct {
	t       *testing.T
	plugin  string
	display string
	freq    float64
	cl      *client
	sess    *apiSession
	handle  uint64
	api     *webrtc.API

	mu    sync.Mutex
	pc    *webrtc.PeerConnection
	stop  context.CancelFunc
	wg    sync.WaitGroup
	tone  int // frames of tone still to send
	onset chan time.Time
}

// newSpeaker joins the room (VideoRoom as a publisher, AudioBridge unmuted) under display.
func newSpeaker(t *testing.T, ns *netns.NS, url, plugin, roomID, display string, freq float64) *speaker {
	t.Helper()
	api, err := rtc.NewAPI(testRTC(ns))
	if err != nil {
		t.Fatal(err)
	}
	s := &speaker{t: t, plugin: plugin, display: display, freq: freq, cl: newClient(url, "", ""), api: api}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.sess, err = s.cl.createSession(ctx); err != nil {
		t.Fatalf("speaker %s: %v", display, err)
	}
	if s.handle, err = s.sess.attach(ctx, pluginName(plugin)); err != nil {
		t.Fatalf("speaker %s: %v", display, err)
	}
	var id any = parseRoomID(roomID)
	if plugin == AudioBridge {
		id = roomID // the test server's AudioBridge has string ids
	}
	body := map[string]any{"request": "join", "room": id, "display": display}
	if roomID == pinRoom {
		body["pin"] = roomPIN
	}
	if plugin == VideoRoom {
		body["ptype"] = "publisher"
	} else {
		body["muted"] = false
	}
	if _, _, err := s.sess.request(ctx, s.handle, body, nil); err != nil {
		t.Fatalf("speaker %s joins: %v", display, err)
	}
	t.Cleanup(s.close)
	return s
}

// publish negotiates a new PeerConnection (a new SSRC) and starts sending silence.
func (s *speaker) publish() {
	s.t.Helper()
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		s.t.Fatal(err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		"audio", s.display)
	if err != nil {
		s.t.Fatal(err)
	}
	dir := webrtc.RTPTransceiverDirectionSendonly
	if s.plugin == AudioBridge {
		dir = webrtc.RTPTransceiverDirectionSendrecv // AudioBridge sends the mix back
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: dir})
	if err != nil {
		s.t.Fatal(err)
	}
	go func() { // read RTCP so the interceptors run
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Sender().Read(buf); err != nil {
				return
			}
		}
	}()
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		s.t.Fatal(err)
	}
	<-gathered
	body := map[string]any{"request": "publish"}
	if s.plugin == AudioBridge {
		body = map[string]any{"request": "configure", "muted": false}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, ans, err := s.sess.request(ctx, s.handle, body, &jsep{Type: "offer", SDP: pc.LocalDescription().SDP})
	if err != nil || ans == nil {
		s.t.Fatalf("speaker %s publishes: %v (answer %v)", s.display, err, ans)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-connected:
	case <-ctx.Done():
		s.t.Fatalf("speaker %s: PeerConnection to Janus did not connect", s.display)
	}
	sctx, stop := context.WithCancel(context.Background())
	s.mu.Lock()
	s.pc, s.stop = pc, stop
	s.mu.Unlock()
	s.wg.Add(1)
	go s.send(sctx, track)
}

// send paces 20 ms Opus frames: silence, or the speaker's tone while tone > 0.
func (s *speaker) send(ctx context.Context, track *webrtc.TrackLocalStaticRTP) {
	defer s.wg.Done()
	enc, err := hopus.NewEncoder(48000, 1, hopus.AppAudio)
	if err != nil {
		s.t.Error(err)
		return
	}
	pcm := make([]float32, 960)
	buf := make([]byte, 1500)
	var seq uint16 = 1000
	var ts uint32 = 90000
	phase := 0.0
	start := time.Now()
	for i := 0; ; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * 20 * time.Millisecond)); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		} else if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		on := s.tone > 0
		first := on && s.onset != nil
		if on {
			s.tone--
		}
		onset := s.onset
		if first {
			s.onset = nil
		}
		s.mu.Unlock()
		for j := range pcm {
			pcm[j] = 0
			if on {
				pcm[j] = float32(0.3 * math.Sin(phase))
				phase += 2 * math.Pi * s.freq / 48000
			}
		}
		n, err := enc.EncodeFloat32(pcm, buf)
		if err != nil {
			s.t.Error(err)
			return
		}
		if first {
			onset <- time.Now()
		}
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: rtc.OpusPayloadType, SequenceNumber: seq, Timestamp: ts}, Payload: buf[:n]}
		if err := track.WriteRTP(p); err != nil {
			return
		}
		seq++
		ts += 960
	}
}

// say sends the tone for d and returns the wall-clock time its first frame left.
func (s *speaker) say(d time.Duration) time.Time {
	s.t.Helper()
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	s.tone = int(d / (20 * time.Millisecond))
	s.onset = ch
	s.mu.Unlock()
	select {
	case at := <-ch:
		return at
	case <-time.After(2 * time.Second):
		s.t.Fatalf("speaker %s: the tone did not start", s.display)
		return time.Time{}
	}
}

// hangup stops sending and closes the PeerConnection.
func (s *speaker) hangup() {
	s.mu.Lock()
	pc, stop := s.pc, s.stop
	s.pc, s.stop = nil, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
		s.wg.Wait()
	}
	if pc != nil {
		pc.Close()
	}
}

// unpublish stops publishing (VideoRoom) but stays in the room.
func (s *speaker) unpublish() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := s.sess.request(ctx, s.handle, map[string]any{"request": "unpublish"}, nil); err != nil {
		s.t.Fatalf("speaker %s unpublishes: %v", s.display, err)
	}
	s.hangup()
}

// leave leaves the room and ends the speaker's session.
func (s *speaker) leave() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := s.sess.request(ctx, s.handle, map[string]any{"request": "leave"}, nil); err != nil {
		s.t.Fatalf("speaker %s leaves: %v", s.display, err)
	}
	s.close()
}

func (s *speaker) close() {
	s.hangup()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.sess.close(ctx, true)
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
