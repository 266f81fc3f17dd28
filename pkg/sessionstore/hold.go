package sessionstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// Keeper is what holds, prune and redact need of a bucket beyond a transfer: deletions,
// versions, legal holds, conditional writes and copies inside the store. *objstore.Client is one.
type Keeper interface {
	Store
	Delete(ctx context.Context, bucket, key string) error
	ObjectLock(ctx context.Context, bucket string) (bool, error)
	Versioning(ctx context.Context, bucket string) (bool, error)
	ListVersions(ctx context.Context, bucket, prefix string) iter.Seq2[objstore.Version, error]
	DeleteVersion(ctx context.Context, bucket, key, versionID string) error
	VersionLegalHold(ctx context.Context, bucket, key, versionID string) (bool, error)
	SetVersionLegalHold(ctx context.Context, bucket, key, versionID string, on bool) error
	DeleteIfMatch(ctx context.Context, bucket, key, etag string) error
	Copy(ctx context.Context, bucket, src, dst string) error
}

var _ Keeper = (*objstore.Client)(nil)

// HoldReport says what Hold or Release did to a session in a bucket.
type HoldReport struct {
	URL string
	// Hold is the hold placed (Hold), or the one lifted (Release; nil when there was no
	// hold.json).
	Hold *session.HoldInfo
	// ObjectLock: the bucket has Object Lock, so legal holds were put or lifted.
	ObjectLock bool
	// LegalHolds is how many object versions of the session a legal hold was put on (Hold) or
	// lifted from (Release).
	LegalHolds int
}

// Hold places a moderation hold on the finished session stored under u: hold.json, the same
// marker as in a folder (outside the seal, so the session still verifies), which spacecast's
// prune honours in any bucket; then, where the bucket has Object Lock, a legal hold on every
// version of every object of the session, hold.json included, which the store itself enforces:
// no one, whatever their rights, deletes a held version until the hold is lifted. The marker goes
// first, so a hold stopped half-way already keeps prune off; holding again completes it.
func Hold(ctx context.Context, st Keeper, u objstore.URL, reason string, now time.Time) (*HoldReport, error) {
	fail := func(err error) (*HoldReport, error) { return nil, &OpError{Op: "hold", URL: u.String(), Err: err} }
	h, err := session.NewHold(reason, now)
	if err != nil {
		return fail(err)
	}
	if _, err := readManifest(ctx, st, u); err != nil {
		return fail(err)
	}
	if _, err := st.Put(ctx, u.Bucket, u.Key(session.HoldName), bytes.NewReader(h.Marshal()), objstore.PutOptions{ContentType: "application/json"}); err != nil {
		return fail(err)
	}
	rep := &HoldReport{URL: u.String(), Hold: h}
	k, err := bucketKind(ctx, st, u.Bucket)
	if err != nil {
		return fail(err)
	}
	if rep.ObjectLock = k.lock; rep.ObjectLock {
		if rep.LegalHolds, err = setLegalHolds(ctx, st, u, true); err != nil {
			return fail(err)
		}
	}
	return rep, nil
}

// Release lifts the hold of the session stored under u: the legal holds on its object versions
// (where the bucket has Object Lock; whoever placed them), then hold.json, every version of it.
// Releasing a session that is not held changes nothing. A release stopped half-way leaves the
// marker, so the session stays held until a release completes. A session without its manifest
// (hidden by a delete marker, say) is released too: only a place with nothing stored is refused.
func Release(ctx context.Context, st Keeper, u objstore.URL) (*HoldReport, error) {
	fail := func(err error) (*HoldReport, error) { return nil, &OpError{Op: "release", URL: u.String(), Err: err} }
	if _, err := readManifest(ctx, st, u); err != nil && !errors.Is(err, ErrIncomplete) {
		return fail(err)
	}
	rep := &HoldReport{URL: u.String()}
	k, err := bucketKind(ctx, st, u.Bucket)
	if err != nil {
		return fail(err)
	}
	if rep.ObjectLock = k.lock; rep.ObjectLock {
		if rep.LegalHolds, err = setLegalHolds(ctx, st, u, false); err != nil {
			return fail(err)
		}
	}
	b, err := getSmall(ctx, st, u.Bucket, u.Key(session.HoldName))
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return rep, nil
	case err != nil:
		return fail(err)
	}
	if rep.Hold, err = session.ParseHold(b); err != nil {
		rep.Hold = &session.HoldInfo{Reason: "(unreadable hold.json)"}
	}
	if err := purge(ctx, st, k, u.Bucket, u.Key(session.HoldName)); err != nil {
		return fail(err)
	}
	return rep, nil
}

// setLegalHolds puts (on) or lifts the legal hold of every version of every object under u and
// returns how many changed.
func setLegalHolds(ctx context.Context, st Keeper, u objstore.URL, on bool) (int, error) {
	n := 0
	for v, err := range st.ListVersions(ctx, u.Bucket, u.Dir()) {
		if err != nil {
			return n, err
		}
		if v.DeleteMarker {
			continue // a marker holds no data, and takes no hold
		}
		held, err := st.VersionLegalHold(ctx, u.Bucket, v.Key, v.VersionID)
		if err != nil {
			return n, err
		}
		if held == on {
			continue
		}
		if err := st.SetVersionLegalHold(ctx, u.Bucket, v.Key, v.VersionID, on); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// legalHolds counts the versions under u under a legal hold (0 in a bucket without Object Lock).
func legalHolds(ctx context.Context, st Keeper, u objstore.URL, lock bool) (int, error) {
	if !lock {
		return 0, nil
	}
	n := 0
	for v, err := range st.ListVersions(ctx, u.Bucket, u.Dir()) {
		if err != nil {
			return 0, err
		}
		if v.DeleteMarker {
			continue
		}
		held, err := st.VersionLegalHold(ctx, u.Bucket, v.Key, v.VersionID)
		if err != nil {
			return 0, err
		}
		if held {
			n++
		}
	}
	return n, nil
}

// readManifest reads the manifest of the session under u: ErrNoSession when nothing is stored
// there, ErrIncomplete when files are but no manifest.
func readManifest(ctx context.Context, st Store, u objstore.URL) (*session.Manifest, error) {
	if u.Prefix == "" {
		return nil, ErrNoName
	}
	b, err := getSmall(ctx, st, u.Bucket, u.Key(session.ManifestName))
	if errors.Is(err, objstore.ErrNotFound) {
		for _, err := range st.List(ctx, u.Bucket, u.Dir()) {
			if err != nil {
				return nil, err
			}
			return nil, ErrIncomplete
		}
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	m, err := session.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.Key(session.ManifestName), err)
	}
	return m, nil
}

// maxSmall bounds what getSmall reads: a manifest, a hold, a lock, a journal.
const maxSmall = 16 << 20

// getSmall reads a whole small object.
func getSmall(ctx context.Context, st Reader, bucket, key string) ([]byte, error) {
	b, _, err := getSmallObject(ctx, st, bucket, key)
	return b, err
}

// getSmallObject is getSmall, with what the store says of the object (its ETag).
func getSmallObject(ctx context.Context, st Reader, bucket, key string) ([]byte, objstore.Object, error) {
	r, o, err := st.Get(ctx, bucket, key, nil)
	if err != nil {
		return nil, o, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxSmall+1))
	if err != nil {
		return nil, o, err
	}
	if len(b) > maxSmall {
		return nil, o, fmt.Errorf("%s: %w", key, ErrTooBig)
	}
	return b, o, nil
}

// kind is what a bucket keeps: versions of objects, and Object Lock (always with versions).
type kind struct{ versioned, lock bool }

// bucketKind asks the store what bucket keeps. A store that does not implement the question
// (Cloudflare R2 answers NotImplemented to GetBucketVersioning and GetObjectLockConfiguration)
// keeps neither.
func bucketKind(ctx context.Context, st Keeper, bucket string) (kind, error) {
	var k kind
	var err error
	if k.versioned, err = st.Versioning(ctx, bucket); err != nil && !notImplemented(err) {
		return k, err
	}
	if k.lock, err = st.ObjectLock(ctx, bucket); err != nil && !notImplemented(err) {
		return k, err
	}
	k.versioned = k.versioned || k.lock
	return k, nil
}

// notImplemented reports a store's answer that it does not implement an operation.
func notImplemented(err error) bool {
	var e *objstore.Error
	return errors.As(err, &e) && (e.Code == "NotImplemented" || e.Code == "" && strings.HasPrefix(e.Detail, "HTTP 501"))
}

// purge deletes the object bucket/key for good: every version of it and every delete marker in
// a versioned bucket, the object otherwise.
func purge(ctx context.Context, st Keeper, k kind, bucket, key string) error {
	if !k.versioned {
		return st.Delete(ctx, bucket, key)
	}
	for v, err := range st.ListVersions(ctx, bucket, key) {
		if err != nil {
			return err
		}
		if v.Key != key {
			continue
		}
		if err := st.DeleteVersion(ctx, bucket, key, v.VersionID); err != nil {
			return err
		}
	}
	return nil
}
