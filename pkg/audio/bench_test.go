package audio

import (
	"math"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// loop is an endless stream repeating a buffer, allocation-free, for benchmarks.
type loop struct {
	f   Format
	buf []float32
	pos int
}

func (l *loop) Format() Format { return l.f }
func (l *loop) Read(p []float32) (int, error) {
	n := 0
	for n < len(p) {
		m := copy(p[n:], l.buf[l.pos:])
		n += m
		l.pos = (l.pos + m) % len(l.buf)
	}
	return n, nil
}

func newLoop(f Format, amp float32) *loop {
	buf := make([]float32, 48000*f.Channels)
	seed := uint32(1)
	for i := range buf {
		seed = seed*1664525 + 1013904223
		buf[i] = amp * (float32(seed>>8)/float32(1<<24) - 0.5)
	}
	return &loop{f: f, buf: buf}
}

// benchStream reads s in 1024-frame blocks; b.N counts blocks, bytes count input samples.
func benchStream(b *testing.B, s Stream) {
	ch := s.Format().Channels
	p := make([]float32, 1024*ch)
	b.SetBytes(int64(len(p) * 4))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := ReadFull(s, p); err != nil {
			b.Fatal(err)
		}
	}
	sec := float64(b.N) * 1024 / float64(s.Format().SampleRate)
	b.ReportMetric(sec/b.Elapsed().Seconds(), "x_realtime")
}

func BenchmarkGain(b *testing.B) {
	benchStream(b, Gain(newLoop(Format{48000, 2}, 0.5), -3))
}

func BenchmarkMixer4(b *testing.B) {
	f := Format{48000, 2}
	m := NewMixer(f)
	for i := range 4 {
		if err := m.Add(newLoop(f, 0.2), int64(i*100), -6); err != nil {
			b.Fatal(err)
		}
	}
	benchStream(b, m)
}

// BenchmarkLimiter runs the limiter on a speech-like signal (a chirp with noise in 4 Hz syllables)
// whose peaks reach +2 dBFS; BenchmarkLimiterHot on noise 12 dB over full scale, limited all the time.
func BenchmarkLimiter(b *testing.B) {
	f := Format{48000, 2}
	c := testutil.Chirp(f.SampleRate, f.SampleRate, 1.25)
	l := &loop{f: f, buf: make([]float32, 2*len(c))}
	for i, v := range c {
		env := float32(math.Max(0, math.Sin(2*math.Pi*4*float64(i)/float64(f.SampleRate))))
		l.buf[2*i], l.buf[2*i+1] = v*env, 0.8*v*env
	}
	benchStream(b, NewLimiter(l, -1))
}

func BenchmarkLimiterHot(b *testing.B) {
	benchStream(b, NewLimiter(newLoop(Format{48000, 2}, 8), -1))
}

// BenchmarkLimiterQuiet runs the limiter on noise peaking at −12 dBFS, which never comes near
// the ceiling: the cost of a limiter that has nothing to do, as on most of a levelled podcast.
func BenchmarkLimiterQuiet(b *testing.B) {
	benchStream(b, NewLimiter(newLoop(Format{48000, 2}, 0.5), -1))
}

func BenchmarkShortenSilence(b *testing.B) {
	benchStream(b, ShortenSilence(newLoop(Format{48000, 2}, 0.5), 48000, -50))
}
