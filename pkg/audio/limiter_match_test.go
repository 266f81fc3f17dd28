package audio

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// chunky is a stream over data whose reads return at most the next size in sizes samples
// (whole frames), to shake out state kept across reads.
type chunky struct {
	f     Format
	data  []float32
	sizes []int
	n     int
}

func (c *chunky) Format() Format { return c.f }
func (c *chunky) Len() int64     { return int64(len(c.data) / c.f.Channels) }
func (c *chunky) Read(p []float32) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	m := min(len(p), c.sizes[c.n%len(c.sizes)]*c.f.Channels, len(c.data))
	c.n++
	m = copy(p, c.data[:m])
	c.data = c.data[m:]
	return m, nil
}

// drain reads s to the end in reads of the given sizes in samples (not all whole frames).
func drain(t *testing.T, s Stream, sizes []int) []float32 {
	var out []float32
	for i := 0; ; i++ {
		p := make([]float32, sizes[i%len(sizes)])
		n, err := s.Read(p)
		out = append(out, p[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if i > 1e7 {
			t.Fatal("no end")
		}
	}
}

// TestLimiterMatchesReference checks that the limiter's output is, sample for sample and bit for
// bit, the output of the limiter before the fast true-peak kernel (limiter_ref_test.go), at two
// rates and channel counts, with odd source and reader block sizes.
func TestLimiterMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	noise := func(frames, ch int, amp float64) []float32 {
		x := make([]float32, frames*ch)
		for i := range x {
			x[i] = float32(amp * (rng.Float64() - 0.5))
		}
		return x
	}
	speechLike := func(frames, ch int, amp float64) []float32 {
		c := testutil.Chirp(frames, 48000, amp)
		x := make([]float32, frames*ch)
		for i, v := range c {
			env := float32(math.Max(0, math.Sin(2*math.Pi*4*float64(i)/48000)))
			for k := range ch {
				x[i*ch+k] = v * env * (1 - 0.2*float32(k))
			}
		}
		return x
	}
	espeak := func(frames, ch int, amp float64) []float32 {
		testutil.Require(t, "espeak-ng")
		testutil.Require(t, "ffmpeg")
		wav := filepath.Join(t.TempDir(), "speech.wav")
		testutil.Run(t, "espeak-ng", "-w", wav, "The limiter must not change a single bit of what it did before it got faster.")
		m := testutil.FFmpegDecode(t, wav, 48000, 1)
		x := make([]float32, frames*ch)
		for i := range frames {
			for k := range ch {
				x[i*ch+k] = float32(amp) * m[(i+97*k)%len(m)]
			}
		}
		return x
	}
	withNaN := func(frames, ch int, amp float64) []float32 {
		x := speechLike(frames, ch, amp)
		x[1000*ch] = float32(math.NaN())
		x[20000*ch+ch-1] = float32(math.Inf(1))
		return x
	}
	bursts := func(_, ch int, amp float64) []float32 { // hot, then quiet long enough to release fully, then hot
		x := speechLike(3*48000, ch, amp)
		for i := 15000 * ch; i < 135000*ch; i++ {
			x[i] *= 0.05
		}
		return x
	}
	cases := []struct {
		name    string
		rate    int
		ch      int
		ceiling float64
		in      func(frames, ch int, amp float64) []float32
		amp     float64
	}{
		{"stereo espeak-ng speech 12 dB hot under −1 dBTP", 48000, 2, -1, espeak, 4},
		{"mono espeak-ng speech at its own level under −1 dBTP", 48000, 1, -1, espeak, 1},
		{"stereo chirp in syllables peaking 2 dB over full scale, the benchmark's signal", 48000, 2, -1, speechLike, 1.25},
		{"mono 44.1 kHz chirp in syllables 8 dB hot under −2 dBTP", 44100, 1, -2, speechLike, 2.5},
		{"stereo noise 12 dB over full scale, limited all the time", 48000, 2, -1, noise, 8},
		{"stereo noise whose true peaks now and then pass the ceiling", 48000, 2, -1, noise, 1.6},
		{"stereo bursts 8 dB hot with 2.5 s of quiet between, for the release to reach unity", 48000, 2, -1, bursts, 2.5},
		{"stereo silence", 48000, 2, -1, func(f, c int, _ float64) []float32 { return make([]float32, f*c) }, 0},
		{"stereo chirp with a NaN and an infinite sample", 48000, 2, -1, withNaN, 1.25},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := tc.in(48000+777, tc.ch, tc.amp)
			f := Format{SampleRate: tc.rate, Channels: tc.ch}
			src := []int{1024, 1, 333, 4096, 7}
			dst := []int{4096, 3, 1, 1001, 2*tc.ch + 1, 65536}
			got := drain(t, NewLimiter(&chunky{f: f, data: x, sizes: src}, tc.ceiling), dst)
			want := drain(t, newRefLimiter(&chunky{f: f, data: x, sizes: src}, tc.ceiling), dst)
			if len(got) != len(want) || len(got) != len(x) {
				t.Fatalf("%d samples out, reference %d, in %d", len(got), len(want), len(x))
			}
			limited := 0
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("sample %d (frame %d) is %v, reference %v", i, i/tc.ch, got[i], want[i])
				}
				if got[i] != x[i] {
					limited++
				}
			}
			t.Logf("%d of %d samples changed by the limiter", limited, len(x))
		})
	}
}

// FuzzLimiterMatchesReference checks the limiter against the reference on any samples the fuzzer
// makes, read as raw float32 bits (so NaN, infinities and subnormals too) or as bytes up to ±4.
//
// mode's bit 0 picks one or two channels, bit 1 raw float32 bits or bytes; with bit 2 the data is
// run-length coded: each sample (4 bytes or 1) is followed by a byte n and repeats n+1 times, so a
// few bytes make a signal long enough for the limiter's look-ahead, hold and release (at 8 kHz, a
// fully released gain takes some 4 000 frames). Without it the fuzzer could only reach a long signal
// through a long input, and Go minimizes every new input in a loop quadratic in its length: with a
// 2 000-byte seed it spent nearly all its time there (840 execs in 10 s). Every input of the
// target before bit 2 had this meaning still means the same with bit 2 clear.
func FuzzLimiterMatchesReference(f *testing.F) {
	f.Add(byte(2), []byte{0, 64, 128, 192, 255, 1, 127, 200, 30, 40, 50, 60, 70, 80, 90, 100}, []byte{1, 5, 39})
	f.Add(byte(1), []byte{0x00, 0x00, 0xc0, 0x7f, 0x00, 0x00, 0x80, 0x7f, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40}, []byte{0})
	f.Add(byte(3|4), []byte{0, 0, 0, 0, 255, 0, 0, 0, 0, 243}, []byte{3, 9})                     // the old 2 000-byte seed: 250 silent stereo frames
	f.Add(byte(1|4), []byte{127, 0, 129, 0, 100, 200, 0, 255, 0, 255, 0, 255, 90, 3}, []byte{7}) // hot, a held peak, quiet to release, hot
	f.Fuzz(func(t *testing.T, mode byte, data, sizes []byte) {
		if len(sizes) == 0 {
			return
		}
		ch := 1 + int(mode%2)
		width := 1
		if mode&2 != 0 {
			width = 4
		}
		step := width
		if mode&4 != 0 {
			step++
		}
		var x []float32
		for i := 0; i+step <= len(data); i += step {
			var v float32
			if width == 4 { // raw float32 bits
				v = math.Float32frombits(uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24)
			} else {
				v = float32(int8(data[i])) / 32
			}
			n := 1
			if mode&4 != 0 {
				n += int(data[i+width])
			}
			for range n {
				x = append(x, v)
			}
		}
		x = x[:len(x)/ch*ch]
		fm := Format{SampleRate: 8000, Channels: ch}
		src := []int{1 + int(sizes[0])%50, 1024}
		dst := []int{64 * ch} // reads shorter than a frame return nothing: one size must be longer
		for _, s := range sizes {
			dst = append(dst, 1+int(s))
		}
		got := drain(t, NewLimiter(&chunky{f: fm, data: x, sizes: src}, -1), dst)
		want := drain(t, newRefLimiter(&chunky{f: fm, data: x, sizes: src}, -1), dst)
		if len(got) != len(want) {
			t.Fatalf("%d samples out, reference %d", len(got), len(want))
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("sample %d is %v, reference %v", i, got[i], want[i])
			}
		}
	})
}
