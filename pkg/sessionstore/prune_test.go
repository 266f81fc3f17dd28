package sessionstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// pushDated pushes a sealed copy of the demo session to bucket/prefix with the given
// delete-after date.
func pushDated(t *testing.T, c *objstore.Client, bucket, prefix string, deleteAfter time.Time) objstore.URL {
	t.Helper()
	dir := testutil.DemoSession(t)
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.DeleteAfter = deleteAfter
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if err := session.Seal(dir, nil); err != nil {
		t.Fatal(err)
	}
	u := objstore.URL{Bucket: bucket, Prefix: prefix}
	if _, err := sessionstore.Push(context.Background(), c, dir, u, sessionstore.Options{}); err != nil {
		t.Fatal(err)
	}
	return u
}

// versionsOf lists every version under prefix through the server's own client.
func versionsOf(t *testing.T, srv *s3server.Server, bucket, prefix string) []string {
	t.Helper()
	out, err := srv.Client().ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, v := range out.Versions {
		keys = append(keys, strings.TrimPrefix(aws.ToString(v.Key), prefix))
	}
	for _, m := range out.DeleteMarkers {
		keys = append(keys, "marker:"+strings.TrimPrefix(aws.ToString(m.Key), prefix))
	}
	slices.Sort(keys)
	return keys
}

func paths(es []session.PruneEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Path)
	}
	return out
}

// TestPruneBucket: in both buckets, prune deletes the expired session (every version of it in
// the versioned one, leaving no delete marker), and keeps a fresh one, a held one, one without a
// date, an incomplete one (files without manifest) and a live one (pieces under .live/);
// --dry-run deletes nothing; objects outside session folders stay.
func TestPruneBucket(t *testing.T) {
	srv, c, _ := setup(t)
	ctx := context.Background()
	now := time.Now()
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		pushDated(t, c, b, "shows/old", now.Add(-time.Hour))
		pushDated(t, c, b, "shows/fresh", now.Add(24*time.Hour))
		held := pushDated(t, c, b, "shows/held", now.Add(-time.Hour))
		pushDated(t, c, b, "shows/undated", time.Time{})
		if _, err := sessionstore.Hold(ctx, c, held, "moderation #7", now); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"shows/half/tracks/a-1.opus", "shows/rec/.live/a-1/000001.opus", "shows/notes.txt", "shows/.hidden/manifest.json"} {
			if _, err := c.Put(ctx, b, k, strings.NewReader("x"), objstore.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		root := objstore.URL{Bucket: b, Prefix: "shows"}
		before := versionsOf(t, srv, b, "shows/")
		rep, err := sessionstore.Prune(ctx, c, root, sessionstore.PruneOptions{PruneOptions: session.PruneOptions{DryRun: true}})
		if err != nil {
			t.Fatal(err)
		}
		if got := paths(rep.Deleted); !slices.Equal(got, []string{"old"}) {
			t.Fatalf("%s: dry run would delete %q, want [old]", b, got)
		}
		if after := versionsOf(t, srv, b, "shows/"); !slices.Equal(before, after) {
			t.Fatalf("%s: a dry run changed the bucket:\n%q\n%q", b, before, after)
		}
		rep, err = sessionstore.Prune(ctx, c, root, sessionstore.PruneOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := paths(rep.Deleted); !slices.Equal(got, []string{"old"}) {
			t.Fatalf("%s: deleted %q, want [old]", b, got)
		}
		if got := paths(rep.Kept); !slices.Equal(got, []string{"fresh", "half", "held", "rec", "undated"}) {
			t.Fatalf("%s: kept %q", b, got)
		}
		for _, e := range rep.Kept {
			want := map[string]string{"fresh": "delete_after is", "half": "incomplete", "held": "moderation #7", "rec": ".live/", "undated": "no delete_after"}[e.Path]
			if !strings.Contains(e.Reason, want) {
				t.Errorf("%s: kept %s because %q, want it to say %q", b, e.Path, e.Reason, want)
			}
		}
		if v := versionsOf(t, srv, b, "shows/old/"); len(v) != 0 {
			t.Errorf("%s: left of the pruned session: %q", b, v)
		}
		for _, k := range []string{"shows/notes.txt", "shows/.hidden/manifest.json", "shows/half/tracks/a-1.opus", "shows/rec/.live/a-1/000001.opus", "shows/held/manifest.json", "shows/fresh/tracks/ada-1.opus"} {
			if _, err := c.Head(ctx, b, k); err != nil {
				t.Errorf("%s: %s: %v after prune", b, k, err)
			}
		}
		if _, err := c.Head(ctx, b, session.PruneLockName); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("%s: the lock is left: %v", b, err)
		}
		if v := versionsOf(t, srv, b, "shows/"+session.PruneLockName); len(v) != 0 {
			t.Errorf("%s: versions of the lock left: %q", b, v)
		}
	}
}

// TestPruneSingleSession: a root that is one session is judged alone; its lock is in its parent.
func TestPruneSingleSession(t *testing.T) {
	srv, c, _ := setup(t)
	u := pushDated(t, c, srv.Bucket, "a/old", time.Now().Add(-time.Hour))
	pushDated(t, c, srv.Bucket, "a/other", time.Now().Add(-time.Hour))
	rep, err := sessionstore.Prune(context.Background(), c, u, sessionstore.PruneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(rep.Deleted); !slices.Equal(got, []string{"."}) {
		t.Fatalf("deleted %q", got)
	}
	if got := keys(t, c, srv.Bucket, "a/"); len(got) != 5 || !strings.HasPrefix(got[0], "other/") {
		t.Fatalf("left: %q, want the other session only", got)
	}
	_, err = sessionstore.Prune(context.Background(), c, objstore.URL{Bucket: srv.Bucket, Prefix: "nothing"}, sessionstore.PruneOptions{})
	if !errors.Is(err, session.ErrNoSessions) {
		t.Fatalf("prune of an empty prefix: %v, want ErrNoSessions", err)
	}
}

// failing is a store whose deletions fail after a number of them: a prune stopped half-way.
type failing struct {
	*objstore.Client
	mu   sync.Mutex
	left int
}

var errCut = errors.New("connection cut")

func (f *failing) cut() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left == 0 {
		return errCut
	}
	f.left--
	return nil
}

func (f *failing) DeleteVersion(ctx context.Context, bucket, key, id string) error {
	if err := f.cut(); err != nil {
		return err
	}
	return f.Client.DeleteVersion(ctx, bucket, key, id)
}

func (f *failing) DeleteIfMatch(ctx context.Context, bucket, key, etag string) error {
	if err := f.cut(); err != nil {
		return err
	}
	return f.Client.DeleteIfMatch(ctx, bucket, key, etag)
}

// TestPruneInterrupted: a prune whose connection fails after two deletions leaves the session
// without its manifest (incomplete: pull refuses it, no reader takes it for whole) and a
// journal (and its lock, which the next prune takes over once stale); the next prune finishes
// it and reports so; in both buckets.
func TestPruneInterrupted(t *testing.T) {
	srv, c, _ := setup(t)
	ctx := context.Background()
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		u := pushDated(t, c, b, "shows/old", time.Now().Add(-time.Hour))
		root := objstore.URL{Bucket: b, Prefix: "shows"}
		_, err := sessionstore.Prune(ctx, &failing{Client: c, left: 2}, root, sessionstore.PruneOptions{})
		if !errors.Is(err, errCut) {
			t.Fatalf("%s: prune cut half-way: %v", b, err)
		}
		left := keys(t, c, b, "shows/old/")
		if slices.Contains(left, session.ManifestName) || !slices.Contains(left, sessionstore.PruneJournalName) || len(left) < 2 {
			t.Fatalf("%s: after the cut: %q, want no manifest, the journal and some tracks", b, left)
		}
		if _, err := sessionstore.Pull(ctx, c, u, t.TempDir()+"/x", sessionstore.Options{}); !errors.Is(err, sessionstore.ErrIncomplete) {
			t.Fatalf("%s: pull of the half-pruned session: %v, want ErrIncomplete", b, err)
		}
		// A dry run says what is there and changes nothing.
		rep, err := sessionstore.Prune(ctx, c, root, sessionstore.PruneOptions{PruneOptions: session.PruneOptions{DryRun: true}})
		if err != nil || len(rep.Kept) != 1 || !strings.Contains(rep.Kept[0].Reason, "stopped half-way") {
			t.Fatalf("%s: dry run over the half-pruned session: %+v, %v", b, rep, err)
		}
		// The cut prune left its lock: this one takes it over once it has stood still for LeaseTTL.
		rep, err = sessionstore.Prune(ctx, c, root, sessionstore.PruneOptions{LeaseTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rep.Finished, []string{"old"}) {
			t.Fatalf("%s: Finished = %q, want [old]", b, rep.Finished)
		}
		if v := versionsOf(t, srv, b, "shows/"); len(v) != 0 {
			t.Fatalf("%s: left after the second prune: %q", b, v)
		}
	}
}

// slowDeletes delays every deletion, so that a prune is still at work when another starts.
type slowDeletes struct {
	*objstore.Client
	mu      sync.Mutex
	active  *int
	overlap *bool
}

func (s *slowDeletes) DeleteIfMatch(ctx context.Context, bucket, key, etag string) error {
	s.mu.Lock()
	*s.active++
	if *s.active > 1 {
		*s.overlap = true
	}
	s.mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	err := s.Client.DeleteIfMatch(ctx, bucket, key, etag)
	s.mu.Lock()
	*s.active--
	s.mu.Unlock()
	return err
}

// TestPruneTwoAtOnce: of two prunes of one prefix started together, one deletes and the other,
// waiting less than the first takes, gives up with ErrLocked having deleted nothing; no two
// deletions ever run at once. A third prune that waits long enough runs after the first.
func TestPruneTwoAtOnce(t *testing.T) {
	srv, c, _ := setup(t)
	for _, n := range []string{"a", "b", "c"} {
		pushDated(t, c, srv.Bucket, "shows/"+n, time.Now().Add(-time.Hour))
	}
	root := objstore.URL{Bucket: srv.Bucket, Prefix: "shows"}
	var active int
	var overlap bool
	var mu sync.Mutex
	st := &slowDeletes{Client: c, active: &active, overlap: &overlap}
	type result struct {
		rep *session.PruneReport
		err error
	}
	res := make(chan result, 3)
	for _, wait := range []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 30 * time.Second} {
		go func() {
			rep, err := sessionstore.Prune(context.Background(), st, root, sessionstore.PruneOptions{PruneOptions: session.PruneOptions{LockWait: wait}})
			mu.Lock()
			defer mu.Unlock()
			res <- result{rep, err}
		}()
	}
	deleted, locked := 0, 0
	for range 3 {
		r := <-res
		switch {
		case errors.Is(r.err, session.ErrLocked):
			locked++
		case r.err != nil:
			t.Fatal(r.err)
		default:
			deleted += len(r.rep.Deleted)
		}
	}
	if overlap {
		t.Error("two prunes deleted at the same time")
	}
	if deleted != 3 || locked < 1 {
		t.Fatalf("deleted %d sessions, %d prunes refused; want 3 deleted once, at least one refused", deleted, locked)
	}
}

// TestPruneTakesOverStaleLock: a lock left by a prune that died (never renewed) is taken over
// once it has not changed for PruneOptions.LeaseTTL.
func TestPruneTakesOverStaleLock(t *testing.T) {
	srv, c, _ := setup(t)
	pushDated(t, c, srv.Bucket, "shows/a", time.Now().Add(-time.Hour))
	if _, err := c.Put(context.Background(), srv.Bucket, "shows/"+session.PruneLockName, bytes.NewReader([]byte(`{"owner":"dead host pid 1"}`)), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	root := objstore.URL{Bucket: srv.Bucket, Prefix: "shows"}
	_, err := sessionstore.Prune(context.Background(), c, root, sessionstore.PruneOptions{PruneOptions: session.PruneOptions{LockWait: 100 * time.Millisecond}, LeaseTTL: 300 * time.Millisecond})
	if !errors.Is(err, session.ErrLocked) || !strings.Contains(err.Error(), "dead host pid 1") {
		t.Fatalf("prune against a fresh lock: %v, want ErrLocked naming its owner", err)
	}
	rep, err := sessionstore.Prune(context.Background(), c, root, sessionstore.PruneOptions{PruneOptions: session.PruneOptions{LockWait: 5 * time.Second}, LeaseTTL: 300 * time.Millisecond})
	if err != nil || len(rep.Deleted) != 1 {
		t.Fatalf("prune against a stale lock: %+v, %v", rep, err)
	}
}

// r2Like is a store as Cloudflare R2's S3 API documents itself: no GetBucketVersioning, no
// GetObjectLockConfiguration (NotImplemented), and, in ignoresIf, a store that ignores
// If-None-Match.
type r2Like struct {
	*objstore.Client
	ignoresIf bool
}

func (r *r2Like) Versioning(context.Context, string) (bool, error) {
	return false, &objstore.Error{Op: "get bucket versioning", Code: "NotImplemented", Detail: "NotImplemented (HTTP 501)"}
}

func (r *r2Like) ObjectLock(context.Context, string) (bool, error) {
	return false, &objstore.Error{Op: "get object lock configuration", Code: "NotImplemented", Detail: "NotImplemented (HTTP 501)"}
}

func (r *r2Like) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, opt objstore.PutOptions) (objstore.Object, error) {
	if r.ignoresIf {
		opt.IfNoneMatch, opt.IfMatch = false, ""
	}
	return r.Client.Put(ctx, bucket, key, body, opt)
}

// TestPruneStoreWithoutVersioningAPI: a store that does not implement the versioning and Object
// Lock questions is pruned as a plain bucket; one that ignores conditional writes is refused
// (ErrNoConditional) before anything is deleted, its lock removed.
func TestPruneStoreWithoutVersioningAPI(t *testing.T) {
	srv, c, _ := setup(t)
	pushDated(t, c, srv.Bucket, "shows/old", time.Now().Add(-time.Hour))
	root := objstore.URL{Bucket: srv.Bucket, Prefix: "shows"}
	_, err := sessionstore.Prune(context.Background(), &r2Like{Client: c, ignoresIf: true}, root, sessionstore.PruneOptions{})
	if !errors.Is(err, sessionstore.ErrNoConditional) {
		t.Fatalf("prune on a store that ignores If-None-Match: %v, want ErrNoConditional", err)
	}
	if got := keys(t, c, srv.Bucket, "shows/"); len(got) != 5 {
		t.Fatalf("after the refusal the bucket holds %q, want the session's 5 objects and no lock", got)
	}
	rep, err := sessionstore.Prune(context.Background(), &r2Like{Client: c}, root, sessionstore.PruneOptions{})
	if err != nil || len(rep.Deleted) != 1 {
		t.Fatalf("prune as on R2: %+v, %v", rep, err)
	}
	if got := keys(t, c, srv.Bucket, "shows/"); len(got) != 0 {
		t.Fatalf("left: %q", got)
	}
}
