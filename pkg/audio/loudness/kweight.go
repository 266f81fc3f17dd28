package loudness

import "math"

// biquad is a second-order IIR section, y = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²) x,
// run in transposed direct form II.
type biquad struct {
	b0, b1, b2, a1, a2 float64
}

// kWeighting returns the two stages of the K-weighting filter of ITU-R BS.1770-4 §2.1 for any
// sample rate: a high shelf modelling the head (stage 1, table 1) and the RLB high-pass (stage 2,
// table 2). BS.1770 tabulates their coefficients for 48 kHz only; here they come from the analogue
// prototypes behind that table (shelf at 1681.97 Hz, +4.0 dB, Q 0.7072; high-pass at 38.135 Hz,
// Q 0.5003) through the bilinear transform with the frequency prewarped, which reproduces the 48 kHz
// table to 1e-8 and gives the same response at other rates.
func kWeighting(rate int) (shelf, highpass biquad) {
	fs := float64(rate)
	{
		const f0, gainDB, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
		k := math.Tan(math.Pi * f0 / fs)
		vh := math.Pow(10, gainDB/20)
		vb := math.Pow(vh, 0.4996667741545416)
		a0 := 1 + k/q + k*k
		shelf = biquad{
			b0: (vh + vb*k/q + k*k) / a0,
			b1: 2 * (k*k - vh) / a0,
			b2: (vh - vb*k/q + k*k) / a0,
			a1: 2 * (k*k - 1) / a0,
			a2: (1 - k/q + k*k) / a0,
		}
	}
	{
		const f0, q = 38.13547087602444, 0.5003270373238773
		k := math.Tan(math.Pi * f0 / fs)
		a0 := 1 + k/q + k*k
		highpass = biquad{
			b0: 1, b1: -2, b2: 1,
			a1: 2 * (k*k - 1) / a0,
			a2: (1 - k/q + k*k) / a0,
		}
	}
	return shelf, highpass
}

// kState is one channel's filter memory: two delay elements per stage.
type kState struct {
	s1, s2 float64 // shelf
	h1, h2 float64 // high-pass
}

// run filters one sample through both stages.
func (st *kState) run(x float64, sh, hp *biquad) float64 {
	y := sh.b0*x + st.s1
	st.s1 = sh.b1*x - sh.a1*y + st.s2
	st.s2 = sh.b2*x - sh.a2*y
	z := hp.b0*y + st.h1
	st.h1 = hp.b1*y - hp.a1*z + st.h2
	st.h2 = hp.b2*y - hp.a2*z
	return z
}
