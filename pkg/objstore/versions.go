package objstore

import (
	"context"
	"iter"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Version is one version of an object. In a bucket without versioning every object has one,
// whose VersionID is "null" (S3's name for it) or "".
type Version struct {
	Key          string
	VersionID    string
	Size         int64
	ETag         string
	LastModified time.Time
	// Latest is the version a plain GET returns (or, for a delete marker, that hides the key).
	Latest bool
	// DeleteMarker: the version is a delete marker (a DELETE without a version ID in a
	// versioned bucket), not data.
	DeleteMarker bool
}

// Versioning reports whether bucket keeps versions (versioning enabled, or suspended after it
// was enabled: old versions stay either way). In such a bucket a DELETE without a version ID
// only hides an object behind a delete marker; its data stays until each version is deleted.
func (c *Client) Versioning(ctx context.Context, bucket string) (bool, error) {
	out, err := c.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return false, c.wrap("get bucket versioning", bucket, "", nil, err)
	}
	return out.Status == types.BucketVersioningStatusEnabled || out.Status == types.BucketVersioningStatusSuspended, nil
}

// ListVersions yields every version and delete marker of the objects whose key begins with
// prefix, by key, the latest version first within a key; an error ends it. Only a versioned bucket
// has more than one version of a key.
func (c *Client) ListVersions(ctx context.Context, bucket, prefix string) iter.Seq2[Version, error] {
	return func(yield func(Version, error) bool) {
		in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
		p := s3.NewListObjectVersionsPaginator(c.s3, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(Version{}, c.wrap("list versions", bucket, prefix, nil, err))
				return
			}
			// A page lists the versions and the delete markers apart; merged back into key
			// order, newest first, as S3 keeps them.
			var vs []Version
			for _, v := range page.Versions {
				vs = append(vs, Version{Key: aws.ToString(v.Key), VersionID: aws.ToString(v.VersionId), Size: aws.ToInt64(v.Size),
					ETag: aws.ToString(v.ETag), LastModified: aws.ToTime(v.LastModified), Latest: aws.ToBool(v.IsLatest)})
			}
			for _, m := range page.DeleteMarkers {
				vs = append(vs, Version{Key: aws.ToString(m.Key), VersionID: aws.ToString(m.VersionId),
					LastModified: aws.ToTime(m.LastModified), Latest: aws.ToBool(m.IsLatest), DeleteMarker: true})
			}
			sortVersions(vs)
			for _, v := range vs {
				if !yield(v, nil) {
					return
				}
			}
		}
	}
}

// sortVersions orders versions by key, the latest first, keeping the store's order (newest
// first) otherwise: LastModified is too coarse (whole seconds on some servers) to order by.
func sortVersions(vs []Version) {
	slices.SortStableFunc(vs, func(a, b Version) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		switch {
		case a.Latest == b.Latest:
			return 0
		case a.Latest:
			return -1
		}
		return 1
	})
}

// DeleteVersion deletes one version of bucket/key for good (a delete marker too). In a bucket
// without versioning versionID "" or "null" deletes the object. A version under a legal hold is
// refused (ErrDenied); a version that no longer exists is no error.
func (c *Client) DeleteVersion(ctx context.Context, bucket, key, versionID string) error {
	in := &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if _, err := c.s3.DeleteObject(ctx, in); err != nil {
		e := c.wrap("delete version", bucket, key, nil, err)
		if isKind(e, ErrNotFound) {
			return nil
		}
		return e
	}
	return nil
}

// VersionLegalHold reports whether one version of bucket/key ("" the latest) is under an Object
// Lock legal hold. A bucket without Object Lock gives ErrNoObjectLock.
func (c *Client) VersionLegalHold(ctx context.Context, bucket, key, versionID string) (bool, error) {
	in := &s3.GetObjectLegalHoldInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := c.s3.GetObjectLegalHold(ctx, in)
	if err != nil {
		e := c.wrap("get legal hold", bucket, key, nil, err)
		if errCode(e) == "NoSuchObjectLockConfiguration" {
			return false, nil // a version never held
		}
		return false, e
	}
	return out.LegalHold != nil && out.LegalHold.Status == types.ObjectLockLegalHoldStatusOn, nil
}

// SetVersionLegalHold puts (on) or lifts an Object Lock legal hold on one version of bucket/key
// ("" the latest). While it is on, no one deletes that version, whatever their rights; a DELETE
// without a version ID still adds a delete marker, which hides the object but removes nothing.
func (c *Client) SetVersionLegalHold(ctx context.Context, bucket, key, versionID string, on bool) error {
	status := types.ObjectLockLegalHoldStatusOff
	if on {
		status = types.ObjectLockLegalHoldStatusOn
	}
	in := &s3.PutObjectLegalHoldInput{Bucket: aws.String(bucket), Key: aws.String(key),
		LegalHold: &types.ObjectLockLegalHold{Status: status}, ChecksumAlgorithm: types.ChecksumAlgorithmSha256}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if _, err := c.s3.PutObjectLegalHold(ctx, in); err != nil {
		return c.wrap("set legal hold", bucket, key, nil, err)
	}
	return nil
}

func errCode(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return ""
}

func isKind(err, kind error) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == kind
}

// Copy copies the object bucket/src to bucket/dst inside the store (no data passes through the
// client), keeping its SHA-256 checksum. It suits objects up to MaxPutBytes.
func (c *Client) Copy(ctx context.Context, bucket, src, dst string) error {
	_, err := c.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String(dst),
		CopySource: aws.String(url.PathEscape(bucket) + "/" + escapeKey(src)), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		return c.wrap("copy to "+dst+" from", bucket, src, nil, err)
	}
	return nil
}

// escapeKey escapes each segment of a key for a copy source header, keeping the slashes.
func escapeKey(k string) string {
	segs := strings.Split(k, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
