package audio

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// readSizes drains s with read sizes taken from sizes in turn (1 to 40 frames each).
func readSizes(s Stream, sizes []byte) ([]float32, error) {
	ch := s.Format().Channels
	buf := make([]float32, 40*ch)
	var out []float32
	for i := 0; ; i++ {
		n := 1 + int(sizes[i%len(sizes)])%40
		m, err := s.Read(buf[:n*ch])
		out = append(out, buf[:m]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if i > 1e6 {
			return out, io.ErrNoProgress
		}
	}
}

// FuzzReadSizes checks that every stateful operator gives the same samples (or the same error)
// whatever the sizes of the reads that pull it, plus each operator's own invariants. The fuzzer
// picks the signal (bytes as samples up to ±2, so the limiter works), the parameters and the read
// sizes.
func FuzzReadSizes(f *testing.F) {
	f.Add([]byte{0, 3, 20, 1, 7, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 120, 127, 128, 1, 0, 0}, []byte{1, 5, 39})
	f.Add([]byte{1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 90, 80, 70}, []byte{0})
	f.Add(make([]byte, 300), []byte{3, 9})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		if len(data) < 4 || len(sizes) == 0 {
			return
		}
		ch := 1 + int(data[0]%2)
		xf := int64(data[1] % 8)
		maxSil := int64(2 + data[2]%50)
		split := int(data[3])
		raw := data[4:]
		raw = raw[:len(raw)/ch*ch]
		sig := make([]float32, len(raw))
		for i, b := range raw {
			sig[i] = float32(int8(b)) / 64
		}
		frames := len(sig) / ch
		fm := Format{8000, ch}
		src := func(from, to int) Stream {
			from, to = min(from, frames), min(to, frames)
			return &slice{f: fm, data: sig[from*ch : to*ch], failAt: -1}
		}
		a, b := split%(frames+1), (split*7)%(frames+1)
		a, b = min(a, b), max(a, b)

		ops := []struct {
			name  string
			build func() (Stream, error)
			check func(out []float32) error
		}{
			{"join", func() (Stream, error) {
				return Join([]Stream{src(0, a), src(a, b), src(b, frames)}, xf)
			}, func(out []float32) error {
				if want := frames - 2*int(xf); len(out) != want*ch {
					return fmt.Errorf("join: %d frames, want %d", len(out)/ch, want)
				}
				return nil
			}},
			{"mixer", func() (Stream, error) {
				m := NewMixer(fm)
				for i, s := range []Stream{src(0, a), src(a, b), src(b, frames)} {
					if err := m.Add(s, int64(i*a), -float64(i)); err != nil {
						return nil, err
					}
				}
				return m, nil
			}, nil},
			{"shorten", func() (Stream, error) {
				return ShortenSilence(src(0, frames), maxSil, -20), nil
			}, nil},
			{"limiter", func() (Stream, error) {
				return NewLimiter(src(0, frames), -1), nil
			}, func(out []float32) error {
				if len(out) != len(sig) {
					return fmt.Errorf("limiter: %d samples out of %d", len(out), len(sig))
				}
				for i, v := range out {
					if float64(v) > DBToAmp(-1)*(1+1e-6) || float64(v) < -DBToAmp(-1)*(1+1e-6) {
						return fmt.Errorf("limiter: sample %d is %v, over the −1 dB ceiling", i, v)
					}
				}
				return nil
			}},
			{"fade", func() (Stream, error) {
				return Fade(withLength(&slice{f: fm, data: sig, failAt: -1}), int64(a), int64(frames-b))
			}, nil},
			{"remix", func() (Stream, error) { return Remix(src(0, frames), 3-ch) }, nil},
		}
		for _, op := range ops {
			s1, err1 := op.build()
			s2, err2 := op.build()
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%s: build errors differ: %v, %v", op.name, err1, err2)
			}
			if err1 != nil {
				continue
			}
			want, errWant := readAllErr(s1, 4096)
			got, errGot := readSizes(s2, sizes)
			if (errWant == nil) != (errGot == nil) || (errWant != nil && !errors.Is(errGot, errors.Unwrap(errWant))) {
				t.Fatalf("%s: errors differ: whole reads %v, small reads %v", op.name, errWant, errGot)
			}
			if errWant != nil {
				continue
			}
			if !equal(want, got) {
				t.Fatalf("%s: small reads give %d samples %v\nwhole reads %d samples %v", op.name, len(got), got, len(want), want)
			}
			if op.check != nil {
				if err := op.check(want); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
