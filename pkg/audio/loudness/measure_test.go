package loudness_test

import (
	"errors"
	"io"
	"math"
	"testing"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/audio/loudness"
)

type slice struct {
	f      audio.Format
	data   []float32
	failAt int // remaining samples at which Read fails; 0 never
}

var errBoom = errors.New("boom")

func (s *slice) Format() audio.Format { return s.f }
func (s *slice) Read(p []float32) (int, error) {
	if s.failAt > 0 && len(s.data) <= s.failAt {
		return 0, errBoom
	}
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.data[:min(len(s.data), 1000)])
	s.data = s.data[n:]
	return n, nil
}

func TestMeasure(t *testing.T) {
	x := tone(48000, 2, 10, 1000, -23)
	st, err := loudness.Measure(&slice{f: audio.Format{SampleRate: 48000, Channels: 2}, data: x})
	if err != nil {
		t.Fatal(err)
	}
	m := measure(x, 48000, 2)
	if st != m.Stats() {
		t.Fatalf("Measure %+v, Meter %+v", st, m.Stats())
	}
	if st.Frames != 480000 || math.Abs(st.Integrated+23) > 0.05 || math.Abs(st.SamplePeak+23) > 0.01 {
		t.Fatalf("Measure %+v: want 480000 frames, −23 LUFS, −23 dBFS sample peak", st)
	}
	_, err = loudness.Measure(&slice{f: audio.Format{SampleRate: 48000, Channels: 2}, data: x, failAt: 5000})
	if !errors.Is(err, errBoom) {
		t.Fatalf("err = %v, want the stream's error", err)
	}
}
