package jitter

import "time"

// Defaults for New.
const (
	// DefaultLatency is how long a missing packet is waited for: long enough for one NACK round trip on a
	// typical link, short enough that the recorder stays live.
	DefaultLatency = 200 * time.Millisecond
	// DefaultMaxPackets bounds the sequence window held: 10 s of 20 ms Opus, 1.3 s of 2.5 ms Opus.
	DefaultMaxPackets = 512
	// DefaultClockRate is the RTP clock rate of Opus (RFC 7587 §4.1).
	DefaultClockRate = 48000
)

// Option configures a Buffer.
type Option func(*Buffer)

// WithLatency sets how long a missing packet is waited for once a later one has arrived, and how long the first
// packet of a stream is held so that one reordered ahead of it is not declared late. Values <= 0 are ignored.
func WithLatency(d time.Duration) Option {
	return func(b *Buffer) {
		if d > 0 {
			b.latency = d
		}
	}
}

// WithMaxPackets bounds memory: the buffer holds packets within a window of n sequence numbers, and a packet
// beyond it pushes the oldest out (counted in Stats.Overflow and reported as lost). Values < 2 are ignored.
func WithMaxPackets(n int) Option {
	return func(b *Buffer) {
		if n >= 2 {
			b.maxHeld = uint64(n)
		}
	}
}

// WithClockRate sets the RTP clock rate in Hz, used for Stats.Jitter. Values <= 0 are ignored.
func WithClockRate(hz int) Option {
	return func(b *Buffer) {
		if hz > 0 {
			b.clockRate = hz
		}
	}
}

// WithMaxDropout sets the largest forward sequence jump taken as loss; a larger one is a restarted sender, and
// becomes a Reset once a second packet confirms it (RFC 3550 §A.1 MAX_DROPOUT, default 3000). Values outside
// [1, 32767] are ignored.
func WithMaxDropout(packets int) Option {
	return func(b *Buffer) {
		if packets >= 1 && packets <= 1<<15-1 {
			b.maxDropout = int64(packets)
		}
	}
}
