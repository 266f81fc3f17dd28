package audio

import (
	"math"
	"testing"
	"time"
)

// TestFormatDuration converts frame counts to durations, saturating past what a time.Duration
// holds: before, 2^63−1 frames (a forged Ogg length) came out as math.MinInt64, a negative time.
func TestFormatDuration(t *testing.T) {
	f := Format{SampleRate: 48000, Channels: 1}
	tests := []struct {
		frames int64
		want   time.Duration
		why    string
	}{
		{0, 0, "no frames last nothing"},
		{48000, time.Second, "a second of frames is a second"},
		{7 * 24 * 3600 * 48000, 7 * 24 * time.Hour, "a week converts exactly"},
		{math.MaxInt64, math.MaxInt64, "2^63−1 frames saturate rather than wrap"},
		{math.MinInt64, math.MinInt64, "−2^63 frames saturate at the other end"},
	}
	for _, tt := range tests {
		if got := f.Duration(tt.frames); got != tt.want {
			t.Errorf("%s: Duration(%d) = %d, want %d", tt.why, tt.frames, got, tt.want)
		}
	}
}
