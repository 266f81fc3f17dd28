package session

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotSession is returned for a folder that holds no spacecast manifest.
	ErrNotSession = errors.New("not a spacecast session (no manifest.json)")
	// ErrVersion is returned for a manifest written by a newer spacecast.
	ErrVersion = errors.New("session format version not supported")
	// ErrInvalid is returned for a manifest whose content contradicts itself.
	ErrInvalid = errors.New("invalid session manifest")
)

var (
	// ErrNotFinalized is returned by Seal for a session still being recorded or left by a crash.
	ErrNotFinalized = errors.New("session is not finalized (still recording, or run 'spacecast recover' first)")
	// ErrIrregular is returned for a file in a session folder that is not a regular file.
	ErrIrregular = errors.New("not a regular file (a session holds only plain files)")
	// ErrSealMismatch is returned by CheckSeal for a sealed session whose files or signature no
	// longer match its seal: sealing it again would bless the change.
	ErrSealMismatch = errors.New("the session no longer matches its seal")
	// ErrBadKey is returned for a key file that is not an ed25519 key spacecast can read.
	ErrBadKey = errors.New("not an ed25519 key")
	// ErrBadSignatureFile is returned for a manifest.json.sig that does not parse.
	ErrBadSignatureFile = errors.New("malformed signature file")
	// ErrBadHold is returned for a hold.json that does not parse.
	ErrBadHold = errors.New("malformed hold.json")
	// ErrNoSessions is returned by Prune for a ROOT that neither is nor holds a session.
	ErrNoSessions = errors.New("no spacecast session in this folder")
	// ErrBusy is returned by NewStage while another command changes the same session.
	ErrBusy = errors.New("another spacecast command is changing this session (redact or recover)")
	// ErrLocked is returned by Prune when another prune holds the lock for too long.
	ErrLocked = errors.New("another prune is running")
	// ErrReadOnly is returned by Save for a session read where it is stored (OpenFiles).
	ErrReadOnly = errors.New("the session is read where it is stored, not from a folder: it cannot be changed here")
	// ErrBadAge is returned by ParseAge for text that is not an age.
	ErrBadAge = errors.New("not a duration (use 30d, 2w, 720h or 90m)")
)

// NotSessionError says which folder holds no spacecast manifest; it matches ErrNotSession.
type NotSessionError struct{ Dir string }

func (e *NotSessionError) Error() string { return fmt.Sprintf("session: %s: %v", e.Dir, ErrNotSession) }

func (e *NotSessionError) Unwrap() error { return ErrNotSession }

// SealMismatchError is what CheckSeal found wrong: the files that changed, vanished or appeared
// since the session was sealed, and why its signature is invalid. It wraps ErrSealMismatch.
type SealMismatchError struct {
	Dir              string
	Changed, Missing []string
	Added            []string
	// Signature says why manifest.json.sig is invalid; empty when it is valid or absent.
	Signature string
}

func (e *SealMismatchError) Error() string {
	var parts []string
	if len(e.Changed) > 0 {
		parts = append(parts, "changed: "+strings.Join(e.Changed, ", "))
	}
	if len(e.Missing) > 0 {
		parts = append(parts, "missing: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Added) > 0 {
		parts = append(parts, "added: "+strings.Join(e.Added, ", "))
	}
	if e.Signature != "" {
		parts = append(parts, "signature invalid: "+e.Signature)
	}
	return fmt.Sprintf("session: %s: %v (%s)", e.Dir, ErrSealMismatch, strings.Join(parts, "; "))
}

func (e *SealMismatchError) Unwrap() error { return ErrSealMismatch }
