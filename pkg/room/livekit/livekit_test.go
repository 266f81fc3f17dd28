package livekit_test

import (
	"context"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/lkserver"
	"github.com/spacecast/spacecast/internal/testutil/lkspeaker"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/livekit"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/session"
)

var apiKey, apiSecret string

// startLoopbackServer runs a real livekit-server on 127.0.0.1 (inside the test's namespace).
func startLoopbackServer(t *testing.T) string {
	srv := lkserver.Start(t, lkserver.Config{BindIP: "127.0.0.1"})
	apiKey, apiSecret = srv.APIKey, srv.APISecret
	return srv.URL
}

func speaker(t *testing.T, ctx context.Context, url, roomName, identity string) *lkspeaker.Speaker {
	t.Helper()
	tok, err := lkspeaker.Token(apiKey, apiSecret, roomName, identity, identity+" (test)", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := lkspeaker.Join(ctx, url, tok, rtc.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestRecordTwoSpeakers records two pion speakers through a real LiveKit server and judges the
// tracks with opusdec: the right tone in each file, at the right time on the session clock.
func TestRecordTwoSpeakers(t *testing.T) {
	netns.Run(t, testRecordTwoSpeakers)
}

func testRecordTwoSpeakers(t *testing.T, _ *netns.NS) {
	url := startLoopbackServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const roomName = "two"
	alice := speaker(t, ctx, url, roomName, "alice")
	atr, err := alice.Publish(ctx, "mic")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	sendErr := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		sendErr <- rtptone.Send(ctx, atr, rtptone.Tone{Freq: 440, Duration: 6 * time.Second})
	}()

	conn, err := livekit.Dial(ctx, url, livekit.Options{Room: roomName, APIKey: apiKey, APISecret: apiSecret,
		RTC: rtc.Options{Loopback: true}, Options: room.Options{Wait: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "s")
	rec, err := capture.Create(capture.Options{Dir: dir, Room: session.Room{Name: roomName, Protocol: "livekit", URL: url}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- conn.Run(runCtx, rec) }()
	if err := conn.Announce(ctx, "recording started"); err != nil {
		t.Errorf("announce: %v", err)
	}

	time.Sleep(2 * time.Second)
	bobJoined := time.Now()
	bob := speaker(t, ctx, url, roomName, "bob")
	btr, err := bob.Publish(ctx, "mic")
	if err != nil {
		t.Fatal(err)
	}
	bobStart := time.Now()
	wg.Add(1)
	go func() {
		defer wg.Done()
		sendErr <- rtptone.Send(ctx, btr, rtptone.Tone{Freq: 1000, Duration: 3 * time.Second})
	}()
	wg.Wait()
	time.Sleep(time.Second)
	stop()
	if err := <-runErr; err != nil {
		t.Fatalf("run: %v", err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-sendErr; err != nil {
			t.Fatal(err)
		}
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Manifest
	if !m.Finalized || len(m.Tracks) != 2 {
		t.Fatalf("finalized %v, %d tracks, want 2: %+v", m.Finalized, len(m.Tracks), m.Tracks)
	}
	want := map[string]float64{"alice": 440, "bob": 1000}
	var bobPCM []float32
	for _, tr := range m.Tracks {
		pcm := testutil.Mono(testutil.OpusdecDecode(t, s.Path(tr.File)), tr.Channels)
		if tr.Participant == "bob" {
			bobPCM = pcm
		}
		f := dominant(pcm[len(pcm)/4 : len(pcm)/2])
		if math.Abs(f-want[tr.Participant]) > 15 {
			t.Errorf("%s: dominant %.0f Hz, want %.0f", tr.Participant, f, want[tr.Participant])
		}
		t.Logf("%s: %d samples (%.2f s), first at %.3f s, anchors %d, %.0f Hz", tr.Participant, len(pcm), float64(len(pcm))/48000,
			session.Duration(tr.Timeline[0].SessionTicks).Seconds(), len(tr.Timeline), f)
	}
	// Bob's tone ends on the session clock where he stopped sending (within 100 ms: network, SFU
	// and the jitter buffer all add delay, sender reports take it out). His end is judged, not his
	// start: LiveKit forwards a new track only once the recorder's subscription is negotiated, and
	// on a loaded machine that took a second, whose packets never reached the recorder. The end of
	// his tone, not of his file: when the recorder leaves, LiveKit closes its down tracks with a
	// few blank (silent) frames stamped where the stream would be by then, and the file, rightly,
	// holds silence up to them (one run in fifteen, when they came before the recorder stopped).
	var bobTrack session.Track
	for _, tr := range m.Tracks {
		if tr.Participant == "bob" {
			bobTrack = tr
		}
	}
	last := len(bobPCM) - 1
	for last > 0 && math.Abs(float64(bobPCM[last])) < 0.05 { // the tone's amplitude is 0.3
		last--
	}
	got := session.Duration(bobTrack.SessionTicks(int64(last)) + 1)
	wantAt := bobStart.Add(3 * time.Second).Sub(m.StartedAt)
	if d := got - wantAt; d < -100*time.Millisecond || d > 150*time.Millisecond {
		t.Errorf("bob's audio ends at %v on the session clock, his tone at %v (joined %v); timeline %+v gaps %+v", got, wantAt, bobJoined.Sub(m.StartedAt), bobTrack.Timeline, bobTrack.Gaps)
	}
	if heard := session.Duration(bobTrack.Samples); heard < time.Second {
		t.Errorf("only %v of bob's 3 s recorded", heard)
	}
}

// dominant finds the strongest frequency by a coarse DFT scan.
func dominant(x []float32) float64 {
	best, bestP := 0.0, -1.0
	for f := 100.0; f <= 4000; f += 5 {
		var re, im float64
		for i, s := range x {
			ph := 2 * math.Pi * f * float64(i) / 48000
			re += float64(s) * math.Cos(ph)
			im += float64(s) * math.Sin(ph)
		}
		if p := re*re + im*im; p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

// sendLog notes when each packet was written: the truth a recording is judged against, rather
// than when the sending goroutine got round to saying it was done.
type sendLog struct {
	w     rtptone.Writer
	mu    sync.Mutex
	times []time.Time
}

func (l *sendLog) WriteRTP(p *rtp.Packet) error {
	l.mu.Lock()
	l.times = append(l.times, time.Now())
	l.mu.Unlock()
	return l.w.WriteRTP(p)
}

// schedule is the sender's clock in real time: packet k leaves at origin + k×period, and the
// packet least delayed (by a starved process) says where origin is. late is how far behind that
// schedule the worst packet left.
func (l *sendLog) schedule(period time.Duration) (origin time.Time, late time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, at := range l.times {
		if o := at.Add(-time.Duration(k) * period); origin.IsZero() || o.Before(origin) {
			origin = o
		}
	}
	for k, at := range l.times {
		late = max(late, at.Sub(origin.Add(time.Duration(k)*period)))
	}
	return origin, late
}

// TestRecordSkewedSender: a speaker whose audio clock runs 3000 ppm fast (it sends 20 s of audio in
// 19.94 s of real time) through a real livekit-server. Sender reports pull the track back to real
// time: the tone's last sample lands where the sender's schedule puts its last packet, within
// 25 ms, where a file placed by its own samples alone would end 60 ms late.
// (the last packet's audio ends 20 ms after it was sent).
//
// The schedule is the truth, not when the last packet left: a starved sender (rtptone) catches up
// by sending what is overdue at once, and a packet that leaves late is placed by its timestamp,
// where its sender's clock says it belongs (as a retransmitted one is), not where it arrived.
func TestRecordSkewedSender(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		url := startLoopbackServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		const roomName = "skew"
		sp := speaker(t, ctx, url, roomName, "skewy")
		tr, err := sp.Publish(ctx, "mic")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := livekit.Dial(ctx, url, livekit.Options{Room: roomName, APIKey: apiKey, APISecret: apiSecret,
			RTC: rtc.Options{Loopback: true}, Options: room.Options{Wait: 10 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		const skew = 3000
		sl := &sendLog{w: tr}
		sent := make(chan error, 1)
		go func() {
			sent <- rtptone.Send(ctx, sl, rtptone.Tone{Freq: 440, Duration: 20 * time.Second, SkewPPM: skew})
		}()
		dir := filepath.Join(t.TempDir(), "s")
		rec, err := capture.Create(capture.Options{Dir: dir, Room: session.Room{Name: roomName, Protocol: "livekit"}})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		runErr := make(chan error, 1)
		go func() { runErr <- conn.Run(runCtx, rec) }()
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		period := time.Duration(float64(20*time.Millisecond) * (1 - skew/1e6))
		origin, late := sl.schedule(period)
		end := origin.Add(time.Duration(len(sl.times)-1) * period)
		time.Sleep(time.Second)
		stop()
		if err := <-runErr; err != nil {
			t.Fatal(err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		s, err := session.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		trk := s.Manifest.Tracks[0]
		last := session.Duration(trk.SessionTicks(trk.Samples - 1))
		want := end.Sub(s.Manifest.StartedAt) + 20*time.Millisecond // the last packet's audio runs 20 ms past its sending
		t.Logf("%d anchors; tone ends at %v on the session clock, last packet's audio ends at %v by the sender's schedule (a packet left up to %v behind it)",
			len(trk.Timeline), last, want, late.Round(time.Millisecond))
		if d := last - want; d < -25*time.Millisecond || d > 25*time.Millisecond {
			t.Errorf("the skewed track ends %v from real time; timeline %+v, gaps %+v, session gaps %+v", d, trk.Timeline, trk.Gaps, s.Manifest.Gaps)
		}
		if len(trk.Timeline) < 2 {
			t.Errorf("no clock corrections in %d anchors", len(trk.Timeline))
		}
	})
}
