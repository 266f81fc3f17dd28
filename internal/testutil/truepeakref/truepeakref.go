// Package truepeakref keeps spacecast's true-peak detector as it was before the fast kernel and
// the skip rework, verbatim but for names, as the reference the tests of
// pkg/audio/internal/truepeak and of the limiter hold the new code to, bit for bit. Only tests
// use it.
package truepeakref

import "math"

// Detector is truepeak.Detector as it was before the fast kernel and the skip rework.
type Detector struct {
	channels int
	phases   [][]float64
	taps     int
	delay    int
	hist     []float64 // per channel 2·taps samples; each sample written twice so a window is contiguous
	pos      int       // index of the oldest sample of the window within a channel's history

	gain     float64 // largest Σ|h| of any phase: no interpolated value exceeds gain·max|x| of its window
	floor    float64 // see SkipBelow; 0 when off
	sinceHot int     // frames since the last sample at or above floor/gain
}

// Design returns the phases of a Kaiser-windowed sinc interpolator: factor phases of taps taps,
// cutoff as a fraction of the input rate, window parameter beta. Each phase sums to 1.
func Design(factor, taps int, cutoff, beta float64) [][]float64 {
	// Centre the prototype on tap n/2 (its mirror tap, n, is left out: the window is ~0 there), so
	// phase 0 falls on the input samples and the grid includes the midpoints between them.
	n := factor * taps
	h := make([]float64, n)
	center := float64(n) / 2
	i0b := bessel0(beta)
	for i := range h {
		t := (float64(i) - center) / float64(factor) // in input samples
		x := 2 * cutoff * t
		s := 1.0
		if x != 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		r := (float64(i) - center) / center
		h[i] = s * bessel0(beta*math.Sqrt(1-r*r)) / i0b
	}
	ph := make([][]float64, factor)
	for k := range ph {
		ph[k] = make([]float64, taps)
		var sum float64
		for j := range taps {
			ph[k][j] = h[k+factor*j]
			sum += ph[k][j]
		}
		for j := range taps {
			ph[k][j] /= sum
		}
	}
	return ph
}

// bessel0 is the modified Bessel function of the first kind, order 0, by its power series.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2 / float64(k)) * (x / 2 / float64(k))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}

func New(channels int, phases [][]float64, delay int) *Detector {
	taps := len(phases[0])
	// Store each phase reversed, so Push runs forward over the window (oldest sample first).
	rev := make([][]float64, len(phases))
	for k, ph := range phases {
		rev[k] = make([]float64, taps)
		for j, c := range ph {
			rev[k][taps-1-j] = c
		}
	}
	d := &Detector{channels: channels, phases: rev, taps: taps, delay: delay, hist: make([]float64, 2*taps*channels)}
	for _, ph := range phases {
		var g float64
		for _, c := range ph {
			g += math.Abs(c)
		}
		d.gain = math.Max(d.gain, g)
	}
	d.sinceHot = taps
	return d
}

// SkipBelow lets Push skip the interpolation while no interpolated value can reach level: when every
// sample in the filter's window is below level/Σ|h|, Push returns the largest of those samples
// instead, which is below level too. A limiter only needs to know where level is crossed, and on
// speech this skips most of the work. Level 0 turns skipping off.
func (d *Detector) SkipBelow(level float64) {
	d.floor = level
	d.sinceHot = 0
}

// Delay is the detector's latency in frames: the peak Push reports lies around the frame pushed
// Delay frames earlier.
func (d *Detector) Delay() int { return d.delay }

// Reset primes the detector with silence again.
func (d *Detector) Reset() {
	clear(d.hist)
	d.pos = 0
}

// Push adds one frame (len(frame) == channels) and returns the largest absolute value among the
// interpolated points it completes and the sample Delay frames back, over all channels.
func (d *Detector) Push(frame []float32) float64 {
	peak := 0.0
	t := d.taps
	if d.floor > 0 {
		hot := false
		for _, v := range frame[:d.channels] {
			if math.Abs(float64(v))*d.gain >= d.floor {
				hot = true
			}
		}
		if hot {
			d.sinceHot = 0
		} else if d.sinceHot++; d.sinceHot >= t {
			d.sinceHot = t
			return d.pushOnly(frame)
		}
	}
	for c, v := range frame[:d.channels] {
		h := d.hist[c*2*t : (c+1)*2*t]
		h[d.pos] = float64(v)
		h[d.pos+t] = float64(v)
		// After the write the window oldest→newest is h[pos+1 : pos+1+t]; with the phases stored
		// reversed, y_k[n] = Σ_j h_k[j]·x[n−j] = Σ_i rev_k[i]·w[i].
		w := h[d.pos+1 : d.pos+1+t]
		for _, ph := range d.phases {
			if y := math.Abs(dot(ph, w)); y > peak {
				peak = y
			}
		}
		peak = math.Max(peak, math.Abs(w[t-1-d.delay]))
	}
	d.pos++
	if d.pos == t {
		d.pos = 0
	}
	return peak
}

// pushOnly records frame without interpolating and returns the largest absolute sample Delay frames back.
func (d *Detector) pushOnly(frame []float32) float64 {
	peak := 0.0
	t := d.taps
	for c, v := range frame[:d.channels] {
		h := d.hist[c*2*t : (c+1)*2*t]
		h[d.pos] = float64(v)
		h[d.pos+t] = float64(v)
		peak = math.Max(peak, math.Abs(h[d.pos+t-d.delay]))
	}
	d.pos++
	if d.pos == t {
		d.pos = 0
	}
	return peak
}

// dot returns Σ a[i]·b[i] for len(a) a multiple of 4 (both filters are), in four running sums.
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
