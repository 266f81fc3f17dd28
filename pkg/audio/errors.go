package audio

import "errors"

// Sentinel errors of package audio. ErrFormatMismatch lives in audio.go beside the Stream contract.
var (
	// ErrNoLength is returned by an operator that needs to know a stream's length (a fade out, for
	// instance) when the stream does not implement Lengther.
	ErrNoLength = errors.New("audio: stream length unknown")
	// ErrShortPart is returned by Join when a part is too short for the crossfades around it.
	ErrShortPart = errors.New("audio: part shorter than its crossfades")
	// ErrStarted is returned by Mixer.Add once the mixer has been read from.
	ErrStarted = errors.New("audio: mixer already started")
	// ErrNegative is returned for a negative frame count or offset.
	ErrNegative = errors.New("audio: negative frame count")
)
