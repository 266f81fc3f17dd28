package audio

import (
	"fmt"
	"io"
	"math"
)

// Cut is a range of input frames [Start, End) that ShortenSilence removed. Output frames before
// Start are input frames unchanged; an input frame at or after End is output at frame − (End − Start)
// of this and earlier cuts; a mark inside a cut belongs at Start.
type Cut struct {
	Start, End int64
}

// Shortener shortens long silences; see ShortenSilence.
type Shortener struct {
	s         Stream
	f         Format
	threshold float32 // linear amplitude
	max       int64   // frames a silence may last
	xf        int64   // crossfade frames
	head      int64   // frames kept at the start of a cut silence, crossfade included
	tail      int64   // frames kept at its end, crossfade included

	pos  int64 // input frames classified so far
	run  int64 // length of the current quiet run
	fade []float32
	ring []float32 // the last tail frames of a long run
	rpos int64     // frames written into ring during this run
	cuts []Cut

	in      []float32
	out     []float32 // output waiting to be read: out[outPos:]
	outPos  int
	srcDone bool
	gOut    []float32
	gIn     []float32
}

var _ Stream = (*Shortener)(nil)

const shortenChunk = 4096

// ShortenSilence shortens every stretch of s quieter than thresholdDB (dBFS sample peak on every
// channel) that lasts longer than maxSilence frames to exactly maxSilence frames. It keeps the
// silence's two edges — about half of maxSilence from each end, so the breath before and after a
// phrase stays — and removes the middle, joining the edges with an equal-power crossfade of 10 ms
// (less when maxSilence is under 20 ms) so no click appears. Silences longer than maxSilence by less
// than the crossfade are left alone. After the stream ends, Cuts lists the removed input ranges.
//
// Memory is bounded by maxSilence frames whatever the length of a silence.
func ShortenSilence(s Stream, maxSilence int64, thresholdDB float64) *Shortener {
	f := s.Format()
	ch := f.Channels
	maxSilence = max(maxSilence, 2)
	xf := min(int64(f.SampleRate/100), maxSilence/2)
	head := (maxSilence + xf) / 2
	tail := maxSilence + xf - head
	sh := &Shortener{
		s: s, f: f,
		threshold: float32(DBToAmp(thresholdDB)),
		max:       maxSilence, xf: xf, head: head, tail: tail,
		fade: make([]float32, xf*int64(ch)),
		ring: make([]float32, tail*int64(ch)),
		in:   make([]float32, shortenChunk*ch),
		out:  make([]float32, 0, (shortenChunk+maxSilence+xf)*int64(ch)),
		gOut: make([]float32, xf),
		gIn:  make([]float32, xf),
	}
	for i := range xf {
		th := math.Pi / 2 * (float64(i) + 0.5) / float64(xf)
		sh.gOut[i], sh.gIn[i] = float32(math.Cos(th)), float32(math.Sin(th))
	}
	return sh
}

// Format reports the stream's format.
func (sh *Shortener) Format() Format { return sh.f }

// Cuts returns the input ranges removed so far, in order. It is complete once Read has returned io.EOF.
func (sh *Shortener) Cuts() []Cut { return sh.cuts }

// Read returns the shortened stream.
func (sh *Shortener) Read(p []float32) (int, error) {
	for sh.outPos == len(sh.out) {
		if sh.srcDone {
			return 0, io.EOF
		}
		sh.out, sh.outPos = sh.out[:0], 0
		n, err := sh.s.Read(sh.in)
		if err != nil && err != io.EOF {
			return 0, fmt.Errorf("audio: shorten silence at frame %d: %w", sh.pos, err)
		}
		ch := sh.f.Channels
		for i := 0; i+ch <= n; i += ch {
			sh.push(sh.in[i : i+ch])
		}
		if err == io.EOF {
			sh.endRun()
			sh.srcDone = true
		}
	}
	n := copy(p[:len(p)/sh.f.Channels*sh.f.Channels], sh.out[sh.outPos:])
	sh.outPos += n
	return n, nil
}

func (sh *Shortener) quiet(x []float32) bool {
	for _, v := range x {
		if v >= sh.threshold || v <= -sh.threshold {
			return false
		}
	}
	return true
}

// push classifies one frame and routes it: straight out, into the crossfade buffer, or into the ring.
func (sh *Shortener) push(x []float32) {
	ch := int64(sh.f.Channels)
	if !sh.quiet(x) {
		sh.endRun()
		sh.out = append(sh.out, x...)
		sh.pos++
		return
	}
	r := sh.run
	switch {
	case r < sh.head-sh.xf: // always kept as is
		sh.out = append(sh.out, x...)
	case r < sh.head: // kept, crossfaded if the run turns out long
		copy(sh.fade[(r-(sh.head-sh.xf))*ch:], x)
	default: // the run's latest tail frames
		copy(sh.ring[(sh.rpos%sh.tail)*ch:], x)
		sh.rpos++
	}
	sh.run++
	sh.pos++
}

// endRun flushes the quiet run that has just ended at input frame sh.pos, cutting it if long.
func (sh *Shortener) endRun() {
	ch := int64(sh.f.Channels)
	r := sh.run
	defer func() { sh.run, sh.rpos = 0, 0 }()
	if r <= sh.head-sh.xf {
		return // everything already went out
	}
	if r < sh.head+sh.tail { // not long enough to cut: release what was held, in order
		held := min(r, sh.head) - (sh.head - sh.xf)
		sh.out = append(sh.out, sh.fade[:held*ch]...)
		sh.out = append(sh.out, sh.ring[:sh.rpos*ch]...)
		return
	}
	// Cut: head crossfaded into the tail's first xf frames, then the rest of the tail.
	start := sh.rpos % sh.tail // oldest frame in the ring
	for i := range sh.xf {
		t := sh.ring[((start+i)%sh.tail)*ch:][:ch]
		h := sh.fade[i*ch:][:ch]
		for c := range ch {
			sh.out = append(sh.out, h[c]*sh.gOut[i]+t[c]*sh.gIn[i])
		}
	}
	for i := sh.xf; i < sh.tail; i++ {
		sh.out = append(sh.out, sh.ring[((start+i)%sh.tail)*ch:][:ch]...)
	}
	runStart := sh.pos - r
	sh.cuts = append(sh.cuts, Cut{Start: runStart + sh.head - sh.xf, End: sh.pos - sh.tail})
}
