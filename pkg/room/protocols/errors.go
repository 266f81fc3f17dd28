package protocols

import (
	"errors"
	"fmt"

	"github.com/spacecast/spacecast/pkg/room"
)

// Errors Detect and Dial return. Each wraps a room error, so a caller that maps room errors to
// messages and exit codes maps these too; each states a fact, and the caller names its own flags.
var (
	// ErrBadURL is a room URL that does not parse as a URL with a host (it wraps room.ErrURL). The
	// URL is not repeated: it may carry a key, and what does not parse cannot be redacted.
	ErrBadURL = fmt.Errorf("%w: the room URL does not parse as a URL with a host (want ws://, wss://, http:// or https://HOST/…)", room.ErrURL)
	// ErrLiveKitRoom is a LiveKit dial with neither a room name nor a join token (it wraps
	// room.ErrURL).
	ErrLiveKitRoom = fmt.Errorf("%w: LiveKit needs a room name (with an API key and secret) or a join token", room.ErrURL)
	// ErrUnknown is a protocol spacecast has no adapter for.
	ErrUnknown = errors.New("unknown room protocol")
)

// SchemeError is a room URL whose scheme names no protocol spacecast detects (it wraps
// room.ErrURL); a caller may still force a protocol.
type SchemeError struct {
	URL    string // without credentials (room.ShowURL)
	Scheme string
}

func (e *SchemeError) Error() string {
	return fmt.Sprintf("%v: %s: scheme %q is not a room URL (want ws://, wss://, http:// or https://)", room.ErrURL, e.URL, e.Scheme)
}

func (e *SchemeError) Unwrap() error { return room.ErrURL }

// UnknownError is a protocol name that is none of Names().
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string {
	return fmt.Sprintf("%v %q: want %s, %s or %s", ErrUnknown, e.Name, LiveKit, Janus, WHEP)
}

func (e *UnknownError) Unwrap() error { return ErrUnknown }
