package studio

import "errors"

var (
	// ErrBadInput marks errors about what the user gave: a missing or unreadable file, a range past
	// the end. The CLI maps it to exit status 3.
	ErrBadInput = errors.New("bad input")
	// ErrSameFile is returned when the output would overwrite an input.
	ErrSameFile = errors.New("output is the same file as an input (choose another -o)")
	// ErrNoSpeakers is returned when every speaker was excluded or no input has audio.
	ErrNoSpeakers = errors.New("nothing to mix: no speakers left")
	// ErrBadMeta is returned for a TXXX "spacecast" frame whose JSON is not valid metadata.
	ErrBadMeta = errors.New("malformed spacecast metadata")
	// ErrMetaVersion is returned for metadata written by a newer spacecast.
	ErrMetaVersion = errors.New("spacecast metadata of a newer version")
)
