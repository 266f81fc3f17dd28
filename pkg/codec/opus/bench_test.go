package opus

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// BenchmarkDecodeOggStream decodes 10 s of stereo 96 kb/s; "x-realtime" is audio seconds per second.
// go test -tags nolibopusfile -run XXX -bench . -benchmem ./pkg/codec/opus
func BenchmarkDecodeOggStream(b *testing.B) {
	const frames = 48000 * 10
	path := encodeOurs(b, interleave(testutil.Chirp(frames, 48000, 0.5), 2), audio.Format{SampleRate: 48000, Channels: 2}, OggWriterOptions{BitrateKbps: 96})
	file, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]float32, 4096)
	b.ReportAllocs()
	for b.Loop() {
		s, err := NewOggStream(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := s.Read(buf); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(frames)/48000*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}

// BenchmarkEncodeOggWriter encodes 10 s of stereo at 96 kb/s.
func BenchmarkEncodeOggWriter(b *testing.B) {
	const frames = 48000 * 10
	in := interleave(testutil.Chirp(frames, 48000, 0.5), 2)
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewOggWriter(io.Discard, audio.Format{SampleRate: 48000, Channels: 2}, OggWriterOptions{BitrateKbps: 96})
		if err != nil {
			b.Fatal(err)
		}
		for rest := in; len(rest) > 0; rest = rest[min(len(rest), 1920):] {
			if err := w.Write(rest[:min(len(rest), 1920)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(frames)/48000*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}
