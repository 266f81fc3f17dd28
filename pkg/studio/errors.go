package studio

import "errors"

var (
	// ErrBadInput marks errors about what the user gave: a missing or unreadable file, a range past
	// the end. The CLI maps it to exit status 3.
	ErrBadInput = errors.New("bad input")
	// ErrSameFile is returned when the output would overwrite an input.
	ErrSameFile = errors.New("output is the same file as an input")
	// ErrBadRange is returned for clip or trim options that give no range to work on: no end,
	// both an end and a duration, an end not after the start, no cut.
	ErrBadRange = errors.New("bad range")
	// ErrNoLast is returned for a clip of the last stretch of something that is not a session
	// folder: only a recording (running or not) has a last stretch.
	ErrNoLast = errors.New("not a session folder: only a recording, running or not, has a last stretch to clip")
	// ErrLosslessMP3 is returned for a lossless cut whose input or output is not MP3.
	ErrLosslessMP3 = errors.New("a lossless cut reads and writes MP3 only")
	// ErrShortKeep is returned by an exact trim for a kept stretch shorter than the crossfades
	// into and out of it.
	ErrShortKeep = errors.New("shorter than two crossfades")
	// ErrNoSpeakers is returned when every speaker was excluded or no input has audio.
	ErrNoSpeakers = errors.New("nothing to mix: no speakers left")
	// ErrBadMeta is returned for a TXXX "spacecast" frame whose JSON is not valid metadata.
	ErrBadMeta = errors.New("malformed spacecast metadata")
	// ErrMetaVersion is returned for metadata written by a newer spacecast.
	ErrMetaVersion = errors.New("spacecast metadata of a newer version")
)
