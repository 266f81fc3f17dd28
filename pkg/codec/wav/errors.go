package wav

import "errors"

var (
	// ErrNotWAV is returned for input that is not a RIFF/WAVE file.
	ErrNotWAV = errors.New("not a WAV file (no RIFF/WAVE header)")
	// ErrUnsupported is returned for WAVE encodings this package does not decode (ADPCM, µ-law, 12-bit…).
	ErrUnsupported = errors.New("unsupported encoding")
	// ErrBadFormat is returned for a malformed or missing fmt chunk.
	ErrBadFormat = errors.New("malformed fmt chunk")
	// ErrSeekRange is returned for a seek outside the data.
	ErrSeekRange = errors.New("seek outside the data")
	// ErrTooLarge is returned when the data would overflow RIFF's 32-bit sizes (4 GiB).
	ErrTooLarge = errors.New("data exceeds the 4 GiB RIFF limit")
	// ErrClosed is returned for writes after Close.
	ErrClosed = errors.New("writer closed")
)
