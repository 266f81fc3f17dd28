package sessionstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// DefaultLeaseTTL is how long a prune's lock in a bucket stands without being renewed
// (PruneOptions.LeaseTTL). Its holder renews it every TTL/4 and stops deleting once it has not
// managed to for TTL/2; a waiting prune takes over a lock that has not changed for TTL (its
// holder died).
const DefaultLeaseTTL = 30 * time.Second

// leaseBody is the lock object's content: who holds it, for the person who finds it.
type leaseBody struct {
	Owner    string    `json:"owner"` // host, process and a random token
	Acquired time.Time `json:"acquired"`
	Renewed  time.Time `json:"renewed"`
	TTL      float64   `json:"ttl_seconds"`
}

// lease is a lock held in a bucket: an object created with If-None-Match: * (the store lets one
// writer create it) and renewed with If-Match on its ETag (a holder that lost it learns so).
// Staleness is judged by the waiter's own clock: a lock whose ETag has not changed for its TTL
// while it watched is taken over, again with If-Match, so of two waiters one wins.
type lease struct {
	st          Keeper
	kind        kind
	bucket, key string
	body        leaseBody
	ttl         time.Duration
	// TakenOver names the owner of a stale lock this lease replaced ("" none).
	TakenOver string

	mu      sync.Mutex
	etag    string
	renewed time.Time
	err     error
	stop    chan struct{}
	done    chan struct{}
}

func acquireLease(ctx context.Context, st Keeper, k kind, bucket, key string, wait, ttl time.Duration) (*lease, error) {
	if wait <= 0 {
		wait = time.Minute
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	var tok [6]byte
	rand.Read(tok[:])
	host, _ := os.Hostname()
	now := time.Now().UTC()
	l := &lease{st: st, kind: k, bucket: bucket, key: key, ttl: ttl,
		body: leaseBody{Owner: fmt.Sprintf("%s pid %d %s", host, os.Getpid(), hex.EncodeToString(tok[:])), Acquired: now, Renewed: now, TTL: ttl.Seconds()}}
	deadline := time.Now().Add(wait)
	var seenETag, seenOwner string
	var seenAt time.Time
	for {
		w, err := st.PutIf(ctx, bucket, key, l.marshal(), "", objstore.PutOptions{ContentType: "application/json"})
		if err == nil {
			l.start(w)
			// A store that ignores If-None-Match would let every prune in: the same write
			// again must be refused.
			if _, err := st.PutIf(ctx, bucket, key, l.marshal(), "", objstore.PutOptions{ContentType: "application/json"}); !errors.Is(err, objstore.ErrPrecondition) {
				rerr := l.release(context.WithoutCancel(ctx))
				if err == nil {
					err = fmt.Errorf("%s: %w", objstore.URL{Bucket: bucket, Prefix: key}, ErrNoConditional)
				}
				return nil, errors.Join(err, rerr)
			}
			return l, nil
		}
		if !errors.Is(err, objstore.ErrPrecondition) {
			return nil, err
		}
		b, err := getSmall(ctx, st, bucket, key)
		var cur objstore.Object
		if err == nil {
			cur, err = st.Head(ctx, bucket, key)
		}
		switch {
		case errors.Is(err, objstore.ErrNotFound):
			// Released meanwhile, or hidden by a delete marker (which some servers take for an
			// object with If-None-Match): clear the markers and try again.
			if k.versioned {
				if err := clearMarkers(ctx, st, bucket, key); err != nil {
					return nil, err
				}
			}
			continue
		case err != nil:
			return nil, err
		}
		var other leaseBody
		if json.Unmarshal(b, &other) == nil {
			seenOwner = other.Owner
		}
		if cur.ETag != seenETag {
			seenETag, seenAt = cur.ETag, time.Now()
		} else if time.Since(seenAt) > l.ttl {
			w, err := st.PutIf(ctx, bucket, key, l.marshal(), cur.ETag, objstore.PutOptions{ContentType: "application/json"})
			if err == nil {
				l.TakenOver = seenOwner
				l.start(w)
				return l, nil
			}
			if !errors.Is(err, objstore.ErrPrecondition) {
				return nil, err
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: %w (held by %q; waited %s)", objstore.URL{Bucket: bucket, Prefix: key}, session.ErrLocked, seenOwner, wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(time.Second, l.ttl/8, wait/4+time.Millisecond)):
		}
	}
}

func (l *lease) marshal() []byte {
	b, _ := json.Marshal(l.body)
	return b
}

func (l *lease) start(w objstore.Written) {
	l.etag, l.renewed = w.ETag, time.Now()
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.renew()
}

// renew rewrites the lock every ttl/4 while it is held, each time only if it is still the one
// this lease wrote.
func (l *lease) renew() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 4)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		l.body.Renewed = time.Now().UTC()
		etag := l.etag
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/4)
		w, err := l.st.PutIf(ctx, l.bucket, l.key, l.marshal(), etag, objstore.PutOptions{ContentType: "application/json"})
		cancel()
		l.mu.Lock()
		switch {
		case err == nil:
			l.etag, l.renewed = w.ETag, time.Now()
		case errors.Is(err, objstore.ErrPrecondition):
			l.err = fmt.Errorf("%w: another prune took it over", ErrLockLost)
		}
		l.mu.Unlock()
	}
}

// check says whether the lease still holds: not taken over, and renewed within ttl/2 (so that
// no waiter can have judged it stale).
func (l *lease) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if d := time.Since(l.renewed); d > l.ttl/2 {
		return fmt.Errorf("%w: not renewed for %s", ErrLockLost, d.Round(time.Second))
	}
	return nil
}

// release stops renewing and deletes the lock: in a versioned bucket every version of it, older
// ones first (a stale lock this lease took over included, so that none comes back as the current
// lock), the object if it is still this lease's otherwise.
func (l *lease) release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil // another prune holds it now
	}
	if !l.kind.versioned {
		return l.st.DeleteIf(ctx, l.bucket, l.key, l.etag)
	}
	var vs []objstore.Version
	for v, err := range l.st.ListVersions(ctx, l.bucket, l.key) {
		if err != nil {
			return err
		}
		if v.Key == l.key {
			vs = append(vs, v)
		}
	}
	slices.Reverse(vs)
	for _, v := range vs {
		if err := l.st.DeleteVersion(ctx, l.bucket, l.key, v.VersionID); err != nil {
			return err
		}
	}
	return nil
}

// clearMarkers deletes the delete markers of bucket/key.
func clearMarkers(ctx context.Context, st Keeper, bucket, key string) error {
	for v, err := range st.ListVersions(ctx, bucket, key) {
		if err != nil {
			return err
		}
		if v.Key == key && v.DeleteMarker {
			if err := st.DeleteVersion(ctx, bucket, key, v.VersionID); err != nil {
				return err
			}
		}
	}
	return nil
}
