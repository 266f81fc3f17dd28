package capture

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"

	"github.com/spacecast/spacecast/pkg/session"
)

// The session clock, and how a stream's RTP timestamps land on it.
//
// Until a stream's first RTCP sender report, a packet plays where it arrived: the offset between
// arrival (in session ticks) and RTP timestamp is the smallest seen in the last few seconds, so the least delayed packet
// sets it and a late or retransmitted one never drags the stream back. Once a sender report
// arrives, it ties the stream's RTP clock to the sender's NTP clock (RFC 3550 §6.4.1), and every
// stream from the same server shares that NTP clock: speakers line up as the server saw them,
// whatever each one's network delay, and a sender whose audio clock runs fast or slow is pulled
// back to real time by each new report. The NTP clock relates to the session clock by one offset
// for the whole recorder (the smallest arrival-minus-NTP seen over all reports), so one slow
// report cannot shift one speaker against the others.

// maxReportSkew is how far before its arrival a sender report may put a packet (a packet queued
// or retransmitted arrives late, legitimately) before the report is distrusted (a server
// restarted, a sender's NTP clock jumped): the stream falls back to arrival time until a report
// agrees again.
const maxReportSkew = 2 * session.ClockRate

// maxReportLate is how far after the stream's arrival placement (byArrival: the least delayed
// packet of the last seconds, carried forward by RTP timestamps) a sender report may put a packet.
// A packet is sent before it arrives, and the NTP offset comes from the fastest report, so a
// placement later than the least delayed arrival is a report that maps RTP to NTP late: an SFU
// that reports the last forwarded timestamp as "now" through a DTX pause, or a sender that stalled
// and reports its first late packet as sent now. Up to maxReportLate the report is pulled back by
// what the packets show (placer.late); beyond it (seen through a loaded SFU: a second) the report
// is not used and packets are placed by arrival.
//
// The bound is the arrival placement, not the packet's own arrival: a burst of packets held up
// and delivered at once (a stalled sender catching up, a delay spike) all arrive at one moment,
// and pulling the report back to each one's arrival in turn would stack the burst on that moment,
// every packet written over the one before. The arrival placement follows the RTP timestamps
// through the burst, so the stream stays continuous.
const maxReportLate = session.ClockRate / 2

// ntpTicks converts a 32.32 fixed-point NTP timestamp to session clock ticks since the NTP epoch.
func ntpTicks(ntp uint64) int64 {
	sec := int64(ntp >> 32)
	frac := int64((ntp & 0xffffffff) * session.ClockRate >> 32)
	return sec*session.ClockRate + frac
}

// arrivalWindow is how many packets one window of the arrival offset's running minimum spans:
// the offset is the smallest over the current and the previous window (2–4 s of 20 ms packets), so
// it follows a sender whose clock drifts instead of holding on to a minimum from hours ago.
const arrivalWindow = 100

// placer places one stream's packets on the session clock.
type placer struct {
	cur, prev  int64 // session ticks minus extended RTP timestamp: smallest in this and the last window
	n          int   // packets in the current window
	hasArrival bool

	report    bool
	reportNTP int64  // the last sender report's NTP time, in ticks
	reportRTP uint32 // and its RTP timestamp
	// late is how far after the arrival placement the last report placed a packet, at most: taken
	// off every placement by that report. An SFU that reports the RTP timestamp of the last packet
	// it forwarded as "now" (LiveKit does, through DTX pauses) makes reports up to a pause late.
	late int64
}

// reset forgets the arrival offset (the stream restarted and its timestamps start over).
func (p *placer) reset() { p.hasArrival = false }

// arrivalOffset takes one packet's arrival offset and returns the running minimum.
func (p *placer) arrivalOffset(off int64) int64 {
	if !p.hasArrival {
		p.cur, p.prev, p.n, p.hasArrival = off, off, 0, true
	}
	p.cur = min(p.cur, off)
	if p.n++; p.n == arrivalWindow {
		p.prev, p.cur, p.n = p.cur, off, 0
	}
	return min(p.cur, p.prev)
}

// senderReport takes a report for this stream.
func (p *placer) senderReport(sr *rtcp.SenderReport) {
	p.report = true
	p.reportNTP = ntpTicks(sr.NTPTime)
	p.reportRTP = sr.RTPTime
	p.late = 0
}

// place returns the session tick of a packet with extended timestamp ts that arrived at
// arrivalTicks. ntpOffset (session ticks minus NTP ticks) is valid when haveOffset.
func (p *placer) place(ts uint64, arrivalTicks int64, ntpOffset int64, haveOffset bool) int64 {
	byArrival := int64(ts) + p.arrivalOffset(arrivalTicks-int64(ts))
	if !p.report || !haveOffset {
		return byArrival
	}
	byReport := p.reportNTP + ntpOffset + int64(int32(uint32(ts)-p.reportRTP))
	late := byReport - byArrival
	if late > maxReportLate || byReport-byArrival < -maxReportSkew {
		return byArrival
	}
	p.late = max(p.late, late)
	return byReport - p.late
}

// sessionClock is the recorder's clock: session tick 0 is start, and the NTP clock of sender
// reports relates to it by one offset for the whole recorder. Lock-free: the RTCP readers lower
// the offset, the timer loop reads it.
type sessionClock struct {
	start     time.Time
	ntpOffset atomic.Int64 // session ticks minus NTP ticks, smallest seen
	haveNTP   atomic.Bool
}

// ticks is the session tick of wall-clock time t.
func (c *sessionClock) ticks(t time.Time) int64 { return session.Ticks(t.Sub(c.start)) }

// observeNTP keeps the smallest arrival-minus-NTP offset seen: the report that travelled fastest.
// A report that arrives late (queued before its track was read, a slow path) only ever has a
// larger offset and changes nothing, so one outlier cannot move every speaker.
func (c *sessionClock) observeNTP(off int64) {
	for {
		cur := c.ntpOffset.Load()
		if c.haveNTP.Load() && cur <= off {
			return
		}
		if c.ntpOffset.CompareAndSwap(cur, off) {
			c.haveNTP.Store(true)
			return
		}
	}
}

// place returns the session tick of a packet of p's stream with extended timestamp ts that
// arrived at arrival.
func (c *sessionClock) place(p *placer, ts uint64, arrival time.Time) int64 {
	return p.place(ts, c.ticks(arrival), c.ntpOffset.Load(), c.haveNTP.Load())
}
