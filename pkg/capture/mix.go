package capture

import (
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/opus"
)

// The live mix: every track decodes its packets (concealing losses with Opus FEC and PLC) into a
// ring addressed by session tick; a little behind real time, the mixer sums each 20 ms frame of
// every ring, clears it, and encodes the sum into the session's mix file. Writing as the room runs
// means a mix exists the moment the room ends, and at most MixDelay plus one Ogg page is missing
// after a crash.

const (
	mixFrame = 960 // 20 ms at 48 kHz
	// ringSize is each track's window on the session clock (≈5.5 s): audio may arrive this far
	// ahead of the mixer; audio that arrives after the mixer passed is too late for the mix (it is
	// still in the track's file).
	ringSize = 1 << 18
)

// ring is one track's decoded audio on the session clock, mono.
type ring struct {
	mu  sync.Mutex
	buf [ringSize]float32
}

// write puts samples starting at session tick pos, keeping only what falls in [floor, floor+ringSize).
func (r *ring) write(pos int64, samples []float32, floor int64) {
	if pos < floor {
		skip := floor - pos
		if skip >= int64(len(samples)) {
			return
		}
		samples, pos = samples[skip:], floor
	}
	if end := floor + ringSize; pos+int64(len(samples)) > end {
		if pos >= end {
			return
		}
		samples = samples[:end-pos]
	}
	r.mu.Lock()
	for i, s := range samples {
		r.buf[(pos+int64(i))&(ringSize-1)] = s
	}
	r.mu.Unlock()
}

// take adds the frame at pos into dst and clears it.
func (r *ring) take(pos int64, dst []float32) {
	r.mu.Lock()
	for i := range dst {
		j := (pos + int64(i)) & (ringSize - 1)
		dst[i] += r.buf[j]
		r.buf[j] = 0
	}
	r.mu.Unlock()
}

// mixer encodes the sum of the rings.
type mixer struct {
	w     *opus.OggWriter
	pos   int64 // next session tick to mix; rings accept audio from here on
	frame []float32
}

func newMixer(w io.Writer) (*mixer, error) {
	ow, err := opus.NewOggWriter(w, audio.Format{SampleRate: 48000, Channels: 1},
		opus.OggWriterOptions{BitrateKbps: 64, Application: opus.ApplicationVoIP, MaxPageDuration: time.Second,
			Comments: []string{"ENCODER=spacecast live mix"}})
	if err != nil {
		return nil, fmt.Errorf("capture: mix: %w", err)
	}
	return &mixer{w: ow, frame: make([]float32, mixFrame)}, nil
}

// mixUntil mixes whole frames up to session tick end.
func (m *mixer) mixUntil(end int64, rings []*ring) error {
	for m.pos+mixFrame <= end {
		clear(m.frame)
		for _, r := range rings {
			r.take(m.pos, m.frame)
		}
		for i, s := range m.frame {
			m.frame[i] = softClip(s)
		}
		if err := m.w.Write(m.frame); err != nil {
			return fmt.Errorf("capture: mix: %w", err)
		}
		m.pos += mixFrame
	}
	return nil
}

// softClip passes samples below 0.9 unchanged and bends louder ones smoothly towards full scale
// (slope 1 at the knee): speech rarely sums past full scale, and when it does a knee beats clipping.
func softClip(s float32) float32 {
	const knee = 0.9
	if s <= knee && s >= -knee {
		return s
	}
	a := math.Abs(float64(s))
	a = knee + (1-knee)*math.Tanh((a-knee)/(1-knee))
	return float32(math.Copysign(a, float64(s)))
}
