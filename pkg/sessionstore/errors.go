package sessionstore

import (
	"errors"
	"fmt"
)

var (
	// ErrNoName: the URL is a whole bucket; a session needs a name under it.
	ErrNoName = errors.New("the URL names no session (want s3://BUCKET/PREFIX/NAME)")
	// ErrExists: the destination already holds a session (a manifest) or a folder.
	ErrExists = errors.New("already exists")
	// ErrNoSession: nothing is stored under the URL.
	ErrNoSession = errors.New("no session there")
	// ErrIncomplete: files are stored under the URL but no manifest: a push that did not finish.
	ErrIncomplete = errors.New("the session is incomplete (files without a manifest: a push that did not finish)")
	// ErrBadKey: a key under the URL that cannot be a file of a session folder.
	ErrBadKey = errors.New("a key that is not a session file's path")
)

// Error says which transfer failed: the session folder, the URL and the direction; or, without a
// folder, which session in a bucket could not be read (Op "read", see Open).
type Error struct {
	Op  string // "push", "pull" or "read"
	Dir string // the session folder; "" when there is none
	URL string // s3://BUCKET/PREFIX/NAME
	Err error
}

func (e *Error) Error() string {
	if e.Dir == "" {
		return fmt.Sprintf("sessionstore: %s %s: %v", e.Op, e.URL, e.Err)
	}
	if e.Op == "push" {
		return fmt.Sprintf("sessionstore: push %s to %s: %v", e.Dir, e.URL, e.Err)
	}
	return fmt.Sprintf("sessionstore: pull %s to %s: %v", e.URL, e.Dir, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
