package audio

import (
	"errors"
	"slices"
	"testing"
)

// TestShortenSilence works at 1000 Hz with maxSilence 40 frames, so the crossfade is 10 frames, a cut
// silence keeps head 25 and tail 25 frames (crossfade included), and every number is small.
func TestShortenSilence(t *testing.T) {
	f := Format{1000, 1}
	loud := func(n int) []float32 { return slices.Repeat([]float32{0.5}, n) }
	// quiet returns n distinct frames under the −40 dB threshold, so the test can see which survive.
	quiet := func(n int, base float32) []float32 {
		q := make([]float32, n)
		for i := range q {
			q[i] = base + 1e-5*float32(i)
		}
		return q
	}
	cat := func(parts ...[]float32) []float32 { return slices.Concat(parts...) }
	// cut is what a cut silence q becomes: head, crossfade, tail.
	cut := func(q []float32) []float32 {
		sh := ShortenSilence(Silence(f, 0), 40, -40)
		n := len(q)
		out := slices.Clone(q[:15])
		for k := 0; k < 10; k++ {
			out = append(out, q[15+k]*sh.gOut[k]+q[n-25+k]*sh.gIn[k])
		}
		return append(out, q[n-15:]...)
	}
	q100, q50, q60 := quiet(100, 1e-3), quiet(50, 2e-3), quiet(60, 3e-3)
	cases := []struct {
		name string
		in   []float32
		want []float32
		cuts []Cut
	}{
		{"a 100-frame silence between words becomes 40 frames: its edges kept, the middle crossfaded out",
			cat(loud(5), q100, loud(5)), cat(loud(5), cut(q100), loud(5)), []Cut{{20, 80}}},
		{"a silence of exactly maxSilence is left alone",
			cat(loud(5), quiet(40, 1e-3), loud(5)), cat(loud(5), quiet(40, 1e-3), loud(5)), nil},
		{"a silence longer than maxSilence by less than the crossfade is left alone",
			cat(loud(5), quiet(45, 1e-3), loud(5)), cat(loud(5), quiet(45, 1e-3), loud(5)), nil},
		{"a silence of maxSilence plus the crossfade is cut by exactly the crossfade",
			cat(loud(5), q50, loud(5)), cat(loud(5), cut(q50), loud(5)), []Cut{{20, 30}}},
		{"a long silence at the very start keeps its edges too",
			cat(q60, loud(3)), cat(cut(q60), loud(3)), []Cut{{15, 35}}},
		{"a long silence at the very end is cut when the stream ends",
			cat(loud(3), q60), cat(loud(3), cut(q60)), []Cut{{18, 38}}},
		{"two silences give two cuts in input frames",
			cat(loud(2), q100, loud(2), q50, loud(2)), cat(loud(2), cut(q100), loud(2), cut(q50), loud(2)),
			[]Cut{{17, 77}, {2 + 100 + 2 + 15, 2 + 100 + 2 + 25}}},
		{"a single loud frame breaks a silence in two, neither long enough to cut",
			cat(quiet(30, 1e-3), loud(1), quiet(30, 1e-3)), cat(quiet(30, 1e-3), loud(1), quiet(30, 1e-3)), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 7, 4096} {
				sh := ShortenSilence(&slice{f: f, data: tc.in, failAt: -1}, 40, -40)
				got := readAll(t, sh, chunk)
				if !equal(got, tc.want) {
					t.Fatalf("chunk %d: got %d frames %v\nwant %d frames %v", chunk, len(got), got, len(tc.want), tc.want)
				}
				if !slices.Equal(sh.Cuts(), tc.cuts) {
					t.Fatalf("chunk %d: cuts %v, want %v", chunk, sh.Cuts(), tc.cuts)
				}
				var removed int64
				for _, c := range sh.Cuts() {
					removed += c.End - c.Start
				}
				if int64(len(tc.in)-len(got)) != removed {
					t.Fatalf("output is %d frames shorter, cuts remove %d", len(tc.in)-len(got), removed)
				}
			}
		})
	}
}

func TestShortenSilenceStereo(t *testing.T) {
	f := Format{1000, 2}
	// Left silent for 100 frames, right carrying a tone: nothing is silent, nothing is cut.
	in := make([]float32, 2*100)
	for i := 0; i < 100; i++ {
		in[2*i+1] = 0.3
	}
	sh := ShortenSilence(&slice{f: f, data: in, failAt: -1}, 40, -40)
	got := readAll(t, sh, 64)
	if !equal(got, in) || len(sh.Cuts()) != 0 {
		t.Fatalf("one loud channel must keep the frame: got %d samples, cuts %v", len(got), sh.Cuts())
	}
}

func TestShortenSilenceError(t *testing.T) {
	s := &slice{f: Format{1000, 1}, data: make([]float32, 100), failAt: 50}
	if _, err := readAllErr(ShortenSilence(s, 10, -40), 16); !errors.Is(err, errBoom) {
		t.Fatalf("err = %v, want errBoom", err)
	}
}
