package bucketlock

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrLocked: another held the lock for longer than the wait allowed.
	ErrLocked = errors.New("another holds the lock")
	// ErrLost: the lock could not be renewed in time, or another took it over (unless
	// Options.Lost names the caller's own error).
	ErrLost = errors.New("the lock was lost")
	// ErrNoConditional: the store ignored a conditional write (If-None-Match), so the lock keeps
	// no one out (unless Options.NoConditional names the caller's own error).
	ErrNoConditional = errors.New("the store does not honour conditional writes (If-None-Match)")
	// ErrBadLock: a lock object that is not what a lock writes.
	ErrBadLock = errors.New("not a spacecast lock")
)

// LockedError says who holds the lock another waited for; it matches ErrLocked.
type LockedError struct {
	Lock   string        // s3://BUCKET/KEY of the lock object
	Holder Holder        // what the lock object says
	Waited time.Duration // how long Acquire waited
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%v: %s, %s, held for more than %s", ErrLocked, e.Lock, e.Holder, e.Waited)
}

func (e *LockedError) Unwrap() error { return ErrLocked }
