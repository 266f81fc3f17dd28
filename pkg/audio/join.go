package audio

import (
	"fmt"
	"io"
	"math"
)

// Join plays parts one after another with an equal-power crossfade of crossfadeFrames frames at each
// join: the last crossfadeFrames frames of a part are mixed with the first crossfadeFrames of the next,
// the outgoing part weighted cos(θ), the incoming sin(θ), θ rising from 0 to π/2 (cos²+sin² = 1, so
// uncorrelated material keeps its power across the join). The output is therefore
// sum(len) − (n−1)·crossfadeFrames frames long, and a Len is reported when every part has one.
//
// It is meant for sample-accurate trims, where a few milliseconds of crossfade hide the click of a cut.
// Every part must be at least crossfadeFrames long, and inner parts at least 2·crossfadeFrames, or the
// read that reaches the short part fails with ErrShortPart. A crossfade of 0 is plain concatenation.
func Join(parts []Stream, crossfadeFrames int64) (Stream, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("audio: join of no parts")
	}
	if crossfadeFrames < 0 {
		return nil, fmt.Errorf("audio: join crossfade %d frames: %w", crossfadeFrames, ErrNegative)
	}
	f := parts[0].Format()
	for i, s := range parts[1:] {
		if s.Format() != f {
			return nil, fmt.Errorf("audio: join: part %d is %v, part 0 is %v: %w", i+1, s.Format(), f, ErrFormatMismatch)
		}
	}
	if crossfadeFrames == 0 || len(parts) == 1 {
		return Concat(parts...)
	}
	ch := f.Channels
	cf := int(crossfadeFrames)
	j := &joiner{
		f:     f,
		parts: parts,
		cf:    cf * ch,
		hold:  make([]float32, 0, cf*ch+joinChunk*ch),
		in:    make([]float32, cf*ch),
		gOut:  make([]float32, cf),
		gIn:   make([]float32, cf),
	}
	for i := range cf {
		// Sample at the middle of each frame so the curve is symmetric: gOut[i] = gIn[cf-1-i].
		th := math.Pi / 2 * (float64(i) + 0.5) / float64(cf)
		j.gOut[i], j.gIn[i] = float32(math.Cos(th)), float32(math.Sin(th))
	}
	total, ok := lengths(parts)
	return withLen(j, total-int64(len(parts)-1)*crossfadeFrames, ok), nil
}

const joinChunk = 4096 // frames read from a part at a time

type joiner struct {
	f     Format
	parts []Stream
	i     int       // current part
	cf    int       // crossfade length in samples
	hold  []float32 // samples of parts[i] read but not yet returned; the last cf are held back
	ready int       // hold[:ready] may be returned even if fewer than cf would remain (already crossfaded)
	ended bool      // parts[i] reached EOF
	in    []float32 // head of parts[i+1], crossfaded into the held tail
	gOut  []float32 // per-frame gain of the outgoing part
	gIn   []float32 // per-frame gain of the incoming part
}

func (j *joiner) Format() Format { return j.f }

func (j *joiner) Read(p []float32) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if j.i >= len(j.parts) {
			return 0, io.EOF
		}
		last := j.i == len(j.parts)-1
		// How much of hold may go out: all of it at the very end, else all but the held tail.
		free := len(j.hold) - j.cf
		if j.ended && last {
			free = len(j.hold)
		}
		free = max(free, j.ready)
		if free > 0 {
			n := copy(p, j.hold[:free])
			m := copy(j.hold, j.hold[n:])
			j.hold = j.hold[:m]
			j.ready = max(j.ready-n, 0)
			if n > 0 {
				return n, nil
			}
		}
		if j.ended {
			if last {
				j.i++
				continue
			}
			if err := j.crossfade(); err != nil {
				return 0, err
			}
			continue
		}
		// Refill from the current part.
		k := len(j.hold)
		n, err := j.parts[j.i].Read(j.hold[k:cap(j.hold)])
		j.hold = j.hold[:k+n]
		if err == io.EOF {
			j.ended = true
		} else if err != nil {
			return 0, fmt.Errorf("audio: join part %d: %w", j.i, err)
		}
	}
}

// crossfade mixes the held tail of parts[i] with the head of parts[i+1] and moves on to parts[i+1].
func (j *joiner) crossfade() error {
	if len(j.hold)-j.ready != j.cf {
		return fmt.Errorf("audio: join part %d: %d frames left for a %d-frame crossfade: %w",
			j.i, (len(j.hold)-j.ready)/j.f.Channels, j.cf/j.f.Channels, ErrShortPart)
	}
	n, err := ReadFull(j.parts[j.i+1], j.in)
	if err != nil && (err != io.EOF || n < len(j.in)) {
		if err == io.EOF || err == io.ErrNoProgress {
			return fmt.Errorf("audio: join part %d: %d frames for a %d-frame crossfade: %w",
				j.i+1, n/j.f.Channels, j.cf/j.f.Channels, ErrShortPart)
		}
		return fmt.Errorf("audio: join part %d: %w", j.i+1, err)
	}
	ch := j.f.Channels
	tail := j.hold[j.ready:]
	for i := range tail {
		k := i / ch
		tail[i] = tail[i]*j.gOut[k] + j.in[i]*j.gIn[k]
	}
	j.ready = len(j.hold)
	j.i++
	// An incoming part that ended exactly at its crossfade is not an error here when it is the last.
	j.ended = err == io.EOF
	return nil
}
