package capture

import (
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/session"
)

// FuzzRecorderPackets feeds arbitrary RTP and RTCP bytes — what a hostile or broken peer can send
// — through a Recorder's whole receive path (parse, jitter buffer, placement by sender reports,
// Opus decode for the mix, the track file) on a simulated clock. It must never panic, and the
// session it leaves must open and validate.
func FuzzRecorderPackets(f *testing.F) {
	good, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 1, Timestamp: 960, SSRC: 7}, Payload: []byte{0x08, 1, 2, 3}}).Marshal()
	sr, _ := (&rtcp.SenderReport{SSRC: 7, NTPTime: 0xe8f0_0000_8000_0000, RTPTime: 960}).Marshal()
	f.Add(good, sr, uint8(3))
	f.Add([]byte{0x80, 111, 0, 0}, []byte{0x80, 200, 0, 6}, uint8(1))
	f.Add(append(good[:12:12], 0xfc, 0xff, 0xff), sr[:8], uint8(9))
	f.Fuzz(func(t *testing.T, pkt, report []byte, steps uint8) {
		sr := newFuzzRoom(t)
		for i := range int(steps%16) + 1 {
			p := append([]byte(nil), pkt...)
			if len(p) >= 12 { // walk the sequence and timestamp so the buffer moves
				binary.BigEndian.PutUint16(p[2:], binary.BigEndian.Uint16(p[2:])+uint16(i))
				binary.BigEndian.PutUint32(p[4:], binary.BigEndian.Uint32(p[4:])+uint32(960*i))
			}
			var rp rtp.Packet
			if rp.Unmarshal(p) == nil && len(rp.Payload) > 0 {
				sr.rec.push(sr.tracks[0], &rp, sr.rec.now())
			}
			if pkts, err := rtcp.Unmarshal(report); err == nil {
				for _, x := range pkts {
					if s, ok := x.(*rtcp.SenderReport); ok {
						sr.rec.clock.observeNTP(sr.rec.ticks(sr.rec.now()) - ntpTicks(s.NTPTime))
						sr.tracks[0].mu.Lock()
						sr.tracks[0].in.stream(s.SSRC).pl.senderReport(s)
						sr.tracks[0].mu.Unlock()
					}
				}
			}
			sr.now.Add(int64(20 * time.Millisecond))
			sr.rec.pump(sr.rec.now(), false)
			if err := sr.rec.mixTo(sr.rec.now()); err != nil {
				t.Fatal(err)
			}
		}
		sr.close(t)
		if _, err := session.Open(sr.rec.Dir()); err != nil {
			t.Fatalf("the session does not open: %v", err)
		}
	})
}

// newFuzzRoom is a one-speaker simRoom without the benchmark's encoded speech.
func newFuzzRoom(t *testing.T) *simRoom {
	sr := &simRoom{start: time.Now(), stop: make(chan struct{})}
	now := func() time.Time { return sr.start.Add(time.Duration(sr.now.Load())) }
	rec, err := Create(Options{Dir: fuzzDir(t) + "/s", Room: session.Room{Name: "fuzz", Protocol: "test"}, Now: now, manual: true, SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sr.rec = rec
	blocked := func([]byte) (int, error) { <-sr.stop; return 0, errClosedFuzz }
	if err := rec.AddTrack(Source{Participant: "p", ID: "p", ReadRTP: blocked}); err != nil {
		t.Fatal(err)
	}
	sr.tracks = rec.snapshot()
	return sr
}

var errClosedFuzz = errFuzz("closed")

type errFuzz string

func (e errFuzz) Error() string { return string(e) }

// fuzzDir is a temporary folder in memory (/dev/shm) where there is one: the recorder syncs its
// files as it must, and on a disk those syncs were a third of each execution.
func fuzzDir(t *testing.T) string {
	d, err := os.MkdirTemp("/dev/shm", "spacecast-fuzz-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
