package ogg

import (
	"fmt"
	"math"
)

// MaxSamples is the longest Ogg Opus stream spacecast reads: 7 days at 48 kHz. A recording or an
// episode is hours long; the bound keeps every sum of granule positions and sample counts far from
// int64 overflow, and keeps a file that claims more from making a command run for days.
const MaxSamples = 7 * 24 * 60 * 60 * 48000

// maxPackets is the most packets that can reach MaxSamples (a bound that keeps products in range).
const maxPackets = MaxSamples/maxPacketSamples + 1

// MaxSamplesIn is the most audio, in 48 kHz samples, that size bytes of Ogg pages can carry: every
// Opus packet takes at least one body byte (its TOC byte, RFC 6716 §3.1) and one lacing value
// (RFC 3533 §6), and lasts at most 120 ms (RFC 6716 §3.2.5).
func MaxSamplesIn(size int64) int64 {
	if size <= 0 {
		return 0
	}
	return min(size/2, maxPackets) * maxPacketSamples
}

// GranuleError is a granule position, or a length computed from granule positions, that the
// stream's bytes cannot explain. Value is what the stream claims, Limit the bound it breaks.
type GranuleError struct {
	Offset int64 // input offset of the page, or -1 when the error is about the whole stream
	Value  int64
	Limit  int64
	msg    string
}

func (e *GranuleError) Error() string { return ErrGranule.Error() + ": " + e.msg }

func (e *GranuleError) Unwrap() error { return ErrGranule }

// CheckSpan checks the granule positions a stream's length comes from: start (its first sample),
// first (the first audio page's position) and last (the last page's, RFC 7845 §4.4). It refuses a
// last position before the first one, and a length last − start longer than MaxSamples or than
// size bytes of pages can carry (MaxSamplesIn).
func CheckSpan(start, first, last, size int64) error {
	samples := last - start
	switch {
	case last < first:
		return &GranuleError{Offset: -1, Value: last, Limit: first,
			msg: fmt.Sprintf("the last page's granule position %d lies before the first audio page's, %d", last, first)}
	case samples > MaxSamples:
		return &GranuleError{Offset: -1, Value: samples, Limit: MaxSamples,
			msg: fmt.Sprintf("the granule positions give a length of %d samples; the limit is %d (7 days)", samples, int64(MaxSamples))}
	case samples > MaxSamplesIn(size):
		return &GranuleError{Offset: -1, Value: samples, Limit: MaxSamplesIn(size),
			msg: fmt.Sprintf("the granule positions give a length of %d samples; %d bytes of packets carry at most %d", samples, size, MaxSamplesIn(size))}
	}
	return nil
}

// GranuleTracker follows the granule positions of a stream page by page (RFC 7845 §4) and refuses
// the ones its packets cannot explain: a negative position, a position below the one before it,
// or one further from the stream's start than all packets so far could play at 120 ms each (or
// than MaxSamples). Gaps the packets can cover — lost packets, which a decoder conceals (RFC 7845
// §4.1) — pass. The zero value is ready to use.
type GranuleTracker struct {
	started bool
	start   int64 // granule position of the stream's first sample
	prev    int64 // last granule position seen
	packets int64 // packets so far
}

// Page records that packets more packets, lasting samples in all, completed up to and including a
// page at input offset off (-1 if not known) whose granule position is granule. The first call
// fixes the stream's start: granule − samples, or 0 when that is negative (RFC 7845 §4.3, end
// trimming of a one-page stream).
func (g *GranuleTracker) Page(off, granule int64, packets int, samples int64) error {
	if granule < 0 {
		return &GranuleError{Offset: off, Value: granule, Limit: 0,
			msg: fmt.Sprintf("the page at byte %d has granule position %d (negative)", off, granule)}
	}
	g.packets = min(g.packets+int64(packets), maxPackets)
	if !g.started {
		g.started, g.start, g.prev = true, max(0, granule-samples), granule
	}
	if granule < g.prev {
		return &GranuleError{Offset: off, Value: granule, Limit: g.prev,
			msg: fmt.Sprintf("the page at byte %d has granule position %d, back from %d on the page before", off, granule, g.prev)}
	}
	reach := min(g.packets*maxPacketSamples, MaxSamples)
	if granule-g.start > reach {
		limit := g.start + min(reach, math.MaxInt64-g.start)
		return &GranuleError{Offset: off, Value: granule, Limit: limit,
			msg: fmt.Sprintf("the page at byte %d has granule position %d, %d samples from the stream's start; "+
				"its %d packets carry at most %d (120 ms each)", off, granule, granule-g.start, g.packets, reach)}
	}
	g.prev = granule
	return nil
}

// Seeked tells the tracker that reading moved to just after a page with granule position granule
// (−1: the stream's start). The packets before it are no longer counted, so from here on only the
// order of positions and the 7-day bound are checked.
func (g *GranuleTracker) Seeked(granule int64) {
	if !g.started {
		return
	}
	g.prev, g.packets = max(granule, g.start), maxPackets
}

// Start is the granule position of the stream's first sample, once Page fixed it.
func (g *GranuleTracker) Start() int64 { return g.start }
