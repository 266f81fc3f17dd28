package audio

import (
	"fmt"
	"io"
)

// Silence returns a stream of the given number of frames of digital silence.
func Silence(f Format, frames int64) Stream {
	return &silence{f: f, left: max(frames, 0), total: max(frames, 0)}
}

type silence struct {
	f           Format
	left, total int64
}

func (s *silence) Format() Format { return s.f }
func (s *silence) Len() int64     { return s.total }

func (s *silence) Read(p []float32) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	ch := s.f.Channels
	n := min(int64(len(p)/ch), s.left)
	clear(p[:n*int64(ch)])
	s.left -= n
	return int(n) * ch, nil
}

func (s *silence) SeekFrame(frame int64) error {
	if frame < 0 {
		return fmt.Errorf("audio: silence: seek to frame %d: %w", frame, ErrNegative)
	}
	s.left = max(s.total-frame, 0)
	return nil
}

// Take returns a stream yielding at most frames frames of s. It has a Len, min(frames, s.Len()),
// when s has one. s.Len() counts from s's own start, so after a Skip that Len can overstate the
// remainder: Take from a skipped stream only as many frames as you know remain.
func Take(s Stream, frames int64) Stream {
	frames = max(frames, 0)
	n, ok := Length(s)
	return withLen(&take{s: s, left: frames}, min(n, frames), ok)
}

type take struct {
	s    Stream
	left int64
}

func (t *take) Format() Format { return t.s.Format() }

func (t *take) Read(p []float32) (int, error) {
	if t.left == 0 {
		return 0, io.EOF
	}
	ch := t.s.Format().Channels
	n := min(int64(len(p)/ch), t.left)
	m, err := t.s.Read(p[:n*int64(ch)])
	t.left -= int64(m / ch)
	return m, err
}

// Skip advances s by frames frames: through SeekFrame when s is a Seeker (the seek is then
// relative to the start of s, so call Skip on a fresh stream), otherwise by reading and discarding.
// Skipping past the end is not an error; the stream then simply yields nothing.
func Skip(s Stream, frames int64) error {
	if frames < 0 {
		return fmt.Errorf("audio: skip %d frames: %w", frames, ErrNegative)
	}
	if frames == 0 {
		return nil
	}
	if sk, ok := s.(Seeker); ok {
		if err := sk.SeekFrame(frames); err != nil {
			return fmt.Errorf("audio: skip %d frames: %w", frames, err)
		}
		return nil
	}
	ch := s.Format().Channels
	buf := make([]float32, min(frames, 4096)*int64(ch))
	for left := frames; left > 0; {
		n := min(left*int64(ch), int64(len(buf)))
		m, err := s.Read(buf[:n])
		left -= int64(m / ch)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("audio: skip %d frames: %w", frames, err)
		}
	}
	return nil
}

// Delay returns s preceded by frames frames of silence.
func Delay(s Stream, frames int64) Stream {
	c, _ := Concat(Silence(s.Format(), frames), s)
	return c
}

// Concat plays the streams one after another. All must share one format (ErrFormatMismatch).
func Concat(ss ...Stream) (Stream, error) {
	if len(ss) == 0 {
		return nil, fmt.Errorf("audio: concat of no streams")
	}
	f := ss[0].Format()
	for i, s := range ss[1:] {
		if s.Format() != f {
			return nil, fmt.Errorf("audio: concat: stream %d is %v, stream 0 is %v: %w", i+1, s.Format(), f, ErrFormatMismatch)
		}
	}
	n, ok := lengths(ss)
	return withLen(&concat{f: f, ss: ss}, n, ok), nil
}

type concat struct {
	f  Format
	ss []Stream
	i  int
}

func (c *concat) Format() Format { return c.f }

func (c *concat) Read(p []float32) (int, error) {
	for c.i < len(c.ss) {
		n, err := c.ss[c.i].Read(p)
		if err == io.EOF {
			c.i++
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			return n, fmt.Errorf("audio: concat stream %d: %w", c.i, err)
		}
		return n, nil
	}
	return 0, io.EOF
}
