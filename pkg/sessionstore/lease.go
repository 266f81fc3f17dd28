package sessionstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spacecast/spacecast/pkg/bucketlock"
	"github.com/spacecast/spacecast/pkg/session"
)

// DefaultLeaseTTL is how long a prune's lock in a bucket stands without being renewed
// (PruneOptions.LeaseTTL). Its holder renews it every TTL/4 and stops deleting once it has not
// managed to for TTL/2; a waiting prune takes over a lock that has not changed for TTL (its
// holder died).
const DefaultLeaseTTL = 30 * time.Second

// pruneLockFormat names a prune's lock object (bucketlock.Holder.Format).
const pruneLockFormat = "spacecast-prune-lock"

// A Keeper holds a lock in a versioned bucket too.
var _ bucketlock.VersionStore = Keeper(nil)

// acquireLease takes the prune lock bucket/key (pkg/bucketlock), waiting up to wait (a minute
// when 0) for another prune's: created with If-None-Match: *, renewed with If-Match, taken over
// once unchanged for ttl by this machine's clock; refused (ErrNoConditional) on a store that
// ignores conditional writes. Another prune's lock held past the wait is session.ErrLocked.
func acquireLease(ctx context.Context, st Keeper, k kind, bucket, key string, wait, ttl time.Duration) (*bucketlock.Lock, error) {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	l, err := bucketlock.Acquire(ctx, st, bucket, key, bucketlock.Options{Format: pruneLockFormat, Who: "prune", TTL: ttl, Wait: wait,
		Versioned: k.versioned, Unconditional: bucketlock.Refuse, Lost: ErrLockLost, NoConditional: ErrNoConditional})
	var le *bucketlock.LockedError
	if errors.As(err, &le) {
		return nil, fmt.Errorf("%s: %w (%s; waited %s)", le.Lock, session.ErrLocked, le.Holder, le.Waited)
	}
	return l, err
}
