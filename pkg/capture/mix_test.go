package capture

import (
	"math"
	"testing"
)

// TestRingWindow: a ring keeps audio only inside its window on the session clock, from the
// mixer's position (floor) on, and take clears what it mixes.
func TestRingWindow(t *testing.T) {
	ones := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = 1
		}
		return s
	}
	cases := []struct {
		why        string
		pos, floor int64
		n          int
		takeAt     int64
		want       float32 // sum of the mixFrame taken at takeAt
	}{
		{"audio inside the window is taken where it was written", 960, 0, 960, 960, 960},
		{"audio before the floor (too late for the mix) is dropped", 0, 960, 960, 0, 0},
		{"audio straddling the floor keeps its part after it", 480, 960, 960, 960, 480},
		{"audio beyond the window (too early) is dropped", ringSize, 0, 960, ringSize, 0},
	}
	for _, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			r := new(ring)
			r.write(c.pos, ones(c.n), c.floor)
			dst := make([]float32, mixFrame)
			r.take(c.takeAt, dst)
			var sum float32
			for _, v := range dst {
				sum += v
			}
			if sum != c.want {
				t.Errorf("took %v, want %v", sum, c.want)
			}
			clear(dst)
			r.take(c.takeAt, dst)
			for _, v := range dst {
				if v != 0 {
					t.Fatal("a second take found audio: take did not clear the ring")
				}
			}
		})
	}
}

// TestVoiceLevel: the level meter reads a decoded tone's RMS after 100 ms, and silence as -inf
// before any audio.
func TestVoiceLevel(t *testing.T) {
	v, err := newVoice(2)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(v.level, -1) {
		t.Errorf("level before any audio %v, want -inf", v.level)
	}
	pcm := make([]float32, 2*960)
	for i := range pcm {
		pcm[i] = 0.5 // both channels: the downmix is 0.5, -6 dBFS
	}
	for range 5 {
		v.toRing(pcm, 0, 0)
	}
	if want := 20 * math.Log10(0.5); math.Abs(v.level-want) > 0.01 {
		t.Errorf("level %.2f dBFS, want %.2f", v.level, want)
	}
}
