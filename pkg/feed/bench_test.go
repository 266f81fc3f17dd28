package feed

import (
	"io"
	"testing"
)

// BenchmarkRender1000 renders a feed of 1,000 episodes, each with soundbites, persons,
// chapters, a transcript and show notes: what every publish does.
func BenchmarkRender1000(b *testing.B) {
	s := sampleShow()
	eps := manyEpisodes(1000)
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(io.Discard, s, eps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck1000 checks that feed (without files).
func BenchmarkCheck1000(b *testing.B) {
	s := sampleShow()
	eps := manyEpisodes(1000)
	data := render(b, s, eps)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}
