package truepeak

import "math"

// phases8x32 and phases4x12 lay out the precise and the Annex 2 filter for the fast kernels: every
// phase stored reversed (oldest sample first), all contiguous.
type (
	phases8x32 [preciseFactor][preciseTaps]float64
	phases4x12 [annex2Factor][annex2Taps]float64
)

// peak8x32Go returns the largest |Σ_i h[k][i]·w[i]| over the phases k, each sum rounded as dot
// rounds it, passing over a phase that comes out NaN (and 0 if all do).
func peak8x32Go(h *phases8x32, w *[preciseTaps]float64) float64 {
	peak := 0.0
	for k := range h {
		if y := math.Abs(dot(h[k][:], w[:])); y > peak {
			peak = y
		}
	}
	return peak
}

// peak4x12Go is peak8x32Go for the Annex 2 filter.
func peak4x12Go(h *phases4x12, w *[annex2Taps]float64) float64 {
	peak := 0.0
	for k := range h {
		if y := math.Abs(dot(h[k][:], w[:])); y > peak {
			peak = y
		}
	}
	return peak
}

// dot returns Σ a[i]·b[i] for len(a) a multiple of 4 (both filters are), in four running sums:
// s_m collects the products i ≡ m (mod 4) in increasing i, and the result is (s0+s1)+(s2+s3).
// The vector kernels keep exactly this order, so every path gives the same bits.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	for i := 0; i+3 < len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	return (s0 + s1) + (s2 + s3)
}
