package lame

import "errors"

// Sentinel errors of package lame. Errors returned by the package wrap one of these (or an error
// from the io.WriteSeeker) so callers can test with errors.Is.
var (
	// ErrSampleRate is returned for a sample rate MPEG audio does not define; resample first.
	ErrSampleRate = errors.New("lame: sample rate not supported by MPEG audio")
	// ErrChannels is returned for anything but mono or stereo input.
	ErrChannels = errors.New("lame: only mono and stereo are supported")
	// ErrBitrate is returned for a constant bitrate the stream's MPEG version does not define.
	ErrBitrate = errors.New("lame: bitrate not allowed at this sample rate")
	// ErrQuality is returned for an out-of-range Quality or VBRQuality.
	ErrQuality = errors.New("lame: quality out of range")
	// ErrMode is returned for an unknown Mode.
	ErrMode = errors.New("lame: unknown channel mode")
	// ErrPartialFrame is returned by Write when the sample count is not a multiple of the channel count.
	ErrPartialFrame = errors.New("lame: samples do not fill whole frames")
	// ErrClosed is returned by Write after Close.
	ErrClosed = errors.New("lame: writer closed")
	// ErrLAME is returned when libmp3lame itself reports a failure.
	ErrLAME = errors.New("lame: libmp3lame failed")
)
