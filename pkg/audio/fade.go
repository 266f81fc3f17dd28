package audio

import (
	"fmt"
	"math"
)

// Fade fades s in over its first inFrames frames and out over its last outFrames frames.
//
// The curve is a quarter sine, g(t) = sin(π/2·t) for t from 0 to 1 (out: the mirror image): it
// leaves the level sooner than a linear ramp and, paired with its mirror, keeps power constant, so
// the same curve serves crossfades (Join). A fade out needs s's length: s must implement Lengther,
// or ErrNoLength is returned. Fades longer than the stream overlap and multiply.
func Fade(s Stream, inFrames, outFrames int64) (Stream, error) {
	if inFrames < 0 || outFrames < 0 {
		return nil, fmt.Errorf("audio: fade in %d, out %d frames: %w", inFrames, outFrames, ErrNegative)
	}
	total, ok := Length(s)
	if outFrames > 0 && !ok {
		return nil, fmt.Errorf("audio: fade out: %w", ErrNoLength)
	}
	return withLen(&fade{s: s, in: inFrames, out: outFrames, total: total}, total, ok), nil
}

// fadeGain is the quarter-sine gain at position i of a ramp of n frames, rising from 0.
// The ramp's first frame is silent and it reaches 1 on the frame after its last.
func fadeGain(i, n int64) float32 {
	return float32(math.Sin(math.Pi / 2 * float64(i) / float64(n)))
}

type fade struct {
	s              Stream
	in, out, total int64
	pos            int64
}

func (f *fade) Format() Format { return f.s.Format() }

func (f *fade) Read(p []float32) (int, error) {
	n, err := f.s.Read(p)
	ch := f.s.Format().Channels
	frames := int64(n / ch)
	outStart := f.total - f.out
	if f.pos < f.in || (f.out > 0 && f.pos+frames > outStart) {
		for i := int64(0); i < frames; i++ {
			at := f.pos + i
			g := float32(1)
			if at < f.in {
				g = fadeGain(at, f.in)
			}
			if f.out > 0 && at >= outStart {
				g *= fadeGain(f.total-1-at, f.out)
			}
			if g != 1 {
				for c := range ch {
					p[int(i)*ch+c] *= g
				}
			}
		}
	}
	f.pos += frames
	return n, err
}
