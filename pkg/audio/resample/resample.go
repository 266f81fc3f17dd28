// Package resample converts a stream's sample rate with libsoxr (very high quality) through
// github.com/zaf/resample.
package resample

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"unsafe"

	soxr "github.com/zaf/resample"

	"github.com/spacecast/spacecast/pkg/audio"
)

const chunk = 4096 // input frames handed to soxr at a time

// New returns s resampled to rate Hz, streaming, with libsoxr's very-high-quality setting (linear
// phase, so nothing moves in time: soxr compensates its own filter delay). The output is exactly
// round(inFrames·rate/inRate) frames: soxr's tail is flushed at the end of s and, should soxr deliver
// a frame more or less, the output is cut or padded with silence to that length. It has a Len when s
// has one. A stream already at rate is returned unchanged.
func New(s audio.Stream, rate int) (audio.Stream, error) {
	f := s.Format()
	if f.SampleRate == rate {
		return s, nil
	}
	out := audio.Format{SampleRate: rate, Channels: f.Channels}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("resample: to %d Hz: %w", rate, err)
	}
	r := &resampler{src: s, f: out, inRate: f.SampleRate, sink: &sink{}, in: make([]float32, chunk*f.Channels)}
	var err error
	r.soxr, err = soxr.New(r.sink, float64(f.SampleRate), float64(rate), f.Channels, soxr.F32, soxr.VeryHighQ)
	if err != nil {
		return nil, fmt.Errorf("resample: %v to %d Hz: %w", f, rate, err)
	}
	// soxr's memory is C memory: free it if the stream is dropped before its end.
	runtime.AddCleanup(r, func(x *soxr.Resampler) { _ = x.Close() }, r.soxr)
	if n, ok := audio.Length(s); ok {
		return &sized{r, outFrames(n, f.SampleRate, rate)}, nil
	}
	return r, nil
}

// outFrames is round(n·to/from) in integers.
func outFrames(n int64, from, to int) int64 {
	return (2*n*int64(to) + int64(from)) / (2 * int64(from))
}

type resampler struct {
	src    audio.Stream
	f      audio.Format
	inRate int
	soxr   *soxr.Resampler
	sink   *sink // a separate allocation: soxr holds it, and must not keep r alive
	in     []float32
	inN    int64 // input frames consumed
	outN   int64 // output frames returned
	want   int64 // output frames in total, known once src ended
	ended  bool  // src ended and soxr was flushed
}

type sized struct {
	*resampler
	frames int64
}

func (s *sized) Len() int64 { return s.frames }

// sink collects soxr's output as float32 samples (soxr writes native-endian floats).
type sink struct {
	buf []float32
	pos int // samples of buf already returned
}

func (k *sink) Write(b []byte) (int, error) {
	if len(b)%4 != 0 {
		return 0, errors.New("resample: soxr wrote a partial sample")
	}
	if k.pos > 0 && k.pos == len(k.buf) {
		k.buf, k.pos = k.buf[:0], 0
	}
	if n := len(b) / 4; n > 0 {
		k.buf = append(k.buf, unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)...)
	}
	return len(b), nil
}

func (r *resampler) Format() audio.Format { return r.f }

func (r *resampler) Read(p []float32) (int, error) {
	ch := r.f.Channels
	p = p[:len(p)/ch*ch]
	for r.sink.pos == len(r.sink.buf) {
		if r.ended {
			if r.outN < r.want { // soxr came up short: pad with silence
				n := int(min(int64(len(p)/ch), r.want-r.outN))
				clear(p[:n*ch])
				r.outN += int64(n)
				return n * ch, nil
			}
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.sink.buf[r.sink.pos:])
	if r.ended { // never return more than the exact length
		n = int(min(int64(n/ch), max(r.want-r.outN, 0))) * ch
		if n == 0 {
			r.sink.pos = len(r.sink.buf)
			return 0, io.EOF
		}
	}
	r.sink.pos += n
	r.outN += int64(n / ch)
	return n, nil
}

// fill hands one chunk of input to soxr, or flushes it at the end of the input. Chunks are whole
// (zaf/resample rejects a write too small to yield one output frame) except the last.
func (r *resampler) fill() error {
	ch := r.f.Channels
	n, err := audio.ReadFull(r.src, r.in)
	if err != nil && err != io.EOF {
		return fmt.Errorf("resample: read input at frame %d: %w", r.inN, err)
	}
	frames := int64(n / ch)
	r.inN += frames
	// A last chunk too short for one output frame is dropped; the padding in Read restores the length.
	if frames*int64(r.f.SampleRate) >= int64(r.inRate) {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&r.in[0])), 4*frames*int64(ch))
		if _, werr := r.soxr.Write(b); werr != nil {
			return fmt.Errorf("resample: soxr at input frame %d: %w", r.inN, werr)
		}
	}
	if err == io.EOF {
		r.ended = true
		r.want = outFrames(r.inN, r.inRate, r.f.SampleRate)
		if cerr := r.soxr.Close(); cerr != nil {
			return fmt.Errorf("resample: flush soxr: %w", cerr)
		}
	}
	return nil
}
