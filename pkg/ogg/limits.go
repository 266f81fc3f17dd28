package ogg

import (
	"fmt"
	"io"
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
// one further past the one before it than the packets between them can play at 120 ms each, or
// one more than MaxSamples from the stream's start. A gap the packets of the page after it can
// cover — lost packets, which a decoder conceals (RFC 7845 §4.1) — passes. The zero value is ready.
type GranuleTracker struct {
	started bool
	start   int64 // granule position of the stream's first sample
	prev    int64 // last granule position seen
}

// Page records that packets more packets, lasting samples in all, completed up to and including a
// page at input offset off (-1 if not known) whose granule position is granule. The first call
// fixes the stream's start: granule − samples, or 0 when that is negative (RFC 7845 §4.3, end
// trimming of a one-page stream).
func (g *GranuleTracker) Page(off, granule int64, packets int, samples int64) error {
	if !g.started && granule >= 0 {
		g.started, g.start, g.prev = true, max(0, granule-samples), max(0, granule-samples)
	}
	if err := checkStep(off, g.prev, granule, packets); err != nil {
		return err
	}
	if granule-g.start > MaxSamples {
		return &GranuleError{Offset: off, Value: granule, Limit: g.start + min(MaxSamples, math.MaxInt64-g.start),
			msg: fmt.Sprintf("the page at byte %d has granule position %d, more than 7 days (%d samples) from the stream's start at %d",
				off, granule, int64(MaxSamples), g.start)}
	}
	g.prev = granule
	return nil
}

// checkStep checks a page's granule position against the one before it (prev) and the packets
// that completed between them.
func checkStep(off, prev, granule int64, packets int) error {
	if granule < 0 {
		return &GranuleError{Offset: off, Value: granule, Limit: 0,
			msg: fmt.Sprintf("the page at byte %d has granule position %d (negative)", off, granule)}
	}
	if granule < prev {
		return &GranuleError{Offset: off, Value: granule, Limit: prev,
			msg: fmt.Sprintf("the page at byte %d has granule position %d, back from %d before it", off, granule, prev)}
	}
	reach := int64(packets) * maxPacketSamples
	if granule-prev > reach {
		return &GranuleError{Offset: off, Value: granule, Limit: prev + min(reach, math.MaxInt64-prev),
			msg: fmt.Sprintf("the page at byte %d has granule position %d, %d samples past the %d before it; "+
				"its %d packets carry at most %d (120 ms each)", off, granule, granule-prev, prev, packets, reach)}
	}
	return nil
}

// Seeked tells the tracker that reading moved to just after a page with granule position granule
// (−1: to the stream's start).
func (g *GranuleTracker) Seeked(granule int64) {
	if g.started {
		g.prev = max(granule, g.start)
	}
}

// Start is the granule position of the stream's first sample, once Page fixed it.
func (g *GranuleTracker) Start() int64 { return g.start }

// CheckGranules walks the page headers of the first logical stream in r (size bytes), without
// reading the pages' bodies, and checks every granule position by GranuleTracker's rules before
// any audio is decoded: none negative but −1, none below the one before it, none further past it
// than the packets completing in between can play. A page with position 0 is taken for a header
// page (RFC 7845 §3): the first audio page after it may start the stream anywhere. The walk ends
// at the stream's end-of-stream page or at the first page whose header is damaged or cut off (a
// crashed recording's tail, which the reader deals with); it costs two small reads a page.
func CheckGranules(r io.ReaderAt, size int64) error {
	var hdr [headerSize + maxSegments]byte
	var serial uint32
	prev, packets := int64(0), 0
	for off, first := int64(0), true; off+headerSize <= size; {
		if _, err := r.ReadAt(hdr[:headerSize], off); err != nil {
			return nil
		}
		h, err := parseHeader(hdr[:])
		if err != nil {
			return nil
		}
		segs := hdr[headerSize : headerSize+h.segments]
		if _, err := r.ReadAt(segs, off+headerSize); err != nil {
			return nil
		}
		next := off + int64(headerSize+h.segments+bodySize(segs))
		if next > size {
			return nil
		}
		if first {
			serial, first = h.serial, false
		}
		if h.serial == serial {
			packets += completed(Page{Segments: segs})
			switch {
			case h.granule == -1:
			case prev == 0 && h.granule >= 0:
				prev, packets = h.granule, 0 // the headers, or the first audio page after them
			default:
				if err := checkStep(off, prev, h.granule, packets); err != nil {
					return err
				}
				prev, packets = h.granule, 0
			}
			if h.flags&FlagEOS != 0 {
				return nil
			}
		}
		off = next
	}
	return nil
}
