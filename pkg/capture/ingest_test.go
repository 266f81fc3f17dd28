package capture

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/session"
)

// ingestFixture is one ingest on a session clock that starts at t0, with a 40 ms jitter wait.
type ingestFixture struct {
	t0    time.Time
	clock *sessionClock
	in    ingest
	got   []frame
}

func newIngestFixture() *ingestFixture {
	f := &ingestFixture{t0: time.Unix(1_700_000_000, 0)}
	f.clock = &sessionClock{start: f.t0}
	f.in = newIngest(f.clock, 40*time.Millisecond, "src")
	return f
}

// send pushes packet seq of stream ssrc (20 ms each, timestamp 960·seq) arriving at ms after t0.
func (f *ingestFixture) send(ssrc uint32, seq int, ms int) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(seq),
		Timestamp: uint32(seq * 960), SSRC: ssrc}, Payload: []byte{0xf8, byte(seq)}}
	f.in.push(&pkt, f.t0.Add(time.Duration(ms)*time.Millisecond))
}

func (f *ingestFixture) pop(ms int, drain bool) bool {
	return f.in.pop(f.t0.Add(time.Duration(ms)*time.Millisecond), drain, func(fr frame) {
		fr.Payload = append([]byte(nil), fr.Payload...) // the buffer takes its copy back
		f.got = append(f.got, fr)
	})
}

// TestIngestPlacesFramesInOrder: what goes in as packets comes out as frames in sequence, each
// placed on the session clock by its timestamp and the least delayed arrival, with losses counted
// on the frame after them.
func TestIngestPlacesFramesInOrder(t *testing.T) {
	cases := []struct {
		why     string
		order   []int // packet sequence numbers in the order they arrive, 20 ms apart
		want    []int // the sequence numbers released, in order
		wantPos []int // index in want of a frame that follows a loss
	}{
		{"packets in order come out in order", []int{0, 1, 2, 3, 4}, []int{0, 1, 2, 3, 4}, nil},
		{"a swapped pair is put back in order", []int{0, 2, 1, 3, 4}, []int{0, 1, 2, 3, 4}, nil},
		{"a lost packet is given up after the wait and counted on the next", []int{0, 1, 3, 4, 5}, []int{0, 1, 3, 4, 5}, []int{2}},
	}
	for _, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			f := newIngestFixture()
			for i, seq := range c.order {
				f.send(1, seq, 10+20*seq+max(0, 20*(i-seq))) // a late packet arrives when its slot came
				f.pop(20*i+10, false)
			}
			f.pop(1000, false)
			if len(f.got) != len(c.want) {
				t.Fatalf("%d frames, want %d", len(f.got), len(c.want))
			}
			for i, fr := range f.got {
				seq := int(fr.Payload[1])
				if seq != c.want[i] {
					t.Errorf("frame %d is packet %d, want %d", i, seq, c.want[i])
				}
				if want := int64(seq*960 + 480); fr.at != want { // arrival 10 ms after its timestamp
					t.Errorf("packet %d placed at tick %d, want %d", seq, fr.at, want)
				}
				lost := 0
				for _, k := range c.wantPos {
					if k == i {
						lost = 1
					}
				}
				if fr.Lost != lost {
					t.Errorf("packet %d: %d lost before it, want %d", seq, fr.Lost, lost)
				}
			}
		})
	}
}

// TestIngestStreams: every SSRC has a jitter buffer of its own, and a sender report is taken only
// for a stream the track carries.
func TestIngestStreams(t *testing.T) {
	f := newIngestFixture()
	f.send(1, 0, 10)
	f.send(2, 100, 15)
	if len(f.in.streams) != 2 {
		t.Fatalf("%d streams after packets of two SSRCs, want 2", len(f.in.streams))
	}
	for ssrc := uint32(1); ssrc <= 40; ssrc++ {
		f.in.senderReport(&rtcp.SenderReport{SSRC: ssrc, NTPTime: ntpOf(1), RTPTime: 960})
	}
	if len(f.in.streams) != 2 || !f.in.streams[1].pl.report || !f.in.streams[2].pl.report {
		t.Errorf("after reports for 40 SSRCs: %d streams, want the two carried, each with its report", len(f.in.streams))
	}
	f.pop(1000, true)
	if len(f.got) != 2 {
		t.Errorf("%d frames drained, want one of each stream", len(f.got))
	}
}

// TestIngestClaim: who may feed a track, and when a speaker-left is due.
func TestIngestClaim(t *testing.T) {
	cases := []struct {
		why              string
		source           string // the new source's ID; the fixture's live one is "src"
		ended            bool
		popped           bool // the loop drained the ended source before the new one came
		ok, replaced     bool
		again            bool
		retiredAfterward int
	}{
		{"a track another source feeds is taken", "next", false, false, false, false, false, 0},
		{"a track whose source ended and was drained is free, its speaker already left", "next", true, true, true, false, false, 0},
		{"a track whose source ended but was not drained yet is free, and its speaker leaves now", "next", true, false, true, true, false, 1},
		{"the live source signalled again (its ID) takes the track over, its streams going on", "src", false, false, true, false, true, 0},
		{"a source with no ID is never taken for the live one", "", false, false, false, false, false, 0},
	}
	for _, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			f := newIngestFixture()
			f.send(1, 0, 10)
			if c.ended {
				f.in.sourceEnded(f.in.gen)
			}
			if c.popped {
				if left := f.pop(20, false); !left {
					t.Fatal("draining an ended source did not report its speaker left")
				}
			}
			old := f.in.gen
			ok, replaced, again, gen := f.in.claim(c.source)
			if ok != c.ok || replaced != c.replaced || again != c.again {
				t.Errorf("claim = %v, %v, %v; want %v, %v, %v", ok, replaced, again, c.ok, c.replaced, c.again)
			}
			if len(f.in.retired) != c.retiredAfterward {
				t.Errorf("%d streams retired, want %d", len(f.in.retired), c.retiredAfterward)
			}
			if ok && (!f.in.active || f.in.source != c.source || gen == old) {
				t.Errorf("claimed: active %v source %q gen %d (was %d), want the new source's own claim", f.in.active, f.in.source, gen, old)
			}
			if again {
				if len(f.in.streams) != 1 {
					t.Errorf("%d streams after the takeover, want the live one going on", len(f.in.streams))
				}
				f.in.sourceEnded(old) // the old reader sees its end
				if f.in.ended {
					t.Error("the end of the source taken over ended the track")
				}
				f.in.sourceEnded(gen)
				if !f.in.ended {
					t.Error("the end of the current source did not end the track")
				}
			}
		})
	}
}

// TestIngestRestart: after a stretch not recorded, the next packet starts new jitter buffers; what
// the old ones held drains at once, and the skipped packets count as no loss.
func TestIngestRestart(t *testing.T) {
	f := newIngestFixture()
	for seq := 0; seq < 3; seq++ {
		f.send(1, seq, 10+20*seq)
	}
	f.in.restart()
	f.send(1, 50, 1010) // 47 packets were dropped while not recorded
	f.pop(1010, false)  // the new stream's first packet still waits
	if len(f.got) != 3 {
		t.Fatalf("%d frames right after the restart, want the 3 the old buffer held", len(f.got))
	}
	f.pop(1100, false)
	if len(f.got) != 4 {
		t.Fatalf("%d frames, want 4", len(f.got))
	}
	if last := f.got[3]; last.Lost != 0 || last.Payload[1] != 50 {
		t.Errorf("the first packet after the restart: packet %d with %d lost before it; want packet 50, none lost",
			last.Payload[1], last.Lost)
	}
	if want := int64(50*960 + 480); f.got[3].at != want {
		t.Errorf("placed at %v, want %v: by its arrival, the timestamps having started over", session.Duration(f.got[3].at), session.Duration(want))
	}
}

// TestForeignSenderReports: a compound RTCP packet carrying the reports of streams this track
// does not carry (a server reporting everything it sends) leaves them alone: no stream, no jitter
// buffer, for SSRCs that never sent this track a packet; the track's own report is used.
func TestForeignSenderReports(t *testing.T) {
	sr := newSimRoom(t, 1)
	defer sr.close(t)
	tr := sr.tracks[0]
	if err := sr.second(); err != nil { // SSRC 1 sends
		t.Fatal(err)
	}
	var reports []rtcp.Packet
	for ssrc := uint32(1); ssrc <= 40; ssrc++ {
		reports = append(reports, &rtcp.SenderReport{SSRC: ssrc, NTPTime: ntpOf(1), RTPTime: 960})
	}
	b, err := rtcp.Marshal(reports)
	if err != nil {
		t.Fatal(err)
	}
	sr.rec.rtcp(tr, b, sr.rec.ticks(sr.rec.now()))
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.in.streams) != 1 || tr.in.streams[1] == nil {
		t.Errorf("%d streams after a compound report of 40 SSRCs, want only SSRC 1's", len(tr.in.streams))
	}
	if s := tr.in.streams[1]; s == nil || !s.pl.report {
		t.Errorf("the track's own sender report was not taken")
	}
}
