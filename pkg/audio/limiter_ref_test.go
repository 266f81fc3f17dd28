package audio

// The limiter and its true-peak detector as they were before the fast kernel, kept verbatim (only
// renamed) as the reference TestLimiterMatchesReference holds the new code to, bit for bit.

import (
	"fmt"
	"io"
	"math"

	"github.com/spacecast/spacecast/internal/testutil/truepeakref"
)

func newRefPrecise(ch int) *truepeakref.Detector { return truepeakref.New(ch, refPrecise, refTaps/2) }

func newRefLimiter(s Stream, ceilingDBTP float64) Stream { // NewLimiter before the rework
	f := s.Format()
	ch := f.Channels
	attack := max(int(math.Round(limiterAttack*float64(f.SampleRate))), 1)
	hold := attack + 2*limiterHold
	latency := newRefPrecise(1).Delay() + attack - 1 + limiterHold
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
	det     *truepeakref.Detector
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

const (
	refFactor = 8
	refTaps   = 32 // per phase
)

var refPrecise = truepeakref.Design(refFactor, refTaps, 0.5, 8)
