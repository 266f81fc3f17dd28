package jitter

// Sequence and timestamp extension, after RFC 3550 §A.1.
//
// A wire sequence number is 16 bits and a wire timestamp 32 bits; both wrap. The buffer works on extended,
// 64-bit values: the wire value in the low bits and a count of wraps ("cycles") above it. RFC 3550 §A.1 starts
// the cycle count at 0; this package starts it at 1 for the first packet of a stream so that a packet reordered
// ahead of the first across a wrap (first seq 0, then 65535) still extends to a non-negative value. The low bits
// of an extended value always equal the wire value: uint16(seq) and uint32(ts) give back what was on the wire.

// RFC 3550 §A.1 bounds on what counts as the same stream.
const (
	// defaultMaxDropout is the largest forward sequence jump taken as loss rather than a restarted sender
	// (RFC 3550 §A.1 MAX_DROPOUT).
	defaultMaxDropout = 3000
	// defaultMaxMisorder is the largest backward sequence step taken as reordering rather than a restarted
	// sender (RFC 3550 §A.1 MAX_MISORDER).
	defaultMaxMisorder = 100
)

// firstSeq is the extended value of the first sequence number of a stream: cycle 1 (see above).
func firstSeq(seq uint16) uint64 { return 1<<16 | uint64(seq) }

// firstTS is the extended value of the first timestamp of a stream: cycle 1 (see above).
func firstTS(ts uint32) uint64 { return 1<<32 | uint64(ts) }

// extendSeq returns the extended sequence number with low bits seq nearest to ref, an extended sequence number
// already seen (RFC 3550 §A.1: a step of less than half the sequence space is taken as the short way round).
func extendSeq(ref uint64, seq uint16) uint64 {
	return ref + uint64(int64(int16(seq-uint16(ref))))
}

// extendTS returns the extended timestamp with low bits ts nearest to ref, an extended timestamp already seen.
// A forward step up to 2^31 ticks (12.4 hours at 48 kHz) is taken as forward, so a long DTX pause is not a wrap.
func extendTS(ref uint64, ts uint32) uint64 {
	return ref + uint64(int64(int32(ts-uint32(ref))))
}

// seqAfter returns an extended sequence number with low bits seq at least two cycles above high: the first
// value of a restarted stream, which must sort after everything of the old one, reordered packets included.
func seqAfter(high uint64, seq uint16) uint64 { return ((high>>16)+2)<<16 | uint64(seq) }

// tsAfter is seqAfter for timestamps.
func tsAfter(high uint64, ts uint32) uint64 { return ((high>>32)+2)<<32 | uint64(ts) }
