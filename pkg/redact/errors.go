package redact

import "errors"

var (
	// ErrUnknownSpeaker is returned for an identity the session does not list.
	ErrUnknownSpeaker = errors.New("no such participant in the session")
	// ErrNotFinalized is returned for a session whose recorder has not finished it.
	ErrNotFinalized = errors.New("session is not finalized")
	// ErrBadRange is returned for a --from/--to that is reversed, empty or outside the session.
	ErrBadRange = errors.New("bad range")
	// ErrPacket is returned for an Opus packet whose duration no silence packet can match.
	ErrPacket = errors.New("cannot make a silence packet of this duration")
)
