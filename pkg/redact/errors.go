package redact

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownSpeaker is returned for an identity the session does not list.
	ErrUnknownSpeaker = errors.New("no such participant in the session")
	// ErrNotFinalized is returned for a session whose recorder has not finished it.
	ErrNotFinalized = errors.New("session is not finalized")
	// ErrBadRange is returned for a stretch (Options.From, Options.To) that is reversed, empty or
	// outside the session.
	ErrBadRange = errors.New("bad range")
	// ErrReversed is returned for a stretch whose start is not before its end; it matches
	// ErrBadRange.
	ErrReversed = fmt.Errorf("%w: reversed or empty", ErrBadRange)
	// ErrPacket is returned for an Opus packet whose duration no silence packet can match.
	ErrPacket = errors.New("cannot make a silence packet of this duration")
)
