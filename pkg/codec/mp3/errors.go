package mp3

import "errors"

// Sentinel errors. Wrapped errors name the frame and byte offset; test with errors.Is.
var (
	// ErrNotMP3 means no run of valid, consecutive Layer III frames was found.
	ErrNotMP3 = errors.New("mp3: not an MP3 stream")
	// ErrBadHeader means four bytes are not a valid Layer III frame header.
	ErrBadHeader = errors.New("mp3: bad frame header")
	// ErrFreeFormat means the header uses the free bitrate (index 0), whose frame size is not coded.
	ErrFreeFormat = errors.New("mp3: free-format bitrate not supported")
	// ErrNotLayer3 means the frame is Layer I or II.
	ErrNotLayer3 = errors.New("mp3: not Layer III")
	// ErrShort means the input ended inside a structure.
	ErrShort = errors.New("mp3: truncated")
	// ErrNoTag means the frame carries no Xing/Info or VBRI tag.
	ErrNoTag = errors.New("mp3: no Xing/Info/VBRI tag")
	// ErrUnsupported means the stream is valid but the decoder cannot play it (MPEG-2.5).
	ErrUnsupported = errors.New("mp3: unsupported stream")
	// ErrCorrupt means the frames' contents are damaged: go-mp3 could not decode them.
	ErrCorrupt = errors.New("mp3: corrupt audio data")
	// ErrRange means a cut range is empty, out of order, overlapping or outside the file.
	ErrRange = errors.New("mp3: bad range")
	// ErrJoin means a join needs more bit-reservoir bytes than the preceding frame can carry.
	ErrJoin = errors.New("mp3: join cannot carry the bit reservoir")
)
