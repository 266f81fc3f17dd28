//go:build !purego

package truepeak

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2 kernel; tests turn it off to compare against the Go one.
var useAVX2 = cpu.X86.HasAVX2

// peak8x32 returns what peak8x32Go returns, to the bit.
func peak8x32(h *phases8x32, w *[preciseTaps]float64) float64 {
	if useAVX2 {
		return peak8x32AVX2(h, w, w[preciseTaps-1])
	}
	return peak8x32Go(h, w)
}

// peak4x12 returns what peak4x12Go returns, to the bit.
func peak4x12(h *phases4x12, w *[annex2Taps]float64) float64 {
	if useAVX2 {
		return peak4x12AVX2(h, w, w[annex2Taps-1])
	}
	return peak4x12Go(h, w)
}

// peak8x32AVX2 is peak8x32Go with the eight phases run side by side, one 4-lane accumulator each:
// lane m is dot's s_m, multiplied and added separately (no fused multiply-add), so every sum is
// dot's to the bit. newest must be w[31]: taking it apart spares a stall (see LAST in the assembly).
//
//go:noescape
func peak8x32AVX2(h *phases8x32, w *[preciseTaps]float64, newest float64) float64

// peak4x12AVX2 is peak8x32AVX2 for the Annex 2 filter; newest must be w[11].
//
//go:noescape
func peak4x12AVX2(h *phases4x12, w *[annex2Taps]float64, newest float64) float64
