package opus

import "errors"

var (
	// ErrUnsupportedMapping is returned for Ogg Opus files with more than one Opus stream
	// (channel mapping families other than 0, RFC 7845 §5.1.1); parsing them is fine, decoding is not.
	ErrUnsupportedMapping = errors.New("channel mapping family not supported (only mono/stereo family 0)")
	// ErrFormat is returned for a sample rate or channel count libopus cannot take.
	ErrFormat = errors.New("unsupported format (rates 8, 12, 16, 24, 48 kHz; 1 or 2 channels)")
	// ErrBuffer is returned when a PCM buffer cannot hold what was asked.
	ErrBuffer = errors.New("PCM buffer size does not fit")
	// ErrSeekRange is returned for a seek outside the stream.
	ErrSeekRange = errors.New("seek outside the stream")
	// ErrClosed is returned for writes after Close.
	ErrClosed = errors.New("writer closed")
)
