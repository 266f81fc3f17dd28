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

// Packet is one packet of a tone and when it leaves, counted from the first.
type Packet struct {
	At  time.Duration
	RTP *rtp.Packet
}

// Send encodes and paces the tone; it returns when the tone ends or ctx does.
func Send(ctx context.Context, w Writer, t Tone) error {
	g, err := newGen(t)
	if err != nil {
		return err
	}
	start := time.Now()
	for {
		p, ok, err := g.next()
		if err != nil {
			return err
		}
		if !ok { // a tone that ends muted still lasts its length, as a sender would
			p.At = time.Duration(g.frames-1) * g.period
		}
		if wait := time.Until(start.Add(p.At)); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		if !ok {
			return nil
		}
		if err := w.WriteRTP(p.RTP); err != nil {
			return err
		}
	}
}

// Packets is the tone as Send would send it, without the waiting: each packet with the time it
// leaves. A test that drives a recorder on a simulated clock plays them at those times, so the
// schedule holds whatever the CPU does.
func Packets(t Tone) ([]Packet, error) {
	g, err := newGen(t)
	if err != nil {
		return nil, err
	}
	var out []Packet
	for {
		p, ok, err := g.next()
		if err != nil || !ok {
			return out, err
		}
		p.RTP.Payload = append([]byte(nil), p.RTP.Payload...)
		out = append(out, p)
	}
}

// gen encodes a tone frame by frame and says when each packet leaves.
type gen struct {
	t         Tone
	enc       *hopus.Encoder
	rng       *rand.Rand
	pcm       []float32
	buf       []byte
	frames, i int
	period    time.Duration
	seq       uint16
	ts, ssrc  uint32
	phase     float64
}

func newGen(t Tone) (*gen, error) {
	if t.Amp == 0 {
		t.Amp = 0.3
	}
	enc, err := hopus.NewEncoder(48000, 1, hopus.AppAudio)
	if err != nil {
		return nil, err
	}
	g := &gen{t: t, enc: enc, rng: rand.New(rand.NewPCG(t.Seed, 7)), pcm: make([]float32, 960), buf: make([]byte, 1500),
		frames: int(t.Duration / (20 * time.Millisecond)), period: time.Duration(float64(20*time.Millisecond) * (1 - t.SkewPPM/1e6))}
	g.seq = uint16(g.rng.Uint32())
	g.ts = g.rng.Uint32()
	g.ssrc = g.rng.Uint32()
	return g, nil
}

// next returns the next packet sent (muted and lost frames are skipped); ok is false at the end.
// The packet's payload is reused by the next call.
func (g *gen) next() (Packet, bool, error) {
	for ; g.i < g.frames; g.i++ {
		i := g.i
		for j := range g.pcm {
			g.pcm[j] = float32(g.t.Amp * math.Sin(g.phase))
			g.phase += 2 * math.Pi * g.t.Freq / 48000
		}
		n, err := g.enc.EncodeFloat32(g.pcm, g.buf)
		if err != nil {
			return Packet{}, false, err
		}
		at := time.Duration(i) * 20 * time.Millisecond
		muted := false
		for _, m := range g.t.Mute {
			if at >= m[0] && at < m[1] {
				muted = true
			}
		}
		ts := g.ts
		g.ts += 960
		if muted {
			continue
		}
		seq := g.seq
		g.seq++
		if g.t.Loss != 0 && g.rng.Float64() < g.t.Loss {
			continue
		}
		g.i++
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts, SSRC: g.ssrc, Marker: i == 0}, Payload: g.buf[:n]}
		return Packet{At: time.Duration(i) * g.period, RTP: p}, true, nil
	}
	return Packet{}, false, nil
}
