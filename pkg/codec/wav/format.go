package wav

import (
	"encoding/binary"
	"fmt"

	"github.com/spacecast/spacecast/pkg/audio"
)

// Format tags (wFormatTag) of the fmt chunk.
const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagExtensible = 0xFFFE
)

// encoding is what the fmt chunk says about the samples.
type encoding struct {
	format audio.Format
	float  bool
	bits   int // container bits per sample: 8, 16, 24, 32 (int or float) or 64 (float)
	block  int // bytes per frame (nBlockAlign)
}

// parseFmt decodes a fmt chunk: WAVEFORMAT (14 bytes), PCMWAVEFORMAT (16), WAVEFORMATEX (18)
// or WAVEFORMATEXTENSIBLE (40), whose SubFormat GUID carries the real tag in its first two bytes.
func parseFmt(b []byte) (encoding, error) {
	if len(b) < 16 {
		return encoding{}, fmt.Errorf("wav: %w: %d bytes (at least 16)", ErrBadFormat, len(b))
	}
	tag := binary.LittleEndian.Uint16(b[0:])
	e := encoding{
		format: audio.Format{
			Channels:   int(binary.LittleEndian.Uint16(b[2:])),
			SampleRate: int(binary.LittleEndian.Uint32(b[4:])),
		},
		block: int(binary.LittleEndian.Uint16(b[12:])),
		bits:  int(binary.LittleEndian.Uint16(b[14:])),
	}
	if tag == tagExtensible {
		if len(b) < 40 {
			return encoding{}, fmt.Errorf("wav: %w: extensible fmt of %d bytes (40 needed)", ErrBadFormat, len(b))
		}
		tag = binary.LittleEndian.Uint16(b[24:]) // SubFormat GUID: xxxxxxxx-0000-0010-8000-00aa00389b71
	}
	switch {
	case tag == tagPCM && (e.bits == 8 || e.bits == 16 || e.bits == 24 || e.bits == 32):
	case tag == tagFloat && (e.bits == 32 || e.bits == 64):
		e.float = true
	default:
		return encoding{}, fmt.Errorf("wav: %w: format tag 0x%04x with %d bits", ErrUnsupported, tag, e.bits)
	}
	if err := e.format.Validate(); err != nil {
		return encoding{}, fmt.Errorf("wav: %w: %w", ErrBadFormat, err)
	}
	if want := e.format.Channels * e.bits / 8; e.block != want {
		return encoding{}, fmt.Errorf("wav: %w: block align %d, %d channels of %d bits need %d", ErrBadFormat, e.block, e.format.Channels, e.bits, want)
	}
	return e, nil
}
