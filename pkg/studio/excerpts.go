package studio

import (
	"math"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/audio/loudness"
	"github.com/spacecast/spacecast/pkg/codec"
)

// excerpts keeps a few evenly spaced stretches of a render's output, so what the encoder does to
// loudness and peaks can be learnt by encoding and decoding seconds instead of hours.
type excerpts struct {
	f      audio.Format
	starts []int64 // output frames
	length int64   // frames per excerpt
	pos    int64   // output frames seen
	bufs   [][]float32
}

const (
	excerptCount   = 6
	excerptSeconds = 8
)

func newExcerpts(f audio.Format, outFrames int64) *excerpts {
	e := &excerpts{f: f, length: int64(excerptSeconds * f.SampleRate)}
	if outFrames <= excerptCount*e.length {
		e.starts, e.length = []int64{0}, outFrames
	} else {
		for k := int64(0); k < excerptCount; k++ {
			e.starts = append(e.starts, (2*k+1)*outFrames/(2*excerptCount)-e.length/2)
		}
	}
	e.bufs = make([][]float32, len(e.starts))
	return e
}

// add takes the next block of the render's output.
func (e *excerpts) add(p []float32) {
	ch := e.f.Channels
	n := int64(len(p) / ch)
	for i, s := range e.starts {
		lo, hi := max(s, e.pos), min(s+e.length, e.pos+n)
		if lo < hi {
			e.bufs[i] = append(e.bufs[i], p[(lo-e.pos)*int64(ch):(hi-e.pos)*int64(ch)]...)
		}
	}
	e.pos += n
}

// encoderEffect encodes and decodes each excerpt as the output will be, and returns how much
// integrated loudness the encoder takes off (LU) and how much it raises the true peak (dB).
// The first and last 200 ms of each excerpt are left out of the loudness, where a fresh encoder
// and an abrupt end behave unlike the middle of a file.
func (e *excerpts) encoderEffect(kind codec.Kind, opts codec.EncodeOptions) (lossLU, overshootDB float64, err error) {
	var before, after []float64
	peakBefore, peakAfter := math.Inf(-1), math.Inf(-1)
	for _, pcm := range e.bufs {
		if len(pcm) == 0 {
			continue
		}
		dec, err := codec.RoundTrip(kind, e.f, opts, pcm)
		if err != nil {
			return 0, 0, err
		}
		for _, x := range []struct {
			pcm   []float32
			steps *[]float64
			peak  *float64
		}{{pcm, &before, &peakBefore}, {dec, &after, &peakAfter}} {
			m := loudness.NewMeter(e.f)
			m.KeepSteps()
			m.Write(x.pcm)
			st := m.Steps()
			if len(st) > 8 {
				st = st[2 : len(st)-2]
			}
			*x.steps = append(*x.steps, st...)
			*x.peak = math.Max(*x.peak, m.TruePeak())
		}
	}
	lb, la := loudness.IntegratedFromSteps(before), loudness.IntegratedFromSteps(after)
	if !math.IsInf(lb, 0) && !math.IsInf(la, 0) {
		lossLU = lb - la
	}
	if !math.IsInf(peakBefore, 0) && !math.IsInf(peakAfter, 0) {
		overshootDB = peakAfter - peakBefore
	}
	return lossLU, overshootDB, nil
}
