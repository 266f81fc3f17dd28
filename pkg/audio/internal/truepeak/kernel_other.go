//go:build !amd64 || purego

package truepeak

// useAVX2 is false: there is no vector kernel for this platform (the tests read it).
var useAVX2 = false

// peak8x32 returns the largest |y_k| over the phases (see peak8x32Go).
func peak8x32(h *phases8x32, w *[preciseTaps]float64) float64 { return peak8x32Go(h, w) }

// peak4x12 returns the largest |y_k| over the Annex 2 phases (see peak4x12Go).
func peak4x12(h *phases4x12, w *[annex2Taps]float64) float64 { return peak4x12Go(h, w) }
