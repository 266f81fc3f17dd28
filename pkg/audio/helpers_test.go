package audio

import (
	"errors"
	"io"
	"testing"
)

// slice is a test stream over fixed samples, optionally with a Len, optionally failing at a frame.
type slice struct {
	f      Format
	data   []float32
	pos    int // samples
	failAt int // frame at which Read fails with errBoom; <0 never
	reads  int // Read calls, to check laziness
	maxN   int // cap on samples per Read (0: none), to exercise short reads
}

var errBoom = errors.New("boom")

func (s *slice) Format() Format { return s.f }

func (s *slice) Read(p []float32) (int, error) {
	s.reads++
	if s.failAt >= 0 && s.pos/s.f.Channels >= s.failAt {
		return 0, errBoom
	}
	if s.pos == len(s.data) {
		return 0, io.EOF
	}
	if s.maxN > 0 && len(p) > s.maxN {
		p = p[:s.maxN]
	}
	n := copy(p, s.data[s.pos:])
	if s.failAt >= 0 {
		n = min(n, (s.failAt-s.pos/s.f.Channels)*s.f.Channels)
	}
	s.pos += n
	return n, nil
}

// sliceLen is a slice that knows its length.
type sliceLen struct{ slice }

func (s *sliceLen) Len() int64 { return int64(len(s.data) / s.f.Channels) }

func mono(v ...float32) *slice   { return &slice{f: Format{48000, 1}, data: v, failAt: -1} }
func stereo(v ...float32) *slice { return &slice{f: Format{48000, 2}, data: v, failAt: -1} }
func withLength(s *slice) *sliceLen {
	return &sliceLen{*s}
}

// ramp returns n mono frames 1, 2, …, n.
func ramp(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(i + 1)
	}
	return out
}

// readAll drains s with reads of at most chunk frames, failing the test on a non-EOF error.
func readAll(t testing.TB, s Stream, chunk int) []float32 {
	t.Helper()
	out, err := readAllErr(s, chunk)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return out
}

func readAllErr(s Stream, chunk int) ([]float32, error) {
	ch := s.Format().Channels
	buf := make([]float32, chunk*ch)
	var out []float32
	for zero := 0; zero < 1000; {
		n, err := s.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if n == 0 {
			zero++
		}
	}
	return out, io.ErrNoProgress
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
