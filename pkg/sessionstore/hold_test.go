package sessionstore_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// TestHoldBucket: in the Object Lock bucket a hold puts a legal hold on every version of the
// session (an older version of a file included) and hold.json; release lifts them all and
// removes hold.json with every version of it. In the plain bucket only the marker is written.
func TestHoldBucket(t *testing.T) {
	srv, c, dir := setup(t)
	ctx := context.Background()
	root := srv.Client()
	for _, b := range []string{srv.LockedBucket, srv.Bucket} {
		u := objstore.URL{Bucket: b, Prefix: "town-hall"}
		if _, err := sessionstore.Push(ctx, c, dir, u, sessionstore.Options{}); err != nil {
			t.Fatal(err)
		}
		// A second version of a file (a re-upload): it must be held too.
		if err := putFile(c, b, u.Key("tracks/ada-1.opus"), dir+"/tracks/ada-1.opus"); err != nil {
			t.Fatal(err)
		}
		rep, err := sessionstore.Hold(ctx, c, u, "legal request #9", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		locked := b == srv.LockedBucket
		if rep.ObjectLock != locked || locked && rep.LegalHolds != 7 || !locked && rep.LegalHolds != 0 || rep.Hold.Reason != "legal request #9" {
			t.Fatalf("%s: Hold = %+v, want 7 legal holds in the Object Lock bucket (4 tracks, one twice, manifest, hold.json), none in the plain one", b, rep)
		}
		h, err := getHold(ctx, c, u)
		if err != nil || h.Reason != "legal request #9" {
			t.Fatalf("%s: hold.json: %+v, %v", b, h, err)
		}
		if locked {
			out, err := root.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b), Prefix: aws.String(u.Dir())})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range out.Versions {
				if _, err := root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: v.Key, VersionId: v.VersionId}); err == nil {
					t.Fatalf("%s: version %s of %s deleted under a hold", b, aws.ToString(v.VersionId), aws.ToString(v.Key))
				}
			}
		}
		rel, err := sessionstore.Release(ctx, c, u)
		if err != nil || rel.Hold == nil || rel.Hold.Reason != "legal request #9" || locked && rel.LegalHolds != 7 {
			t.Fatalf("%s: Release = %+v, %v", b, rel, err)
		}
		if v := versionsOf(t, srv, b, u.Key(session.HoldName)); len(v) != 0 {
			t.Fatalf("%s: hold.json left: %q", b, v)
		}
		again, err := sessionstore.Release(ctx, c, u)
		if err != nil || again.Hold != nil || again.LegalHolds != 0 {
			t.Fatalf("%s: second Release = %+v, %v; want nothing to do", b, again, err)
		}
	}
}

// TestHoldRefusals: a blank reason, an empty place and an incomplete session are refused, and
// nothing is written.
func TestHoldRefusals(t *testing.T) {
	srv, c, _ := setup(t)
	ctx := context.Background()
	if _, err := c.Put(ctx, srv.Bucket, "half/tracks/a.opus", strings.NewReader("x"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		prefix string
		reason string
		want   error
	}{
		{"a blank reason", "half", " ", session.ErrBadHold},
		{"nothing stored there", "none", "r", sessionstore.ErrNoSession},
		{"files without a manifest", "half", "r", sessionstore.ErrIncomplete},
	} {
		_, err := sessionstore.Hold(ctx, c, objstore.URL{Bucket: srv.Bucket, Prefix: tc.prefix}, tc.reason, time.Now())
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if got := keys(t, c, srv.Bucket, ""); len(got) != 1 {
		t.Errorf("the refusals wrote %q", got)
	}
}

func putFile(c *objstore.Client, bucket, key, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = c.Put(context.Background(), bucket, key, f, objstore.PutOptions{})
	return err
}

func getHold(ctx context.Context, c *objstore.Client, u objstore.URL) (*session.HoldInfo, error) {
	r, _, err := c.Get(ctx, u.Bucket, u.Key(session.HoldName), nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return session.ParseHold(b)
}

// TestReleaseWithoutManifest: a held session whose manifest someone hid behind a delete marker
// (aws s3 rm) is still released: its legal holds lifted, hold.json gone.
func TestReleaseWithoutManifest(t *testing.T) {
	srv, c, dir := setup(t)
	ctx := context.Background()
	u := pushed(t, c, dir, srv.LockedBucket, "town-hall")
	if _, err := sessionstore.Hold(ctx, c, u, "court order", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, u.Bucket, u.Key(session.ManifestName)); err != nil {
		t.Fatal(err)
	}
	rep, err := sessionstore.Release(ctx, c, u)
	if err != nil || rep.LegalHolds != 6 || rep.Hold == nil {
		t.Fatalf("Release = %+v, %v; want 6 legal holds lifted and the hold", rep, err)
	}
}
