package sessionstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/redact"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

func redactOpts() redact.Options {
	return redact.Options{Identity: "ada", Range: true, From: time.Second, To: 3 * time.Second,
		Seal: func(d string) error { return session.Seal(d, nil) }}
}

// pullVerify pulls the session under u and verifies it; it returns its manifest.
func pullVerify(t *testing.T, c *objstore.Client, u objstore.URL) *session.Manifest {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "copy")
	if _, err := sessionstore.Pull(context.Background(), c, u, dir, sessionstore.Options{}); err != nil {
		t.Fatalf("pull %s: %v", u, err)
	}
	rep, err := session.Verify(dir, nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify of %s: %+v, %v", u, rep, err)
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s.Manifest
}

// TestRedactBucket: a stretch of one speaker redacted in each bucket: the changed track is
// stored under a new name and the old object is gone (every version of it in the versioned
// bucket), the session pulled back verifies, and the ledger has the redaction.
func TestRedactBucket(t *testing.T) {
	srv, c, dir := setup(t)
	ctx := context.Background()
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		u := pushed(t, c, dir, b, "town-hall")
		rep, err := sessionstore.Redact(ctx, c, u, t.TempDir(), redactOpts())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Renamed["tracks/ada-1.opus"] != "tracks/ada-1.r1.opus" || rep.Uploaded != 1 || rep.Deleted != 2 || !rep.Sealed || rep.Session != u.String() {
			t.Fatalf("%s: report %+v (result %+v)", b, rep, rep.Result)
		}
		m := pullVerify(t, c, u)
		if m.Tracks[0].File != "tracks/ada-1.r1.opus" || m.Consent == nil || m.Consent.Events[len(m.Consent.Events)-1].Type != "redacted" {
			t.Fatalf("%s: manifest after redaction: tracks %+v, consent %+v", b, m.Tracks, m.Consent)
		}
		if v := versionsOf(t, srv, b, "town-hall/tracks/ada-1.opus"); len(v) != 0 {
			t.Fatalf("%s: the unredacted track is left: %q", b, v)
		}
		if got := keys(t, c, b, u.Dir()); slices.Contains(got, sessionstore.RedactJournalName) {
			t.Fatalf("%s: journal left: %q", b, got)
		}
	}
}

// TestRedactRefusesLegalHold: a session under a legal hold is refused, unchanged.
func TestRedactRefusesLegalHold(t *testing.T) {
	srv, c, dir := setup(t)
	ctx := context.Background()
	u := pushed(t, c, dir, srv.LockedBucket, "town-hall")
	if _, err := sessionstore.Hold(ctx, c, u, "court order", time.Now()); err != nil {
		t.Fatal(err)
	}
	before := versionsOf(t, srv, u.Bucket, u.Dir())
	if _, err := sessionstore.Redact(ctx, c, u, t.TempDir(), redactOpts()); !errors.Is(err, sessionstore.ErrLegalHold) {
		t.Fatalf("redact of a held session: %v, want ErrLegalHold", err)
	}
	if after := versionsOf(t, srv, u.Bucket, u.Dir()); !slices.Equal(before, after) {
		t.Fatalf("a refused redaction changed the bucket:\n%q\n%q", before, after)
	}
}

// pushed pushes the session in dir to bucket/prefix.
func pushed(t *testing.T, c *objstore.Client, dir, bucket, prefix string) objstore.URL {
	t.Helper()
	u := objstore.URL{Bucket: bucket, Prefix: prefix}
	if _, err := sessionstore.Push(context.Background(), c, dir, u, sessionstore.Options{}); err != nil {
		t.Fatal(err)
	}
	return u
}

// cutAfter is a store that fails the operation named op after n of them went through.
type cutAfter struct {
	*objstore.Client
	mu   sync.Mutex
	op   string
	left int
}

func (c *cutAfter) cut(op string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if op != c.op {
		return nil
	}
	if c.left == 0 {
		return errCut
	}
	c.left--
	return nil
}

func (c *cutAfter) Copy(ctx context.Context, bucket, src, dst string) error {
	if err := c.cut("copy"); err != nil {
		return err
	}
	return c.Client.Copy(ctx, bucket, src, dst)
}

func (c *cutAfter) Delete(ctx context.Context, bucket, key string) error {
	if err := c.cut("delete"); err != nil {
		return err
	}
	return c.Client.Delete(ctx, bucket, key)
}

func (c *cutAfter) DeleteVersion(ctx context.Context, bucket, key, id string) error {
	if err := c.cut("delete"); err != nil {
		return err
	}
	return c.Client.DeleteVersion(ctx, bucket, key, id)
}

// TestRedactInterrupted: a redaction cut before its new manifest is up leaves the old session,
// which verifies (its new objects are under names readers skip); one cut after leaves the new
// one, which verifies. The next redaction undoes the first and completes the second before
// anything else.
func TestRedactInterrupted(t *testing.T) {
	srv, c, dir := setup(t)
	ctx := context.Background()
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		u := pushed(t, c, dir, b, "town-hall")
		// Cut at the first copy: the staged track is up, the manifest is the old one.
		if _, err := sessionstore.Redact(ctx, &cutAfter{Client: c, op: "copy"}, u, t.TempDir(), redactOpts()); !errors.Is(err, errCut) {
			t.Fatalf("%s: redact cut at the copy: %v", b, err)
		}
		if m := pullVerify(t, c, u); m.Tracks[0].File != "tracks/ada-1.opus" {
			t.Fatalf("%s: after a cut before the manifest, tracks %+v, want the old session", b, m.Tracks)
		}
		// The next redaction (of someone unknown: it stops right after the repair) undoes it.
		nobody := redactOpts()
		nobody.Identity = "nobody"
		if _, err := sessionstore.Redact(ctx, c, u, t.TempDir(), nobody); !errors.Is(err, redact.ErrUnknownSpeaker) {
			t.Fatalf("%s: %v, want ErrUnknownSpeaker", b, err)
		}
		if v := versionsOf(t, srv, b, u.Dir()); len(v) != 5 {
			t.Fatalf("%s: after undoing the cut redaction: %q, want the session's 5 objects", b, v)
		}
		// Cut at the first deletion after the manifest: the new session stands.
		if _, err := sessionstore.Redact(ctx, &cutAfter{Client: c, op: "delete"}, u, t.TempDir(), redactOpts()); !errors.Is(err, errCut) {
			t.Fatalf("%s: redact cut at the deletions: %v", b, err)
		}
		if got := keys(t, c, b, u.Dir()); !slices.Contains(got, sessionstore.RedactJournalName) {
			t.Fatalf("%s: no journal after the cut: %q", b, got)
		}
		m := pullVerify(t, c, u)
		if m.Tracks[0].File != "tracks/ada-1.r1.opus" {
			t.Fatalf("%s: after a cut after the manifest, tracks %+v, want the new session", b, m.Tracks)
		}
		// The next redaction completes it.
		if _, err := sessionstore.Redact(ctx, c, u, t.TempDir(), nobody); !errors.Is(err, redact.ErrUnknownSpeaker) {
			t.Fatalf("%s: %v, want ErrUnknownSpeaker", b, err)
		}
		got := keys(t, c, b, u.Dir())
		if slices.Contains(got, sessionstore.RedactJournalName) || slices.Contains(got, "tracks/ada-1.opus") {
			t.Fatalf("%s: after the repair: %q", b, got)
		}
		if v := versionsOf(t, srv, b, "town-hall/tracks/ada-1.opus"); len(v) != 0 {
			t.Fatalf("%s: the unredacted track is left: %q", b, v)
		}
		pullVerify(t, c, u)
	}
}

// TestNextName: a changed file's new name raises its revision.
func TestNextName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tracks/ada-1.opus", "tracks/ada-1.r1.opus"},
		{"tracks/ada-1.r1.opus", "tracks/ada-1.r2.opus"},
		{"tracks/ada-1.r9.opus", "tracks/ada-1.r11.opus"}, // r10 is taken
		{"mix.opus", "mix.r1.opus"},
		{"tracks/x.r.opus", "tracks/x.r.r1.opus"},
	} {
		if got := sessionstore.NextName(c.in, map[string]bool{"tracks/ada-1.r10.opus": true}); got != c.want {
			t.Errorf("NextName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
