package capture

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/opus"
)

// The live mix: every track's voice decodes its packets (concealing losses with Opus FEC and PLC)
// into a ring addressed by session tick; a little behind real time, the mixer sums each 20 ms
// frame of every ring, clears it, and encodes the sum into the session's mix file. Writing as the
// room runs means a mix exists the moment the room ends, and at most MixDelay plus one Ogg page is
// missing after a crash.
//
// The mixer and the voices belong to the timer loop (and to Close once the loop stopped); each
// ring has a lock of its own, and a voice's level is read under its track's lock.

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
	file  *os.File // the mix file, when the mixer made it (openMix)
	pos   int64    // next session tick to mix; rings accept audio from here on
	frame []float32
}

// openMix creates the session's mix file, name in dir, and its mixer.
func openMix(dir, name string) (*mixer, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	m, err := newMixer(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	m.file = f
	return m, nil
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

// sync flushes the mix to its file and the file to disk.
func (m *mixer) sync() error {
	if err := m.w.Flush(); err != nil {
		return err
	}
	if err := m.file.Sync(); err != nil {
		return fmt.Errorf("mix: %w", err)
	}
	return nil
}

// close ends the mix's stream and closes its file.
func (m *mixer) close() error {
	var errs []error
	if err := m.w.Close(); err != nil {
		errs = append(errs, fmt.Errorf("mix: %w", err))
	}
	return errors.Join(append(errs, m.file.Sync(), m.file.Close())...)
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

// voice is one track's way into the live mix: its decoder writes the track's audio into the
// track's ring where the file's timeline put it, concealing losses, and a level meter reads along.
type voice struct {
	channels  int
	dec       *opus.Decoder
	pcm, mono []float32
	ring      *ring
	sumSq     float64
	nSq       int
	level     float64 // RMS level of the last 100 ms in dBFS (-inf: silence)
}

func newVoice(channels int) (*voice, error) {
	dec, err := opus.NewDecoder(channels)
	if err != nil {
		return nil, err
	}
	return &voice{channels: channels, dec: dec, pcm: make([]float32, 5760*channels), mono: make([]float32, 5760),
		ring: new(ring), level: math.Inf(-1)}, nil
}

// decode puts packet pkt into the ring at session tick at; the ring keeps nothing before floor.
func (v *voice) decode(pkt []byte, at int64, floor int64) error {
	got, err := v.dec.Decode(pkt, v.pcm)
	if err != nil {
		return err
	}
	v.toRing(v.pcm[:got*v.channels], at, floor)
	return nil
}

// conceal fills the lost packets, n samples each, right before pkt at session tick at: forward
// error correction from pkt for the last one, concealment for the ones before. Longer losses fade
// to silence anyway: at most five are concealed.
func (v *voice) conceal(pkt []byte, lost, n int, at int64, floor int64) {
	for i := min(lost, 5); i >= 1; i-- {
		pcm := v.pcm[:n*v.channels]
		var err error
		if i == 1 {
			err = v.dec.DecodeFEC(pkt, pcm)
		} else {
			err = v.dec.DecodePLC(pcm, n)
		}
		if err != nil {
			return
		}
		v.toRing(pcm, at-int64(i)*int64(n), floor)
	}
}

// toRing downmixes decoded audio into the ring and keeps the level meter.
func (v *voice) toRing(pcm []float32, at int64, floor int64) {
	frames := len(pcm) / v.channels
	mono := v.mono[:frames]
	if v.channels == 2 {
		for i := range mono {
			mono[i] = (pcm[2*i] + pcm[2*i+1]) / 2
		}
	} else {
		copy(mono, pcm)
	}
	for _, s := range mono {
		v.sumSq += float64(s) * float64(s)
	}
	v.nSq += frames
	if v.nSq >= 4800 {
		v.level = 10 * math.Log10(v.sumSq/float64(v.nSq))
		v.sumSq, v.nSq = 0, 0
	}
	v.ring.write(at, mono, floor)
}
