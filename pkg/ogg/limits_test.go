package ogg

import (
	"errors"
	"math"
	"testing"
)

// TestCheckSpan checks stream lengths against the 7-day limit and what the file's bytes hold.
func TestCheckSpan(t *testing.T) {
	tests := []struct {
		start, first, last, size int64
		ok                       bool
		why                      string
	}{
		{0, 960, 48000, 4000, true, "a second in 4000 bytes is plausible"},
		{0, 960, 48000, 10, false, "10 bytes hold 5 packets at most, 600 ms"},
		{0, 960, math.MaxInt64, 1 << 40, false, "2^63−1 samples are past 7 days whatever the size"},
		{0, 960, MaxSamples, 1 << 40, true, "exactly 7 days in a terabyte is allowed"},
		{0, 960, MaxSamples + 1, 1 << 40, false, "one sample past 7 days is not"},
		{0, 96000, 48000, 4000, false, "the last position before the first audio page's"},
		{1 << 62, 1<<62 + 960, 1<<62 + 48000, 4000, true, "a stream may start far into the granule count (RFC 7845 §4.3)"},
		{0, 0, 0, 0, true, "an empty stream has no length"},
	}
	for _, tt := range tests {
		err := CheckSpan(tt.start, tt.first, tt.last, tt.size)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrGranule)) {
			t.Errorf("%s: CheckSpan(%d, %d, %d, %d) = %v", tt.why, tt.start, tt.first, tt.last, tt.size, err)
		}
	}
	if got := MaxSamplesIn(math.MaxInt64); got < MaxSamples || got > MaxSamples+maxPacketSamples {
		t.Errorf("MaxSamplesIn(2^63−1) = %d: the product must stay in range, near MaxSamples", got)
	}
}
