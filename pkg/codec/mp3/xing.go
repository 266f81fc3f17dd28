package mp3

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The Xing/Info tag, the LAME extension behind it and the Fraunhofer VBRI tag are de-facto
// conventions carried in the main-data area of the first frame, whose side information is all
// zero so that a decoder unaware of them plays the frame as silence. References: the Xing SDK's
// XingHeader, LAME's VbrTag.c and "Mp3 Info Tag rev 1 specifications" (Gabriel Bouvigne), the
// Fraunhofer VBRI description.

// Xing flags (the 32-bit word after "Xing"/"Info").
const (
	xingFrames  = 1
	xingBytes   = 2
	xingTOC     = 4
	xingQuality = 8
)

// lameTagSize is the LAME extension's length: encoder 9, revision/method 1, lowpass 1, peak 4,
// radio and audiophile gain 2+2, flags 1, bitrate 1, delay/padding 3, misc 1, mp3 gain 1,
// preset/surround 2, music length 4, music CRC 2, tag CRC 2.
const lameTagSize = 36

// XingTag is a parsed Xing ("Xing", VBR) or Info ("Info", CBR) tag.
type XingTag struct {
	Info      bool // "Info": LAME's name for the tag of a CBR stream
	Flags     uint32
	Frames    uint32 // audio frames after the tag frame, when Flags&1
	Bytes     uint32 // bytes from the tag frame to the end of the audio, when Flags&2
	TOC       [100]byte
	Quality   uint32
	LAME      *LAMETag // nil without a LAME extension
	FrameSize int      // size of the frame that carried the tag
}

// HasFrames reports whether the frame count is present.
func (x *XingTag) HasFrames() bool { return x.Flags&xingFrames != 0 }

// HasTOC reports whether the seek table is present.
func (x *XingTag) HasTOC() bool { return x.Flags&xingTOC != 0 }

// LAMETag is the LAME extension of a Xing/Info tag ("Mp3 Info Tag rev 1").
type LAMETag struct {
	Encoder        string // 9 bytes, e.g. "LAME3.100", "Lavc60.31"
	Revision       uint8  // info tag revision (high nibble)
	VBRMethod      uint8  // low nibble
	LowpassHz      int    // stored in units of 100 Hz
	Peak           float32
	RadioGain      uint16
	AudiophileGain uint16
	Flags          uint8 // encoding flags (high nibble) and ATH type
	Bitrate        uint8 // ABR bitrate, or minimal bitrate for VBR, in kbit/s (255: 255 or more)
	Delay          int   // encoder delay in samples, 12 bits
	Padding        int   // padding at the end in samples, 12 bits
	Misc           uint8 // noise shaping, stereo mode, unwise settings, source rate
	MP3Gain        uint8
	Preset         uint16 // surround info and preset
	MusicLength    uint32 // bytes from the tag frame to the end of the audio
	MusicCRC       uint16 // CRC-16 of the audio frames after the tag frame
	TagCRC         uint16 // CRC-16 of the tag frame's bytes before this field
	TagCRCValid    bool   // TagCRC matches the bytes read
}

// xingOffset is where a Xing/Info tag starts in its frame: after the header and side information
// (the CRC, if any, is not counted, as in LAME and ffmpeg).
func xingOffset(h Header) int { return HeaderSize + h.SideInfoSize() }

// ParseXing reads a Xing/Info tag, and its LAME extension if present, from a whole frame.
func ParseXing(frame []byte) (*XingTag, error) {
	h, err := ParseHeader(frame)
	if err != nil {
		return nil, err
	}
	p := xingOffset(h)
	if len(frame) < p+8 {
		return nil, ErrNoTag
	}
	id := string(frame[p : p+4])
	if id != "Xing" && id != "Info" {
		return nil, ErrNoTag
	}
	x := &XingTag{Info: id == "Info", Flags: binary.BigEndian.Uint32(frame[p+4:]), FrameSize: len(frame)}
	p += 8
	need := func(n int) error {
		if len(frame) < p+n {
			return fmt.Errorf("mp3: Xing tag: %w at byte %d of the frame", ErrShort, p)
		}
		return nil
	}
	if x.Flags&xingFrames != 0 {
		if err := need(4); err != nil {
			return nil, err
		}
		x.Frames = binary.BigEndian.Uint32(frame[p:])
		p += 4
	}
	if x.Flags&xingBytes != 0 {
		if err := need(4); err != nil {
			return nil, err
		}
		x.Bytes = binary.BigEndian.Uint32(frame[p:])
		p += 4
	}
	if x.Flags&xingTOC != 0 {
		if err := need(100); err != nil {
			return nil, err
		}
		copy(x.TOC[:], frame[p:p+100])
		p += 100
	}
	if x.Flags&xingQuality != 0 {
		if err := need(4); err != nil {
			return nil, err
		}
		x.Quality = binary.BigEndian.Uint32(frame[p:])
		p += 4
	}
	if len(frame) >= p+lameTagSize {
		x.LAME = parseLAME(frame, p)
	}
	return x, nil
}

// parseLAME reads the LAME extension at frame[p:]. It returns nil unless the encoder string is
// one the gapless decoders trust ("LAME", "Lavf", "Lavc", as ffmpeg checks) or the tag CRC holds.
func parseLAME(frame []byte, p int) *LAMETag {
	b := frame[p : p+lameTagSize]
	l := &LAMETag{
		Encoder:        trimEncoder(b[0:9]),
		Revision:       b[9] >> 4,
		VBRMethod:      b[9] & 15,
		LowpassHz:      int(b[10]) * 100,
		Peak:           math.Float32frombits(binary.BigEndian.Uint32(b[11:])),
		RadioGain:      binary.BigEndian.Uint16(b[15:]),
		AudiophileGain: binary.BigEndian.Uint16(b[17:]),
		Flags:          b[19],
		Bitrate:        b[20],
		Delay:          int(b[21])<<4 | int(b[22]>>4),
		Padding:        int(b[22]&15)<<8 | int(b[23]),
		Misc:           b[24],
		MP3Gain:        b[25],
		Preset:         binary.BigEndian.Uint16(b[26:]),
		MusicLength:    binary.BigEndian.Uint32(b[28:]),
		MusicCRC:       binary.BigEndian.Uint16(b[32:]),
		TagCRC:         binary.BigEndian.Uint16(b[34:]),
	}
	l.TagCRCValid = crc16LAME(0, frame[:p+34]) == l.TagCRC
	switch string(b[0:4]) {
	case "LAME", "Lavf", "Lavc":
		return l
	}
	if l.TagCRCValid {
		return l
	}
	return nil
}

func trimEncoder(b []byte) string {
	n := len(b)
	for n > 0 && (b[n-1] == 0 || b[n-1] == ' ') {
		n--
	}
	out := make([]byte, n)
	for i := range out {
		c := b[i]
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// infoTagSize is the length of a full Xing/Info tag with LAME extension: "Info", flags, frames,
// bytes, TOC, quality, LAME tag.
const infoTagSize = 4 + 4 + 4 + 4 + 100 + 4 + lameTagSize

// BuildInfoFrame writes a Xing/Info frame with LAME extension in the shape of h (version, rate,
// channel mode). It uses h's bitrate when the tag fits, else the smallest bitrate that holds it,
// writes no CRC, and computes the LAME tag CRC. x.Frames, x.Bytes, x.TOC and x.LAME are written
// as given; all four flags are set.
func BuildInfoFrame(h Header, x *XingTag) ([]byte, error) {
	h, ok := fit(h.WithProtection(false).WithBitrateIndex(h.BitrateIndex(), false), infoTagSize)
	if !ok {
		return nil, fmt.Errorf("mp3: build Info frame: no %v frame holds %d bytes of tag", h, infoTagSize)
	}
	f := make([]byte, h.FrameSize())
	hb := h.Bytes()
	copy(f, hb[:])
	p := xingOffset(h)
	if x.Info {
		copy(f[p:], "Info")
	} else {
		copy(f[p:], "Xing")
	}
	binary.BigEndian.PutUint32(f[p+4:], xingFrames|xingBytes|xingTOC|xingQuality)
	binary.BigEndian.PutUint32(f[p+8:], x.Frames)
	binary.BigEndian.PutUint32(f[p+12:], x.Bytes)
	copy(f[p+16:], x.TOC[:])
	binary.BigEndian.PutUint32(f[p+116:], x.Quality)
	p += 120
	l := x.LAME
	if l == nil {
		l = &LAMETag{Encoder: "LAME3.100"}
	}
	b := f[p : p+lameTagSize]
	enc := []byte(l.Encoder + "         ")[:9]
	copy(b[0:9], enc)
	b[9] = l.Revision<<4 | l.VBRMethod&15
	b[10] = byte(min(255, l.LowpassHz/100))
	binary.BigEndian.PutUint32(b[11:], math.Float32bits(l.Peak))
	binary.BigEndian.PutUint16(b[15:], l.RadioGain)
	binary.BigEndian.PutUint16(b[17:], l.AudiophileGain)
	b[19] = l.Flags
	b[20] = l.Bitrate
	if l.Delay < 0 || l.Delay > 4095 || l.Padding < 0 || l.Padding > 4095 {
		return nil, fmt.Errorf("mp3: build Info frame: delay %d / padding %d do not fit 12 bits", l.Delay, l.Padding)
	}
	b[21] = byte(l.Delay >> 4)
	b[22] = byte(l.Delay&15)<<4 | byte(l.Padding>>8)
	b[23] = byte(l.Padding)
	b[24] = l.Misc
	b[25] = l.MP3Gain
	binary.BigEndian.PutUint16(b[26:], l.Preset)
	binary.BigEndian.PutUint32(b[28:], l.MusicLength)
	binary.BigEndian.PutUint16(b[32:], l.MusicCRC)
	binary.BigEndian.PutUint16(b[34:], crc16LAME(0, f[:p+34]))
	return f, nil
}

// VBRITag is the Fraunhofer encoder's VBR tag, always 32 bytes after the header (36 from the frame start).
type VBRITag struct {
	Version        uint16
	Delay          uint16
	Quality        uint16
	Bytes          uint32
	Frames         uint32
	TOC            []uint32 // bytes per TOC entry, scaled by Scale
	Scale          uint16
	EntryBytes     uint16
	FramesPerEntry uint16
}

// ParseVBRI reads a VBRI tag from a whole frame.
func ParseVBRI(frame []byte) (*VBRITag, error) {
	const off = HeaderSize + 32
	if len(frame) < off+26 || string(frame[off:off+4]) != "VBRI" {
		return nil, ErrNoTag
	}
	b := frame[off:]
	v := &VBRITag{
		Version:        binary.BigEndian.Uint16(b[4:]),
		Delay:          binary.BigEndian.Uint16(b[6:]),
		Quality:        binary.BigEndian.Uint16(b[8:]),
		Bytes:          binary.BigEndian.Uint32(b[10:]),
		Frames:         binary.BigEndian.Uint32(b[14:]),
		Scale:          binary.BigEndian.Uint16(b[20:]),
		EntryBytes:     binary.BigEndian.Uint16(b[22:]),
		FramesPerEntry: binary.BigEndian.Uint16(b[24:]),
	}
	n := int(binary.BigEndian.Uint16(b[18:]))
	es := int(v.EntryBytes)
	if es < 1 || es > 4 {
		return nil, fmt.Errorf("mp3: VBRI tag: TOC entry size %d not in 1..4", es)
	}
	if len(b) < 26+n*es {
		return nil, fmt.Errorf("mp3: VBRI tag: %w: TOC of %d entries", ErrShort, n)
	}
	v.TOC = make([]uint32, n)
	for i := range v.TOC {
		var e uint32
		for _, c := range b[26+i*es : 26+(i+1)*es] {
			e = e<<8 | uint32(c)
		}
		v.TOC[i] = e * uint32(v.Scale)
	}
	return v, nil
}
