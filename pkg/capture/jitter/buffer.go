// Package jitter reorders the RTP packets of one SSRC, waits a bounded time for missing ones, and releases
// them in sequence with exact accounting of what came before each: loss, timestamp advance, restarts.
//
// A Buffer sits between the network (Push, from pion's read loop) and a writer (Pop, in order). Sequence numbers
// and timestamps are extended to 64 bits (RFC 3550 §A.1); timing is only ever taken between packets released in
// order, never from the arrival order (pion/webrtc#1537). A Buffer is not safe for concurrent use.
package jitter

import (
	"time"

	"github.com/pion/rtp"
)

// Out is one packet released in order.
type Out struct {
	// Payload is a copy of the RTP payload, owned by the Buffer's pool until passed to Release.
	Payload []byte
	// Seq is the extended sequence number (RFC 3550 §A.1): strictly increasing across everything released,
	// Resets included; uint16(Seq) is the wire value.
	Seq uint64
	// TS is the extended RTP timestamp; uint32(TS) is the wire value.
	TS uint64
	// Arrival is when the packet was pushed.
	Arrival time.Time
	// Marker is the RTP marker bit: for Opus, the first packet of a talkspurt (RFC 7587 §4.1).
	Marker bool
	// Lost counts the sequence numbers skipped right before this packet.
	Lost int
	// TSDelta is TS minus the TS of the previously released packet, in RTP ticks; 0 for the first packet and
	// for a Reset. With Lost == 0, a TSDelta longer than the previous packet's duration is DTX or mute
	// (contiguous sequence numbers, a timestamp jump), not loss.
	TSDelta int64
	// Reset marks the first packet of a restarted stream (a confirmed sequence jump): TS and TSDelta say nothing
	// about time since the packet before, so place it by Arrival.
	Reset bool
}

// Slot states.
const (
	slotEmpty    uint8 = iota
	slotHeld           // a packet waiting to be released
	slotReleased       // released: a repeat is a duplicate
	slotLost           // given up: a repeat is late
)

// slot is one entry of the ring, addressed by position modulo the ring size; pos says which position it holds.
type slot struct {
	pos     uint64
	state   uint8
	stream  uint32 // which stream (0, then one more per Reset) the packet belongs to
	extSeq  uint64
	marker  bool
	extTS   uint64
	arrival time.Time
	payload []byte
}

// candidate is a packet far outside the sequence, kept until a second one confirms a restarted stream.
type candidate struct {
	valid   bool
	seq     uint16
	ts      uint32
	marker  bool
	arrival time.Time
	payload []byte
}

// Buffer is the jitter buffer of one SSRC.
//
// Packets live at positions: the extended sequence number minus a per-stream shift, so that a restarted stream
// continues right after the old one in the ring while its extended sequence numbers keep the wire value in their
// low bits. Positions [next, epochStart) are what remains of the previous stream after a Reset, released without
// further waiting; the current stream starts at epochStart.
type Buffer struct {
	latency     time.Duration
	maxHeld     uint64
	clockRate   int
	maxDropout  int64
	maxMisorder int64

	ring []slot
	mask uint64

	started    bool      // a packet has been accepted
	begun      bool      // the current stream has released its first packet
	holdUntil  time.Time // before begun: hold the stream's first packet until then
	shift      uint64    // extended sequence number = position + shift, in the current stream
	epochStart uint64    // first position of the current stream
	low        uint64    // before begun: lowest position received in the current stream
	next       uint64    // next position to release (after begun, or in the previous stream's remainder)
	high       uint64    // highest position received in the current stream
	highTS     uint64    // extended timestamp of the packet at high: the reference for extendTS
	maxTS      uint64    // highest extended timestamp seen in any stream
	stream     uint32    // the current stream: 0, then one more per Reset

	havePrev   bool   // the prev fields describe the last released packet
	prevSeq    uint64 // its extended sequence number
	prevTS     uint64 // its extended timestamp
	prevStream uint32 // its stream

	cand  candidate
	free  [][]byte
	stats Stats
	jit   jitterEstimator
}

// New returns an empty Buffer for one SSRC.
func New(opts ...Option) *Buffer {
	b := &Buffer{
		latency:     DefaultLatency,
		maxHeld:     DefaultMaxPackets,
		clockRate:   DefaultClockRate,
		maxDropout:  defaultMaxDropout,
		maxMisorder: defaultMaxMisorder,
	}
	for _, o := range opts {
		o(b)
	}
	// Reordering is bounded by the window, so a reordered packet never pushes anything out.
	b.maxMisorder = min(b.maxMisorder, int64(b.maxHeld/2))
	size := uint64(1)
	for size < b.maxHeld {
		size <<= 1
	}
	b.ring = make([]slot, size)
	b.mask = size - 1
	b.free = make([][]byte, 0, size)
	return b
}

// Push takes one packet received at arrival. It copies what it keeps; p and its payload stay the caller's.
func (b *Buffer) Push(p *rtp.Packet, arrival time.Time) {
	if p == nil {
		return
	}
	b.stats.Received++
	b.push(p, arrival)
}

// push files one counted packet.
func (b *Buffer) push(p *rtp.Packet, arrival time.Time) {
	if !b.started {
		b.started = true
		pos := firstSeq(p.SequenceNumber) // shift 0 for the first stream
		b.startStream(pos, pos-uint64(b.maxMisorder), firstTS(p.Timestamp), arrival)
		b.next = b.epochStart
		b.store(pos, firstTS(p.Timestamp), p.Marker, arrival, p.Payload)
		return
	}
	ext := extendSeq(b.high+b.shift, p.SequenceNumber)
	d := int64(ext - (b.high + b.shift))
	if d > b.maxDropout || d < -b.maxMisorder {
		b.jump(p, arrival)
		return
	}
	pos := ext - b.shift
	s := &b.ring[pos&b.mask]
	switch {
	case b.begun && pos < b.next:
		if s.pos == pos && s.state == slotReleased {
			b.stats.Duplicates++
		} else {
			b.stats.Late++
		}
		return
	case s.pos == pos && s.state == slotHeld:
		b.stats.Duplicates++
		return
	}
	extTS := extendTS(b.highTS, p.Timestamp)
	if pos > b.high {
		b.evictBelow(pos)
		b.high, b.highTS = pos, extTS
	}
	if !b.begun && pos < b.low {
		b.low = pos
	}
	b.store(pos, extTS, p.Marker, arrival, p.Payload)
}

// startStream makes a new current stream whose first packet sits at pos, with positions from start.
func (b *Buffer) startStream(pos, start, extTS uint64, arrival time.Time) {
	b.epochStart, b.low, b.high, b.highTS = start, pos, pos, extTS
	b.begun = false
	b.holdUntil = arrival.Add(b.latency)
	b.jit.restart()
}

// store copies a packet of the current stream into the ring at pos.
func (b *Buffer) store(pos, extTS uint64, marker bool, arrival time.Time, payload []byte) {
	buf := b.take(len(payload))
	copy(buf, payload)
	b.place(pos, extTS, marker, arrival, buf)
}

// place puts a packet of the current stream, its payload already a pooled copy, into the ring at pos.
func (b *Buffer) place(pos, extTS uint64, marker bool, arrival time.Time, payload []byte) {
	s := &b.ring[pos&b.mask]
	if s.payload != nil { // never while the window is within the ring, but keep the pool whole
		b.put(s.payload)
	}
	*s = slot{
		pos: pos, state: slotHeld, stream: b.stream, extSeq: pos + b.shift, marker: marker,
		extTS: extTS, arrival: arrival, payload: payload,
	}
	b.maxTS = max(b.maxTS, extTS)
	b.jit.observe(arrival, extTS, b.clockRate)
}

// jump handles a packet far outside the sequence (RFC 3550 §A.1): the first is kept as a candidate, and a second
// one close to it confirms a restarted stream; otherwise the candidate was a stray.
func (b *Buffer) jump(p *rtp.Packet, arrival time.Time) {
	c := &b.cand
	if c.valid {
		step := int64(int16(p.SequenceNumber - c.seq))
		if step == 0 {
			b.stats.Duplicates++
			return
		}
		if step >= -b.maxMisorder && step <= b.maxMisorder {
			b.restart()
			b.push(p, arrival)
			return
		}
		b.stats.Strays++
		b.put(c.payload)
	}
	buf := b.take(len(p.Payload))
	copy(buf, p.Payload)
	*c = candidate{valid: true, seq: p.SequenceNumber, ts: p.Timestamp, marker: p.Marker, arrival: arrival, payload: buf}
}

// restart begins a new stream at the candidate. What is left of the old one is released first, without waiting.
func (b *Buffer) restart() {
	c := &b.cand
	if !b.begun && b.next >= b.epochStart {
		b.next = b.low // the old stream never released: all of it is remainder
	}
	start := b.high + 1
	pos := start + uint64(b.maxMisorder) // room for the new stream's packets reordered ahead of the candidate
	ext := seqAfter(b.high+b.shift, c.seq)
	extTS := tsAfter(b.maxTS, c.ts)
	b.stream++
	b.shift = ext - pos
	b.startStream(pos, start, extTS, c.arrival)
	b.stats.Resets++
	b.evictBelow(pos)
	b.place(pos, extTS, c.marker, c.arrival, c.payload)
	*c = candidate{}
}

// tail is the lowest position that may hold a packet.
func (b *Buffer) tail() uint64 {
	if b.begun || b.next < b.epochStart {
		return b.next
	}
	return b.low
}

// evictBelow makes room for a packet at pos: everything maxHeld or more positions below it is given up, held
// packets counted as Overflow. The positions given up show as Lost on the next release.
func (b *Buffer) evictBelow(pos uint64) {
	if pos-b.tail() < b.maxHeld {
		return
	}
	to := pos - b.maxHeld + 1
	for ; b.next < b.epochStart && b.next < to; b.next++ { // the previous stream's remainder
		b.drop(b.next)
	}
	if b.begun {
		for ; b.next < to; b.next++ {
			b.drop(b.next)
		}
		return
	}
	for ; b.low < to; b.low++ {
		b.drop(b.low)
	}
}

// drop gives up position pos, freeing a packet held there.
func (b *Buffer) drop(pos uint64) {
	s := &b.ring[pos&b.mask]
	if s.pos == pos && s.state == slotHeld {
		b.put(s.payload)
		b.stats.Overflow++
	}
	*s = slot{pos: pos, state: slotLost}
}

// held reports whether a packet waits at pos.
func (b *Buffer) held(pos uint64) bool {
	s := &b.ring[pos&b.mask]
	return s.pos == pos && s.state == slotHeld
}

// firstHeld returns the lowest position in [from, to) with a packet waiting.
func (b *Buffer) firstHeld(from, to uint64) (uint64, bool) {
	for p := from; p < to; p++ {
		if b.held(p) {
			return p, true
		}
	}
	return 0, false
}

// Pop returns the next packet in sequence if it is here, or the one after a gap once the gap has been waited for
// the latency, counted from the arrival of the packet after it. The first packet of a stream is held for the
// latency after its arrival, so that one reordered ahead of it is not declared late. ok is false when nothing
// can be released at now; Deadline says when to try again.
func (b *Buffer) Pop(now time.Time) (out Out, ok bool) {
	if !b.started {
		return Out{}, false
	}
	if b.next < b.epochStart { // the previous stream's remainder: no point waiting, its sender is gone
		if p, ok := b.firstHeld(b.next, b.epochStart); ok {
			return b.release(p), true
		}
		b.next = b.epochStart
	}
	if !b.begun {
		if now.Before(b.holdUntil) {
			return Out{}, false
		}
		p, ok := b.firstHeld(b.low, b.high+1)
		if !ok {
			return Out{}, false
		}
		b.begun, b.next = true, p
		return b.release(p), true
	}
	if b.next > b.high {
		return Out{}, false
	}
	if b.held(b.next) {
		return b.release(b.next), true
	}
	p, ok := b.firstHeld(b.next+1, b.high+1)
	if !ok || now.Before(b.ring[p&b.mask].arrival.Add(b.latency)) {
		return Out{}, false
	}
	return b.release(p), true
}

// release hands out the packet at pos, giving up the positions from next up to it.
func (b *Buffer) release(pos uint64) Out {
	// Mark the positions given up, so a packet for one arriving later counts as late. Only the last ring's worth
	// can be remembered, and a slot holding a later packet keeps it.
	for p := max(b.next, pos-min(pos, b.mask)); p < pos; p++ {
		if s := &b.ring[p&b.mask]; s.state != slotHeld {
			*s = slot{pos: p, state: slotLost}
		}
	}
	s := &b.ring[pos&b.mask]
	out := Out{Payload: s.payload, Seq: s.extSeq, TS: s.extTS, Arrival: s.arrival, Marker: s.marker}
	switch {
	case b.havePrev && s.stream == b.prevStream:
		out.Lost = int(s.extSeq - b.prevSeq - 1)
		out.TSDelta = int64(s.extTS - b.prevTS)
		b.stats.Lost += uint64(out.Lost)
	case b.havePrev:
		out.Reset = true
	}
	b.havePrev, b.prevSeq, b.prevTS, b.prevStream = true, s.extSeq, s.extTS, s.stream
	*s = slot{pos: pos, state: slotReleased}
	b.next = pos + 1
	b.stats.Released++
	return out
}

// Deadline returns when Pop will next release a packet if nothing more is pushed (a time already past means
// now); ok is false when nothing is held.
func (b *Buffer) Deadline() (t time.Time, ok bool) {
	if !b.started {
		return time.Time{}, false
	}
	if b.next < b.epochStart {
		if p, ok := b.firstHeld(b.next, b.epochStart); ok {
			return b.ring[p&b.mask].arrival, true
		}
	}
	if !b.begun {
		if _, ok := b.firstHeld(b.low, b.high+1); !ok {
			return time.Time{}, false
		}
		return b.holdUntil, true
	}
	if b.next > b.high {
		return time.Time{}, false
	}
	if b.held(b.next) {
		return b.ring[b.next&b.mask].arrival, true
	}
	p, ok := b.firstHeld(b.next+1, b.high+1)
	if !ok {
		return time.Time{}, false
	}
	return b.ring[p&b.mask].arrival.Add(b.latency), true
}

// Missing appends to dst the wire sequence numbers of the current stream not yet received and still worth a
// NACK (RFC 4585 §6.2.1): those whose wait has not run out at now. It returns the extended slice.
func (b *Buffer) Missing(now time.Time, dst []uint16) []uint16 {
	if !b.started {
		return dst
	}
	from := b.low
	if b.begun {
		from = b.next
	}
	gap := from // first position of the current run of missing ones
	for p := from; p <= b.high; p++ {
		if !b.held(p) {
			continue
		}
		if now.Before(b.ring[p&b.mask].arrival.Add(b.latency)) {
			for q := gap; q < p; q++ {
				dst = append(dst, uint16(q+b.shift))
			}
		}
		gap = p + 1
	}
	return dst
}

// Release returns out's payload to the pool; out.Payload must not be used after. Calling it is optional (an
// unreleased payload is left to the garbage collector) but keeps the steady state free of allocation. Release each
// Out at most once.
func (b *Buffer) Release(out Out) { b.put(out.Payload) }

// payloadCap is the capacity of a fresh payload buffer: any RTP payload that fits an Ethernet MTU.
const payloadCap = 1500

// take returns a pooled buffer of length n.
func (b *Buffer) take(n int) []byte {
	if k := len(b.free); k > 0 {
		buf := b.free[k-1]
		b.free = b.free[:k-1]
		if cap(buf) >= n {
			return buf[:n]
		}
	}
	return make([]byte, n, max(n, payloadCap))
}

// put returns a buffer to the pool, which is bounded by the ring size.
func (b *Buffer) put(buf []byte) {
	if buf != nil && len(b.free) < cap(b.free) {
		b.free = append(b.free, buf[:0])
	}
}
