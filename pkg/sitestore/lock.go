package sitestore

import (
	"context"
	"errors"
	"time"

	"github.com/spacecast/spacecast/pkg/bucketlock"
	"github.com/spacecast/spacecast/pkg/objstore"
)

// DefaultLease is how long a push's lock stays valid without being renewed; the holder renews it
// every third of that.
const DefaultLease = time.Minute

// DefaultLockTimeout is how long a push waits for another's lock: longer than a lease, so a lock
// left by a push that died anywhere is always waited out.
const DefaultLockTimeout = 2 * time.Minute

// lockFormat names a push's lock object (bucketlock.Holder.Format).
const lockFormat = "spacecast-site-push-lock"

// Holder is what a lock object says about the push that holds it (pkg/bucketlock).
type Holder = bucketlock.Holder

// acquireLock takes the lock of the place dst (LockName under it, pkg/bucketlock): created only
// if there is none (If-None-Match: *), renewed every third of opt.Lease with If-Match and trusted
// for five sixths of it after each renewal sent. While another push holds it, it waits up to
// opt.LockTimeout (then a *LockedError), and takes it over (If-Match on the ETag it saw) when its
// holder is a dead process of this machine, or when the lock object has not changed for the
// lease it declares by this machine's clock. A store that ignores conditional writes gives a lock
// that excludes nobody, which the lock reports (Conditional false) rather than refuses.
func acquireLock(ctx context.Context, st Store, dst objstore.URL, opt Options) (*bucketlock.Lock, error) {
	l, err := bucketlock.Acquire(ctx, st, dst.Bucket, dst.Key(LockName), bucketlock.Options{
		Format: lockFormat, Who: "push", TTL: opt.Lease, Renew: opt.Lease / 3, Valid: opt.Lease * 5 / 6,
		Wait: opt.LockTimeout, Poll: min(time.Second, opt.Lease/10), HolderTTL: true, DeadLocal: true,
		Unconditional: bucketlock.Warn, OnWait: opt.OnWait, Lost: ErrLockLost})
	var le *bucketlock.LockedError
	if errors.As(err, &le) {
		return nil, &LockedError{Lock: le.Lock, Holder: le.Holder, Waited: le.Waited}
	}
	return l, err
}
