package truepeak

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil/truepeakref"
)

// signals returns test inputs of frames·channels samples (frames odd), each named by a sentence.
func signals(channels, frames int) []struct {
	name string
	x    []float32
} {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(f func(i, c int) float64) []float32 {
		x := make([]float32, frames*channels)
		for i := range frames {
			for c := range channels {
				x[i*channels+c] = float32(f(i, c))
			}
		}
		return x
	}
	chirp := func(i int) float64 { // 20 Hz to 20 kHz over the signal, at 48 kHz
		t := float64(i) / 48000
		T := float64(frames) / 48000
		return math.Sin(2 * math.Pi * 20 * T / math.Log(1000) * (math.Pow(1000, t/T) - 1))
	}
	syllable := func(i int) float64 { return math.Max(0, math.Sin(2*math.Pi*4*float64(i)/48000)) }
	nanAt := gen(func(i, c int) float64 { return 0.9 * math.Sin(0.3*float64(i+c)) })
	for _, i := range []int{500, 501, 2000} {
		nanAt[i*channels] = float32(math.NaN())
	}
	nanAt[3000*channels] = float32(math.Inf(1))
	nanAt[4000*channels+channels-1] = float32(math.Inf(-1))
	return []struct {
		name string
		x    []float32
	}{
		{"silence", make([]float32, frames*channels)},
		{"a chirp in 4 Hz syllables peaking 2 dB over full scale, like the benchmark's speech", gen(func(i, c int) float64 {
			return 1.25 * chirp(i) * syllable(i) * (1 - 0.2*float64(c))
		})},
		{"noise bursts, like speech", gen(func(i, c int) float64 {
			return math.Pow(math.Sin(float64(i)/3000*math.Pi), 8) * (rng.Float64() - 0.5) * 1.5
		})},
		{"noise 12 dB over full scale", gen(func(i, c int) float64 { return 8 * (rng.Float64() - 0.5) })},
		{"quiet noise that never reaches the level", gen(func(i, c int) float64 { return 0.05 * (rng.Float64() - 0.5) })},
		{"a tone with NaN and infinite samples in it", nanAt},
	}
}

// same reports whether a and b are the same number, counting any two NaNs as the same.
func same(a, b float64) bool { return a == b || (a != a && b != b) }

// TestMatchesReference checks that Push returns, frame by frame, exactly what the reference
// returns, with each kernel, for each filter, with skipping off, at a fixed level (as the limiter
// uses it) and at a level raised to each new maximum (as the meter used it); that PushMax, as the
// meter uses it now, keeps the running maximum the reference keeps that way; and that SkipRun, as
// the limiter uses it, skips only frames the reference reads under the level.
func TestMatchesReference(t *testing.T) {
	filters := []struct {
		name  string
		det   func(int) *Detector
		ref   func(int) *truepeakref.Detector
		level float64
	}{
		{"Annex 2", New, func(ch int) *truepeakref.Detector { return truepeakref.New(ch, annex2, 6) }, 0.8},
		{"precise", NewPrecise, func(ch int) *truepeakref.Detector { return truepeakref.New(ch, precise, preciseTaps/2) }, 0.8},
	}
	kernels := []bool{false}
	if useAVX2 {
		kernels = append(kernels, true)
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for _, avx := range kernels {
		useAVX2 = avx
		for _, f := range filters {
			for _, ch := range []int{1, 2} {
				for _, sig := range signals(ch, 12345) {
					where := fmt.Sprintf("AVX2 %v, %s, %d channels, %s", avx, f.name, ch, sig.name)
					pushMaxMatches(t, where, f.det(ch), f.ref(ch), ch, sig.x)
					skipRunMatches(t, where, f.det(ch), f.ref(ch), ch, f.level, sig.x)
					for _, mode := range []string{"no skipping", "fixed level", "rising level"} {
						d, r := f.det(ch), f.ref(ch)
						if mode == "fixed level" {
							d.SkipBelow(f.level)
							r.SkipBelow(f.level)
						}
						peak := 0.0
						for i := 0; i+ch <= len(sig.x); i += ch {
							got, want := d.Push(sig.x[i:i+ch]), r.Push(sig.x[i:i+ch])
							if !same(got, want) {
								t.Fatalf("AVX2 %v, %s, %d channels, %s, %s: frame %d reads %v, reference %v",
									avx, f.name, ch, sig.name, mode, i/ch, got, want)
							}
							if mode == "rising level" && got > peak {
								peak = got
								d.SkipBelow(peak)
								r.SkipBelow(peak)
							}
						}
					}
				}
			}
		}
	}
}

// pushMaxMatches feeds x to d by PushMax in blocks of odd sizes, and to r frame by frame as the
// meter did before PushMax, and checks that the running maxima agree after every block.
func pushMaxMatches(t *testing.T, where string, d *Detector, r *truepeakref.Detector, ch int, x []float32) {
	sizes := []int{1, 7, 1000, 333, 2, 4096}
	got, want := 0.0, 0.0
	for i, n := 0, 0; i < len(x); n++ {
		end := min(i+sizes[n%len(sizes)]*ch, len(x))
		got = d.PushMax(x[i:end], got)
		for ; i+ch <= end; i += ch {
			if v := r.Push(x[i : i+ch]); v > want {
				want = v
				r.SkipBelow(v)
			}
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%s: PushMax's running maximum at frame %d is %v, reference %v", where, i/ch, got, want)
		}
	}
}

// FuzzMatchesReference checks Push, PushMax and SkipRun against the reference on samples the fuzzer makes,
// read as raw float32 bits (NaN, infinities, subnormals) or as bytes up to ±4, for both filters,
// one or two channels, and each way of skipping.
func FuzzMatchesReference(f *testing.F) {
	f.Add(byte(0), []byte{0, 64, 128, 192, 255, 1, 127, 200, 30, 40, 50, 60, 70, 80, 90, 100})
	f.Add(byte(7), []byte{0x00, 0x00, 0xc0, 0x7f, 0x00, 0x00, 0x80, 0x7f, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40})
	f.Add(byte(13), make([]byte, 400))
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		ch := 1 + int(mode%2)
		var x []float32
		if mode&2 != 0 {
			for i := 0; i+4 <= len(data); i += 4 {
				x = append(x, math.Float32frombits(uint32(data[i])|uint32(data[i+1])<<8|uint32(data[i+2])<<16|uint32(data[i+3])<<24))
			}
		} else {
			for _, b := range data {
				x = append(x, float32(int8(b))/32)
			}
		}
		x = x[:len(x)/ch*ch]
		d, r := New(ch), truepeakref.New(ch, annex2, 6)
		d2, r2 := New(ch), truepeakref.New(ch, annex2, 6)
		if mode&4 != 0 {
			d, r = NewPrecise(ch), truepeakref.New(ch, precise, preciseTaps/2)
			d2, r2 = NewPrecise(ch), truepeakref.New(ch, precise, preciseTaps/2)
		}
		if mode&8 != 0 {
			d.SkipBelow(0.9)
			r.SkipBelow(0.9)
		}
		for i := 0; i+ch <= len(x); i += ch {
			if got, want := d.Push(x[i:i+ch]), r.Push(x[i:i+ch]); !same(got, want) {
				t.Fatalf("frame %d reads %v, reference %v", i/ch, got, want)
			}
		}
		pushMaxMatches(t, "fuzz", d2, r2, ch, x)
		d3, r3 := New(ch), truepeakref.New(ch, annex2, 6)
		if mode&4 != 0 {
			d3, r3 = NewPrecise(ch), truepeakref.New(ch, precise, preciseTaps/2)
		}
		skipRunMatches(t, "fuzz", d3, r3, ch, 0.9, x)
	})
}

// skipRunMatches pushes x into d at a fixed level, trying SkipRun on blocks of odd sizes and Push
// where it skips nothing, and checks every frame against the reference: exactly equal where d
// pushed, under the level (or NaN) where SkipRun took the frame.
func skipRunMatches(t *testing.T, where string, d *Detector, r *truepeakref.Detector, ch int, level float64, x []float32) {
	d.SkipBelow(level)
	r.SkipBelow(level)
	sizes := []int{1, 7, 1000, 333, 2, 4096}
	for i, n := 0, 0; i < len(x); n++ {
		end := min(i+sizes[n%len(sizes)]*ch, len(x))
		k := d.SkipRun(x[i:end])
		for range k {
			if want := r.Push(x[i : i+ch]); want >= level {
				t.Fatalf("%s: SkipRun took frame %d, which reads %v, over the level %v", where, i/ch, want, level)
			}
			i += ch
		}
		if k == 0 {
			if got, want := d.Push(x[i:i+ch]), r.Push(x[i:i+ch]); !same(got, want) {
				t.Fatalf("%s: after SkipRun, frame %d reads %v, reference %v", where, i/ch, got, want)
			}
			i += ch
		}
	}
}
