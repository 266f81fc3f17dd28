package capture

import (
	"sort"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/session"
)

// TestBurstAfterAStall: a stream held up for 0.6 s and then delivered in a burst, with sequence
// numbers and timestamps unbroken, is written whole and placed by its RTP timestamps: no packet
// lost, no anchor beyond the first, every sample within a millisecond of where it was sent (plus
// the network delay). The sender sends a report every second the way pion's interceptor does: NTP
// now, RTP the last packet's timestamp advanced by the time since it was sent.
//
// The stall can be anywhere between the microphone and the file:
//   - the network holds the packets (a delay spike): they arrive late, the sender's reports are right;
//   - the sender stalls and catches up: it sends the held packets at once, and a report made
//     right after the first of them maps that packet's timestamp to the moment it left, 0.6 s late.
//     (TestRecordDemoRoom's "jumps 613 ms" and the run of anchors on one tick: the report
//     placed the packets after the burst's arrival, and pulling it back to each packet's
//     arrival in turn stacked the whole burst on one tick, audio written over itself);
//   - the recorder itself stalls (its reader and its timer loop both held up): the packets wait in
//     the socket, the timer loop runs first, then the reader stamps the whole queue with one
//     arrival time. A retransmission that reached the socket during the stall, for a gap whose
//     wait ran out meanwhile, is still taken: the loop's first ticks after a stall give nothing up
//     (it was declared lost, and then dropped as late, before Recorder.step).
func TestBurstAfterAStall(t *testing.T) {
	const (
		n       = 500 // 20 ms packets
		from    = 200 // the stall starts when this packet is due
		delay   = 20 * time.Millisecond
		perTick = 10 * time.Millisecond // the recorder's timer loop
	)
	due := func(i int) time.Duration { return time.Duration(i) * 20 * time.Millisecond }
	stalledSender := func(held int) func(i int) time.Duration {
		return func(i int) time.Duration {
			if i >= from && i < from+held {
				return due(from + held)
			}
			return due(i)
		}
	}
	type event struct {
		arrive time.Duration
		pkt    int // packet index, or -1 for a sender report
		ntp    time.Duration
		rtpTS  uint32
	}
	onTime := func(s time.Duration) time.Duration { return s + delay }
	spike := func(held int) func(s time.Duration) time.Duration {
		return func(s time.Duration) time.Duration {
			if s >= due(from) && s < due(from+held) {
				return due(from+held) + delay
			}
			return s + delay
		}
	}
	cases := []struct {
		name string
		held int // packets held up (30: 0.6 s)
		// sent is when packet i leaves the sender.
		sent func(i int) time.Duration
		// arrive is when a packet or report sent at s reaches the recorder.
		arrive func(s time.Duration) time.Duration
		// stalled: the recorder neither reads nor pumps in [due(from)+delay, due(from+held)+delay).
		stalled bool
		// resent is a packet lost on the way and retransmitted, arriving this much after the rest.
		resent int
		resend time.Duration
	}{
		{"a network delay spike delivers 0.6 s of packets at once", 30,
			due, spike(30), false, -1, 0},
		{"a sender that stalled 0.6 s catches up, and its report maps the first late packet to when it left", 30,
			stalledSender(30), onTime, false, -1, 0},
		{"a sender that stalled 0.3 s: its report is late by less than the recorder distrusts", 15,
			stalledSender(15), onTime, false, -1, 0},
		{"the recorder stalls: its timer loop runs before the queued packets are read", 30,
			due, onTime, true, -1, 0},
		{"the recorder stalls while a retransmission is on its way: it arrives in the socket in time, and is taken", 30,
			due, onTime, true, from - 2, 120 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The sender's packets and its reports (pion: every second, NTP now, RTP the last
			// packet's timestamp plus the time since it left), in the order they leave.
			var evs []event
			report := 250 * time.Millisecond
			for i := 0; i < n; i++ {
				s := c.sent(i)
				arrive := c.arrive(s)
				if i == c.resent {
					arrive += c.resend
				}
				evs = append(evs, event{arrive: arrive, pkt: i})
				// A report due before this packet left goes out right after it: pion's ticker runs
				// beside the writer, and after a stall of the whole process it fires when the
				// writer has sent its first late packet.
				for ; report <= s; report += time.Second {
					evs = append(evs, event{arrive: c.arrive(s), pkt: -1, ntp: s, rtpTS: uint32(i * 960)})
				}
			}
			sort.SliceStable(evs, func(a, b int) bool { return evs[a].arrive < evs[b].arrive })
			sr := newSimRoom(t, 1)
			tr := sr.tracks[0]
			set := func(d time.Duration) { sr.now.Store(int64(d)) }
			stallFrom, stallTo := due(from)+delay, due(from+c.held)+delay
			var pkt rtp.Packet
			k := 0
			clock := loopClock{last: sr.start, lastSync: sr.start}
			for now := perTick; k < len(evs); now += perTick {
				if c.stalled && now >= stallFrom && now < stallTo {
					continue
				}
				set(now)
				sr.rec.step(&clock, sr.rec.now()) // the timer loop's tick
				for ; k < len(evs) && evs[k].arrive <= now; k++ {
					e := evs[k]
					arrival := e.arrive
					if c.stalled && now == stallTo {
						arrival = now // waited in the socket: read only now
					}
					if e.pkt < 0 {
						b, err := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 1,
							NTPTime: ntpOf(e.ntp.Seconds()), RTPTime: e.rtpTS}})
						if err != nil {
							t.Fatal(err)
						}
						sr.rec.rtcp(tr, b, session.Ticks(arrival))
						continue
					}
					pkt = rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(e.pkt),
						Timestamp: uint32(e.pkt * 960), SSRC: 1}, Payload: sr.pkts[e.pkt]}
					sr.rec.push(tr, &pkt, sr.start.Add(arrival))
				}
			}
			set(due(n) + time.Second)
			sr.rec.pump(sr.rec.now(), true)
			tr.mu.Lock()
			received, lost, tl := tr.file.received, tr.file.lost, tr.file.tw.Timeline()
			samples, filled := tr.file.tw.Samples(), tr.file.tw.Filled()
			tr.mu.Unlock()
			sr.close(t)

			if lost != 0 || received != n {
				t.Errorf("%d packets written, %d lost; want %d written, none lost", received, lost, n)
			}
			if want := int64(n*960 - PreSkip); samples != want || filled != 0 {
				t.Errorf("%d samples in the file (%d of them silence filled in), want %d and none", samples, filled, want)
			}
			// Media sample m was sent at m+PreSkip ticks and arrives delay later.
			for _, a := range tl {
				want := a.MediaSample + PreSkip + session.Ticks(delay)
				if d := a.SessionTicks - want; d < -48 || d > 48 {
					t.Errorf("anchor %+v is %v from where the sender put that sample", a, session.Duration(d))
				}
			}
			if len(tl) > 1 {
				t.Errorf("timeline %v: want one anchor, the stream is unbroken", tl)
			}
		})
	}
}
