package capture

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/session"
)

// TestLossGapsAddUp: every lost packet is one packet's length of loss gap, where the file's
// timeline has the hole, however the losses cluster and however much arrival jitters. (A gap
// used to swallow the received packet between two losses, and to shrink when jitter placed the
// packet after a loss early.)
func TestLossGapsAddUp(t *testing.T) {
	cases := []struct {
		name   string
		lost   []int // packet indexes never delivered
		jitter []time.Duration
		want   []session.Gap // in packets from the first packet's start: StartTicks/960, DurationTicks/960
	}{
		{"one lost packet is one gap of one packet", []int{10}, nil, []session.Gap{{StartTicks: 10, DurationTicks: 1}}},
		{"losses one received packet apart stay two gaps", []int{10, 12, 13}, nil,
			[]session.Gap{{StartTicks: 10, DurationTicks: 1}, {StartTicks: 12, DurationTicks: 2}}},
		{"arrival jitter does not shrink or grow the gaps", []int{10, 12, 30},
			[]time.Duration{0, 7 * time.Millisecond, 3 * time.Millisecond, 11 * time.Millisecond, 1 * time.Millisecond},
			[]session.Gap{{StartTicks: 10, DurationTicks: 1}, {StartTicks: 12, DurationTicks: 1}, {StartTicks: 30, DurationTicks: 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sr := newSimRoom(t, 1)
			lost := map[int]bool{}
			for _, i := range c.lost {
				lost[i] = true
			}
			tr := sr.tracks[0]
			var pkt rtp.Packet
			for i := 0; i < 100; i++ {
				sr.now.Add(int64(20 * time.Millisecond))
				at := sr.rec.now()
				if !lost[i] {
					var j time.Duration
					if len(c.jitter) > 0 {
						j = c.jitter[i%len(c.jitter)]
					}
					pkt = rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: 1}, Payload: sr.pkts[i]}
					sr.rec.push(tr, &pkt, at.Add(j))
				}
				sr.rec.pump(at, false)
			}
			sr.now.Add(int64(time.Second))
			sr.rec.pump(sr.rec.now(), true)
			tr.mu.Lock()
			gaps := append([]session.Gap(nil), tr.file.gaps...)
			first := tr.file.tw.Timeline()[0].SessionTicks - PreSkip
			lostN := tr.file.lost
			tr.mu.Unlock()
			sr.close(t)
			if lostN != uint64(len(c.lost)) {
				t.Errorf("%d packets counted lost, want %d", lostN, len(c.lost))
			}
			if len(gaps) != len(c.want) {
				t.Fatalf("gaps %+v, want %d", gaps, len(c.want))
			}
			for i, g := range gaps {
				w := c.want[i]
				if g.Cause != "loss" || g.DurationTicks != w.DurationTicks*960 || abs64(g.StartTicks-first-w.StartTicks*960) > 48 {
					t.Errorf("gap %d: %+v (start %d ticks after the first packet), want packet %d for %d packets",
						i, g, g.StartTicks-first, w.StartTicks, w.DurationTicks)
				}
			}
		})
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
