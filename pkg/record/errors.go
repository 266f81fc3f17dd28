package record

import (
	"errors"
	"fmt"
	"time"

	"github.com/spacecast/spacecast/pkg/room"
)

// Errors of choosing and joining the room.
var (
	// ErrURLNoHost says the room URL does not parse as a URL with a host.
	ErrURLNoHost = fmt.Errorf("%w: not a URL with a host", room.ErrURL)
	// ErrNoRoomName says a LiveKit room was dialled with neither a room name nor a token.
	ErrNoRoomName = fmt.Errorf("%w: LiveKit needs a room name or a join token", room.ErrURL)
	// ErrServerMixes says the server mixes every speaker into one track, so per-speaker consent
	// (opt-in, excluded identities) cannot be honoured.
	ErrServerMixes = errors.New("the server mixes the room into one track: per-speaker consent cannot be honoured")
	// ErrStopping says the recording is stopping (or stopped) and takes no more requests.
	ErrStopping = errors.New("the recording is stopping")
)

// ProtocolError says a protocol name is not one a recording knows.
type ProtocolError struct{ Name string }

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("record: protocol %q: want %s, %s or %s", e.Name, LiveKit, Janus, WHEP)
}

// SchemeError says a URL's scheme names no room protocol.
type SchemeError struct{ URL, Scheme string }

func (e *SchemeError) Error() string {
	return fmt.Sprintf("record: %q: scheme %q is not a room URL", e.URL, e.Scheme)
}
func (e *SchemeError) Unwrap() error { return room.ErrURL }

// JoinError says the room could not be joined; Err is the adapter's (room.ErrAuth, room.ErrNoRoom…).
type JoinError struct {
	Protocol string
	Err      error
}

func (e *JoinError) Error() string {
	return fmt.Sprintf("record: join the %s room: %v", e.Protocol, e.Err)
}
func (e *JoinError) Unwrap() error { return e.Err }

// FinalizeError says the session could not be finalized (the disk filled, a file could not be
// closed): what was synced before is in Dir, and recovering the folder finishes it.
type FinalizeError struct {
	Dir     string
	Elapsed time.Duration // how long it recorded
	Err     error
}

func (e *FinalizeError) Error() string { return fmt.Sprintf("record: finalize %s: %v", e.Dir, e.Err) }
func (e *FinalizeError) Unwrap() error { return e.Err }

// SealError says the recording is complete in Dir but sealing it failed.
type SealError struct {
	Dir     string
	Elapsed time.Duration // how long it recorded
	Err     error
}

func (e *SealError) Error() string { return fmt.Sprintf("record: seal %s: %v", e.Dir, e.Err) }
func (e *SealError) Unwrap() error { return e.Err }

// LostError says the recording stopped because the room was lost (Err: the adapter's error); the
// session in Dir is finalized up to then.
type LostError struct {
	Dir string
	Err error
}

func (e *LostError) Error() string {
	return fmt.Sprintf("record: lost the room (%s finalized): %v", e.Dir, e.Err)
}
func (e *LostError) Unwrap() error { return e.Err }

// AnnounceError says the room could not be told Text; the recording goes on.
type AnnounceError struct {
	What Announcement
	Text string
	Err  error
}

func (e *AnnounceError) Error() string {
	return fmt.Sprintf("record: tell the room %q: %v", e.Text, e.Err)
}
func (e *AnnounceError) Unwrap() error { return e.Err }
