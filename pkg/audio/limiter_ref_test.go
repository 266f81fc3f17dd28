package audio

// The limiter and its true-peak detector as they were before the fast kernel, kept verbatim (only
// renamed) as the reference TestLimiterMatchesReference holds the new code to, bit for bit.

import (
	"fmt"
	"io"
	"math"
)

func newRefPrecise(ch int) *refDetector { return newRefDetector(ch, refPrecise, refTaps/2) }

func newRefLimiter(s Stream, ceilingDBTP float64) Stream { // NewLimiter before the rework
	f := s.Format()
	ch := f.Channels
	attack := max(int(math.Round(limiterAttack*float64(f.SampleRate))), 1)
	hold := attack + 2*limiterHold
	latency := newRefPrecise(1).delay + attack - 1 + limiterHold
	l := &refLimiter{
		s:       s,
		f:       f,
		ceiling: DBToAmp(ceilingDBTP - limiterMarginDB),
		det:     newRefPrecise(ch),
		attack:  attack,
		hold:    hold,
		latency: latency,
		delay:   make([]float32, latency*ch),
		minIdx:  make([]int64, hold),
		minVal:  make([]float64, hold),
		box:     make([]float64, attack),
		gain:    1,
		release: math.Exp(-1 / (limiterRelease * float64(f.SampleRate))),
		in:      make([]float32, limiterChunk*ch),
		zero:    make([]float32, ch),
	}
	l.det.SkipBelow(l.ceiling)
	n, ok := Length(s)
	return withLen(l, n, ok)
}

type refLimiter struct {
	s       Stream
	f       Format
	ceiling float64 // linear
	det     *refDetector
	attack  int // frames
	hold    int // frames in the running-minimum window
	latency int // frames between a frame going in and coming out

	delay []float32 // ring of latency frames
	dpos  int       // next frame slot of delay to read and overwrite

	// running minimum of the required gain: a monotonic deque in a ring of hold entries
	minIdx     []int64
	minVal     []float64
	minHead    int
	minLen     int
	box        []float64 // moving average of the reduction (1 − minimum gain)
	boxPos     int
	boxSum     float64
	boxNonzero int // entries of box that are not 0; when none, the sum is reset to exactly 0

	gain    float64 // released gain
	release float64 // per-frame release coefficient

	pushed  int64 // frames pushed into the delay line (input, then zero padding)
	inLen   int64 // input frames once the source ended
	srcDone bool
	in      []float32
	inN     int // samples in in
	inPos   int // samples of in already pushed
	zero    []float32
}

func (l *refLimiter) Format() Format { return l.f }

func (l *refLimiter) Read(p []float32) (int, error) {
	ch := l.f.Channels
	n := 0
	for n+ch <= len(p) {
		if l.srcDone && l.pushed >= l.inLen+int64(l.latency) {
			break
		}
		var frame []float32
		switch {
		case l.inPos < l.inN:
			frame = l.in[l.inPos : l.inPos+ch]
			l.inPos += ch
		case l.srcDone:
			frame = l.zero
		default:
			m, err := l.s.Read(l.in)
			l.inN, l.inPos = m, 0
			if err == io.EOF {
				l.srcDone = true
				l.inLen = l.pushed + int64(m/ch)
			} else if err != nil {
				return n, fmt.Errorf("audio: limiter: %w", err)
			}
			continue
		}
		if l.step(frame, p[n:n+ch]) {
			n += ch
		}
	}
	if n == 0 && l.srcDone && l.pushed >= l.inLen+int64(l.latency) {
		return 0, io.EOF
	}
	return n, nil
}

// step pushes one input frame and, once the delay line is full, writes one output frame to out.
func (l *refLimiter) step(x, out []float32) bool {
	ch := l.f.Channels
	need := 1.0
	if pk := l.det.Push(x); pk > l.ceiling {
		need = l.ceiling / pk
	}
	// Running minimum over the last hold frames.
	idx := l.pushed
	for l.minLen > 0 && l.minVal[(l.minHead+l.minLen-1)%l.hold] >= need {
		l.minLen--
	}
	t := (l.minHead + l.minLen) % l.hold
	l.minIdx[t], l.minVal[t] = idx, need
	l.minLen++
	for l.minIdx[l.minHead] <= idx-int64(l.hold) {
		l.minHead = (l.minHead + 1) % l.hold
		l.minLen--
	}
	// Moving average of the reduction over the attack window.
	r := 1 - l.minVal[l.minHead]
	old := l.box[l.boxPos]
	if old != 0 {
		l.boxNonzero--
	}
	if r != 0 {
		l.boxNonzero++
	}
	l.box[l.boxPos] = r
	l.boxPos = (l.boxPos + 1) % l.attack
	l.boxSum += r - old
	if l.boxNonzero == 0 {
		l.boxSum = 0
	}
	target := min(1-l.boxSum/float64(l.attack), 1)
	// Instant attack (the ramp is already in target), smooth release.
	if target < l.gain {
		l.gain = target
	} else {
		l.gain = target - (target-l.gain)*l.release
		if target == 1 && 1-l.gain < 1e-7 {
			l.gain = 1
		}
	}
	l.pushed++
	d := l.delay[l.dpos*ch : (l.dpos+1)*ch]
	wrote := l.pushed > int64(l.latency)
	if wrote {
		if l.gain == 1 {
			copy(out, d)
		} else {
			for c := range ch {
				out[c] = float32(float64(d[c]) * l.gain)
			}
		}
	}
	copy(d, x)
	l.dpos++
	if l.dpos == l.latency {
		l.dpos = 0
	}
	return wrote
}

// refDetector is truepeak.Detector before the rework.
type refDetector struct {
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

const (
	refFactor = 8
	refTaps   = 32 // per phase
)

var refPrecise = refDesign(refFactor, refTaps, 0.5, 8)

// design returns the phases of a Kaiser-windowed sinc interpolator: factor phases of taps taps,
// cutoff as a fraction of the input rate, window parameter beta. Each phase sums to 1.
func refDesign(factor, taps int, cutoff, beta float64) [][]float64 {
	// Centre the prototype on tap n/2 (its mirror tap, n, is left out: the window is ~0 there), so
	// phase 0 falls on the input samples and the grid includes the midpoints between them.
	n := factor * taps
	h := make([]float64, n)
	center := float64(n) / 2
	i0b := refBessel0(beta)
	for i := range h {
		t := (float64(i) - center) / float64(factor) // in input samples
		x := 2 * cutoff * t
		s := 1.0
		if x != 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		r := (float64(i) - center) / center
		h[i] = s * refBessel0(beta*math.Sqrt(1-r*r)) / i0b
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

// refBessel0 is the modified Bessel function of the first kind, order 0, by its power series.
func refBessel0(x float64) float64 {
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

func newRefDetector(channels int, phases [][]float64, delay int) *refDetector {
	taps := len(phases[0])
	// Store each phase reversed, so Push runs forward over the window (oldest sample first).
	rev := make([][]float64, len(phases))
	for k, ph := range phases {
		rev[k] = make([]float64, taps)
		for j, c := range ph {
			rev[k][taps-1-j] = c
		}
	}
	d := &refDetector{channels: channels, phases: rev, taps: taps, delay: delay, hist: make([]float64, 2*taps*channels)}
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
func (d *refDetector) SkipBelow(level float64) {
	d.floor = level
	d.sinceHot = 0
}

// Delay is the detector's latency in frames: the peak Push reports lies around the frame pushed
// Delay frames earlier.
func (d *refDetector) Delay() int { return d.delay }

// Reset primes the detector with silence again.
func (d *refDetector) Reset() {
	clear(d.hist)
	d.pos = 0
}

// Push adds one frame (len(frame) == channels) and returns the largest absolute value among the
// interpolated points it completes and the sample Delay frames back, over all channels.
func (d *refDetector) Push(frame []float32) float64 {
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
			if y := math.Abs(refDot(ph, w)); y > peak {
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
func (d *refDetector) pushOnly(frame []float32) float64 {
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
func refDot(a, b []float64) float64 {
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
