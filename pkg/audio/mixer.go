package audio

import (
	"fmt"
	"io"
)

// Mixer sums streams placed at frame offsets on one timeline, each with its own gain. It is a
// Stream; its Len is the mix's length when every input has one and −1 otherwise, which Length
// reports as unknown.
//
// Inputs are pulled lazily: an input is not read until the output reaches its offset, and it is
// dropped once it ends, so a three-hour session with sparse speakers stays flat in memory. The mix
// ends when every input has ended. An input's error is returned, naming the input; it is never
// skipped over, since a skipped input is a speaker silently deleted. The sum is not limited: put a
// Limiter after the Mixer.
type Mixer struct {
	f       Format
	inputs  []mixInput
	pos     int64 // output frames produced so far
	started bool
	scratch []float32
}

type mixInput struct {
	s      Stream
	offset int64
	gain   float32
	end    int64 // offset + frames read so far; the input's end once done
	done   bool
	frames int64 // length from Lengther, when sized
	sized  bool
}

const mixChunk = 4096 // frames mixed per step

var _ Stream = (*Mixer)(nil)

// NewMixer returns an empty mixer producing format f.
func NewMixer(f Format) *Mixer {
	return &Mixer{f: f, scratch: make([]float32, mixChunk*f.Channels)}
}

// Add places s on the timeline starting at offsetFrames, scaled by gainDB. s must have the
// mixer's format (ErrFormatMismatch). Inputs can only be added before the first Read (ErrStarted).
func (m *Mixer) Add(s Stream, offsetFrames int64, gainDB float64) error {
	if m.started {
		return fmt.Errorf("audio: mixer add input %d: %w", len(m.inputs), ErrStarted)
	}
	if s.Format() != m.f {
		return fmt.Errorf("audio: mixer add input %d: %v into a %v mix: %w", len(m.inputs), s.Format(), m.f, ErrFormatMismatch)
	}
	if offsetFrames < 0 {
		return fmt.Errorf("audio: mixer add input %d at frame %d: %w", len(m.inputs), offsetFrames, ErrNegative)
	}
	n, ok := Length(s)
	m.inputs = append(m.inputs, mixInput{s: s, offset: offsetFrames, gain: float32(DBToAmp(gainDB)), end: offsetFrames, frames: n, sized: ok})
	return nil
}

// Format reports the mix's format.
func (m *Mixer) Format() Format { return m.f }

// Len reports the mix's length in frames, the latest end of any input, when every input has a
// length, and −1 otherwise (use Length, which checks this, rather than calling Len directly).
func (m *Mixer) Len() int64 {
	var end int64
	for _, in := range m.inputs {
		if !in.sized {
			return -1
		}
		end = max(end, in.offset+in.frames)
	}
	return end
}

// Read mixes the next frames into p.
func (m *Mixer) Read(p []float32) (int, error) {
	m.started = true
	ch := m.f.Channels
	want := int64(min(len(p)/ch, mixChunk))
	if want == 0 {
		return 0, nil
	}
	out := p[:want*int64(ch)]
	clear(out)
	var end int64 // latest end among inputs that ended
	for k := range m.inputs {
		in := &m.inputs[k]
		if in.done {
			end = max(end, in.end)
			continue
		}
		if in.offset >= m.pos+want {
			continue // not reached yet
		}
		// Mix this input into out from its current position up to m.pos+want.
		for in.end < m.pos+want {
			at := in.end - m.pos // frame index into out; ≥ 0 since in.end ≥ max(offset, pos)
			need := (m.pos + want - in.end) * int64(ch)
			buf := m.scratch[:need]
			n, err := in.s.Read(buf)
			dst := out[at*int64(ch):]
			for i, v := range buf[:n] {
				dst[i] += v * in.gain
			}
			in.end += int64(n / ch)
			if err == io.EOF {
				in.done = true
				in.s = nil // let the input go
				end = max(end, in.end)
				break
			}
			if err != nil {
				return 0, fmt.Errorf("audio: mixer input %d at frame %d: %w", k, in.end, err)
			}
			if n == 0 {
				return 0, fmt.Errorf("audio: mixer input %d at frame %d: %w", k, in.end, io.ErrNoProgress)
			}
		}
	}
	if !allDone(m.inputs) {
		m.pos += want
		return len(out), nil
	}
	n := min(want, max(end-m.pos, 0))
	m.pos += n
	if n == 0 {
		return 0, io.EOF
	}
	return int(n) * ch, nil
}

func allDone(ins []mixInput) bool {
	for i := range ins {
		if !ins[i].done {
			return false
		}
	}
	return true
}
