package studio_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/studio"
)

// benchSeconds is how long each benchmark speaker talks; the mix is 3 s longer (the offsets).
const benchSeconds = 30

// benchSpeakers writes four speech WAVs (48 kHz mono, 16-bit) cut from the demo session's tracks,
// one voice each where the demo has one, and returns them placed at 0, 1, 2 and 3 s (FILE@OFFSET).
func benchSpeakers(b *testing.B) []string {
	b.Helper()
	dir := b.TempDir()
	var inputs []string
	for i, id := range []string{"ada-1", "brook-1", "cyd-1", "brook-2"} {
		src, err := codec.Open(filepath.Join("..", "..", "testdata", "demo", "session", "tracks", id+".opus"))
		if err != nil {
			b.Fatal(err)
		}
		f := src.Format()
		buf := make([]float32, benchSeconds*f.SampleRate*f.Channels)
		n, err := audio.ReadFull(src, buf)
		if cerr := src.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatalf("%s: %v", id, err)
		}
		// The shorter demo tracks are repeated to the full length.
		for j := n; j < len(buf); j++ {
			buf[j] = buf[j-n]
		}
		path := filepath.Join(dir, id+".wav")
		testutil.WriteWAV16(b, path, buf, f.SampleRate, f.Channels)
		inputs = append(inputs, path+"@"+[]string{"0", "1", "2", "3"}[i])
	}
	return inputs
}

// BenchmarkMix runs studio.Mix on four 30-second speakers. The x_realtime metric is seconds of
// output per second of wall time; passes/op is MixResult.Passes, the renders of the whole mix (one
// per encoding attempt, plus one to find silence); the cases separate the signal path from the
// encoder.
func BenchmarkMix(b *testing.B) {
	inputs := benchSpeakers(b)
	cases := []struct {
		name string
		ext  string
		opts func(*studio.MixOptions)
	}{
		// The case: levelled, normalised to -16 LUFS under -1 dBTP, 96 kbps MP3 (3 passes).
		{"mp3-96k-normalized", ".mp3", func(o *studio.MixOptions) { o.BitrateKbps = 96 }},
		// The same signal path written as 16-bit WAV: the difference to the first case is LAME.
		{"wav-normalized", ".wav", func(*studio.MixOptions) {}},
		// Decode, place and sum only: one pass, no levelling, no loudness, no limiter, no encoder.
		{"wav-raw", ".wav", func(o *studio.MixOptions) { o.Normalize = false; o.Level = "off"; o.MinChapter = 0 }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			opts := studio.DefaultMixOptions()
			opts.Inputs = inputs
			opts.Output = filepath.Join(b.TempDir(), "mix"+c.ext)
			c.opts(&opts)
			b.ReportAllocs()
			b.ResetTimer()
			var seconds float64
			passes := 0
			for range b.N {
				res, err := studio.Mix(context.Background(), opts, nil)
				if err != nil {
					b.Fatal(err)
				}
				seconds += res.Duration.Seconds()
				passes += res.Passes
			}
			b.ReportMetric(seconds/b.Elapsed().Seconds(), "x_realtime")
			b.ReportMetric(float64(passes)/float64(b.N), "passes/op")
		})
	}
}

// BenchmarkMixSession runs studio.Mix on the bundled demo session (1:50, four Ogg Opus tracks,
// three speakers) to a 96 kbps MP3: the session reader, timelines and Opus decoding included.
func BenchmarkMixSession(b *testing.B) {
	opts := studio.DefaultMixOptions()
	opts.Inputs = []string{filepath.Join("..", "..", "testdata", "demo", "session")}
	opts.Output = filepath.Join(b.TempDir(), "mix.mp3")
	opts.BitrateKbps = 96
	b.ReportAllocs()
	var seconds float64
	passes, n := 0, 0
	for b.Loop() {
		res, err := studio.Mix(context.Background(), opts, nil)
		if err != nil {
			b.Fatal(err)
		}
		seconds += res.Duration.Seconds()
		passes += res.Passes
		n++
	}
	b.ReportMetric(seconds/b.Elapsed().Seconds(), "x_realtime")
	b.ReportMetric(float64(passes)/float64(n), "passes/op")
}
