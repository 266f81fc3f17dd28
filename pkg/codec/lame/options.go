package lame

import (
	"fmt"
	"slices"

	"github.com/spacecast/spacecast/pkg/audio"
)

// Options configures the encoder. The zero value is 128 kbit/s CBR at LAME's recommended
// algorithm quality, joint stereo for stereo input.
type Options struct {
	// BitrateKbps is the constant bitrate in kbit/s; 0 means 128. Ignored when VBR is set.
	// It must be one the stream's MPEG version defines (see Bitrates).
	BitrateKbps int
	// VBR selects variable bitrate (LAME's default VBR mode, "mtrh") at VBRQuality.
	VBR bool
	// VBRQuality is LAME's -V: 0 (best, largest) to 9 (smallest). Used only when VBR is set.
	VBRQuality int
	// Quality is LAME's algorithm quality (-q): 1 (best, slowest) to 9 (fastest). 0 means 2,
	// LAME's own recommendation; -q 0 buys nothing audible over 1 and costs time, so it is not offered.
	Quality int
	// Mode is the channel mode of the file; the zero value picks joint stereo for stereo input.
	Mode Mode
	// Prefix is written to the output before the first MP3 frame, typically an ID3v2 tag from
	// package id3. The LAME tag frame follows it; Close rewrites that frame at the right offset.
	Prefix []byte
}

// Mode is the channel mode of the MP3 stream (ISO/IEC 11172-3 §2.4.2.3, "mode").
type Mode int

const (
	// ModeAuto is joint stereo for stereo input and single channel for mono input.
	ModeAuto Mode = iota
	// ModeJointStereo lets LAME choose mid/side or left/right per frame.
	ModeJointStereo
	// ModeStereo codes left and right independently.
	ModeStereo
	// ModeMono writes a single-channel file; stereo input is averaged down by LAME.
	ModeMono
)

func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeJointStereo:
		return "joint stereo"
	case ModeStereo:
		return "stereo"
	case ModeMono:
		return "mono"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Sample rates by MPEG version: ISO/IEC 11172-3 §2.4.2.3 (MPEG-1), ISO/IEC 13818-3 §2.4.2.3
// (MPEG-2 low sampling frequencies) and the unofficial MPEG-2.5 extension, all of which LAME writes.
var (
	mpeg1Rates  = []int{32000, 44100, 48000}
	mpeg2Rates  = []int{16000, 22050, 24000}
	mpeg25Rates = []int{8000, 11025, 12000}
)

// Bitrate tables for Layer III without the free-format and forbidden indexes: ISO/IEC 11172-3
// §2.4.2.3 "bitrate_index" (MPEG-1) and ISO/IEC 13818-3 §2.4.2.3 (MPEG-2, also used by MPEG-2.5).
var (
	mpeg1Bitrates = []int{32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	mpeg2Bitrates = []int{8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
)

// SupportedRate reports whether MPEG audio defines the sample rate in Hz.
func SupportedRate(rateHz int) bool {
	return slices.Contains(mpeg1Rates, rateHz) || slices.Contains(mpeg2Rates, rateHz) ||
		slices.Contains(mpeg25Rates, rateHz)
}

// Bitrates returns the constant bitrates, in kbit/s, allowed at a sample rate, or nil if the rate
// is not supported. The slice is a copy.
func Bitrates(rateHz int) []int {
	switch {
	case slices.Contains(mpeg1Rates, rateHz):
		return slices.Clone(mpeg1Bitrates)
	case slices.Contains(mpeg2Rates, rateHz), slices.Contains(mpeg25Rates, rateHz):
		return slices.Clone(mpeg2Bitrates)
	}
	return nil
}

// FrameSamples is the number of samples per channel in one Layer III frame at a sample rate:
// 1152 for MPEG-1, 576 for MPEG-2 and MPEG-2.5 (ISO/IEC 13818-3 §2.4.3.4).
func FrameSamples(rateHz int) int {
	if slices.Contains(mpeg1Rates, rateHz) {
		return 1152
	}
	return 576
}

// settings is Options checked against a format, with defaults filled in.
type settings struct {
	bitrateKbps int
	vbr         bool
	vbrQuality  int
	quality     int
	mode        Mode
	outChannels int
}

func (o Options) resolve(f audio.Format) (settings, error) {
	if !SupportedRate(f.SampleRate) {
		return settings{}, fmt.Errorf("%w: %d Hz (use 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100 or 48000)",
			ErrSampleRate, f.SampleRate)
	}
	if f.Channels != 1 && f.Channels != 2 {
		return settings{}, fmt.Errorf("%w: got %d channels", ErrChannels, f.Channels)
	}
	s := settings{
		bitrateKbps: o.BitrateKbps,
		vbr:         o.VBR,
		vbrQuality:  o.VBRQuality,
		quality:     o.Quality,
		mode:        o.Mode,
		outChannels: f.Channels,
	}
	if s.bitrateKbps == 0 {
		s.bitrateKbps = 128
	}
	if s.quality == 0 {
		s.quality = 2
	}
	if s.quality < 1 || s.quality > 9 {
		return settings{}, fmt.Errorf("%w: Quality %d (use 1..9, or 0 for the default)", ErrQuality, o.Quality)
	}
	if s.vbr {
		if s.vbrQuality < 0 || s.vbrQuality > 9 {
			return settings{}, fmt.Errorf("%w: VBRQuality %d (use 0..9)", ErrQuality, o.VBRQuality)
		}
	} else if !slices.Contains(Bitrates(f.SampleRate), s.bitrateKbps) {
		return settings{}, fmt.Errorf("%w: %d kbit/s at %d Hz (use one of %v)",
			ErrBitrate, s.bitrateKbps, f.SampleRate, Bitrates(f.SampleRate))
	}
	if err := s.resolveMode(f); err != nil {
		return settings{}, err
	}
	if !s.vbr && frameBytes(f.SampleRate, s.bitrateKbps) < tagFrameBytes(f.SampleRate, s.outChannels) {
		return settings{}, fmt.Errorf("%w: %d kbit/s at %d Hz makes %d-byte frames, too small for the %d-byte LAME tag "+
			"that gapless playback needs (raise the bitrate)", ErrBitrate, s.bitrateKbps, f.SampleRate,
			frameBytes(f.SampleRate, s.bitrateKbps), tagFrameBytes(f.SampleRate, s.outChannels))
	}
	return s, nil
}

func (s *settings) resolveMode(f audio.Format) error {
	switch s.mode {
	case ModeAuto:
		if f.Channels == 2 {
			s.mode = ModeJointStereo
		} else {
			s.mode = ModeMono
		}
	case ModeJointStereo, ModeStereo:
		if f.Channels == 1 {
			return fmt.Errorf("%w: %v needs stereo input", ErrMode, s.mode)
		}
	case ModeMono:
		s.outChannels = 1
	default:
		return fmt.Errorf("%w: %v", ErrMode, s.mode)
	}
	return nil
}

// frameBytes is the length of an unpadded Layer III frame: ISO/IEC 11172-3 §2.4.3.1 gives
// 144 * bitrate / sampling_frequency for MPEG-1; MPEG-2 and 2.5 frames hold half the samples, so 72.
func frameBytes(rateHz, kbps int) int {
	k := 72
	if FrameSamples(rateHz) == 1152 {
		k = 144
	}
	return k * kbps * 1000 / rateHz
}

// lameTagBytes is the Xing header plus LAME extension LAME 3.100 puts in the first frame
// (LAMEHEADERSIZE in libmp3lame/VbrTag.c). In CBR the tag frame has the stream's bitrate, and LAME
// silently drops the tag when it does not fit; we refuse such settings instead.
const lameTagBytes = 156

// tagFrameBytes is the frame length the LAME tag needs: header, side information
// (ISO/IEC 11172-3 §2.4.1.7; half size in ISO/IEC 13818-3) and the tag itself.
func tagFrameBytes(rateHz, channels int) int {
	side := map[bool]int{true: 17, false: 32}[channels == 1]
	if FrameSamples(rateHz) == 576 {
		side = map[bool]int{true: 9, false: 17}[channels == 1]
	}
	return 4 + side + lameTagBytes
}
