package studio

import (
	"math"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/audio"
)

func TestLevelGains(t *testing.T) {
	tests := []struct {
		loud  []float64
		level bool
		want  []float64
		why   string
	}{
		{[]float64{-20, -30, -25}, true, []float64{-5, 5, 0}, "everyone meets the median speaker"},
		{[]float64{-20, -30}, true, []float64{-5, 5}, "two speakers meet halfway"},
		{[]float64{-10, -40, -25}, true, []float64{-12, 12, 0}, "gains stop at ±12 dB"},
		{[]float64{-20, math.Inf(-1), -30}, true, []float64{-5, 0, 5}, "a silent speaker is left alone and not counted"},
		{[]float64{-20, -30}, false, []float64{0, 0}, "--no-level changes nothing"},
		{[]float64{-20}, true, []float64{0}, "one speaker has no one to meet"},
	}
	for _, tt := range tests {
		stats := make([]speakerStats, len(tt.loud))
		for i, l := range tt.loud {
			stats[i].loudness = l
		}
		got := levelGains(stats, tt.level)
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-9 {
				t.Errorf("%s: gains %v, want %v", tt.why, got, tt.want)
				break
			}
		}
	}
}

func TestNextGain(t *testing.T) {
	tests := []struct {
		pts  []gainPoint
		want float64
		gain float64
		why  string
	}{
		{[]gainPoint{{0, -20}}, -16, 4, "one point: step by the miss"},
		{[]gainPoint{{0, -20}, {4, -16}}, -15, 5, "a limiter that took nothing: a plain step"},
		{[]gainPoint{{0, -20}, {4, -17}}, -16, 4 + 1/0.5, "a limiter taking 1 LU: loudness grows half as fast"},
		{[]gainPoint{{0, -20}, {4, -17}, {6, -16.5}}, -16, 6 + 0.5/0.25, "then a secant through the last two points"},
		{[]gainPoint{{0, -20}, {4, -17}, {6, -16.95}}, -16, 6 + 0.95/0.2, "a slope near zero is held at 0.2"},
		{[]gainPoint{{0, -20}, {4, -17}, {5, -15}}, -16, 4, "a slope above 1 is held at 1"},
	}
	for _, tt := range tests {
		if got := nextGain(tt.pts, tt.want); math.Abs(got-tt.gain) > 1e-9 {
			t.Errorf("%s: nextGain = %g, want %g", tt.why, got, tt.gain)
		}
	}
}

func TestAfterCuts(t *testing.T) {
	cuts := []audio.Cut{{Start: 100, End: 200}, {Start: 500, End: 550}}
	for _, tt := range []struct{ at, want int64 }{{50, 50}, {150, 100}, {200, 100}, {400, 300}, {525, 400}, {600, 450}} {
		if got := afterCuts(tt.at, cuts); got != tt.want {
			t.Errorf("afterCuts(%d) = %d, want %d", tt.at, got, tt.want)
		}
	}
}

// Two speakers taking long turns, with a short interjection: chapters follow the long turns only.
func TestLeaderSegments(t *testing.T) {
	f := audio.Format{SampleRate: 1000, Channels: 1}
	power := func(lufs float64) float64 { return math.Pow(10, (lufs+0.691)/10) }
	steps := func(active ...[2]int) []float64 { // active ranges in seconds
		b := make([]float64, 3000) // 300 s of 100 ms steps
		for i := range b {
			b[i] = power(-90)
		}
		for _, r := range active {
			for s := r[0] * 10; s < r[1]*10; s++ {
				b[s] = power(-20)
			}
		}
		return b
	}
	stats := []speakerStats{
		{steps: steps([2]int{0, 100}, [2]int{200, 300}), thrDB: -40},
		{steps: steps([2]int{100, 200}, [2]int{40, 45}), thrDB: -40},
	}
	speakers := []*speaker{{Name: "A"}, {Name: "B"}}
	segs := leaderSegments(speakers, stats, f, 300*1000, 60*time.Second)
	if len(segs) != 3 {
		t.Fatalf("want 3 chapters (A, B, A), got %+v", segs)
	}
	for i, want := range []struct {
		leader     int
		start, end int64
	}{{0, 0, 100}, {1, 100, 200}, {0, 200, 300}} {
		s := segs[i]
		if s.leader != want.leader || math.Abs(float64(s.start/1000-want.start)) > 6 || math.Abs(float64(s.end/1000-want.end)) > 6 {
			t.Errorf("chapter %d: %+v, want leader %d from about %ds to %ds", i, s, want.leader, want.start, want.end)
		}
	}
}
