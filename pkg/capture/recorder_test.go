package capture

import (
	"errors"
	"math"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	hopus "gopkg.in/hraban/opus.v2"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/session"
)

// chanSource is a Source fed by the test: the unit-level stand-in for a WebRTC track.
func chanSource(identity string, pkts <-chan []byte) Source {
	return Source{Participant: identity, ID: identity, Channels: 1, ReadRTP: func(b []byte) (int, error) {
		p, ok := <-pkts
		if !ok {
			return 0, errors.New("ended")
		}
		return copy(b, p), nil
	}}
}

// TestSameSourceSignalledAgain: an adapter hands over the live source again under its ID (Janus
// renegotiates a subscription as its publisher goes, and pion reports the track anew). The speaker
// keeps one track, with no second speaker-joined, and the old reader's end does not end it.
func TestSameSourceSignalledAgain(t *testing.T) {
	sr := newSimRoom(t, 0)
	var joined, left atomic.Int32
	sr.rec.opts.OnEvent = func(e Event) {
		switch e.Type {
		case EventSpeakerJoined:
			joined.Add(1)
		case EventSpeakerLeft:
			left.Add(1)
		}
	}
	packet := func(i int) []byte {
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: 7}, Payload: sr.pkts[i]}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first, second := make(chan []byte, 10), make(chan []byte, 10)
	firstDone := make(chan struct{})
	src := chanSource("gus", first)
	read := src.ReadRTP
	src.ReadRTP = func(b []byte) (int, error) {
		n, err := read(b)
		if err != nil {
			close(firstDone)
		}
		return n, err
	}
	if err := sr.rec.AddTrack(src); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		first <- packet(i)
	}
	if err := sr.rec.AddTrack(chanSource("gus", second)); err != nil { // while the first is live
		t.Fatal(err)
	}
	close(first)
	<-firstDone
	for i := 10; i < 20; i++ {
		second <- packet(i)
	}
	for len(second) > 0 {
		time.Sleep(time.Millisecond)
	}
	sr.now.Add(int64(time.Second))
	sr.rec.pump(sr.rec.now(), false)
	if n := left.Load(); n != 0 {
		t.Errorf("%d speaker-left events while the stream went on, want none", n)
	}
	close(second)
	sr.close(t)
	s, err := session.Open(sr.rec.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Manifest.Tracks) != 1 {
		t.Fatalf("%d tracks for one stream signalled twice, want 1: %+v", len(s.Manifest.Tracks), s.Manifest.Tracks)
	}
	if tr := s.Manifest.Tracks[0]; len(tr.SSRCs) != 1 {
		t.Errorf("track SSRCs %v, want the one stream's", tr.SSRCs)
	}
	if n := joined.Load(); n != 1 {
		t.Errorf("%d speaker-joined events, want 1", n)
	}
}

// TestRecorderDTXReorderLossAndNewSSRC sends, in real time: 1 s of tone, 1 s of mute (the sender
// stops, sequence numbers stay contiguous, the timestamp jumps), 1 s of tone with one pair of
// packets swapped and one lost, a 0.5 s pause, then 1 s from a new SSRC (a republish). The file,
// judged by opusdec, holds tone and silence exactly where they were sent.
func TestRecorderDTXReorderLossAndNewSSRC(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	rec, err := Create(Options{Dir: dir, Room: session.Room{Name: "unit", Protocol: "test"}, Latency: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := hopus.NewEncoder(48000, 1, hopus.AppAudio)
	if err != nil {
		t.Fatal(err)
	}
	pkts := make(chan []byte, 16)
	if err := rec.AddTrack(chanSource("ann", pkts)); err != nil {
		t.Fatal(err)
	}
	frame := func(i int) []byte {
		pcm := make([]float32, 960)
		for j := range pcm {
			pcm[j] = float32(0.3 * math.Sin(2*math.Pi*440*float64(i*960+j)/48000))
		}
		buf := make([]byte, 1500)
		n, err := enc.EncodeFloat32(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		return buf[:n]
	}
	marshal := func(ssrc uint32, seq uint16, ts uint32, payload []byte) []byte {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}).Marshal()
		return b
	}
	start := time.Now()
	at := func(sec float64) { time.Sleep(time.Until(start.Add(time.Duration(sec * float64(time.Second))))) }
	seq, ts := uint16(65500), uint32(4_294_000_000) // both wrap during the test
	var held []byte
	for i := 0; i < 100; i++ { // tone 0–1 s, mute 1–2 s, tone 2–3 s
		sec := float64(i) * 0.02
		if i >= 50 {
			sec += 1
		}
		p := marshal(1, seq, ts, frame(i))
		seq++
		ts += 960
		if i == 49 {
			ts += 48000 // the mute: a timestamp jump, no sequence gap
		}
		at(sec)
		switch i {
		case 70: // reordered: sent after the next one
			held = p
			continue
		case 80: // lost
			continue
		}
		pkts <- p
		if held != nil {
			pkts <- held
			held = nil
		}
	}
	for i := 0; i < 50; i++ { // 3.5–4.5 s: a new SSRC with its own numbering
		at(3.5 + float64(i)*0.02)
		pkts <- marshal(2, uint16(i), 1000+uint32(i)*960, frame(i))
	}
	close(pkts)
	time.Sleep(300 * time.Millisecond)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tr := s.Manifest.Tracks[0]
	if len(tr.SSRCs) != 2 {
		t.Errorf("SSRCs %v, want both", tr.SSRCs)
	}
	pcm := testutil.OpusdecDecode(t, s.Path(tr.File))
	first := session.Duration(tr.Timeline[0].SessionTicks)
	rms := func(from, to float64) float64 {
		a, b := int((from-first.Seconds())*48000), int((to-first.Seconds())*48000)
		a, b = max(0, a), min(len(pcm), b)
		var sum float64
		for _, v := range pcm[a:b] {
			sum += float64(v) * float64(v)
		}
		return math.Sqrt(sum / float64(max(1, b-a)))
	}
	for _, c := range []struct {
		from, to float64
		tone     bool
	}{{0.1, 0.9, true}, {1.1, 1.9, false}, {2.1, 2.9, true}, {3.1, 3.4, false}, {3.6, 4.4, true}} {
		got := rms(c.from, c.to)
		if c.tone && got < 0.1 || !c.tone && got > 0.01 {
			t.Errorf("%.1f–%.1f s: RMS %.3f, want tone=%v", c.from, c.to, got, c.tone)
		}
	}
	if d := float64(len(pcm))/48000 + first.Seconds(); math.Abs(d-4.5) > 0.06 {
		t.Errorf("file ends at %.3f s on the session clock, want 4.5", d)
	}
	if len(tr.Gaps) == 0 || tr.Gaps[0].Cause != "loss" {
		t.Errorf("gaps %+v, want the lost packet recorded", tr.Gaps)
	}
}

// TestNewSourceBeforeTheLoopNoticed: a speaker's new source (a reconnect: the old connection's
// tracks end, the new one's begin) continues their file even when it arrives before the
// recorder's loop has noticed that the old source ended, within one tick. It used to open a
// second file for the speaker; the old source's packets still in its jitter buffer are written.
func TestNewSourceBeforeTheLoopNoticed(t *testing.T) {
	sr := newSimRoom(t, 0) // manual: the loop does not run until the test pumps
	send := func(ssrc uint32, from int) {
		pkts := make(chan []byte, 10)
		if err := sr.rec.AddTrack(chanSource("gus", pkts)); err != nil {
			t.Fatal(err)
		}
		for i := from; i < from+10; i++ {
			b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: ssrc}, Payload: sr.pkts[i]}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			pkts <- b
		}
		close(pkts)
		for { // until the source's reader has seen its end
			tr := sr.rec.snapshot()[0]
			tr.mu.Lock()
			ended := tr.in.ended
			tr.mu.Unlock()
			if ended {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	send(1, 0)
	sr.now.Add(int64(500 * time.Millisecond))
	send(2, 30) // before any pump
	sr.now.Add(int64(time.Second))
	sr.rec.pump(sr.rec.now(), true)
	sr.close(t)
	s, err := session.Open(sr.rec.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Manifest.Tracks) != 1 {
		t.Fatalf("%d tracks for one speaker, want 1: %+v", len(s.Manifest.Tracks), s.Manifest.Tracks)
	}
	if tr := s.Manifest.Tracks[0]; len(tr.SSRCs) != 2 {
		t.Errorf("SSRCs %v, want both sources' in the file", tr.SSRCs)
	}
	if st := sr.rec.Stats(); len(st.Tracks) != 1 || st.Tracks[0].Received != 20 {
		t.Errorf("stats %+v, want the 20 packets of both sources in one track", st.Tracks)
	}
}
