package truepeak

import (
	"math"
	"testing"
)

// benchSignal is one second of 48 kHz stereo: the speech-like chirp in 4 Hz syllables the audio
// benchmarks use, peaking at amp.
func benchSignal(amp float64) []float32 {
	const rate = 48000
	x := make([]float32, 2*rate)
	for i := range rate {
		t := float64(i) / rate
		v := amp * math.Sin(2*math.Pi*20/math.Log(1000)*(math.Pow(1000, t)-1)) *
			math.Max(0, math.Sin(2*math.Pi*4*t))
		x[2*i], x[2*i+1] = float32(v), float32(0.7*v)
	}
	return x
}

// BenchmarkMeterUse runs the Annex 2 detector as the loudness meter does, keeping a running
// maximum and skipping below it; an op is one second of stereo audio.
func BenchmarkMeterUse(b *testing.B) {
	x := benchSignal(0.5)
	d := New(2)
	peak := 0.0
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(x); i += 2 {
			if v := d.Push(x[i : i+2]); v > peak {
				peak = v
				d.SkipBelow(v)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}

// BenchmarkLimiterUse runs the precise detector as the limiter does, skipping below a fixed level
// of −1.1 dBFS, on the speech-like signal peaking 2 dB over full scale; an op is one second.
func BenchmarkLimiterUse(b *testing.B) {
	x := benchSignal(1.25)
	d := NewPrecise(2)
	d.SkipBelow(math.Pow(10, -1.1/20))
	var sink float64
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(x); i += 2 {
			sink += d.Push(x[i : i+2])
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
	_ = sink
}

// BenchmarkPushMax is BenchmarkMeterUse through PushMax, as the meter now calls it.
func BenchmarkPushMax(b *testing.B) {
	x := benchSignal(0.5)
	d := New(2)
	peak := 0.0
	b.ReportAllocs()
	for b.Loop() {
		peak = d.PushMax(x, peak)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
}
