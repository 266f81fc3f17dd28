// Package rtptone sends known tones as Opus RTP at real time: the tests' pion publishers, whose
// audio the recorder's output is judged against.
package rtptone

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"
	hopus "gopkg.in/hraban/opus.v2"
)

// Writer takes RTP packets (pion's TrackLocalStaticRTP).
type Writer interface {
	WriteRTP(p *rtp.Packet) error
}

// Tone describes what to send.
type Tone struct {
	Freq     float64       // Hz
	Amp      float64       // 0..1, default 0.3
	Duration time.Duration // audio length
	// SkewPPM makes the sender's audio clock run fast (positive) or slow: packets of 20 ms of audio
	// (960 timestamp ticks) leave every 20 ms × (1 - SkewPPM/1e6) of real time.
	SkewPPM float64
	// Mute lists stretches of the tone's own time during which nothing is sent, with sequence
	// numbers contiguous across them (DTX/mute: the timestamp jumps).
	Mute [][2]time.Duration
	// Loss drops this fraction of packets at random (sequence numbers skip).
	Loss float64
	Seed uint64
}

// Send encodes and paces the tone; it returns when the tone ends or ctx does.
func Send(ctx context.Context, w Writer, t Tone) error {
	if t.Amp == 0 {
		t.Amp = 0.3
	}
	enc, err := hopus.NewEncoder(48000, 1, hopus.AppAudio)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(t.Seed, 7))
	pcm := make([]float32, 960)
	buf := make([]byte, 1500)
	frames := int(t.Duration / (20 * time.Millisecond))
	period := time.Duration(float64(20*time.Millisecond) * (1 - t.SkewPPM/1e6))
	start := time.Now()
	seq := uint16(rng.Uint32())
	ts := rng.Uint32()
	ssrc := rng.Uint32()
	phase := 0.0
	for i := 0; i < frames; i++ {
		for j := range pcm {
			pcm[j] = float32(t.Amp * math.Sin(phase))
			phase += 2 * math.Pi * t.Freq / 48000
		}
		n, err := enc.EncodeFloat32(pcm, buf)
		if err != nil {
			return err
		}
		at := time.Duration(i) * 20 * time.Millisecond
		muted := false
		for _, m := range t.Mute {
			if at >= m[0] && at < m[1] {
				muted = true
			}
		}
		if wait := time.Until(start.Add(time.Duration(i) * period)); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		if !muted {
			if t.Loss == 0 || rng.Float64() >= t.Loss {
				p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, Marker: i == 0}, Payload: buf[:n]}
				if err := w.WriteRTP(p); err != nil {
					return err
				}
			}
			seq++
		}
		ts += 960
	}
	return nil
}
