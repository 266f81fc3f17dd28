package opus

import (
	"fmt"

	hopus "gopkg.in/hraban/opus.v2"
)

// DecodeRate is the rate everything is decoded at: Opus's native 48 kHz (RFC 7845 §5.1).
const DecodeRate = 48000

// MaxPacketSamples is the longest packet, 120 ms at 48 kHz (RFC 6716 §3.2.5): a PCM buffer of
// MaxPacketSamples×channels holds any packet's output.
const MaxPacketSamples = 5760

// plcQuantum is the granularity of concealment: libopus conceals whole 2.5 ms units.
const plcQuantum = DecodeRate / 400

// Decoder decodes single Opus packets to 48 kHz interleaved float32. It allocates nothing per packet.
type Decoder struct {
	dec      *hopus.Decoder
	channels int
}

// NewDecoder returns a 48 kHz decoder for 1 or 2 output channels.
func NewDecoder(channels int) (*Decoder, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("opus: %w: %d channels", ErrFormat, channels)
	}
	d, err := hopus.NewDecoder(DecodeRate, channels)
	if err != nil {
		return nil, fmt.Errorf("opus: new decoder: %w", err)
	}
	return &Decoder{dec: d, channels: channels}, nil
}

// Channels returns the number of interleaved output channels.
func (d *Decoder) Channels() int { return d.channels }

// Decode decodes pkt into pcm and returns the number of samples per channel written.
// pcm must hold the packet's duration (MaxPacketSamples×channels always does).
func (d *Decoder) Decode(pkt []byte, pcm []float32) (int, error) {
	if len(pkt) == 0 {
		return 0, fmt.Errorf("opus: decode: empty packet (use DecodePLC for a lost one)")
	}
	if len(pcm) < d.channels || len(pcm)%d.channels != 0 {
		return 0, fmt.Errorf("opus: %w: %d samples for %d channels", ErrBuffer, len(pcm), d.channels)
	}
	// hraban's wrapper sizes the output by cap(pcm): hide everything past len.
	n, err := d.dec.DecodeFloat32(pkt, pcm[:len(pcm):len(pcm)])
	if err != nil {
		return 0, fmt.Errorf("opus: decode %d-byte packet (TOC 0x%02x): %w", len(pkt), pkt[0], err)
	}
	return n, nil
}

// DecodePLC conceals samples lost samples (per channel; a multiple of 120, 2.5 ms) by packet loss
// concealment, writing them to the start of pcm.
func (d *Decoder) DecodePLC(pcm []float32, samples int) error {
	if samples <= 0 || samples%plcQuantum != 0 || len(pcm) < samples*d.channels {
		return fmt.Errorf("opus: %w: conceal %d samples (multiple of %d) in %d", ErrBuffer, samples, plcQuantum, len(pcm))
	}
	n := samples * d.channels
	if err := d.dec.DecodePLCFloat32(pcm[:n:n]); err != nil {
		return fmt.Errorf("opus: conceal %d samples: %w", samples, err)
	}
	return nil
}

// DecodeFEC recovers the packet lost just before pkt from the forward error correction data in
// pkt (RFC 6716 §2.1.7), falling back to concealment when pkt carries none. len(pcm) must be the
// lost duration × channels, a multiple of 2.5 ms. Decode pkt itself afterwards.
func (d *Decoder) DecodeFEC(pkt []byte, pcm []float32) error {
	if len(pkt) == 0 {
		return fmt.Errorf("opus: FEC from an empty packet")
	}
	if len(pcm) == 0 || len(pcm)%(d.channels*plcQuantum) != 0 {
		return fmt.Errorf("opus: %w: FEC into %d samples (multiple of %d×%d)", ErrBuffer, len(pcm), plcQuantum, d.channels)
	}
	if err := d.dec.DecodeFECFloat32(pkt, pcm[:len(pcm):len(pcm)]); err != nil {
		return fmt.Errorf("opus: FEC from %d-byte packet: %w", len(pkt), err)
	}
	return nil
}
