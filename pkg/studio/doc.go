// Package studio is spacecast's offline half as a library: mix, clip, trim and inspect, each an
// options struct and one function the command line (and tests) call. It composes the codec, audio,
// session and edit packages and owns none of their mechanics.
package studio

import "github.com/spacecast/spacecast/pkg/audio"

// Progress receives reports of long work; the CLI draws them on a terminal. Implementations must
// be safe for use from several goroutines.
type Progress interface {
	// Stage starts a named stage of totalFrames frames at rate frames per second (0 when unknown).
	Stage(name string, totalFrames int64, rate int)
	// Advance reports frames done in the current stage.
	Advance(frames int64)
}

// NoProgress discards progress reports.
type NoProgress struct{}

// Stage implements Progress.
func (NoProgress) Stage(string, int64, int) {}

// Advance implements Progress.
func (NoProgress) Advance(int64) {}

// progressStream reports frames read through it.
type progressStream struct {
	audio.Stream
	p Progress
}

func (s progressStream) Read(b []float32) (int, error) {
	n, err := s.Stream.Read(b)
	if n > 0 {
		s.p.Advance(int64(n / s.Format().Channels))
	}
	return n, err
}
