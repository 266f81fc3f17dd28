package jitter

import "testing"

func TestExtendSeq(t *testing.T) {
	tests := []struct {
		name string
		ref  uint64
		seq  uint16
		want uint64
	}{
		{"the next number extends forward", firstSeq(10), 11, 1<<16 | 11},
		{"an earlier number extends backward", firstSeq(10), 9, 1<<16 | 9},
		{"a step forward across the wrap enters the next cycle", firstSeq(65535), 0, 2 << 16},
		{"a step back across the wrap returns to the cycle before", 2 << 16, 65535, 1<<16 | 65535},
		{"a reordered packet before the first, across the wrap, stays non-negative", firstSeq(0), 65535, 65535},
		{"a step just under half the space is forward", firstSeq(0), 32767, 1<<16 | 32767},
		{"a step of half the space or more is backward", firstSeq(0), 32768, 32768},
	}
	for _, tt := range tests {
		if got := extendSeq(tt.ref, tt.seq); got != tt.want {
			t.Errorf("%s: extendSeq(%d, %d) = %d, want %d", tt.name, tt.ref, tt.seq, got, tt.want)
		}
		if got := uint16(extendSeq(tt.ref, tt.seq)); got != tt.seq {
			t.Errorf("%s: low bits %d, want the wire value %d", tt.name, got, tt.seq)
		}
	}
}

func TestExtendTS(t *testing.T) {
	tests := []struct {
		name string
		ref  uint64
		ts   uint32
		want uint64
	}{
		{"one 20 ms frame forward", firstTS(1000), 1960, 1<<32 | 1960},
		{"forward across the 2^32 wrap", firstTS(1<<32 - 480), 480, 2<<32 | 480},
		{"backward across the wrap (a reordered packet)", 2<<32 | 480, 1<<32 - 480, 1<<32 | (1<<32 - 480)},
		{"a ten-minute DTX pause is forward, not a wrap", firstTS(0), 600 * 48000, 1<<32 | 600*48000},
	}
	for _, tt := range tests {
		if got := extendTS(tt.ref, tt.ts); got != tt.want {
			t.Errorf("%s: extendTS(%d, %d) = %d, want %d", tt.name, tt.ref, tt.ts, got, tt.want)
		}
	}
}

func TestAfter(t *testing.T) {
	// A restarted stream sorts after everything of the old one, even its own packets reordered by MAX_MISORDER.
	for _, high := range []uint64{firstSeq(0), firstSeq(65535), 5<<16 | 12345} {
		for _, seq := range []uint16{0, 100, 65535} {
			got := seqAfter(high, seq)
			if uint16(got) != seq || got-defaultMaxMisorder <= high {
				t.Errorf("seqAfter(%d, %d) = %d: want low bits %d and more than %d above", high, seq, got, seq, defaultMaxMisorder)
			}
		}
	}
	if got := tsAfter(firstTS(7), 5); got != 3<<32|5 {
		t.Errorf("tsAfter = %d, want %d", got, uint64(3<<32|5))
	}
}
