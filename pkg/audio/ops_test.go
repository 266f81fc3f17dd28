package audio

import (
	"errors"
	"math"
	"testing"
)

// opCase builds a stream and states exactly what it must yield.
type opCase struct {
	name    string
	build   func() (Stream, error)
	want    []float32
	wantLen int64 // −1: the stream must not have a Len
}

func runOpCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Every read size must give the same samples: 1 frame, an odd size, a large one.
			for _, chunk := range []int{1, 3, 4096} {
				s, err := tc.build()
				if err != nil {
					t.Fatal(err)
				}
				n, ok := Length(s)
				if tc.wantLen < 0 && ok {
					t.Errorf("has Len %d, want none", n)
				}
				if tc.wantLen >= 0 && (!ok || n != tc.wantLen) {
					t.Errorf("Len = %d, %v; want %d", n, ok, tc.wantLen)
				}
				got := readAll(t, s, chunk)
				if !approxEqual(got, tc.want, 1e-6) {
					t.Fatalf("chunk %d: got %v\nwant %v", chunk, got, tc.want)
				}
			}
		})
	}
}

func approxEqual(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

func TestOperators(t *testing.T) {
	m48 := Format{48000, 1}
	runOpCases(t, []opCase{
		{"silence yields exactly its frames of zeros, stereo", func() (Stream, error) {
			return Silence(Format{48000, 2}, 3), nil
		}, []float32{0, 0, 0, 0, 0, 0}, 3},
		{"take cuts a longer stream and reports the shorter length", func() (Stream, error) {
			return Take(withLength(mono(ramp(5)...)), 3), nil
		}, []float32{1, 2, 3}, 3},
		{"take beyond the end yields the whole stream and Len is the stream's", func() (Stream, error) {
			return Take(withLength(mono(ramp(2)...)), 10), nil
		}, []float32{1, 2}, 2},
		{"take of a stream without length has no Len", func() (Stream, error) {
			return Take(mono(ramp(5)...), 2), nil
		}, []float32{1, 2}, -1},
		{"skip without a Seeker reads and discards whole frames", func() (Stream, error) {
			s := stereo(1, 2, 3, 4, 5, 6)
			return s, Skip(s, 2)
		}, []float32{5, 6}, -1},
		{"skip on a Seeker seeks (silence of 5 skipped by 3 yields 2)", func() (Stream, error) {
			s := Silence(m48, 5)
			return Take(s, 10), Skip(s, 3)
		}, []float32{0, 0}, 5},
		{"skip past the end leaves an empty stream, not an error", func() (Stream, error) {
			s := mono(1, 2)
			return s, Skip(s, 9)
		}, []float32{}, -1},
		{"concat plays streams in order and sums their lengths", func() (Stream, error) {
			return Concat(withLength(mono(1, 2)), Silence(m48, 1), withLength(mono(3)))
		}, []float32{1, 2, 0, 3}, 4},
		{"concat with one stream of unknown length has no Len", func() (Stream, error) {
			return Concat(withLength(mono(1)), mono(2))
		}, []float32{1, 2}, -1},
		{"delay puts silence first", func() (Stream, error) {
			return Delay(withLength(stereo(1, 2)), 2), nil
		}, []float32{0, 0, 0, 0, 1, 2}, 3},
		{"gain of 20·log10(2) dB doubles every sample", func() (Stream, error) {
			return Gain(withLength(mono(0.1, -0.2, 0.3)), 20*math.Log10(2)), nil
		}, []float32{0.2, -0.4, 0.6}, 3},
		{"gain of 0 dB passes samples unchanged", func() (Stream, error) {
			return Gain(mono(0.123456789, -1), 0), nil
		}, []float32{0.123456789, -1}, -1},
		{"stereo to mono averages the two channels", func() (Stream, error) {
			return Remix(withLength(stereo(1, 0, 0.5, 0.5, -1, 1)), 1)
		}, []float32{0.5, 0.5, 0}, 3},
		{"mono to stereo copies the channel to both sides", func() (Stream, error) {
			return Remix(mono(0.25, -0.5), 2)
		}, []float32{0.25, 0.25, -0.5, -0.5}, -1},
		{"fade in of 2 frames: sin(0), sin(π/4), then unity", func() (Stream, error) {
			return Fade(mono(1, 1, 1, 1), 2, 0)
		}, []float32{0, float32(math.Sqrt(0.5)), 1, 1}, -1},
		{"fade out of 2 frames mirrors the fade in and ends on 0", func() (Stream, error) {
			return Fade(withLength(stereo(1, 1, 1, 1, 1, 1)), 0, 2)
		}, []float32{1, 1, float32(math.Sqrt(0.5)), float32(math.Sqrt(0.5)), 0, 0}, 3},
	})
}

func TestOperatorErrors(t *testing.T) {
	m48, s48, m44 := Format{48000, 1}, Format{48000, 2}, Format{44100, 1}
	cases := []struct {
		name string
		err  func() error
		want error
	}{
		{"concat refuses streams of different rates", func() error {
			_, err := Concat(Silence(m48, 1), Silence(m44, 1))
			return err
		}, ErrFormatMismatch},
		{"concat refuses streams of different channel counts", func() error {
			_, err := Concat(Silence(m48, 1), Silence(s48, 1))
			return err
		}, ErrFormatMismatch},
		{"a fade out needs the stream's length", func() error {
			_, err := Fade(mono(1, 2), 0, 1)
			return err
		}, ErrNoLength},
		{"a negative skip is refused", func() error { return Skip(mono(1), -1) }, ErrNegative},
		{"a failing source's error comes out of skip", func() error {
			s := mono(1, 2, 3)
			s.failAt = 1
			return Skip(s, 2)
		}, errBoom},
		{"a failing source's error comes out of concat", func() error {
			s := mono(1, 2, 3)
			s.failAt = 1
			c, _ := Concat(mono(0), s)
			_, err := readAllErr(c, 16)
			return err
		}, errBoom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.err(); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Remix(Silence(Format{48000, 6}, 1), 2); err == nil {
		t.Error("remix of 6 channels to 2 succeeded; only mono and stereo are supported")
	}
}
