package loudness_test

import (
	"math"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/audio/loudness"
)

// BenchmarkMeter measures one second of 48 kHz stereo speech-like signal (a chirp with noise in
// 4 Hz syllables) per op.
func BenchmarkMeter(b *testing.B) {
	c := testutil.Chirp(48000, 48000, 0.5)
	x := make([]float32, 2*len(c))
	for i, v := range c {
		v *= float32(math.Max(0, math.Sin(2*math.Pi*4*float64(i)/48000)))
		x[2*i], x[2*i+1] = v, 0.7*v
	}
	m := loudness.NewMeter(audio.Format{SampleRate: 48000, Channels: 2})
	b.SetBytes(int64(4 * len(x)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Write(x)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}
