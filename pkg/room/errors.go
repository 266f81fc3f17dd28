package room

import (
	"errors"
	"fmt"
	"time"
)

// Errors an adapter returns, wrapped with details; the CLI maps them to messages and exit codes.
var (
	ErrURL          = errors.New("bad room URL")
	ErrAuth         = errors.New("the server refused the credentials")
	ErrUnreachable  = errors.New("the server cannot be reached")
	ErrNoRoom       = errors.New("no such room")
	ErrEmptyRoom    = errors.New("the room has no speaker")
	ErrRoomClosed   = errors.New("the room closed")
	ErrLost         = errors.New("lost the connection to the room and could not reconnect in time")
	ErrNoMessages   = errors.New("the protocol carries no messages to the room")
	ErrNotSupported = errors.New("not supported by this room")
)

// Facts an error wraps beside one of the above, so that a caller can say what to change.
var (
	// ErrNoRoomName: the protocol needs a room name or id and none was given (with ErrURL, or alone).
	ErrNoRoomName = errors.New("no room name or id given")
	// ErrPIN: the room refused the recorder for want of its PIN, or a wrong one (with ErrAuth).
	ErrPIN = errors.New("the room's PIN is missing or wrong")
	// ErrLocalNetwork: no local address could receive media (with ErrUnreachable): the network
	// interfaces the recorder may use have none, or gathering candidates on them timed out.
	ErrLocalNetwork = errors.New("no local network address to receive media on")
	// ErrIdentityTaken: another participant joined with the recorder's identity, and the server
	// sent the recorder away (with ErrRoomClosed): each recorder in a room needs its own.
	ErrIdentityTaken = errors.New("another participant joined with the recorder's identity")
)

// ErrCrossOrigin is a redirect refused because it leads a request that carries a credential to
// another origin.
var ErrCrossOrigin = errors.New("redirect to another origin refused")

// DropError is an attempt's connection to the room dropping: the supervisor reconnects. Its text is
// the cause's, which the "reconnecting" event carries.
type DropError struct{ Cause error }

// Dropped marks cause as a dropped connection (Attempt.Serve returns it).
func Dropped(cause error) error { return &DropError{Cause: cause} }

func (e *DropError) Error() string { return e.Cause.Error() }
func (e *DropError) Unwrap() error { return e.Cause }

// LostError is the supervisor giving up: the connection to Room dropped (Cause) and no attempt to
// join again succeeded within Timeout (the last one failed with Last). It is ErrLost.
type LostError struct {
	Room    string
	Timeout time.Duration
	Cause   error // why the connection dropped
	Last    error // why the last try to join again failed; nil when none finished
}

func (e *LostError) Error() string {
	s := fmt.Sprintf("room: %s: %v (tried for %s)", e.Room, ErrLost, e.Timeout)
	if e.Last != nil {
		s += ": " + e.Last.Error()
	}
	return s + " (lost because: " + e.Cause.Error() + ")"
}

// Is makes a LostError ErrLost.
func (e *LostError) Is(target error) bool { return target == ErrLost }

// Unwrap is the last try's failure.
func (e *LostError) Unwrap() error { return e.Last }

// WaitError is a room that was still missing (ErrNoRoom) or without a speaker (ErrEmptyRoom) when
// the wait for it (Options.Wait) ended. Err says which, and what the server last said.
type WaitError struct {
	Room   string
	Waited time.Duration
	Err    error
}

func (e *WaitError) Error() string { return fmt.Sprintf("%v (waited %s)", e.Err, e.Waited) }
func (e *WaitError) Unwrap() error { return e.Err }
