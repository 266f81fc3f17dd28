// Package audio defines spacecast's PCM stream interface and the pieces that compose by wrapping it.
//
// A Stream yields interleaved float32 samples in [-1, 1] at the rate and channel count of its Format.
// Decoders, the mixer, gain, fades, the limiter and the resampler are all Streams (or wrap one), so an
// edit is a chain of small values: Take(Skip(dec, start), n) is a clip.
package audio

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Format is the shape of a PCM stream: frames per second and interleaved channels per frame.
type Format struct {
	SampleRate int
	Channels   int
}

// Frames converts a duration to a whole number of frames at f's rate, rounding to nearest.
func (f Format) Frames(d time.Duration) int64 {
	return int64(math.Round(d.Seconds() * float64(f.SampleRate)))
}

// Duration converts a frame count to a duration at f's rate. Counts past what a time.Duration
// holds (about 292 years) saturate at its bounds instead of wrapping to a negative time.
func (f Format) Duration(frames int64) time.Duration {
	d := float64(frames) / float64(f.SampleRate) * float64(time.Second)
	switch {
	case d >= math.MaxInt64:
		return math.MaxInt64
	case d <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(d)
}

// Seconds converts a frame count to seconds at f's rate.
func (f Format) Seconds(frames int64) float64 {
	return float64(frames) / float64(f.SampleRate)
}

// Validate reports whether f describes a usable stream.
func (f Format) Validate() error {
	if f.SampleRate < 1000 || f.SampleRate > 768000 {
		return fmt.Errorf("audio: sample rate %d Hz out of range", f.SampleRate)
	}
	if f.Channels < 1 || f.Channels > 8 {
		return fmt.Errorf("audio: %d channels out of range", f.Channels)
	}
	return nil
}

func (f Format) String() string {
	return fmt.Sprintf("%d Hz, %d ch", f.SampleRate, f.Channels)
}

// Stream is a source of interleaved float32 PCM.
//
// Read fills p with whole frames (len(p) must be a multiple of Format().Channels) and returns the
// number of samples written, which is also a multiple of the channel count. At the end of the stream
// it returns 0, io.EOF. A Stream may return n > 0 together with io.EOF. Any other error is real and
// must be passed on, never swallowed: in a podcast a swallowed error deletes a speaker.
type Stream interface {
	Format() Format
	Read(p []float32) (n int, err error)
}

// Lengther is implemented by streams that know how many frames they will yield in total from the
// start (not from the current position).
type Lengther interface {
	Len() int64
}

// Seeker is implemented by streams that can jump to a frame, counted from the start.
type Seeker interface {
	SeekFrame(frame int64) error
}

// ErrFormatMismatch is returned when streams that must share a format do not.
var ErrFormatMismatch = errors.New("audio: formats differ")

// ReadFull reads from s until p is full or the stream ends. It returns the number of samples read;
// the error is nil when p was filled, io.EOF when the stream ended (n may be > 0), or the stream's error.
func ReadFull(s Stream, p []float32) (int, error) {
	n := 0
	for n < len(p) {
		m, err := s.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// ReadAll drains s into memory. Meant for tests and short clips; long audio should be streamed.
func ReadAll(s Stream) ([]float32, error) {
	var out []float32
	buf := make([]float32, 4096*s.Format().Channels)
	for {
		n, err := s.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}
