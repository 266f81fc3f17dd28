//go:build !purego

package truepeak

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernels checks the vector kernel against the Go one on random filters and windows,
// including infinities, NaNs and values of very different size. Every other filter has only one
// phase left nonzero, so a single phase's sum going wrong cannot hide under another's maximum.
func TestKernels(t *testing.T) {
	if !useAVX2 {
		t.Skip("this CPU has no AVX2")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	special := []float64{math.Inf(1), math.Inf(-1), math.NaN(), 0, math.Copysign(0, -1), 1e300, 1e-300, 5e-324}
	val := func() float64 {
		if rng.IntN(200) == 0 {
			return special[rng.IntN(len(special))]
		}
		return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(13)-6))
	}
	var h phases8x32
	var w [preciseTaps]float64
	for n := range 40000 {
		only := -1
		if n%2 == 0 {
			only = rng.IntN(annex2Factor) // a phase both kernels have
		}
		for k := range h {
			for j := range h[k] {
				h[k][j] = 0
				if only < 0 || k == only {
					h[k][j] = val()
				}
			}
		}
		for j := range w {
			w[j] = val()
		}
		if got, want := peak8x32AVX2(&h, &w, w[preciseTaps-1]), peak8x32Go(&h, &w); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("8x32 case %d: AVX2 %v, Go %v", n, got, want)
		}
		// The Annex 2 kernel on the first four phases' first 12 taps.
		var h4 phases4x12
		for k := range h4 {
			copy(h4[k][:], h[k][:])
		}
		w4 := (*[annex2Taps]float64)(w[:])
		if got, want := peak4x12AVX2(&h4, w4, w4[annex2Taps-1]), peak4x12Go(&h4, w4); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("4x12 case %d: AVX2 %v, Go %v", n, got, want)
		}
	}
}
