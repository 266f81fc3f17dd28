package whep

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/codec/opus"
	"github.com/spacecast/spacecast/pkg/session"
)

func ntpTime(t time.Time) uint64 {
	return uint64(t.Unix()+2208988800)<<32 | uint64(t.Nanosecond())<<32/1e9
}

// feed is a capture.Source fed from channels.
func feed(id string) (capture.Source, chan<- []byte, chan<- []byte) {
	rtpc, rtcpc := make(chan []byte, 1000), make(chan []byte, 100)
	read := func(c chan []byte) func([]byte) (int, error) {
		return func(b []byte) (int, error) {
			p, ok := <-c
			if !ok {
				return 0, io.EOF
			}
			return copy(b, p), nil
		}
	}
	return capture.Source{Participant: id, ID: id, Channels: 1, PayloadType: 111, ReadRTP: read(rtpc), ReadRTCP: read(rtcpc)}, rtpc, rtcpc
}

// TestCaptureStaleReports guards a fixed capture bug the WHEP adapter also works around
// (dropQueuedRTCP): sender reports that queued before a late speaker's track was read arrive
// seconds old; the first of them used to reset the recorder-wide NTP offset, so every other
// speaker's packets were placed seconds late until a fresh report arrived. The offset is now the
// minimum over all reports.
func TestCaptureStaleReports(t *testing.T) {
	pkt, err := opus.SilencePacket()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "s")
	rec, err := capture.Create(capture.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a, artp, artcp := feed("a")
	b, brtp, brtcp := feed("b")
	rec.AddTrack(a)
	start := time.Now()
	tsA, tsB := uint32(1000), uint32(900000)
	for i := 0; i < 300; i++ { // 6 s of 20 ms packets, a from 0 s, b from 3 s
		at := start.Add(time.Duration(i) * 20 * time.Millisecond)
		time.Sleep(time.Until(at))
		p, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: tsA + uint32(i)*960}, Payload: pkt}).Marshal()
		artp <- p
		if i%50 == 10 { // a fresh, true report for a every second
			sr, _ := (&rtcp.SenderReport{SSRC: 0, NTPTime: ntpTime(at), RTPTime: tsA + uint32(i)*960}).Marshal()
			artcp <- sr
		}
		if i == 150 { // b starts: its reader finds the reports queued since the session began
			for k := 3; k >= 1; k-- {
				sr, _ := (&rtcp.SenderReport{SSRC: 0, NTPTime: ntpTime(at.Add(-time.Duration(k) * time.Second)), RTPTime: 923864645}).Marshal()
				brtcp <- sr
			}
			rec.AddTrack(b)
		}
		if i >= 150 {
			p, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: tsB + uint32(i)*960}, Payload: pkt}).Marshal()
			brtp <- p
		}
	}
	close(artp)
	close(artcp)
	close(brtp)
	close(brtcp)
	time.Sleep(500 * time.Millisecond)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range s.Manifest.Tracks {
		for i := 1; i < len(tr.Timeline); i++ {
			x, y := tr.Timeline[i-1], tr.Timeline[i]
			if jump := session.Duration((y.SessionTicks - x.SessionTicks) - (y.MediaSample - x.MediaSample)); jump < -25*time.Millisecond || jump > 25*time.Millisecond {
				t.Errorf("%s's timeline jumps %v at %.2f s though its packets came on time: %+v", tr.Participant, jump, session.Duration(y.SessionTicks).Seconds(), tr.Timeline)
			}
		}
	}
}

// TestCaptureLateFirstPacket guards a fixed capture limitation the WHEP adapter met when a track
// is delivered a little after its first packet arrived (pion calls OnTrack on the first packet; Run
// may start later): the first packet's arrival time set the track's first anchor, and the packets
// after it, placed right, stayed within the 20 ms tolerance of that late anchor, so the whole file
// stayed up to 20 ms late. During its first second a track's start now moves earlier.
func TestCaptureLateFirstPacket(t *testing.T) {
	pkt, err := opus.SilencePacket()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "s")
	rec, err := capture.Create(capture.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a, artp, artcp := feed("a")
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	for i := 0; i < 100; i++ {
		at := start.Add(time.Duration(i) * 20 * time.Millisecond)
		time.Sleep(time.Until(at))
		p, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i) * 960}, Payload: pkt}).Marshal()
		artp <- p
		if i == 0 {
			time.Sleep(15 * time.Millisecond) // the track reaches the recorder 15 ms after its first packet
			rec.AddTrack(a)
		}
	}
	close(artp)
	close(artcp)
	time.Sleep(300 * time.Millisecond)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tr := s.Manifest.Tracks[0]
	first := session.Duration(tr.SessionTicks(48000) - 48000 - capture.PreSkip) // where packet 0 plays, by the timeline at 1 s
	if d := first - start.Sub(rec.Start()); d > 5*time.Millisecond || d < -5*time.Millisecond {
		t.Errorf("packet 0 (sent %v) plays at %v by the timeline one second later: %v off", start.Sub(rec.Start()), first, d)
	}
}
