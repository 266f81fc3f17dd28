package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3's limits on a multipart upload (Amazon S3 User Guide, "Amazon S3 multipart upload limits").
const (
	// MinPartSize is the smallest part S3 takes, the last part excepted.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 takes.
	MaxPartSize = 5 << 30
	// MaxParts is the most parts one upload has.
	MaxParts = 10_000
	// MaxObjectBytes is the largest object S3 stores.
	MaxObjectBytes = 5 << 40
)

// DefaultPartSize is the part size of a Client whose Config gives none: a body larger than it goes
// up in parts of this size. 64 MiB keeps every session track and every episode's audio (an hour
// of 128 kb/s MP3 is 58 MB) a single PUT with a plain SHA-256; a network failure costs at most
// one part sent again, not the whole body; 10,000 parts of it reach 625 GiB before Put has to
// grow the parts; and since parts are read from the body as they are sent, not held, it costs no
// memory.
const DefaultPartSize = 64 << 20

// partsInFlight is how many parts of one upload are sent at once.
const partsInFlight = 4

// partAttempts is how many times one part is sent before its upload fails, counting only the
// failures the SDK's own retries (for a throttled or failing server, a dropped connection) gave
// up on, and a part the store received damaged (ErrChecksum).
const partAttempts = 3

// partBackoff is the wait before a part's second attempt; it doubles before each next one.
const partBackoff = 500 * time.Millisecond

// metaSHA256 is the user metadata (x-amz-meta-sha256) in which Put keeps the SHA-256 of an object
// it uploaded in parts: the store's own checksum of such an object is a checksum of the parts'
// checksums ("BASE64-N", a composite checksum), not of the object.
const metaSHA256 = "sha256"

// partSizeOf checks a configured part size; 0 is DefaultPartSize.
func partSizeOf(n int64) (int64, error) {
	switch {
	case n == 0:
		return DefaultPartSize, nil
	case n < MinPartSize || n > MaxPartSize:
		return 0, &Error{Op: "config", Kind: ErrPartSize,
			Detail: fmt.Sprintf("%d bytes: S3 takes parts of %d bytes (5 MiB) to %d bytes (5 GiB)", n, int64(MinPartSize), int64(MaxPartSize))}
	}
	return n, nil
}

// partSizeFor is the part size of an upload of size bytes: base, or, when that would make more
// than MaxParts parts, the smallest whole number of MiB that makes at most MaxParts.
func partSizeFor(size, base int64) int64 {
	if (size+base-1)/base <= MaxParts {
		return base
	}
	const mib = 1 << 20
	per := (size + MaxParts - 1) / MaxParts
	return (per + mib - 1) / mib * mib
}

// bodySize is the size of body without reading it: its Size method (a bytes.Reader), its Stat
// (a regular file), or a Seek to its end and back to its start.
func bodySize(body io.ReadSeeker) (int64, error) {
	switch b := body.(type) {
	case interface{ Size() int64 }:
		return b.Size(), nil
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := b.Stat()
		if err == nil && fi.Mode().IsRegular() {
			return fi.Size(), nil
		}
	}
	size, err := body.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return size, nil
}

// putMultipart uploads the size bytes of body as bucket/key in parts. It reads body once to hash
// every part and the whole (which goes into the object's metadata), then starts the upload
// (CreateMultipartUpload), sends the parts partsInFlight at a time, each with its SHA-256, which
// the store checks (so a body that changed since it was hashed is refused, ErrChecksum), and
// completes the upload (CompleteMultipartUpload), which makes the object appear whole. Parts are
// read where they lie in body (io.ReaderAt, or a Seek and a Read under a lock), twice, and never
// held in memory. On any failure, an interruption included, the upload is aborted so that no part
// stays stored (and billed).
func (c *Client) putMultipart(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, opt PutOptions) (Object, error) {
	const op = "put"
	if size > MaxObjectBytes {
		return Object{}, &Error{Op: op, Bucket: bucket, Key: key, Kind: ErrTooLarge, Detail: fmt.Sprintf("%d bytes, at most %d", size, int64(MaxObjectBytes))}
	}
	ra := readerAt(body)
	parts, sum, err := hashParts(ctx, ra, size, partSizeFor(size, c.partSize))
	if err != nil {
		return Object{}, c.wrap(op, bucket, key, nil, err)
	}
	in := &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(bucket),
		Key:               aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		Metadata:          map[string]string{metaSHA256: hex.EncodeToString(sum)},
	}
	for k, v := range opt.Metadata {
		if k != metaSHA256 {
			in.Metadata[k] = v
		}
	}
	if opt.ContentType != "" {
		in.ContentType = aws.String(opt.ContentType)
	}
	if opt.CacheControl != "" {
		in.CacheControl = aws.String(opt.CacheControl)
	}
	created, err := c.s3.CreateMultipartUpload(ctx, in)
	if err != nil {
		return Object{}, c.wrap(op, bucket, key, nil, fmt.Errorf("start the upload: %w", err))
	}
	u := &upload{c: c, bucket: bucket, key: key, id: created.UploadId, n: len(parts)}
	done, err := u.sendParts(ctx, ra, parts)
	if err == nil {
		// The conditions go with the completion, which is when the object appears (S3 checks
		// them there, and answers ConditionalRequestConflict to a racing completion).
		cin := &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
			UploadId: u.id, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}
		if opt.IfNoneMatch {
			cin.IfNoneMatch = aws.String("*")
		}
		if opt.IfMatch != "" {
			cin.IfMatch = aws.String(opt.IfMatch)
		}
		var out *s3.CompleteMultipartUploadOutput
		out, err = c.s3.CompleteMultipartUpload(ctx, cin)
		if err == nil {
			return Object{Key: key, Size: size, ETag: aws.ToString(out.ETag), SHA256: hex.EncodeToString(sum), VersionID: aws.ToString(out.VersionId)}, nil
		}
		err = c.wrap(op, bucket, key, nil, fmt.Errorf("complete the upload: %w", err))
	}
	return Object{}, u.abort(ctx, err)
}

// part is one part to send: its number (from 1), where it lies in the body, its SHA-256.
type part struct {
	num          int32
	off, size    int64
	sha256Base64 string
}

// hashParts reads body's size bytes once, in parts of partSize, and returns the parts with their
// SHA-256 and the SHA-256 of the whole.
func hashParts(ctx context.Context, body io.ReaderAt, size, partSize int64) ([]part, []byte, error) {
	parts := make([]part, 0, (size+partSize-1)/partSize)
	whole := sha256.New()
	buf := make([]byte, 256<<10)
	for off := int64(0); off < size; off += partSize {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		p := part{num: int32(len(parts) + 1), off: off, size: min(partSize, size-off)}
		h := sha256.New()
		n, err := io.CopyBuffer(io.MultiWriter(whole, h), io.NewSectionReader(body, p.off, p.size), buf)
		if err != nil {
			return nil, nil, fmt.Errorf("read the data: %w", err)
		}
		if n != p.size {
			return nil, nil, fmt.Errorf("read the data: it ends at byte %d of the %d it had (it changed while it was read)", off+n, size)
		}
		p.sha256Base64 = base64.StdEncoding.EncodeToString(h.Sum(nil))
		parts = append(parts, p)
	}
	return parts, whole.Sum(nil), nil
}

// upload is one multipart upload under way.
type upload struct {
	c           *Client
	bucket, key string
	id          *string
	n           int // parts
}

// sendParts sends the parts, partsInFlight at a time, and returns them completed, in order; or the
// first failure, after which no other part is sent.
func (u *upload) sendParts(ctx context.Context, body io.ReaderAt, parts []part) ([]types.CompletedPart, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		next  int
	)
	done := make([]types.CompletedPart, len(parts))
	var wg sync.WaitGroup
	for range min(partsInFlight, len(parts)) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(parts) || ctx.Err() != nil {
					return
				}
				cp, err := u.sendPart(ctx, body, parts[i])
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					return
				}
				done[i] = cp
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, u.c.wrap("put", u.bucket, u.key, nil, err)
	}
	return done, nil
}

// sendPart uploads one part, sending it again (up to partAttempts in all) after a failure that
// another attempt may not meet.
func (u *upload) sendPart(ctx context.Context, body io.ReaderAt, p part) (types.CompletedPart, error) {
	wait := partBackoff
	for attempt := 1; ; attempt++ {
		out, err := u.c.s3.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:         aws.String(u.bucket),
			Key:            aws.String(u.key),
			UploadId:       u.id,
			PartNumber:     aws.Int32(p.num),
			Body:           io.NewSectionReader(body, p.off, p.size),
			ContentLength:  aws.Int64(p.size),
			ChecksumSHA256: aws.String(p.sha256Base64),
		}, s3.WithAPIOptions(unsignedPayload...))
		if err == nil {
			return types.CompletedPart{PartNumber: aws.Int32(p.num), ETag: out.ETag, ChecksumSHA256: aws.String(p.sha256Base64)}, nil
		}
		werr := u.c.wrap("put", u.bucket, u.key, nil, err)
		if e, ok := werr.(*Error); ok {
			e.Detail = fmt.Sprintf("part %d of %d: %s", p.num, u.n, e.Detail)
		}
		if attempt == partAttempts || ctx.Err() != nil || !partRetryable(err) {
			return types.CompletedPart{}, werr
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return types.CompletedPart{}, u.c.wrap("put", u.bucket, u.key, nil, ctx.Err())
		}
		wait *= 2
	}
}

// partRetryable tells a failure worth sending the part again for: one the SDK counts as passing
// (its retries gave up on it), or the part arriving damaged.
func partRetryable(err error) bool {
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && kindOf(api.ErrorCode(), api.ErrorMessage(), 0, true) == ErrChecksum
}

// abortAttempts is how many times abort asks the store to abort an upload that it lists again
// after an abort: a part whose request was cancelled after the store had received it all may
// still be stored after the abort and bring the upload back (Amazon S3 API Reference,
// AbortMultipartUpload: "it might be necessary to abort a given multipart upload multiple times";
// versitygw does it too). abortSettle is the wait before the first look, doubled before each next.
const (
	abortAttempts = 3
	abortSettle   = 200 * time.Millisecond
)

// abort aborts the upload after the failure err (with a context of its own: ctx may be the
// reason), until the store no longer knows it, and returns err, saying so when the abort failed.
func (u *upload) abort(ctx context.Context, err error) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	aerr := u.abortOnce(actx)
	var e *Error
	if aerr != nil && errors.As(err, &e) {
		ae := u.c.wrap("abort", u.bucket, u.key, nil, aerr).(*Error)
		e.Detail += fmt.Sprintf("; its parts stay stored, as the incomplete upload %s, which could not be aborted (%s), until a lifecycle rule of the bucket that aborts incomplete multipart uploads removes them",
			aws.ToString(u.id), ae.Detail)
	}
	return err
}

func (u *upload) abortOnce(ctx context.Context) error {
	wait := abortSettle
	for attempt := 1; ; attempt++ {
		_, err := u.c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: u.id})
		if err != nil && !(attempt > 1 && noSuchUpload(err)) {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait *= 2
		_, err = u.c.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(u.bucket), Key: aws.String(u.key), UploadId: u.id, MaxParts: aws.Int32(1)})
		switch {
		case noSuchUpload(err):
			return nil
		case err != nil:
			return nil // aborted; whether a late part brought the upload back cannot be seen
		case attempt == abortAttempts:
			return fmt.Errorf("the store still lists the upload after %d aborts", attempt)
		}
	}
}

// noSuchUpload tells the store's answer for an upload it does not know (any more).
func noSuchUpload(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchUpload"
}

// readerAt reads body at any offset: directly when it is an io.ReaderAt (a file, a bytes.Reader),
// else by a Seek and a Read under a lock.
func readerAt(body io.ReadSeeker) io.ReaderAt {
	if ra, ok := body.(io.ReaderAt); ok {
		return ra
	}
	return &seekReaderAt{rs: body}
}

type seekReaderAt struct {
	mu sync.Mutex
	rs io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.rs.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(s.rs, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// objectSHA256 is an object's SHA-256 in hex: the store's checksum when it is one of the whole
// object, else the one Put kept in its metadata for an object uploaded in parts, else "".
func objectSHA256(b64 *string, t types.ChecksumType, meta map[string]string) string {
	if s := hexSum(b64, t); s != "" {
		return s
	}
	raw, err := hex.DecodeString(meta[metaSHA256])
	if err != nil || len(raw) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(raw)
}
