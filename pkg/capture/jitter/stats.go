package jitter

import (
	"math"
	"time"
)

// Stats counts what a Buffer has seen. Every pushed packet ends up in exactly one of Released, Duplicates, Late,
// Overflow or Strays, or is still held: Received = Released + Duplicates + Late + Overflow + Strays + held.
type Stats struct {
	// Received counts every packet pushed.
	Received uint64
	// Released counts packets returned by Pop.
	Released uint64
	// Duplicates counts packets whose sequence number was already held or released.
	Duplicates uint64
	// Late counts packets that arrived after their sequence number had been given up as lost.
	Late uint64
	// Lost counts sequence numbers skipped in the output: never received in time, or pushed out by Overflow.
	// Within a stream, Released + Lost spans the output's sequence numbers exactly.
	Lost uint64
	// Overflow counts received packets dropped because the window of WithMaxPackets was full.
	Overflow uint64
	// Strays counts packets far outside the sequence (RFC 3550 §A.1) that no second packet confirmed as a
	// restarted stream.
	Strays uint64
	// Resets counts restarted streams: a confirmed sequence jump, reported as Out.Reset.
	Resets uint64
	// Jitter is the interarrival jitter of RFC 3550 §A.8, for the status line and RTCP receiver reports.
	Jitter time.Duration
}

// Stats returns the counts so far.
func (b *Buffer) Stats() Stats {
	s := b.stats
	s.Jitter = time.Duration(b.jit.ticks / float64(b.clockRate) * float64(time.Second))
	return s
}

// jitterEstimator is the interarrival jitter of RFC 3550 §A.8, in RTP ticks.
type jitterEstimator struct {
	base    time.Time // arrival times are taken relative to this, keeping float64 exact enough
	transit float64   // relative transit time of the previous packet, in ticks
	have    bool
	ticks   float64 // the running estimate J
}

// observe folds in one packet's arrival and extended timestamp (RFC 3550 §A.8: D = (Rj-Ri) - (Sj-Si),
// J += (|D| - J)/16). Using each packet's own transit time keeps it right under reordering.
func (j *jitterEstimator) observe(arrival time.Time, extTS uint64, clockRate int) {
	if j.base.IsZero() {
		j.base = arrival
	}
	transit := arrival.Sub(j.base).Seconds()*float64(clockRate) - float64(extTS)
	if j.have {
		j.ticks += (math.Abs(transit-j.transit) - j.ticks) / 16
	}
	j.transit, j.have = transit, true
}

// restart forgets the previous transit time: timestamps of a restarted stream are unrelated to the old ones.
func (j *jitterEstimator) restart() { j.have = false }
