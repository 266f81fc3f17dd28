package bucketlock_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/bucketlock"
	"github.com/spacecast/spacecast/pkg/objstore"
)

const format = "spacecast-test-lock"

func newClient(t *testing.T) (*s3server.Server, *objstore.Client) {
	t.Helper()
	srv := s3server.Start(t)
	srv.Setenv(t)
	c, err := objstore.New(context.Background(), objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// opts are a lock's options for a test: a short TTL, polls every 20 ms.
func opts(ttl, wait time.Duration) bucketlock.Options {
	return bucketlock.Options{Format: format, Who: "test", TTL: ttl, Wait: wait, Poll: 20 * time.Millisecond}
}

func put(t *testing.T, c *objstore.Client, bucket, key, body string) {
	t.Helper()
	if _, err := c.Put(context.Background(), bucket, key, strings.NewReader(body), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func exists(t *testing.T, c *objstore.Client, bucket, key string) bool {
	t.Helper()
	_, err := c.Head(context.Background(), bucket, key)
	if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// versionsOf counts the versions and delete markers of key.
func versionsOf(t *testing.T, c *objstore.Client, bucket, key string) int {
	t.Helper()
	n := 0
	for v, err := range c.ListVersions(context.Background(), bucket, key) {
		if err != nil {
			t.Fatal(err)
		}
		if v.Key == key {
			n++
		}
	}
	return n
}

// TestExclusive: of eight takers of one lock at once, exactly one holds it and the others give
// up after their wait with a LockedError naming this process; once released (in the versioned
// bucket, every version of it gone) the lock is free again. In both buckets.
func TestExclusive(t *testing.T) {
	srv, c := newClient(t)
	ctx := context.Background()
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		o := opts(10*time.Second, 300*time.Millisecond)
		o.Versioned = b == srv.LockedBucket
		var mu sync.Mutex
		var held []*bucketlock.Lock
		locked := 0
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				l, err := bucketlock.Acquire(ctx, c, b, "p/.lock", o)
				mu.Lock()
				defer mu.Unlock()
				var le *bucketlock.LockedError
				switch {
				case err == nil:
					held = append(held, l)
				case errors.As(err, &le) && errors.Is(err, bucketlock.ErrLocked) && le.Holder.PID == os.Getpid() && le.Holder.SameHost():
					locked++
				default:
					t.Errorf("%s: Acquire: %v", b, err)
				}
			})
		}
		wg.Wait()
		if len(held) != 1 || locked != 7 {
			t.Fatalf("%s: 8 at once: %d hold the lock, %d refused; want 1 and 7", b, len(held), locked)
		}
		if !held[0].Conditional() {
			t.Errorf("%s: versitygw's conditional writes were not seen", b)
		}
		if err := held[0].Release(ctx); err != nil {
			t.Fatal(err)
		}
		if o.Versioned && versionsOf(t, c, b, "p/.lock") != 0 || exists(t, c, b, "p/.lock") {
			t.Fatalf("%s: release left the lock", b)
		}
		l, err := bucketlock.Acquire(ctx, c, b, "p/.lock", o)
		if err != nil {
			t.Fatalf("%s: a released lock: %v", b, err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRenewed: a held lock is renewed (its object changes) so that a waiter that watches it for
// longer than its TTL never takes it over: it is told once who holds it, and gives up with a
// LockedError naming this process on this machine; the holder's lock is still good.
func TestRenewed(t *testing.T) {
	srv, c := newClient(t)
	ctx := context.Background()
	l, err := bucketlock.Acquire(ctx, c, srv.Bucket, "p/.lock", opts(300*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	_, first, err := c.Get(ctx, srv.Bucket, "p/.lock", nil)
	if err != nil {
		t.Fatal(err)
	}
	var waits atomic.Int32
	var waitedFor bucketlock.Holder
	o := opts(300*time.Millisecond, 800*time.Millisecond)
	o.OnWait = func(h bucketlock.Holder) { waits.Add(1); waitedFor = h }
	_, err = bucketlock.Acquire(ctx, c, srv.Bucket, "p/.lock", o)
	var le *bucketlock.LockedError
	if !errors.As(err, &le) || !errors.Is(err, bucketlock.ErrLocked) || waits.Load() != 1 || waitedFor.PID != os.Getpid() || !strings.Contains(err.Error(), "on this machine") {
		t.Fatalf("a renewed lock: %v (told %d times, of %+v); want LockedError naming this process", err, waits.Load(), waitedFor)
	}
	if err := l.Check(); err != nil {
		t.Fatalf("the holder's lock lapsed while it renewed: %v", err)
	}
	if h, err := c.Head(ctx, srv.Bucket, "p/.lock"); err != nil || h.ETag == first.ETag || h.ContentType != "application/json" || h.CacheControl != "no-store" {
		t.Fatalf("the lock object after renewals: %+v, %v; want a new ETag, JSON, no-store", h, err)
	}
}

// stalling is a store whose writes fail while stalled, as when the network is gone.
type stalling struct {
	*objstore.Client
	stalled atomic.Bool
}

func (s *stalling) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, opt objstore.PutOptions) (objstore.Object, error) {
	if s.stalled.Load() {
		return objstore.Object{}, &objstore.Error{Op: "put", Bucket: bucket, Key: key, Kind: objstore.ErrUnreachable, Detail: "stalled"}
	}
	return s.Client.Put(ctx, bucket, key, body, opt)
}

var errMyLost = errors.New("my lock was lost")

// TestLostAfterStall: a holder whose renewals fail stops trusting its lock once it has not
// renewed it for Valid (its own Lost error, and ErrLost too when that wraps it), before any
// waiter can take it over (after TTL).
func TestLostAfterStall(t *testing.T) {
	srv, c := newClient(t)
	ctx := context.Background()
	st := &stalling{Client: c}
	o := opts(400*time.Millisecond, time.Second)
	o.Lost = errMyLost
	l, err := bucketlock.Acquire(ctx, st, srv.Bucket, "p/.lock", o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	st.stalled.Store(true)
	start := time.Now()
	for l.Check() == nil {
		if time.Since(start) > 2*time.Second {
			t.Fatal("a lock not renewed for 2 s still holds")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := l.Check(); !errors.Is(err, errMyLost) || !strings.Contains(err.Error(), "could not be renewed") {
		t.Fatalf("Check after a stall: %v, want the caller's Lost error", err)
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Fatalf("the holder trusted its lock for %s without renewing it: a waiter takes over after 400ms", d)
	}
}

// TestTakenOver: a lock that another wrote over (a takeover) is lost at the holder's next
// renewal ("took it over"), and its release leaves the other's lock in place.
func TestTakenOver(t *testing.T) {
	srv, c := newClient(t)
	ctx := context.Background()
	l, err := bucketlock.Acquire(ctx, c, srv.Bucket, "k", opts(200*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	put(t, c, srv.Bucket, "k", "taken by another")
	time.Sleep(150 * time.Millisecond)
	if err := l.Check(); !errors.Is(err, bucketlock.ErrLost) || !strings.Contains(err.Error(), "another test took it over") {
		t.Fatalf("Check after a takeover: %v, want ErrLost", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	r, _, err := c.Get(ctx, srv.Bucket, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "taken by another" {
		t.Fatalf("release deleted another's lock: %q", b)
	}
}

// TestStaleTakenOver: a lock that does not change is waited for while it is fresh (a
// LockedError naming the owner it gives, even one an older spacecast wrote) and taken over once
// it has stood still for the waiter's TTL, by its own clock; with HolderTTL the TTL the lock
// declares counts instead. In both buckets.
func TestStaleTakenOver(t *testing.T) {
	srv, c := newClient(t)
	ctx := context.Background()
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		put(t, c, b, "p/.lock", `{"owner":"dead host pid 1"}`)
		o := opts(300*time.Millisecond, 100*time.Millisecond)
		o.Versioned = b == srv.LockedBucket
		if _, err := bucketlock.Acquire(ctx, c, b, "p/.lock", o); !errors.Is(err, bucketlock.ErrLocked) || !strings.Contains(err.Error(), `"dead host pid 1"`) {
			t.Fatalf("%s: a fresh lock: %v, want ErrLocked naming its owner", b, err)
		}
		o.Wait = 5 * time.Second
		start := time.Now()
		l, err := bucketlock.Acquire(ctx, c, b, "p/.lock", o)
		if err != nil || time.Since(start) < 300*time.Millisecond {
			t.Fatalf("%s: a stale lock: %v after %s, want it taken after the TTL", b, err, time.Since(start))
		}
		if h, ok := l.TakenOver(); !ok || h.Owner != "dead host pid 1" {
			t.Errorf("%s: TakenOver = %+v, %v", b, h, ok)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if o.Versioned && versionsOf(t, c, b, "p/.lock") != 0 || exists(t, c, b, "p/.lock") {
			t.Fatalf("%s: release left the lock (or the stale one it replaced)", b)
		}
	}
	put(t, c, srv.Bucket, "q/.lock", `{"format":"`+format+`","owner":"y","host_id":"elsewhere","pid":1,"lease_seconds":1}`)
	o := opts(100*time.Millisecond, 5*time.Second)
	o.HolderTTL = true
	start := time.Now()
	l, err := bucketlock.Acquire(ctx, c, srv.Bucket, "q/.lock", o)
	if err != nil || time.Since(start) < time.Second {
		t.Fatalf("a lock declaring a 1 s lease: %v after %s, want it taken after 1 s", err, time.Since(start))
	}
	l.Release(ctx)
}

// TestDeadLocalHolder: with DeadLocal, the lock of a process of this machine that no longer runs
// is taken over at once, whatever lease it declares; without, it is waited for.
func TestDeadLocalHolder(t *testing.T) {
	srv, c := newClient(t)
	ctx := context.Background()
	dead := `{"format":"` + format + `","owner":"x","host_id":"` + bucketlock.HostID() + `","pid":` + strconv.Itoa(testutil.DeadPID(t)) + `,"lease_seconds":3600}`
	put(t, c, srv.Bucket, "p/.lock", dead)
	if _, err := bucketlock.Acquire(ctx, c, srv.Bucket, "p/.lock", opts(time.Hour, 200*time.Millisecond)); !errors.Is(err, bucketlock.ErrLocked) || !strings.Contains(err.Error(), "on this machine") {
		t.Fatalf("without DeadLocal: %v, want ErrLocked", err)
	}
	o := opts(time.Hour, time.Second)
	o.DeadLocal = true
	start := time.Now()
	l, err := bucketlock.Acquire(ctx, c, srv.Bucket, "p/.lock", o)
	if err != nil || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("a dead process's lock: %v after %s", err, time.Since(start))
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if exists(t, c, srv.Bucket, "p/.lock") {
		t.Fatal("release left the lock")
	}
}

// unconditional is a store that ignores conditional writes and deletes (ignores), or refuses
// them as not implemented.
type unconditional struct {
	*objstore.Client
	refuses bool
}

func (u *unconditional) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, opt objstore.PutOptions) (objstore.Object, error) {
	if u.refuses && (opt.IfNoneMatch || opt.IfMatch != "") {
		return objstore.Object{}, &objstore.Error{Op: "put", Bucket: bucket, Key: key, Kind: objstore.ErrUnsupported, Detail: "NotImplemented (HTTP 501)"}
	}
	opt.IfNoneMatch, opt.IfMatch = false, ""
	return u.Client.Put(ctx, bucket, key, body, opt)
}

func (u *unconditional) DeleteIfMatch(ctx context.Context, bucket, key, etag string) error {
	if u.refuses {
		return &objstore.Error{Op: "delete", Bucket: bucket, Key: key, Kind: objstore.ErrUnsupported, Detail: "NotImplemented (HTTP 501)"}
	}
	return u.Client.Delete(ctx, bucket, key)
}

var errMyNoConditional = errors.New("mine: no conditional writes")

// TestUnconditional: on a store that ignores If-None-Match (a second create goes through), or
// refuses it as not implemented, Refuse fails with the caller's error and leaves no lock; Warn
// holds the lock, says it is not conditional, and releases it.
func TestUnconditional(t *testing.T) {
	srv, c := newClient(t)
	ctx := context.Background()
	for _, st := range []*unconditional{{Client: c}, {Client: c, refuses: true}} {
		o := opts(time.Second, time.Second)
		o.NoConditional = errMyNoConditional
		if _, err := bucketlock.Acquire(ctx, st, srv.Bucket, "p/.lock", o); !errors.Is(err, errMyNoConditional) {
			t.Fatalf("refuses %v: Refuse: %v, want the caller's error", st.refuses, err)
		}
		if exists(t, c, srv.Bucket, "p/.lock") {
			t.Fatalf("refuses %v: a refused lock was left", st.refuses)
		}
		o.Unconditional = bucketlock.Warn
		l, err := bucketlock.Acquire(ctx, st, srv.Bucket, "p/.lock", o)
		if err != nil || l.Conditional() {
			t.Fatalf("refuses %v: Warn: %v (conditional %v), want a lock that says it is not", st.refuses, err, err == nil && l.Conditional())
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if exists(t, c, srv.Bucket, "p/.lock") {
			t.Fatalf("refuses %v: release left the lock", st.refuses)
		}
	}
}

// TestDeleteMarker: in the versioned bucket, a lock key whose current version is a delete
// marker (which versitygw takes for an object with If-None-Match) over a released lock is taken
// at once, the released lock not brought back; a lock released without Versioned (a delete
// marker left) is taken again at once too.
func TestDeleteMarker(t *testing.T) {
	srv, c := newClient(t)
	ctx := context.Background()
	for _, versioned := range []bool{true, false} {
		put(t, c, srv.LockedBucket, "p/.lock", `{"owner":"released"}`)
		if err := c.Delete(ctx, srv.LockedBucket, "p/.lock"); err != nil {
			t.Fatal(err)
		}
		o := opts(time.Hour, 2*time.Second)
		o.Versioned = versioned
		for i := range 2 {
			start := time.Now()
			l, err := bucketlock.Acquire(ctx, c, srv.LockedBucket, "p/.lock", o)
			if err != nil || time.Since(start) > time.Second {
				t.Fatalf("versioned %v, take %d: a lock behind a delete marker: %v after %s", versioned, i, err, time.Since(start))
			}
			if err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := versionsOf(t, c, srv.LockedBucket, "p/.lock"); versioned && n != 0 || !versioned && n != 2 {
			t.Fatalf("versioned %v: %d versions left, want none with Versioned, else the last lock and its marker", versioned, n)
		}
	}
}
