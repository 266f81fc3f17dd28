package redact

import (
	"fmt"

	hopus "gopkg.in/hraban/opus.v2"

	"github.com/spacecast/spacecast/pkg/ogg"
)

// silenceMaker makes Opus packets that decode to silence, one per (duration, channels), cached.
type silenceMaker struct {
	cache map[[2]int][]byte
}

// packet returns an Opus packet of samples (at 48 kHz) and channels that decodes to silence. Opus
// frames last 2.5, 5, 10, 20, 40 or 60 ms (RFC 6716 §2.1.4); a packet of another duration (several
// frames in one packet) is refused with ErrPacket.
func (s *silenceMaker) packet(samples, channels int) ([]byte, error) {
	key := [2]int{samples, channels}
	if p, ok := s.cache[key]; ok {
		return p, nil
	}
	switch samples {
	case 120, 240, 480, 960, 1920, 2880:
	default:
		return nil, fmt.Errorf("redact: %w: %d samples", ErrPacket, samples)
	}
	enc, err := hopus.NewEncoder(48000, channels, hopus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("redact: new opus encoder: %w", err)
	}
	pcm := make([]float32, samples*channels)
	buf := make([]byte, 1500)
	var n int
	// The first frames carry the encoder's start-up; a few frames in, silence is steady.
	for range 5 {
		if n, err = enc.EncodeFloat32(pcm, buf); err != nil {
			return nil, fmt.Errorf("redact: encode %d samples of silence: %w", samples, err)
		}
	}
	p := append([]byte(nil), buf[:n]...)
	if got, err := ogg.PacketSamples(p); err != nil || got != samples {
		return nil, fmt.Errorf("redact: %w: %d samples (the encoder made %d)", ErrPacket, samples, got)
	}
	if s.cache == nil {
		s.cache = map[[2]int][]byte{}
	}
	s.cache[key] = p
	return p, nil
}
