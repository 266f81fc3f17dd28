package truepeak

import (
	"math"
	"testing"
)

func peakOf(d *Detector, x []float32, ch int) float64 {
	return peakAfter(d, x, ch, 0)
}

// peakAfter pushes all of x but counts only what the detector reports after skip frames.
func peakAfter(d *Detector, x []float32, ch, skip int) float64 {
	m := 0.0
	for i := 0; i+ch <= len(x); i += ch {
		if p := d.Push(x[i : i+ch]); i/ch >= skip {
			m = math.Max(m, p)
		}
	}
	return m
}

// TestCrest checks each detector on sines whose crest falls between samples.
func TestCrest(t *testing.T) {
	cases := []struct {
		name   string
		det    func() *Detector
		freq   float64 // fraction of the sample rate
		phase  float64
		tolDB  float64
		minRel float64 // the reading may be this many dB low (grid error), never high beyond tolDB
	}{
		{"Annex 2 on fs/4 at 45°: samples are 3 dB under the crest, the 4x grid hits it", func() *Detector { return New(1) }, 0.25, math.Pi / 4, 0.1, 0.1},
		{"precise on fs/4 at 45°", func() *Detector { return NewPrecise(1) }, 0.25, math.Pi / 4, 0.02, 0.02},
		{"precise on 0.1·fs at an awkward phase", func() *Detector { return NewPrecise(1) }, 0.1, 0.3, 0.02, 0.03},
		{"precise on 0.4·fs (19.2 kHz at 48 kHz)", func() *Detector { return NewPrecise(1) }, 0.4, 1.1, 0.05, 0.12},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := make([]float32, 4800)
			for i := range x {
				x[i] = float32(0.5 * math.Sin(2*math.Pi*tc.freq*float64(i)+tc.phase))
			}
			// Skip the first 100 frames: the sine's abrupt start makes every band-limited
			// interpolator overshoot there (a real inter-sample peak, but not the crest under test).
			got := 20 * math.Log10(peakAfter(tc.det(), x, 1, 100)/0.5)
			t.Logf("reads %+.4f dB relative to the crest", got)
			if got > tc.tolDB || got < -tc.minRel {
				t.Fatalf("reads %.3f dB relative to the crest, want within +%.2f/−%.2f", got, tc.tolDB, tc.minRel)
			}
		})
	}
}

// TestSkipBelowKeepsMaximum checks that skipping never hides a value at or above the level: the
// running maximum with skipping (the level raised to each new maximum, as the meter does) equals
// the maximum without.
func TestSkipBelowKeepsMaximum(t *testing.T) {
	seed := uint32(7)
	x := make([]float32, 2*20000)
	for i := range x {
		seed = seed*1664525 + 1013904223
		env := math.Pow(math.Sin(float64(i/2)/3000*math.Pi), 8) // bursts, like speech
		x[i] = float32(env * (float64(seed>>8)/float64(1<<24) - 0.5))
	}
	for _, mk := range []func(int) *Detector{New, NewPrecise} {
		full := peakOf(mk(2), x, 2)
		d := mk(2)
		m := 0.0
		for i := 0; i < len(x); i += 2 {
			if p := d.Push(x[i : i+2]); p > m {
				m = p
				d.SkipBelow(m)
			}
		}
		if m != full {
			t.Fatalf("maximum with skipping %v, without %v", m, full)
		}
	}
}
