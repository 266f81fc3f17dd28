package sitestore

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrLocked: another push held the place's lease for longer than the wait allowed.
	ErrLocked = errors.New("another push holds the lock")
	// ErrLockLost: the lease could not be renewed in time, or another push took it over; the
	// push stopped before writing more.
	ErrLockLost = errors.New("the push lost its lock")
	// ErrChanged: a file of the site changed while it was being pushed.
	ErrChanged = errors.New("the site changed while it was pushed")
	// ErrBadState: the state object in the bucket is not what a push writes.
	ErrBadState = errors.New("not a spacecast push record")
)

// Error says which push failed: the site folder and the URL.
type Error struct {
	Dir string // the site folder
	URL string // s3://BUCKET/PREFIX
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("sitestore: push %s to %s: %v", e.Dir, e.URL, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// LockedError says who holds the lease another push waited for; it matches ErrLocked.
type LockedError struct {
	Lock   string        // s3://BUCKET/PREFIX/.spacecast-push.lock
	Holder Holder        // what the lock object says
	Waited time.Duration // how long this push waited
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%v: %s, %s, held for more than %s", ErrLocked, e.Lock, e.Holder, e.Waited)
}

func (e *LockedError) Unwrap() error { return ErrLocked }
