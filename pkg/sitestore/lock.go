package sitestore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
)

// DefaultLease is how long a push's lock stays valid without being renewed; the holder renews it
// every third of that.
const DefaultLease = time.Minute

// DefaultLockTimeout is how long a push waits for another's lock: longer than a lease, so a lock
// left by a push that died anywhere is always waited out.
const DefaultLockTimeout = 2 * time.Minute

const lockFormat = "spacecast-site-push-lock"

// Holder is what a lock object says about the push that holds it. The machine is named by a
// digest of its host name, not the name: the lock lies in a bucket that may be public.
type Holder struct {
	Format       string    `json:"format"`
	Owner        string    `json:"owner"` // random, one per push
	HostID       string    `json:"host_id"`
	PID          int       `json:"pid"`
	Since        time.Time `json:"since"`
	Renewals     int       `json:"renewals"` // changes the object (and its ETag) at every renewal
	LeaseSeconds int       `json:"lease_seconds"`

	sameHost bool
}

func (h Holder) String() string {
	where := "on another machine"
	if h.sameHost {
		where = "on this machine"
	}
	if h.PID == 0 {
		return "held by an unknown push"
	}
	return fmt.Sprintf("held by process %d %s since %s", h.PID, where, h.Since.UTC().Format(time.RFC3339))
}

func parseLock(b []byte) (Holder, error) {
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil {
		return Holder{}, fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if h.Format != lockFormat || h.Owner == "" || h.PID < 0 || h.LeaseSeconds < 0 || h.LeaseSeconds > 86400 {
		return Holder{}, fmt.Errorf("%w: not a lock object", ErrBadState)
	}
	return h, nil
}

// hostID is a digest of this machine's host name.
var hostID = sync.OnceValue(func() string {
	name, _ := os.Hostname()
	sum := sha256.Sum256([]byte("spacecast-host:" + name))
	return hex.EncodeToString(sum[:8])
})

// alive reports whether a process with pid runs on this machine.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// lease is a held lock: renewed in the background until released.
type lease struct {
	st     Store
	bucket string
	key    string
	length time.Duration

	mu          sync.Mutex
	doc         Holder
	etag        string
	validUntil  time.Time // by this machine's clock: the last renewal sent, plus most of a lease
	lost        error
	conditional bool // the store honours conditional writes

	stop chan struct{}
	done chan struct{}
}

// lockTarget is where the lock of a place lives and how a push waits for it.
type lockTarget struct {
	st      Store
	bucket  string
	key     string
	url     string
	length  time.Duration
	timeout time.Duration
	onWait  func(Holder)
	poll    time.Duration
}

// acquire takes the lock of the place: it creates the lock object only if there is none
// (If-None-Match: *). While another push holds it, it waits, and takes it over (If-Match on the
// ETag it saw) when the holder is a dead process of this machine, or when the lock object has
// not changed for a whole lease by this machine's clock (no clocks are compared). It then checks
// that the store refused a second create: a store that ignores conditional writes gives a lock
// that excludes nobody, which is reported (conditional false) rather than trusted.
func (t *lockTarget) acquire(ctx context.Context) (*lease, error) {
	owner := make([]byte, 12)
	_, _ = rand.Read(owner)
	l := &lease{st: t.st, bucket: t.bucket, key: t.key, length: t.length,
		doc: Holder{Format: lockFormat, Owner: hex.EncodeToString(owner), HostID: hostID(), PID: os.Getpid(),
			Since: time.Now().UTC().Truncate(time.Second), LeaseSeconds: int(t.length.Round(time.Second) / time.Second)}}
	deadline := time.Now().Add(t.timeout)
	var seenETag string
	var seenAt time.Time
	waited := false
	for {
		sent := time.Now()
		err := l.put(ctx, objstore.PutOptions{IfNoneMatch: true})
		if err == nil {
			l.validUntil = sent.Add(l.length * 5 / 6)
			break
		}
		if errors.Is(err, objstore.ErrUnsupported) {
			// A store that refuses the header outright: lock without it, and say so.
			if err := l.put(ctx, objstore.PutOptions{}); err != nil {
				return nil, err
			}
			l.validUntil = sent.Add(l.length * 5 / 6)
			l.start()
			return l, nil
		}
		if !errors.Is(err, objstore.ErrPrecondition) {
			return nil, err
		}
		holder, etag, err := t.read(ctx)
		if errors.Is(err, objstore.ErrNotFound) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, err
		}
		if etag != seenETag {
			seenETag, seenAt = etag, time.Now()
		}
		holderLease := time.Duration(holder.LeaseSeconds) * time.Second
		if holderLease <= 0 {
			holderLease = t.length
		}
		stale := holder.sameHost && !alive(holder.PID) || time.Since(seenAt) > holderLease
		if stale {
			sent := time.Now()
			err := l.put(ctx, objstore.PutOptions{IfMatch: etag})
			if err == nil {
				l.validUntil = sent.Add(l.length * 5 / 6)
				break
			}
			if !errors.Is(err, objstore.ErrPrecondition) && !errors.Is(err, objstore.ErrNotFound) {
				return nil, err
			}
			continue // another push took it first, or it was released
		}
		if !waited && t.onWait != nil {
			t.onWait(holder)
		}
		waited = true
		if !time.Now().Before(deadline) {
			return nil, &LockedError{Lock: t.url, Holder: holder, Waited: t.timeout}
		}
		timer := time.NewTimer(min(t.poll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
	// A second create must be refused: if the store takes it, it ignores If-None-Match.
	err := l.put(ctx, objstore.PutOptions{IfNoneMatch: true})
	switch {
	case errors.Is(err, objstore.ErrPrecondition):
		l.conditional = true
	case err == nil, errors.Is(err, objstore.ErrUnsupported):
	default:
		return nil, errors.Join(err, l.release(context.WithoutCancel(ctx)))
	}
	l.start()
	return l, nil
}

// read reads the lock object: what it says, and its ETag. A lock object that is not one is held
// by nobody known, and is waited out like any other.
func (t *lockTarget) read(ctx context.Context) (Holder, string, error) {
	r, o, err := t.st.Get(ctx, t.bucket, t.key, nil)
	if err != nil {
		return Holder{}, "", err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxLockBytes))
	if err != nil {
		return Holder{}, "", err
	}
	h, err := parseLock(b)
	if err != nil {
		return Holder{}, o.ETag, nil
	}
	h.sameHost = h.HostID == hostID()
	return h, o.ETag, nil
}

// put writes the lock object with the next renewal count.
func (l *lease) put(ctx context.Context, opt objstore.PutOptions) error {
	l.doc.Renewals++
	b, _ := json.Marshal(l.doc)
	opt.ContentType = "application/json"
	opt.CacheControl = "no-store"
	o, err := l.st.Put(ctx, l.bucket, l.key, bytes.NewReader(b), opt)
	if err != nil {
		return err
	}
	l.etag = o.ETag
	return nil
}

// start renews the lease every third of its length until release.
func (l *lease) start() {
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		tick := time.NewTicker(l.length / 3)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), l.length/3)
			l.mu.Lock()
			sent := time.Now()
			err := l.put(ctx, objstore.PutOptions{IfMatch: l.etag})
			switch {
			case err == nil:
				l.validUntil = sent.Add(l.length * 5 / 6)
			case errors.Is(err, objstore.ErrPrecondition), errors.Is(err, objstore.ErrNotFound):
				l.lost = fmt.Errorf("%w: another push took it over", ErrLockLost)
			}
			lost := l.lost != nil
			l.mu.Unlock()
			cancel()
			if lost {
				return
			}
		}
	}()
}

// check says whether the lease still holds: renewed within most of its length, and not taken
// over. Every write of the push asks first.
func (l *lease) check() error {
	if l == nil {
		return nil // a dry run writes nothing
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	if time.Now().After(l.validUntil) {
		return fmt.Errorf("%w: it could not be renewed for %s (the store did not answer)", ErrLockLost, l.length*5/6)
	}
	return nil
}

// release stops the renewals and deletes the lock object if it is still this push's.
func (l *lease) release(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if l.stop != nil {
		close(l.stop)
		<-l.done
		l.stop = nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return nil
	}
	err := l.st.DeleteIfMatch(ctx, l.bucket, l.key, l.etag)
	if errors.Is(err, objstore.ErrUnsupported) {
		o, herr := l.st.Head(ctx, l.bucket, l.key)
		if herr != nil || o.ETag != l.etag {
			return nil
		}
		err = l.st.Delete(ctx, l.bucket, l.key)
	}
	if errors.Is(err, objstore.ErrPrecondition) || errors.Is(err, objstore.ErrNotFound) {
		return nil // taken over meanwhile: no longer ours to delete
	}
	return err
}
