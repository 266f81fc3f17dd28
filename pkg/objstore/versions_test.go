package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/objstore"
)

// TestVersions: in the versioned (Object Lock) bucket, two puts and a delete of a key leave two
// versions and a delete marker, listed newest first; a legal hold on the older version refuses
// its deletion until lifted; DeleteVersion then removes every version for good. The plain
// bucket is not versioned and lists one version per key.
func TestVersions(t *testing.T) {
	srv := s3server.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	if v, err := c.Versioning(ctx, srv.LockedBucket); err != nil || !v {
		t.Fatalf("Versioning(locked) = %v, %v", v, err)
	}
	if v, err := c.Versioning(ctx, srv.Bucket); err != nil || v {
		t.Fatalf("Versioning(plain) = %v, %v", v, err)
	}
	for _, body := range []string{"one", "two"} {
		if _, err := c.Put(ctx, srv.LockedBucket, "s/a", strings.NewReader(body), objstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Delete(ctx, srv.LockedBucket, "s/a"); err != nil {
		t.Fatal(err)
	}
	vs := versions(t, c, srv.LockedBucket, "s/")
	if len(vs) != 3 || !vs[0].DeleteMarker || !vs[0].Latest || vs[1].DeleteMarker || vs[1].Size != 3 || vs[2].DeleteMarker {
		t.Fatalf("versions after put, put, delete: %+v", vs)
	}
	old := vs[2]
	if err := c.SetVersionLegalHold(ctx, srv.LockedBucket, old.Key, old.VersionID, true); err != nil {
		t.Fatal(err)
	}
	if held, err := c.VersionLegalHold(ctx, srv.LockedBucket, old.Key, old.VersionID); err != nil || !held {
		t.Fatalf("VersionLegalHold = %v, %v", held, err)
	}
	if held, err := c.VersionLegalHold(ctx, srv.LockedBucket, vs[1].Key, vs[1].VersionID); err != nil || held {
		t.Fatalf("VersionLegalHold of the version not held = %v, %v", held, err)
	}
	if err := c.DeleteVersion(ctx, srv.LockedBucket, old.Key, old.VersionID); !errors.Is(err, objstore.ErrDenied) {
		t.Fatalf("DeleteVersion of a held version: %v, want ErrDenied", err)
	}
	if err := c.SetVersionLegalHold(ctx, srv.LockedBucket, old.Key, old.VersionID, false); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if err := c.DeleteVersion(ctx, srv.LockedBucket, v.Key, v.VersionID); err != nil {
			t.Fatalf("DeleteVersion %s: %v", v.VersionID, err)
		}
	}
	if vs := versions(t, c, srv.LockedBucket, "s/"); len(vs) != 0 {
		t.Fatalf("versions left: %+v", vs)
	}
	if err := c.DeleteVersion(ctx, srv.LockedBucket, old.Key, old.VersionID); err != nil {
		t.Fatalf("DeleteVersion of a version gone: %v, want none", err)
	}

	if _, err := c.Put(ctx, srv.Bucket, "s/a", strings.NewReader("one"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	vs = versions(t, c, srv.Bucket, "s/")
	if len(vs) != 1 || !vs[0].Latest {
		t.Fatalf("versions in the plain bucket: %+v", vs)
	}
	if err := c.DeleteVersion(ctx, srv.Bucket, vs[0].Key, vs[0].VersionID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Head(ctx, srv.Bucket, "s/a"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Head after DeleteVersion in the plain bucket: %v", err)
	}
}

// TestConditionalRace: of eight writers creating one key at once (Put with IfNoneMatch), exactly
// one wins and the others get ErrPrecondition; a replace names the ETag it read and fails once the
// object changed; DeleteIfMatch deletes only the object it names, and a key without an object is
// no error to it; once the key has no version it can be created again. In both buckets; in the
// versioned one, Put says which version it stored.
func TestConditionalRace(t *testing.T) {
	srv := s3server.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	put := func(b string, body []byte, opt objstore.PutOptions) (objstore.Object, error) {
		return c.Put(ctx, b, "lock", bytes.NewReader(body), opt)
	}
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []objstore.Object
		lost := 0
		for i := range 8 {
			wg.Go(func() {
				o, err := put(b, []byte{byte('a' + i)}, objstore.PutOptions{IfNoneMatch: true})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, o)
				case errors.Is(err, objstore.ErrPrecondition):
					lost++
				default:
					t.Errorf("%s: create-only Put: %v", b, err)
				}
			})
		}
		wg.Wait()
		if len(won) != 1 || lost != 7 {
			t.Fatalf("%s: 8 creates at once: %d won, %d refused; want 1 and 7", b, len(won), lost)
		}
		if versioned := won[0].VersionID != "" && won[0].VersionID != "null"; versioned != (b == srv.LockedBucket) {
			t.Errorf("%s: Put's VersionID %q", b, won[0].VersionID)
		}
		w2, err := put(b, []byte("renewed"), objstore.PutOptions{IfMatch: won[0].ETag})
		if err != nil {
			t.Fatalf("%s: replace with the right ETag: %v", b, err)
		}
		if _, err := put(b, []byte("stale"), objstore.PutOptions{IfMatch: won[0].ETag}); !errors.Is(err, objstore.ErrPrecondition) {
			t.Fatalf("%s: replace with an old ETag: %v, want ErrPrecondition", b, err)
		}
		if err := c.DeleteIfMatch(ctx, b, "lock", won[0].ETag); !errors.Is(err, objstore.ErrPrecondition) {
			t.Fatalf("%s: DeleteIfMatch with an old ETag: %v, want ErrPrecondition", b, err)
		}
		if err := c.DeleteIfMatch(ctx, b, "lock", w2.ETag); err != nil {
			t.Fatalf("%s: DeleteIfMatch: %v", b, err)
		}
		if err := c.DeleteIfMatch(ctx, b, "never-stored", w2.ETag); err != nil {
			t.Fatalf("%s: DeleteIfMatch of a key without an object: %v, want none", b, err)
		}
		// In the versioned bucket DeleteIfMatch left a delete marker; versitygw (unlike AWS)
		// takes it for an object that exists for If-None-Match. Deleting every version frees
		// the key.
		for _, v := range versions(t, c, b, "lock") {
			if err := c.DeleteVersion(ctx, b, v.Key, v.VersionID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := put(b, []byte("again"), objstore.PutOptions{IfNoneMatch: true}); err != nil {
			t.Fatalf("%s: create after the delete: %v", b, err)
		}
	}
}

func versions(t *testing.T, c *objstore.Client, bucket, prefix string) []objstore.Version {
	t.Helper()
	var out []objstore.Version
	for v, err := range c.ListVersions(context.Background(), bucket, prefix) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}
