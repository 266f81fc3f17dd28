package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/lkserver"
	"github.com/spacecast/spacecast/internal/testutil/lkspeaker"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/relay"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/session"
)

// faultRoom is a real livekit-server on the server side of the test's veth pair, pion speakers
// beside it, and the recorder as a subprocess on the client side, so the network between the
// recorder and the room can be cut, restarted or made lossy.
type faultRoom struct {
	t    *testing.T
	ns   *netns.NS
	srv  *lkserver.Server
	room string
}

func newFaultRoom(t *testing.T, ns *netns.NS, room string, c lkserver.Config) *faultRoom {
	t.Helper()
	testutil.Require(t, "opusdec")
	testutil.Require(t, "ffmpeg")
	c.BindIP, c.Interfaces = ns.ServerIP, []string{ns.ServerIface}
	return &faultRoom{t: t, ns: ns, srv: lkserver.Start(t, c), room: room}
}

// faultSpeaker is a pion speaker on the server side. Its packets go through a continuous writer,
// so tones sent one after another form one RTP stream, as from one microphone.
type faultSpeaker struct {
	s    *lkspeaker.Speaker
	w    *continuousWriter
	stop sync.Once
}

// join joins identity and publishes its microphone; a speaker who joins again after a restart
// is a new connection with the same identity.
func (r *faultRoom) join(identity string) *faultSpeaker {
	r.t.Helper()
	tok, err := lkspeaker.Token(r.srv.APIKey, r.srv.APISecret, r.room, identity, identity, time.Hour)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := lkspeaker.Join(ctx, r.srv.URL, tok, rtc.Options{Interfaces: []string{r.ns.ServerIface}})
	if err != nil {
		r.t.Fatalf("%s joins: %v", identity, err)
	}
	tr, err := s.Publish(ctx, "mic")
	if err != nil {
		s.Close()
		r.t.Fatalf("%s publishes: %v", identity, err)
	}
	sp := &faultSpeaker{s: s, w: &continuousWriter{w: tr}}
	r.t.Cleanup(sp.leave)
	return sp
}

// send sends tone in the background until it ends or ctx does; the channel gets Send's result.
func (sp *faultSpeaker) send(ctx context.Context, tone rtptone.Tone) <-chan error {
	done := make(chan error, 1)
	go func() { done <- rtptone.Send(ctx, sp.w, tone) }()
	return done
}

func (sp *faultSpeaker) leave() { sp.stop.Do(sp.s.Close) }

// continuousWriter makes the packets of tones sent one after another one stream, as from one
// microphone: sequence numbers and timestamps follow on from the last packet, and packet n leaves
// no earlier than 20 ms × n after the first (a new tone's first packet would otherwise leave at
// once, up to 20 ms before its timestamp says). It counts the packets.
type continuousWriter struct {
	w    rtptone.Writer
	mu   sync.Mutex
	n    uint32
	t0   time.Time
	sent atomic.Int64
}

func (c *continuousWriter) WriteRTP(p *rtp.Packet) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		c.t0 = time.Now()
	}
	time.Sleep(time.Until(c.t0.Add(time.Duration(c.n) * 20 * time.Millisecond)))
	q := *p // the caller's packet stays as it was
	q.SequenceNumber = uint16(1000 + c.n)
	q.Timestamp = 5000 + 960*c.n
	c.n++
	c.sent.Add(1)
	return c.w.WriteRTP(&q)
}

// recordArgs are the recorder's arguments; network is --interface sc1 or --loopback.
func (r *faultRoom) recordArgs(dir string, extra ...string) []string {
	return append([]string{"record", r.srv.URL, "--room", r.room, "--api-key", r.srv.APIKey, "--api-secret", r.srv.APISecret,
		"-o", dir, "--json"}, extra...)
}

// startClientRecorder runs `spacecast record` on the client side, tied to the test binary, and
// reads its JSON events like startRecorder.
func startClientRecorder(t *testing.T, ns *netns.NS, args ...string) *recorder {
	t.Helper()
	cmd := ns.ClientCommand(context.Background(), spacecastBinary(t), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	rc := &recorder{cmd: cmd, events: make(chan map[string]any, 256), done: make(chan error, 1)}
	cmd.Stderr = &rc.stderr
	if err := netns.StartTied(cmd); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e map[string]any
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				rc.events <- e
			}
		}
		err := cmd.Wait()
		close(rc.events)
		rc.done <- err
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return rc
}

// waitAll reads events until one of each type was seen (in any order) and returns them with the
// wall-clock time each was read.
func (rc *recorder) waitAll(t *testing.T, timeout time.Duration, types ...string) map[string]timedEvent {
	t.Helper()
	got := map[string]timedEvent{}
	deadline := time.After(timeout)
	for len(got) < len(types) {
		select {
		case e, ok := <-rc.events:
			if !ok {
				t.Fatalf("recorder exited before %v (seen %v); stderr:\n%s", types, seenTypes(got), rc.stderr.String())
			}
			typ, _ := e["type"].(string)
			for _, want := range types {
				if typ == want {
					if _, seen := got[typ]; !seen {
						got[typ] = timedEvent{e: e, wall: time.Now()}
					}
				}
			}
		case <-deadline:
			rc.cmd.Process.Signal(syscall.SIGQUIT)
			time.Sleep(time.Second)
			t.Fatalf("within %v saw only %v of %v; stderr:\n%s", timeout, seenTypes(got), types, rc.stderr.String())
		}
	}
	return got
}

type timedEvent struct {
	e    map[string]any
	wall time.Time
}

func seenTypes(m map[string]timedEvent) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	return s
}

// finish reads the events to the end and returns the summary line and the exit status.
func (rc *recorder) finish(t *testing.T, within time.Duration) (summary map[string]any, code int) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e, ok := <-rc.events:
			if !ok {
				err := <-rc.done
				var ee *exec.ExitError
				if err != nil && !errors.As(err, &ee) {
					t.Fatalf("record: %v", err)
				}
				return summary, rc.cmd.ProcessState.ExitCode()
			}
			if _, ok := e["session"]; ok {
				summary = e
			}
		case <-deadline:
			rc.cmd.Process.Signal(syscall.SIGQUIT)
			time.Sleep(time.Second)
			t.Fatalf("still recording after %v; stderr:\n%s", within, rc.stderr.String())
		}
	}
}

// onSessionClock is a track decoded by opusdec (mono) and placed by its timeline as
// docs/session-format.md says (samples a backward correction overlaps are dropped): sample i of
// the result is session tick i. Ticks the track does not cover are silence.
func onSessionClock(t *testing.T, s *session.Session, tr session.Track) []float32 {
	t.Helper()
	x := testutil.Mono(testutil.OpusdecDecode(t, s.Path(tr.File)), tr.Channels)
	out := make([]float32, s.Manifest.DurationTicks)
	tl, a, last := tr.Timeline, 0, int64(-1)
	for m := range x {
		for a+1 < len(tl) && tl[a+1].MediaSample <= int64(m) {
			a++
		}
		tick := tl[a].SessionTicks + int64(m) - tl[a].MediaSample
		if tick <= last || tick < 0 || tick >= int64(len(out)) {
			continue
		}
		out[tick], last = x[m], tick
	}
	return out
}

// sessionAt is the session time of a wall-clock moment (the recorder and the test share the clock).
func sessionAt(m *session.Manifest, wall time.Time) time.Duration { return wall.Sub(m.StartedAt) }

// toneIn is the RMS at freq of the session-clock audio x between from and to (clamped to x).
func toneIn(x []float32, from, to time.Duration, freq float64) float64 {
	a := max(0, min(int64(len(x)), session.Ticks(from)))
	b := max(a, min(int64(len(x)), session.Ticks(to)))
	return toneEnergy(x[a:b], freq)
}

// quietWindows lists the windows of length w in [from, to) whose RMS at freq is below floor.
func quietWindows(x []float32, from, to, w time.Duration, freq, floor float64) []string {
	var q []string
	for at := from; at+w <= to; at += w {
		if p := toneIn(x, at, at+w, freq); p < floor {
			q = append(q, fmt.Sprintf("%.2fs:%.3f", at.Seconds(), p))
		}
	}
	return q
}

// reconnectGaps are the manifest's room-wide gaps caused by reconnecting. The session's length
// is the end of its last track or gap (docs/session-format.md).
func reconnectGaps(t *testing.T, m *session.Manifest) []session.Gap {
	t.Helper()
	var gs []session.Gap
	for _, g := range m.Gaps {
		if g.Cause == "reconnecting" {
			gs = append(gs, g)
		}
		if end := g.StartTicks + g.DurationTicks; end > m.DurationTicks {
			t.Errorf("the %s gap ends at %.3f s, after the session's duration_ticks %.3f s", g.Cause, tickSecs(end), tickSecs(m.DurationTicks))
		}
	}
	return gs
}

func tickSecs(ticks int64) float64 { return session.Duration(ticks).Seconds() }

// toneAmp is the speakers' amplitude; a tone of amplitude A has RMS A/√2 at its frequency.
const toneAmp = 0.3

// TestRecordLinkDown: the network between the recorder and the room dies for 10 s. The recorder
// says it is reconnecting, joins again when the link is back, records a reconnecting gap covering
// the silence, and keeps alice's tone in one file before and after, each part where it belongs
// on the session clock; SIGINT then finalizes and exits 0.
func TestRecordLinkDown(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		r := newFaultRoom(t, ns, "link-down", lkserver.Config{})
		alice := r.join("alice")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		alice.send(ctx, rtptone.Tone{Freq: 440, Amp: toneAmp, Duration: time.Minute})
		dir := filepath.Join(t.TempDir(), "session")
		rc := startClientRecorder(t, ns, r.recordArgs(dir, "--interface", ns.ClientIface, "--wait", "10s")...)
		rc.waitAll(t, 20*time.Second, "speaker-joined")
		time.Sleep(3 * time.Second)

		down := time.Now()
		if ns.LinkDown() != nil {
			return
		}
		time.Sleep(10 * time.Second)
		upCalled := time.Now() // traffic may flow before LinkUp has seen the carrier come back
		if ns.LinkUp() != nil {
			return
		}
		up := time.Now()
		ev := rc.waitAll(t, 30*time.Second, "reconnecting", "reconnected", "gap", "speaker-joined")
		t.Logf("events after the link came back: reconnected %v after link up, speaker-joined %v after",
			ev["reconnected"].wall.Sub(up).Round(time.Millisecond), ev["speaker-joined"].wall.Sub(up).Round(time.Millisecond))
		if c := ev["gap"].e["cause"]; c != "reconnecting" {
			t.Errorf("gap event cause %v, want reconnecting", c)
		}
		time.Sleep(4 * time.Second)
		rc.cmd.Process.Signal(syscall.SIGINT)
		summary, code := rc.finish(t, 15*time.Second)
		if code != 0 || summary == nil || summary["reason"] != "interrupted" {
			t.Fatalf("exit %d, summary %v; stderr:\n%s", code, summary, rc.stderr.String())
		}

		s, err := session.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if !m.Finalized || len(m.Tracks) != 1 || m.Tracks[0].Participant != "alice" {
			t.Fatalf("manifest: finalized %v, tracks %+v", m.Finalized, m.Tracks)
		}
		downAt, upAt := sessionAt(m, down), sessionAt(m, up)
		gaps := reconnectGaps(t, m)
		if len(gaps) != 1 {
			t.Fatalf("reconnecting gaps %+v, want one", m.Gaps)
		}
		g := gaps[0]
		gStart, gEnd := session.Duration(g.StartTicks), session.Duration(g.StartTicks+g.DurationTicks)
		t.Logf("link down %.2f–%.2f s; reconnecting gap %.2f–%.2f s (%.2f s); track gaps %+v; ssrcs %v",
			downAt.Seconds(), upAt.Seconds(), gStart.Seconds(), gEnd.Seconds(), tickSecs(g.DurationTicks), m.Tracks[0].Gaps, m.Tracks[0].SSRCs)

		// The recorder notices the silence within 2 s (quiet for 1.5 s, checked every 0.5 s) and
		// starts the gap where it last heard the room; it is back within a few seconds of the link
		// (it retries with backoff).
		if d := gStart - downAt; d < -100*time.Millisecond || d > 500*time.Millisecond {
			t.Errorf("the reconnecting gap starts %v after the link went down, want within 0.5 s", d)
		}
		if d := gEnd - upAt; gEnd < sessionAt(m, upCalled) || d > 3*time.Second {
			t.Errorf("the reconnecting gap ends %v after the link came back, want within 3 s", d)
		}
		x := onSessionClock(t, s, m.Tracks[0])
		tr := m.Tracks[0]
		first := session.Duration(tr.Timeline[0].SessionTicks)
		if q := quietWindows(x, first+200*time.Millisecond, downAt-200*time.Millisecond, 500*time.Millisecond, 440, 0.1); len(q) > 0 {
			t.Errorf("before the outage, windows without the tone: %v", q)
		}
		if p := toneIn(x, downAt+300*time.Millisecond, gEnd, 440); p > 0.01 {
			t.Errorf("alice's track holds 440 Hz at RMS %.3f during the outage", p)
		}
		resumed := resumeAt(x, gEnd-time.Second, 440)
		t.Logf("the tone resumes at %.2f s (%.2f s after the gap's end)", resumed.Seconds(), (resumed - gEnd).Seconds())
		if resumed < 0 || resumed > gEnd+3*time.Second {
			t.Errorf("the tone resumes at %v, the gap ends at %v", resumed, gEnd)
		}
		end := session.Duration(m.DurationTicks)
		if q := quietWindows(x, resumed+200*time.Millisecond, end-500*time.Millisecond, 500*time.Millisecond, 440, 0.1); len(q) > 0 {
			t.Errorf("after the outage, windows without the tone: %v", q)
		}
	})
}

// resumeAt is the start of the first 20 ms window from `from` on holding the tone, or -1.
func resumeAt(x []float32, from time.Duration, freq float64) time.Duration {
	const w = 20 * time.Millisecond
	for at := max(0, from); session.Ticks(at+w) <= int64(len(x)); at += w {
		if toneIn(x, at, at+w, freq) > toneAmp/math.Sqrt2/2 {
			return at
		}
	}
	return -1
}

// TestRecordLinkNeverBack: the network dies and stays dead. With --reconnect-timeout 8s the
// recorder tries for 8 s after it notices, then finalizes what it has and exits with status 4
// (ExitRoom), saying why; the session holds the tone from before the outage and the gap.
func TestRecordLinkNeverBack(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		r := newFaultRoom(t, ns, "never-back", lkserver.Config{})
		alice := r.join("alice")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		alice.send(ctx, rtptone.Tone{Freq: 440, Amp: toneAmp, Duration: time.Minute})
		dir := filepath.Join(t.TempDir(), "session")
		rc := startClientRecorder(t, ns, r.recordArgs(dir, "--interface", ns.ClientIface, "--wait", "10s", "--reconnect-timeout", "8s")...)
		rc.waitAll(t, 20*time.Second, "speaker-joined")
		time.Sleep(2 * time.Second)

		down := time.Now()
		if ns.LinkDown() != nil {
			return
		}
		ev := rc.waitAll(t, 20*time.Second, "reconnecting")
		noticed := ev["reconnecting"].wall.Sub(down)
		summary, code := rc.finish(t, 20*time.Second)
		exited := time.Now()
		t.Logf("noticed %v after the link went down, exited %v after that with status %d; summary %v",
			noticed.Round(time.Millisecond), exited.Sub(ev["reconnecting"].wall).Round(time.Millisecond), code, summary)
		if code != ExitRoom {
			t.Errorf("exit status %d, want %d (ExitRoom); stderr:\n%s", code, ExitRoom, rc.stderr.String())
		}
		if tried := exited.Sub(ev["reconnecting"].wall); tried < 7500*time.Millisecond || tried > 9500*time.Millisecond {
			t.Errorf("gave up %v after it started reconnecting, want 8 s (--reconnect-timeout)", tried)
		}
		if !strings.Contains(rc.stderr.String(), "--reconnect-timeout") {
			t.Errorf("stderr does not name --reconnect-timeout:\n%s", rc.stderr.String())
		}
		if summary == nil || summary["reason"] != "lost the room" {
			t.Errorf("summary %v, want reason \"lost the room\"", summary)
		}

		s, err := session.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if !m.Finalized || len(m.Tracks) != 1 {
			t.Fatalf("manifest: finalized %v, %d tracks", m.Finalized, len(m.Tracks))
		}
		downAt := sessionAt(m, down)
		gaps := reconnectGaps(t, m)
		if len(gaps) != 1 {
			t.Fatalf("reconnecting gaps %+v, want one", m.Gaps)
		}
		g := gaps[0]
		gStart, gEnd := session.Duration(g.StartTicks), session.Duration(g.StartTicks+g.DurationTicks)
		t.Logf("link down at %.2f s; reconnecting gap %.2f–%.2f s; session %.2f s",
			downAt.Seconds(), gStart.Seconds(), gEnd.Seconds(), tickSecs(m.DurationTicks))
		if d := gStart - downAt; d < -100*time.Millisecond || d > 500*time.Millisecond {
			t.Errorf("the reconnecting gap starts %v after the link went down, want within 0.5 s", d)
		}
		if gEnd < sessionAt(m, exited)-time.Second {
			t.Errorf("the gap ends at %v, the recorder gave up at %v", gEnd, sessionAt(m, exited))
		}
		x := onSessionClock(t, s, m.Tracks[0])
		first := session.Duration(m.Tracks[0].Timeline[0].SessionTicks)
		if q := quietWindows(x, first+200*time.Millisecond, downAt-200*time.Millisecond, 500*time.Millisecond, 440, 0.1); len(q) > 0 {
			t.Errorf("before the outage, windows without the tone: %v", q)
		}
	})
}

// TestRecordServerRestart: the LiveKit server restarts under the recorder (rooms and
// participants gone). The recorder joins again as soon as the server is back, alice joins again
// with the same identity, and her tone continues in the same file, before and after where the
// session clock puts them, with the time the server was away a reconnecting gap.
func TestRecordServerRestart(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		r := newFaultRoom(t, ns, "restart", lkserver.Config{})
		alice := r.join("alice")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		alice.send(ctx, rtptone.Tone{Freq: 440, Amp: toneAmp, Duration: time.Minute})
		dir := filepath.Join(t.TempDir(), "session")
		rc := startClientRecorder(t, ns, r.recordArgs(dir, "--interface", ns.ClientIface, "--wait", "10s")...)
		first := rc.waitAll(t, 20*time.Second, "speaker-joined")["speaker-joined"]
		time.Sleep(3 * time.Second)

		stopped := time.Now()
		r.srv.Restart()
		restarted := time.Now()
		alice.leave() // her connection died with the server; she joins again, as a client app would
		alice = r.join("alice")
		alice.send(ctx, rtptone.Tone{Freq: 440, Amp: toneAmp, Duration: time.Minute})
		rejoined := time.Now()
		ev := rc.waitAll(t, 20*time.Second, "reconnecting", "reconnected", "gap", "speaker-joined")
		t.Logf("server stopped at +0, back at +%v; alice rejoined at +%v; the recorder reconnected at +%v, resubscribed at +%v (%v)",
			restarted.Sub(stopped).Round(time.Millisecond), rejoined.Sub(stopped).Round(time.Millisecond),
			ev["reconnected"].wall.Sub(stopped).Round(time.Millisecond), ev["speaker-joined"].wall.Sub(stopped).Round(time.Millisecond),
			ev["reconnecting"].e["cause"])
		if ev["speaker-joined"].e["track"] != first.e["track"] {
			t.Errorf("alice came back in track %v, was in %v: want the same file", ev["speaker-joined"].e["track"], first.e["track"])
		}
		time.Sleep(4 * time.Second)
		rc.cmd.Process.Signal(syscall.SIGINT)
		summary, code := rc.finish(t, 15*time.Second)
		if code != 0 || summary == nil || summary["reason"] != "interrupted" {
			t.Fatalf("exit %d, summary %v; stderr:\n%s", code, summary, rc.stderr.String())
		}

		s, err := session.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if !m.Finalized || len(m.Tracks) != 1 || len(m.Tracks[0].SSRCs) < 2 {
			t.Fatalf("manifest: finalized %v, tracks %+v (want alice's one track with two SSRCs)", m.Finalized, m.Tracks)
		}
		gaps := reconnectGaps(t, m)
		if len(gaps) != 1 {
			t.Fatalf("reconnecting gaps %+v, want one", m.Gaps)
		}
		g := gaps[0]
		gStart, gEnd := session.Duration(g.StartTicks), session.Duration(g.StartTicks+g.DurationTicks)
		stopAt, backAt := sessionAt(m, stopped), sessionAt(m, restarted)
		t.Logf("server stopped at %.2f s, ready at %.2f s; reconnecting gap %.2f–%.2f s; track gaps %+v",
			stopAt.Seconds(), backAt.Seconds(), gStart.Seconds(), gEnd.Seconds(), m.Tracks[0].Gaps)
		if gStart < stopAt-100*time.Millisecond || gStart > stopAt+time.Second || gEnd < backAt || gEnd > sessionAt(m, rejoined)+2*time.Second {
			t.Errorf("the gap %.2f–%.2f s does not cover the restart %.2f–%.2f s", gStart.Seconds(), gEnd.Seconds(), stopAt.Seconds(), backAt.Seconds())
		}
		x := onSessionClock(t, s, m.Tracks[0])
		begin := session.Duration(m.Tracks[0].Timeline[0].SessionTicks)
		if q := quietWindows(x, begin+200*time.Millisecond, stopAt-200*time.Millisecond, 500*time.Millisecond, 440, 0.1); len(q) > 0 {
			t.Errorf("before the restart, windows without the tone: %v", q)
		}
		if p := toneIn(x, stopAt+300*time.Millisecond, backAt, 440); p > 0.01 {
			t.Errorf("alice's track holds 440 Hz at RMS %.3f while the server was down", p)
		}
		resumed := resumeAt(x, backAt, 440)
		t.Logf("the tone resumes at %.2f s", resumed.Seconds())
		if resumed < 0 || resumed > sessionAt(m, ev["speaker-joined"].wall)+time.Second {
			t.Errorf("the tone resumes at %v, the recorder resubscribed at %v", resumed, sessionAt(m, ev["speaker-joined"].wall))
		}
		end := session.Duration(m.DurationTicks)
		if q := quietWindows(x, resumed+200*time.Millisecond, end-500*time.Millisecond, 500*time.Millisecond, 440, 0.1); len(q) > 0 {
			t.Errorf("after the restart, windows without the tone: %v", q)
		}
	})
}

// TestRecordLossyPath: the recorder's media goes through a relay (docs/testing.md: the only media
// path) that loses 5 % of the packets both ways, reorders 5 %, duplicates 2 % and adds up to
// 20 ms of jitter, from the join on. alice warms up at 1000 Hz until the recorder hears her, then
// sends exactly 8 s of 440 Hz in the same RTP stream. The 440 Hz stretch on the session clock must
// be 8 s within 100 ms with the tone in every 100 ms of it not next to a loss gap; duplicates are
// not recorded twice; every packet is received or counted lost, and the loss gaps add up to the
// packets counted lost. NACK retransmission recovers most of what the relay drops (measured: the
// relay dropped 33–37 packets on the way to the recorder, the recorder counted 1–7 lost).
func TestRecordLossyPath(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		r := newFaultRoom(t, ns, "lossy", lkserver.Config{NodeIP: "127.0.0.1"})
		var ln *net.UDPConn
		err := ns.InClient(func() (err error) {
			ln, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r.srv.Config.UDPPort})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		faults := relay.Faults{Loss: 0.05, Reorder: 0.05, Duplicate: 0.02, Jitter: 20 * time.Millisecond, Seed: 1}
		rl, err := relay.NewConn(ln, fmt.Sprintf("%s:%d", ns.ServerIP, r.srv.Config.UDPPort), faults)
		if err != nil {
			t.Fatal(err)
		}
		defer rl.Close()

		alice := r.join("alice")
		warm, stopWarm := context.WithCancel(context.Background())
		defer stopWarm()
		warming := alice.send(warm, rtptone.Tone{Freq: 1000, Amp: toneAmp, Duration: time.Minute})
		dir := filepath.Join(t.TempDir(), "session")
		rc := startClientRecorder(t, ns, r.recordArgs(dir, "--loopback", "--wait", "10s")...)
		rc.waitAll(t, 20*time.Second, "speaker-joined")
		if st := rl.Stats(); st.ToClient.Out == 0 {
			t.Fatalf("the recorder's media does not go through the relay: %+v", st)
		}
		time.Sleep(time.Second)
		stopWarm()
		<-warming
		warmPackets := alice.w.sent.Load()
		const toneLen = 8 * time.Second
		if err := <-alice.send(context.Background(), rtptone.Tone{Freq: 440, Amp: toneAmp, Duration: toneLen}); err != nil {
			t.Fatal(err)
		}
		sent := alice.w.sent.Load()
		time.Sleep(time.Second)
		rc.cmd.Process.Signal(syscall.SIGINT)
		summary, code := rc.finish(t, 15*time.Second)
		if code != 0 || summary == nil {
			t.Fatalf("exit %d, summary %v; stderr:\n%s", code, summary, rc.stderr.String())
		}
		st := rl.Stats()
		down := st.ToClient
		t.Logf("relay to the recorder: %+v; to the server: %+v", down, st.ToServer)

		s, err := session.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if !m.Finalized || len(m.Tracks) != 1 {
			t.Fatalf("manifest: finalized %v, %d tracks", m.Finalized, len(m.Tracks))
		}
		tr := m.Tracks[0]
		var received, lost int64
		if tracks, _ := summary["tracks"].([]any); len(tracks) == 1 {
			t0, _ := tracks[0].(map[string]any)
			p, _ := t0["packets"].(float64)
			l, _ := t0["lost"].(float64)
			received, lost = int64(p), int64(l)
		}
		var lossTicks int64
		for _, g := range tr.Gaps {
			if g.Cause == "loss" {
				lossTicks += g.DurationTicks
			}
		}
		t.Logf("alice sent %d packets (%d of them 440 Hz); the recorder received %d and counted %d lost; %d loss gaps, %.3f s",
			sent, sent-warmPackets, received, lost, len(tr.Gaps), tickSecs(lossTicks))

		// The faults happened, on the recorder's media path.
		if down.In < uint64(sent-warmPackets) || down.Lost == 0 || down.Reordered == 0 || down.Duplicated == 0 {
			t.Errorf("the relay did not carry alice's media to the recorder with faults: %+v", down)
		}
		// Every packet sent since the recorder subscribed is received or counted lost, none twice.
		if received > sent || received+lost < sent-warmPackets || received+lost > sent {
			t.Errorf("received %d + lost %d, alice sent %d (%d of them after the recorder heard her)", received, lost, sent, sent-warmPackets)
		}
		if lost > int64(down.Lost) {
			t.Errorf("the recorder counts %d packets lost, the relay dropped only %d", lost, down.Lost)
		}
		if want := lost * 960; lossTicks != want {
			t.Errorf("loss gaps %+v add up to %d ticks, %d lost packets are %d", tr.Gaps, lossTicks, lost, want)
		}

		x := onSessionClock(t, s, tr)
		on, off := toneSpan(x, 440)
		t.Logf("440 Hz on the session clock from %.3f s to %.3f s: %.3f s", on.Seconds(), off.Seconds(), (off - on).Seconds())
		if d := off - on - toneLen; d < -100*time.Millisecond || d > 100*time.Millisecond {
			t.Errorf("the 440 Hz stretch is %v long, alice sent %v", off-on, toneLen)
		}
		// A lost packet is silence in the file (and the decoder takes ~80 ms to come back), so a
		// window next to a loss gap may fall short; any other window must hold the tone.
		var unexplained []string
		const w = 100 * time.Millisecond
		for at := on + 20*time.Millisecond; at+w <= off-20*time.Millisecond; at += w {
			p := toneIn(x, at, at+w, 440)
			if p >= 0.1 {
				continue
			}
			near := false
			for _, g := range tr.Gaps {
				gs, ge := session.Duration(g.StartTicks), session.Duration(g.StartTicks+g.DurationTicks)
				near = near || (at < ge+w && at+w > gs-w)
			}
			if !near {
				unexplained = append(unexplained, fmt.Sprintf("%.2fs:%.3f", at.Seconds(), p))
			} else {
				t.Logf("the window at %.2f s (RMS %.3f) is next to a loss gap", at.Seconds(), p)
			}
		}
		if len(unexplained) > 0 {
			t.Errorf("100 ms windows of the 440 Hz stretch without the tone and without a loss: %v (timeline %+v, loss gaps %+v)",
				unexplained, tr.Timeline, tr.Gaps)
		}
	})
}

// toneSpan is where freq is on in x: the start of the first and the end of the last 20 ms window
// holding it at half the tone's RMS or more.
func toneSpan(x []float32, freq float64) (on, off time.Duration) {
	const w = 20 * time.Millisecond
	on, off = -1, -1
	for at := time.Duration(0); session.Ticks(at+w) <= int64(len(x)); at += w {
		if toneIn(x, at, at+w, freq) > toneAmp/math.Sqrt2/2 {
			if on < 0 {
				on = at
			}
			off = at + w
		}
	}
	return on, off
}
