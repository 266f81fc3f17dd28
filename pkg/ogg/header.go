package ogg

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// RFC 7845 §5.1: the identification header.

var (
	opusHeadMagic = []byte("OpusHead")
	opusTagsMagic = []byte("OpusTags")
)

// OpusHead is the identification header of an Ogg Opus stream (RFC 7845 §5.1).
type OpusHead struct {
	Version         uint8  // 1 for files written to RFC 7845; parsing accepts any major version 0 (0–15)
	Channels        uint8  // output channels
	PreSkip         uint16 // samples at 48 kHz to discard from the decoder's output at the start (§4.2)
	InputSampleRate uint32 // rate of the original input, informational (0 = unspecified)
	OutputGain      int16  // gain to apply to the output, dB in Q7.8 (§5.1)
	MappingFamily   uint8  // 0: mono/stereo, one stream; 1: Vorbis order, up to 8 channels; 255: undefined
	// Channel mapping table, present for families other than 0 (§5.1.1).
	StreamCount    uint8
	CoupledCount   uint8
	ChannelMapping []byte
}

// OutputGainDB returns the output gain in decibels.
func (h OpusHead) OutputGainDB() float64 { return float64(h.OutputGain) / 256 }

// OutputGainFactor returns the linear factor the decoder multiplies its output by (§5.1).
func (h OpusHead) OutputGainFactor() float64 { return math.Pow(10, h.OutputGainDB()/20) }

// validate checks the constraints of §5.1 and §5.1.1.
func (h OpusHead) validate() error {
	if h.Version>>4 != 0 {
		return fmt.Errorf("%w %d", ErrUnsupportedVersion, h.Version)
	}
	if h.Channels == 0 {
		return fmt.Errorf("%w: 0 channels", ErrBadHeader)
	}
	switch h.MappingFamily {
	case 0: // §5.1.1.1: mono or stereo, no table
		if h.Channels > 2 {
			return fmt.Errorf("%w: mapping family 0 with %d channels", ErrBadHeader, h.Channels)
		}
		return nil
	case 1: // §5.1.1.2: Vorbis channel order, 1 to 8 channels
		if h.Channels > 8 {
			return fmt.Errorf("%w: mapping family 1 with %d channels", ErrBadHeader, h.Channels)
		}
	}
	if h.StreamCount == 0 {
		return fmt.Errorf("%w: 0 streams", ErrBadHeader)
	}
	if h.CoupledCount > h.StreamCount || int(h.StreamCount)+int(h.CoupledCount) > 255 {
		return fmt.Errorf("%w: %d coupled of %d streams", ErrBadHeader, h.CoupledCount, h.StreamCount)
	}
	if len(h.ChannelMapping) != int(h.Channels) {
		return fmt.Errorf("%w: mapping table has %d entries for %d channels", ErrBadHeader, len(h.ChannelMapping), h.Channels)
	}
	for i, m := range h.ChannelMapping {
		if m != 255 && int(m) >= int(h.StreamCount)+int(h.CoupledCount) {
			return fmt.Errorf("%w: channel %d maps to stream channel %d", ErrBadHeader, i, m)
		}
	}
	return nil
}

// MarshalBinary encodes the header packet.
func (h OpusHead) MarshalBinary() ([]byte, error) {
	if err := h.validate(); err != nil {
		return nil, fmt.Errorf("ogg: OpusHead: %w", err)
	}
	b := make([]byte, 0, 21+len(h.ChannelMapping))
	b = append(b, opusHeadMagic...)
	b = append(b, h.Version, h.Channels)
	b = binary.LittleEndian.AppendUint16(b, h.PreSkip)
	b = binary.LittleEndian.AppendUint32(b, h.InputSampleRate)
	b = binary.LittleEndian.AppendUint16(b, uint16(h.OutputGain))
	b = append(b, h.MappingFamily)
	if h.MappingFamily != 0 {
		b = append(b, h.StreamCount, h.CoupledCount)
		b = append(b, h.ChannelMapping...)
	}
	return b, nil
}

// ParseOpusHead decodes an identification header packet. Bytes after the fields this version
// defines are ignored, as §5.1 asks of decoders for minor version updates.
func ParseOpusHead(b []byte) (OpusHead, error) {
	if len(b) < 8 || string(b[:8]) != string(opusHeadMagic) {
		return OpusHead{}, fmt.Errorf("ogg: %w: first packet is not OpusHead", ErrNotOpus)
	}
	if len(b) < 19 {
		return OpusHead{}, fmt.Errorf("ogg: %w: OpusHead is %d bytes (at least 19)", ErrBadHeader, len(b))
	}
	h := OpusHead{
		Version:         b[8],
		Channels:        b[9],
		PreSkip:         binary.LittleEndian.Uint16(b[10:12]),
		InputSampleRate: binary.LittleEndian.Uint32(b[12:16]),
		OutputGain:      int16(binary.LittleEndian.Uint16(b[16:18])),
		MappingFamily:   b[18],
	}
	if h.MappingFamily != 0 {
		if len(b) < 21+int(h.Channels) {
			return OpusHead{}, fmt.Errorf("ogg: %w: OpusHead is %d bytes, mapping table needs %d", ErrBadHeader, len(b), 21+int(h.Channels))
		}
		h.StreamCount, h.CoupledCount = b[19], b[20]
		h.ChannelMapping = append([]byte(nil), b[21:21+int(h.Channels)]...)
	}
	if err := h.validate(); err != nil {
		return OpusHead{}, fmt.Errorf("ogg: OpusHead: %w", err)
	}
	return h, nil
}

// RFC 7845 §5.2: the comment header.

// OpusTags is the comment header (RFC 7845 §5.2): a vendor string and "KEY=value" comments.
type OpusTags struct {
	Vendor   string
	Comments []string
}

// Get returns the value of the first comment whose key matches (case-insensitively, §5.2).
func (t OpusTags) Get(key string) (string, bool) {
	for _, c := range t.Comments {
		k, v, ok := strings.Cut(c, "=")
		if ok && strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// MarshalBinary encodes the comment header packet.
func (t OpusTags) MarshalBinary() ([]byte, error) {
	n := 16 + len(t.Vendor)
	for _, c := range t.Comments {
		if !strings.Contains(c, "=") {
			return nil, fmt.Errorf("ogg: %w: comment %q is not KEY=value", ErrBadHeader, c)
		}
		n += 4 + len(c)
	}
	if n > math.MaxUint32 {
		return nil, fmt.Errorf("ogg: %w: OpusTags of %d bytes", ErrBadHeader, n)
	}
	b := make([]byte, 0, n)
	b = append(b, opusTagsMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Vendor)))
	b = append(b, t.Vendor...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Comments)))
	for _, c := range t.Comments {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b, nil
}

// ParseOpusTags decodes a comment header packet. Bytes after the last comment (§5.2 allows
// binary data there) are ignored.
func ParseOpusTags(b []byte) (OpusTags, error) {
	if len(b) < 8 || string(b[:8]) != string(opusTagsMagic) {
		return OpusTags{}, fmt.Errorf("ogg: %w: second packet is not OpusTags", ErrBadHeader)
	}
	rest := b[8:]
	field := func(what string) (string, error) {
		if len(rest) < 4 {
			return "", fmt.Errorf("ogg: %w: OpusTags ends inside the length of %s", ErrBadHeader, what)
		}
		n := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return "", fmt.Errorf("ogg: %w: %s of %d bytes overruns OpusTags", ErrBadHeader, what, n)
		}
		s := string(rest[:n])
		rest = rest[n:]
		return s, nil
	}
	var t OpusTags
	var err error
	if t.Vendor, err = field("vendor string"); err != nil {
		return OpusTags{}, err
	}
	if len(rest) < 4 {
		return OpusTags{}, fmt.Errorf("ogg: %w: OpusTags ends before the comment count", ErrBadHeader)
	}
	count := binary.LittleEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(count) > uint64(len(rest)/4) { // every comment needs at least its 4-byte length
		return OpusTags{}, fmt.Errorf("ogg: %w: %d comments cannot fit in %d bytes", ErrBadHeader, count, len(rest))
	}
	t.Comments = make([]string, 0, count)
	for i := range count {
		c, err := field(fmt.Sprintf("comment %d", i))
		if err != nil {
			return OpusTags{}, err
		}
		t.Comments = append(t.Comments, c)
	}
	return t, nil
}
