package ogg

import "fmt"

// frameSamples48k is the frame duration of each TOC configuration at 48 kHz, RFC 6716 §3.1 Table 2:
// configs 0–11 SILK (10, 20, 40, 60 ms), 12–15 hybrid (10, 20 ms), 16–31 CELT (2.5, 5, 10, 20 ms).
var frameSamples48k = [32]int{
	480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880,
	480, 960, 480, 960,
	120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960,
}

// maxPacketSamples is 120 ms at 48 kHz, the longest packet RFC 6716 §3.2.5 allows.
const maxPacketSamples = 5760

// PacketSamples returns the duration of an Opus packet in samples at 48 kHz, read from its TOC
// byte (RFC 6716 §3.1) and, for code 3, the frame count byte (§3.2.5).
func PacketSamples(pkt []byte) (int, error) {
	n, err := packetSamples(pkt)
	if err != nil {
		return 0, fmt.Errorf("ogg: %w", err)
	}
	return n, nil
}

func packetSamples(pkt []byte) (int, error) {
	if len(pkt) == 0 {
		return 0, fmt.Errorf("%w: empty packet", ErrBadPacket)
	}
	per := frameSamples48k[pkt[0]>>3]
	frames := 1
	switch pkt[0] & 3 {
	case 1, 2: // §3.2.2, §3.2.3: two frames
		frames = 2
	case 3: // §3.2.5: frame count in the low 6 bits of the second byte
		if len(pkt) < 2 {
			return 0, fmt.Errorf("%w: code 3 packet without frame count", ErrBadPacket)
		}
		frames = int(pkt[1] & 0x3f)
		if frames == 0 {
			return 0, fmt.Errorf("%w: code 3 packet with 0 frames", ErrBadPacket)
		}
	}
	n := per * frames
	if n > maxPacketSamples {
		return 0, fmt.Errorf("%w: %d samples exceed 120 ms", ErrBadPacket, n)
	}
	return n, nil
}
