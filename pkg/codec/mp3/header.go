package mp3

import "fmt"

// Version is the MPEG audio version coded in a frame header.
type Version uint8

// MPEG audio versions (ISO/IEC 11172-3 §2.4.2.3 "ID"; ISO/IEC 13818-3 §2.4.2.3; MPEG-2.5 is an extension).
const (
	MPEG25 Version = 0
	MPEG2  Version = 2
	MPEG1  Version = 3
)

func (v Version) String() string {
	switch v {
	case MPEG1:
		return "MPEG-1"
	case MPEG2:
		return "MPEG-2"
	case MPEG25:
		return "MPEG-2.5"
	}
	return "reserved"
}

// ChannelMode is the header's mode field (ISO/IEC 11172-3 §2.4.2.3 "mode").
type ChannelMode uint8

// Channel modes.
const (
	Stereo      ChannelMode = 0
	JointStereo ChannelMode = 1
	DualChannel ChannelMode = 2
	Mono        ChannelMode = 3
)

// HeaderSize is the size of the frame header in bytes, sync word included.
const HeaderSize = 4

// Header is a Layer III frame header, the 32 bits at the start of every frame, kept packed so an
// index of a long file stays small (ISO/IEC 11172-3 §2.4.1.3).
//
//	syncword 12 (11 for MPEG-2.5) | ID 1 | layer 2 | protection_bit 1 | bitrate_index 4 |
//	sampling_frequency 2 | padding_bit 1 | private_bit 1 | mode 2 | mode_extension 2 |
//	copyright 1 | original/home 1 | emphasis 2
type Header uint32

// §2.4.2.3 bitrate_index → kbit/s for Layer III; [0] MPEG-1, [1] MPEG-2 and 2.5 (13818-3 §2.4.2.3).
var bitrateKbps = [2][16]int{
	{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1},
	{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1},
}

// §2.4.2.3 sampling_frequency → Hz, indexed by Version.
var sampleRates = [4][3]int{
	MPEG25: {11025, 12000, 8000},
	MPEG2:  {22050, 24000, 16000},
	MPEG1:  {44100, 48000, 32000},
}

// ParseHeader decodes and validates four header bytes. It accepts Layer III only; free format
// (bitrate index 0) is reported as ErrFreeFormat because its frame size is not coded.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return 0, ErrShort
	}
	h := Header(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	return h, h.validate()
}

func (h Header) validate() error {
	switch {
	case h>>21 != 0x7ff:
		return fmt.Errorf("%w: no sync word (%08x)", ErrBadHeader, uint32(h))
	case h.Version() == 1:
		return fmt.Errorf("%w: reserved version", ErrBadHeader)
	case (h>>17)&3 == 0:
		return fmt.Errorf("%w: reserved layer", ErrBadHeader)
	case (h>>17)&3 != 1:
		return fmt.Errorf("%w: layer %d", ErrNotLayer3, 4-(h>>17)&3)
	case h.BitrateIndex() == 15:
		return fmt.Errorf("%w: bitrate index 15", ErrBadHeader)
	case (h>>10)&3 == 3:
		return fmt.Errorf("%w: reserved sampling frequency", ErrBadHeader)
	case h&3 == 2:
		return fmt.Errorf("%w: reserved emphasis", ErrBadHeader)
	case h.BitrateIndex() == 0:
		return ErrFreeFormat
	}
	return nil
}

// Bytes returns the header as it is stored in the stream.
func (h Header) Bytes() [4]byte {
	return [4]byte{byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}
}

// Version is the MPEG version (ID bit plus the MPEG-2.5 sync extension).
func (h Header) Version() Version { return Version(h >> 19 & 3) }

// LSF reports the lower sampling frequencies of MPEG-2 and 2.5 (one granule per frame).
func (h Header) LSF() bool { return h.Version() != MPEG1 }

// Protected reports that a 16-bit CRC follows the header (protection_bit == 0).
func (h Header) Protected() bool { return h>>16&1 == 0 }

// BitrateIndex is the 4-bit bitrate_index.
func (h Header) BitrateIndex() int { return int(h >> 12 & 15) }

// Bitrate is the coded bitrate in bit/s.
func (h Header) Bitrate() int {
	return 1000 * bitrateKbps[b2i(h.LSF())][h.BitrateIndex()]
}

// SampleRate is the sampling frequency in Hz.
func (h Header) SampleRate() int { return sampleRates[h.Version()][h>>10&3] }

// Padding reports the padding_bit: one extra byte in the slot.
func (h Header) Padding() bool { return h>>9&1 == 1 }

// Mode is the channel mode.
func (h Header) Mode() ChannelMode { return ChannelMode(h >> 6 & 3) }

// ModeExtension is the joint-stereo mode_extension (bit 1: M/S, bit 0: intensity).
func (h Header) ModeExtension() int { return int(h >> 4 & 3) }

// Channels is 1 for single-channel mode, else 2.
func (h Header) Channels() int {
	if h.Mode() == Mono {
		return 1
	}
	return 2
}

// Granules is the number of granules per frame: 2 for MPEG-1, 1 for MPEG-2/2.5 (13818-3 §2.4.1.7).
func (h Header) Granules() int {
	if h.LSF() {
		return 1
	}
	return 2
}

// SamplesPerFrame is 1152 for MPEG-1 and 576 for MPEG-2/2.5.
func (h Header) SamplesPerFrame() int { return 576 * h.Granules() }

// FrameSize is the frame's length in bytes, header included (§2.4.2.3, padding_bit: N = 144·bitrate/fs slots,
// 72 for LSF, plus the padding slot).
func (h Header) FrameSize() int {
	n := 144 * h.Bitrate() / h.SampleRate()
	if h.LSF() {
		n = 72 * h.Bitrate() / h.SampleRate()
	}
	if h.Padding() {
		n++
	}
	return n
}

// SideInfoSize is the side information's length in bytes (§2.4.1.7; 13818-3 §2.4.1.7).
func (h Header) SideInfoSize() int {
	switch {
	case !h.LSF() && h.Channels() == 1:
		return 17
	case !h.LSF():
		return 32
	case h.Channels() == 1:
		return 9
	}
	return 17
}

// MainDataOffset is where the side information starts: after the header and the optional CRC.
func (h Header) MainDataOffset() int {
	if h.Protected() {
		return HeaderSize + 2 + h.SideInfoSize()
	}
	return HeaderSize + h.SideInfoSize()
}

// WithBitrateIndex returns h with another bitrate index and the padding bit as given.
func (h Header) WithBitrateIndex(i int, padding bool) Header {
	h = h&^(15<<12|1<<9) | Header(i&15)<<12
	if padding {
		h |= 1 << 9
	}
	return h
}

// WithProtection returns h with the CRC present or absent.
func (h Header) WithProtection(crc bool) Header {
	if crc {
		return h &^ (1 << 16)
	}
	return h | 1<<16
}

// sameStream reports whether two headers can belong to one stream: same version and sampling
// frequency (a receiver's resync rule; the channel mode may change, the bitrate does in VBR).
func (h Header) sameStream(o Header) bool {
	return h.Version() == o.Version() && h>>10&3 == o>>10&3 && (h.Mode() == Mono) == (o.Mode() == Mono)
}

func (h Header) String() string {
	return fmt.Sprintf("%v Layer III %d kbit/s %d Hz %d ch", h.Version(), h.Bitrate()/1000, h.SampleRate(), h.Channels())
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
