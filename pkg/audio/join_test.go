package audio

import (
	"errors"
	"math"
	"testing"
)

func xf(out, in float32, k, n int) float32 {
	th := math.Pi / 2 * (float64(k) + 0.5) / float64(n)
	return float32(float64(out)*math.Cos(th) + float64(in)*math.Sin(th))
}

func TestJoin(t *testing.T) {
	ones := func(v float32, n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	runOpCases(t, []opCase{
		{"two parts overlap by the crossfade: length 4+4−2, cos/sin weights at mid-frame", func() (Stream, error) {
			return Join([]Stream{withLength(mono(ones(1, 4)...)), withLength(mono(ones(2, 4)...))}, 2)
		}, []float32{1, 1, xf(1, 2, 0, 2), xf(1, 2, 1, 2), 2, 2}, 6},
		{"three parts, the middle one exactly twice the crossfade", func() (Stream, error) {
			return Join([]Stream{mono(1, 1, 1), mono(2, 2), mono(3, 3)}, 1)
		}, []float32{1, 1, xf(1, 2, 0, 1), xf(2, 3, 0, 1), 3}, -1},
		{"stereo channels are crossfaded with the same weight per frame", func() (Stream, error) {
			return Join([]Stream{stereo(1, -1, 1, -1), stereo(2, -2, 2, -2)}, 1)
		}, []float32{1, -1, xf(1, 2, 0, 1), xf(-1, -2, 0, 1), 2, -2}, -1},
		{"a crossfade of 0 is plain concatenation", func() (Stream, error) {
			return Join([]Stream{withLength(mono(1)), withLength(mono(2))}, 0)
		}, []float32{1, 2}, 2},
		{"parts exactly as long as the crossfade at the ends are allowed", func() (Stream, error) {
			return Join([]Stream{mono(1, 1), mono(2, 2)}, 2)
		}, []float32{xf(1, 2, 0, 2), xf(1, 2, 1, 2)}, -1},
	})
}

func TestJoinErrors(t *testing.T) {
	cases := []struct {
		name  string
		parts []Stream
		cf    int64
		want  error
	}{
		{"a first part shorter than the crossfade", []Stream{mono(1), mono(2, 2, 2)}, 2, ErrShortPart},
		{"a last part shorter than the crossfade", []Stream{mono(1, 1, 1), mono(2)}, 2, ErrShortPart},
		{"a middle part shorter than two crossfades", []Stream{mono(1, 1), mono(2, 2, 2), mono(3, 3)}, 2, ErrShortPart},
		{"parts of different formats", []Stream{mono(1, 1), stereo(2, 2)}, 1, ErrFormatMismatch},
		{"a failing part", []Stream{mono(1, 1), &slice{f: Format{48000, 1}, data: []float32{1, 1, 1}, failAt: 2}}, 1, errBoom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Join(tc.parts, tc.cf)
			if err == nil {
				_, err = readAllErr(j, 64)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
