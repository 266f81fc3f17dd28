// Package bucketlock is a lock held in an object-store bucket: a lease object created only if
// absent (If-None-Match: *), renewed with If-Match on its ETag, taken over when it has not
// changed for its TTL by the waiter's own clock (no two clocks are compared), and deleted at the
// end. Site pushes and prunes take turns with it.
package bucketlock

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
)

// Store is what a lock needs of a bucket; *objstore.Client is one.
type Store interface {
	Put(ctx context.Context, bucket, key string, body io.ReadSeeker, opt objstore.PutOptions) (objstore.Object, error)
	Get(ctx context.Context, bucket, key string, r *objstore.Range) (io.ReadCloser, objstore.Object, error)
	Head(ctx context.Context, bucket, key string) (objstore.Object, error)
	Delete(ctx context.Context, bucket, key string) error
	DeleteIfMatch(ctx context.Context, bucket, key, etag string) error
}

// VersionStore is a Store that lists and deletes object versions, which a lock in a versioned
// bucket needs (Options.Versioned); *objstore.Client is one.
type VersionStore interface {
	Store
	ListVersions(ctx context.Context, bucket, prefix string) iter.Seq2[objstore.Version, error]
	DeleteVersion(ctx context.Context, bucket, key, versionID string) error
}

var _ VersionStore = (*objstore.Client)(nil)

// Unconditional is what a lock does on a store that ignores conditional writes (it accepts a
// second create of the lock), where the lock keeps no one out.
type Unconditional int

const (
	// Refuse releases the lock and fails with Options.NoConditional.
	Refuse Unconditional = iota
	// Warn keeps the lock, and Lock.Conditional says it excludes no one.
	Warn
)

// Options are a lock's timings and policies. TTL and Format are required.
type Options struct {
	// Format names the kind of lock in its object ("spacecast-prune-lock"); a lock object of
	// another format is held by an unknown holder.
	Format string
	// Who names the holders in messages ("push", "prune").
	Who string
	// TTL is how long a lock stands without a renewal before a waiter takes it over.
	TTL time.Duration
	// Renew is the time between renewals (TTL/4 when 0).
	Renew time.Duration
	// Valid is how long after a renewal was sent the holder still trusts its lock (Check), which
	// must be less than TTL so that no waiter can have taken it over meanwhile (TTL/2 when 0).
	Valid time.Duration
	// Wait bounds how long Acquire waits for another's lock (a minute when 0).
	Wait time.Duration
	// Poll is the time between looks at another's lock (min(1 s, TTL/10, Wait/4) when 0).
	Poll time.Duration
	// HolderTTL makes a waiter wait out the TTL the lock object declares, when it declares
	// one, rather than its own.
	HolderTTL bool
	// DeadLocal takes a lock over at once when its holder is a process of this machine that no
	// longer runs.
	DeadLocal bool
	// Versioned: the bucket keeps versions. Release then deletes every version of the lock
	// (older first, so that no stale lock comes back as the current one), and Acquire deletes
	// the delete markers that some servers take for an object. The store must be a VersionStore.
	Versioned bool
	// Unconditional is what to do on a store that ignores conditional writes.
	Unconditional Unconditional
	// OnWait is called once, when another holds the lock and Acquire starts to wait.
	OnWait func(Holder)
	// Lost and NoConditional are the errors the lock's failures wrap (ErrLost and
	// ErrNoConditional when nil): the caller's own sentinels.
	Lost, NoConditional error
}

func (o *Options) fill() error {
	if o.TTL <= 0 || o.Format == "" {
		return errors.New("bucketlock: a lock needs a TTL and a format")
	}
	if o.Renew <= 0 {
		o.Renew = o.TTL / 4
	}
	if o.Valid <= 0 {
		o.Valid = o.TTL / 2
	}
	if o.Wait <= 0 {
		o.Wait = time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = max(time.Millisecond, min(time.Second, o.TTL/10, o.Wait/4))
	}
	if o.Who == "" {
		o.Who = "holder"
	}
	if o.Lost == nil {
		o.Lost = ErrLost
	}
	if o.NoConditional == nil {
		o.NoConditional = ErrNoConditional
	}
	return nil
}

// Lock is a held lock, renewed in the background until Release.
type Lock struct {
	st          Store
	bucket, key string
	url         string
	opt         Options
	conditional bool
	takenOver   Holder
	tookOver    bool

	mu         sync.Mutex
	doc        Holder
	etag       string
	validUntil time.Time // by this machine's clock: the last renewal sent, plus Valid
	lost       error

	stop chan struct{}
	done chan struct{}
}

// Acquire takes the lock bucket/key: it creates the lock object only if there is none. While
// another holds it, it waits up to Options.Wait (then a *LockedError), and takes it over (If-Match
// on the ETag it saw) when the object has not changed for a TTL by this machine's clock, or
// (Options.DeadLocal) at once when its holder is a dead process of this machine. It then checks
// that the store refuses a second create: a store that takes it ignores conditional writes, and
// the lock is refused or kept (Options.Unconditional).
func Acquire(ctx context.Context, st Store, bucket, key string, opt Options) (*Lock, error) {
	if err := opt.fill(); err != nil {
		return nil, err
	}
	if _, ok := st.(VersionStore); opt.Versioned && !ok {
		return nil, errors.New("bucketlock: a lock in a versioned bucket needs a store that lists versions")
	}
	owner := make([]byte, 12)
	_, _ = rand.Read(owner)
	l := &Lock{st: st, bucket: bucket, key: key, url: objstore.URL{Bucket: bucket, Prefix: key}.String(), opt: opt,
		doc: Holder{Format: opt.Format, Owner: hex.EncodeToString(owner), HostID: hostID(), PID: os.Getpid(),
			Since: time.Now().UTC().Truncate(time.Second), LeaseSeconds: int(opt.TTL.Round(time.Second) / time.Second)}}
	if err := l.take(ctx); err != nil {
		return nil, err
	}
	// A second create must be refused: if the store takes it, it ignores If-None-Match.
	err := l.put(ctx, objstore.PutOptions{IfNoneMatch: true})
	switch {
	case errors.Is(err, objstore.ErrPrecondition):
		l.conditional = true
	case err == nil, errors.Is(err, objstore.ErrUnsupported):
		if opt.Unconditional == Refuse {
			rerr := l.Release(context.WithoutCancel(ctx))
			return nil, errors.Join(fmt.Errorf("%s: %w", l.url, opt.NoConditional), rerr)
		}
	default:
		return nil, errors.Join(err, l.Release(context.WithoutCancel(ctx)))
	}
	l.start()
	return l, nil
}

// take creates the lock object, or waits for it and takes it over.
func (l *Lock) take(ctx context.Context) error {
	deadline := time.Now().Add(l.opt.Wait)
	var seenETag string
	var seenAt time.Time
	var holder Holder
	waited, retried := false, false
	for {
		err := l.put(ctx, objstore.PutOptions{IfNoneMatch: true})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, objstore.ErrUnsupported):
			// A store that refuses the header outright: lock without it; Acquire's check of a
			// second create tells.
			return l.put(ctx, objstore.PutOptions{})
		case !errors.Is(err, objstore.ErrPrecondition):
			return err
		}
		var etag string
		holder, etag, err = l.read(ctx)
		switch {
		case errors.Is(err, objstore.ErrNotFound):
			// Released meanwhile, or hidden by a delete marker, which some servers (versitygw)
			// take for an object with If-None-Match: clear the released versions and try
			// again, once at once. A store that may not be versioned is asked, and may not
			// know how: then there is nothing to clear.
			if vst, ok := l.st.(VersionStore); ok {
				if err := l.clearReleased(ctx, vst); err != nil && l.opt.Versioned {
					return err
				}
			}
			if !retried {
				retried = true
				continue
			}
		case err != nil:
			return err
		default:
			if etag != seenETag {
				seenETag, seenAt = etag, time.Now()
			}
			ttl := l.opt.TTL
			if d := time.Duration(holder.LeaseSeconds) * time.Second; l.opt.HolderTTL && d > 0 {
				ttl = d
			}
			if l.opt.DeadLocal && holder.sameHost && !alive(holder.PID) || time.Since(seenAt) > ttl {
				err := l.put(ctx, objstore.PutOptions{IfMatch: etag})
				if err == nil {
					l.takenOver, l.tookOver = holder, true
					return nil
				}
				if !errors.Is(err, objstore.ErrPrecondition) && !errors.Is(err, objstore.ErrNotFound) {
					return err
				}
				continue // another took it first, or it was released
			}
			if !waited && l.opt.OnWait != nil {
				l.opt.OnWait(holder)
			}
			waited = true
		}
		if !time.Now().Before(deadline) {
			return &LockedError{Lock: l.url, Holder: holder, Waited: l.opt.Wait}
		}
		retried = false
		timer := time.NewTimer(min(l.opt.Poll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// read reads the lock object: what it says, and its ETag.
func (l *Lock) read(ctx context.Context) (Holder, string, error) {
	r, o, err := l.st.Get(ctx, l.bucket, l.key, nil)
	if err != nil {
		return Holder{}, "", err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return Holder{}, "", err
	}
	h, _ := Parse(b, l.opt.Format) // a lock object that is not one is held by someone unknown
	return h, o.ETag, nil
}

// put writes the lock object with the next renewal count (so that its ETag changes), and
// notes its ETag and how long it is valid when it is stored. Only Acquire calls it, before the
// renewals start.
func (l *Lock) put(ctx context.Context, opt objstore.PutOptions) error {
	l.doc.Renewals++
	etag, valid, err := l.write(ctx, l.doc, opt)
	if err != nil {
		return err
	}
	l.etag, l.validUntil = etag, valid
	return nil
}

// write stores doc as the lock object; it returns the object's ETag and until when, counted from
// the moment it was sent, the lock is valid.
func (l *Lock) write(ctx context.Context, doc Holder, opt objstore.PutOptions) (string, time.Time, error) {
	b, _ := json.Marshal(doc)
	opt.ContentType = "application/json"
	opt.CacheControl = "no-store"
	sent := time.Now()
	o, err := l.st.Put(ctx, l.bucket, l.key, bytes.NewReader(b), opt)
	if err != nil {
		return "", time.Time{}, err
	}
	return o.ETag, sent.Add(l.opt.Valid), nil
}

// start renews the lock every Options.Renew until Release or its loss.
func (l *Lock) start() {
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.done)
		tick := time.NewTicker(l.opt.Renew)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			// The request runs outside the mutex, so that Check never waits for the store.
			l.mu.Lock()
			l.doc.Renewals++
			doc, etag := l.doc, l.etag
			l.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), l.opt.Renew)
			etag, valid, err := l.write(ctx, doc, objstore.PutOptions{IfMatch: etag})
			cancel()
			l.mu.Lock()
			switch {
			case err == nil:
				l.etag, l.validUntil = etag, valid
			case errors.Is(err, objstore.ErrPrecondition), errors.Is(err, objstore.ErrNotFound):
				l.lost = fmt.Errorf("%w: another %s took it over", l.opt.Lost, l.opt.Who)
			}
			lost := l.lost != nil
			l.mu.Unlock()
			if lost {
				return
			}
		}
	}()
}

// Check says whether the lock still holds: renewed within Options.Valid, and not taken over.
// The holder asks before each thing the lock guards. A nil Lock (none taken) always holds.
func (l *Lock) Check() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	if time.Now().After(l.validUntil) {
		return fmt.Errorf("%w: it could not be renewed for %s (the store did not answer)", l.opt.Lost, l.opt.Valid)
	}
	return nil
}

// Conditional reports whether the store refused a second create of the lock: false when it
// ignores conditional writes, so that the lock keeps no one out (Warn).
func (l *Lock) Conditional() bool { return l.conditional }

// TakenOver is the holder of a stale lock this one replaced; ok is false when there was none.
func (l *Lock) TakenOver() (h Holder, ok bool) { return l.takenOver, l.tookOver }

// Release stops the renewals and deletes the lock object if it is still this lock's (in a
// versioned bucket, every version of it). A lock taken over meanwhile is left to its new holder.
// Releasing a nil Lock, or one released, does nothing.
func (l *Lock) Release(ctx context.Context) error {
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
	if l.lost != nil || l.etag == "" {
		return nil
	}
	etag := l.etag
	l.etag = ""
	if l.opt.Versioned {
		return l.purge(ctx)
	}
	err := l.st.DeleteIfMatch(ctx, l.bucket, l.key, etag)
	if errors.Is(err, objstore.ErrUnsupported) {
		o, herr := l.st.Head(ctx, l.bucket, l.key)
		if herr != nil || o.ETag != etag {
			return nil
		}
		err = l.st.Delete(ctx, l.bucket, l.key)
	}
	if errors.Is(err, objstore.ErrPrecondition) || errors.Is(err, objstore.ErrNotFound) {
		return nil // taken over meanwhile: no longer this lock's to delete
	}
	return err
}

// purge deletes every version of the lock object, older ones first.
func (l *Lock) purge(ctx context.Context) error {
	vst := l.st.(VersionStore)
	var vs []objstore.Version
	for v, err := range vst.ListVersions(ctx, l.bucket, l.key) {
		if err != nil {
			return err
		}
		if v.Key == l.key {
			vs = append(vs, v)
		}
	}
	slices.Reverse(vs)
	for _, v := range vs {
		if err := vst.DeleteVersion(ctx, l.bucket, l.key, v.VersionID); err != nil {
			return err
		}
	}
	return nil
}

// clearReleased deletes the versions of a lock object that has none current (each a lock
// released) and then its delete markers. The current version is never touched, so a lock
// taken meanwhile stays, and the older versions go before the markers, so none comes back as the
// current one.
func (l *Lock) clearReleased(ctx context.Context, vst VersionStore) error {
	var old, markers []objstore.Version
	for v, err := range vst.ListVersions(ctx, l.bucket, l.key) {
		if err != nil {
			return err
		}
		switch {
		case v.Key != l.key:
		case v.DeleteMarker:
			markers = append(markers, v)
		case !v.Latest:
			old = append(old, v)
		}
	}
	for _, v := range slices.Concat(old, markers) {
		if err := vst.DeleteVersion(ctx, l.bucket, l.key, v.VersionID); err != nil {
			return err
		}
	}
	return nil
}
