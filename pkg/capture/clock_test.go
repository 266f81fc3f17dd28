package capture

import (
	"fmt"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/spacecast/spacecast/pkg/session"
)

// ntpOf converts seconds since an arbitrary epoch to a 32.32 NTP timestamp.
func ntpOf(sec float64) uint64 {
	whole := uint64(sec)
	frac := uint64((sec - float64(whole)) * (1 << 32))
	return (3_900_000_000+whole)<<32 | frac
}

// TestPlacerFollowsSenderReportsUnderSkew: a sender whose audio clock runs 1000 ppm fast (its RTP
// timestamps gain 3.6 s an hour on real time) or slow stays within 20 ms of real time on the
// session clock for a simulated hour once its sender reports come in, while arrival-only placement
// would drift. (Slow, the arrival placement that bounds a report lags by up to its window, 4 ms.)
func TestPlacerFollowsSenderReportsUnderSkew(t *testing.T) {
	for _, ppm := range []float64{1000, -1000} {
		t.Run(fmt.Sprintf("%+.0f ppm", ppm), func(t *testing.T) {
			var p placer
			var offset int64
			have := false
			worst := time.Duration(0)
			for i := 0; i < 180_000; i++ { // an hour of 20 ms packets
				real := float64(i) * 0.020 / (1 + ppm/1e6) // when the packet's audio was captured, in real seconds
				ts := uint64(i) * 960
				arrival := session.Ticks(time.Duration((real + 0.030) * float64(time.Second))) // 30 ms network delay
				if i%250 == 0 {                                                                // a sender report every 5 s
					sr := &rtcp.SenderReport{NTPTime: ntpOf(real), RTPTime: uint32(ts)}
					p.senderReport(sr)
					off := arrival - ntpTicks(sr.NTPTime)
					if !have || off < offset {
						offset, have = off, true
					}
				}
				at := p.place(ts, arrival, offset, have)
				want := session.Ticks(time.Duration((real + 0.030) * float64(time.Second)))
				if d := session.Duration(at - want); d.Abs() > worst {
					worst = d.Abs()
				}
			}
			if worst > 20*time.Millisecond {
				t.Fatalf("placed up to %v from real time, want within 20 ms", worst)
			}
			t.Logf("worst placement error over an hour at %v ppm: %v", ppm, worst)
		})
	}
}

// TestPlacerArrivalIgnoresLatePackets: before any report, a packet that arrives late (a
// retransmission, a queue) does not move the stream: the least delayed packets set its place.
func TestPlacerArrivalIgnoresLatePackets(t *testing.T) {
	var p placer
	for i := range 500 {
		ts := uint64(i) * 960
		delay := int64(960) // 20 ms
		if i%7 == 3 {
			delay += 48000 / 5 // 200 ms late
		}
		at := p.place(ts, int64(ts)+delay, 0, false)
		if at != int64(ts)+960 {
			t.Fatalf("packet %d placed at %d, want %d", i, at, int64(ts)+960)
		}
	}
}

// TestPlacerDistrustsReportsThatPlaceAfterArrival: a report whose RTP-to-NTP mapping is a second
// off would put packets a second after they arrived, which cannot be: those packets are placed by
// arrival, and placement by report resumes when a good report comes.
func TestPlacerDistrustsReportsThatPlaceAfterArrival(t *testing.T) {
	var p placer
	const delay = 960 // 20 ms network delay
	offset := int64(delay) - ntpTicks(ntpOf(0))
	for i := range 500 {
		ts := uint64(i) * 960
		arrival := int64(ts) + delay
		switch i {
		case 100: // a good report
			p.senderReport(&rtcp.SenderReport{NTPTime: ntpOf(float64(ts) / 48000), RTPTime: uint32(ts)})
		case 200: // a report one second off: it says this timestamp was sent a second later
			p.senderReport(&rtcp.SenderReport{NTPTime: ntpOf(float64(ts)/48000 + 1), RTPTime: uint32(ts)})
		case 300: // good again
			p.senderReport(&rtcp.SenderReport{NTPTime: ntpOf(float64(ts) / 48000), RTPTime: uint32(ts)})
		}
		at := p.place(ts, arrival, offset, true)
		if d := at - arrival; d < -48 || d > 48 {
			t.Fatalf("packet %d placed %d ticks from its arrival, want within 1 ms", i, d)
		}
	}
}

// TestPlacerPullsBackStaleReports: an SFU reports, as "now", the RTP timestamp of the last packet
// it forwarded; sent during a DTX pause, the report is as stale as the pause is long (135 ms seen
// from LiveKit with Chromium speakers), and would place everything after it that much late. The
// packets show it (placed after they arrived), and the report is pulled back to them.
func TestPlacerPullsBackStaleReports(t *testing.T) {
	var p placer
	const delay = 960 // 20 ms network delay
	offset := int64(delay) - ntpTicks(ntpOf(0))
	for i := range 500 {
		ts := uint64(i) * 960
		arrival := int64(ts) + delay
		switch i {
		case 100: // a good report
			p.senderReport(&rtcp.SenderReport{NTPTime: ntpOf(float64(ts) / 48000), RTPTime: uint32(ts)})
		case 200: // stale by 135 ms: this timestamp went out 135 ms before the report says
			p.senderReport(&rtcp.SenderReport{NTPTime: ntpOf(float64(ts)/48000 + 0.135), RTPTime: uint32(ts)})
		case 300: // stale by 60 ms
			p.senderReport(&rtcp.SenderReport{NTPTime: ntpOf(float64(ts)/48000 + 0.060), RTPTime: uint32(ts)})
		}
		at := p.place(ts, arrival, offset, true)
		if d := at - arrival; d < -48 || d > 48 {
			t.Fatalf("packet %d placed %d ticks from its arrival, want within 1 ms", i, d)
		}
	}
}

// TestSessionClockNTPOffset: the session clock keeps the smallest arrival-minus-NTP offset of all
// reports, whichever order they come in.
func TestSessionClockNTPOffset(t *testing.T) {
	cases := []struct {
		why  string
		offs []int64
		want int64
	}{
		{"the first report sets the offset, whatever its sign", []int64{-500}, -500},
		{"a faster report lowers it", []int64{900, 300}, 300},
		{"a slower report leaves it", []int64{300, 900}, 300},
		{"the smallest of many wins", []int64{5, -2, 7, -1, 3}, -2},
	}
	for _, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			var clk sessionClock
			if clk.haveNTP.Load() {
				t.Fatal("a new clock has an offset")
			}
			for _, o := range c.offs {
				clk.observeNTP(o)
			}
			if !clk.haveNTP.Load() || clk.ntpOffset.Load() != c.want {
				t.Errorf("offset %d (have %v), want %d", clk.ntpOffset.Load(), clk.haveNTP.Load(), c.want)
			}
		})
	}
}
