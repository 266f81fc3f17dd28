package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// MaxPutBytes is the largest object one PUT request sends (S3's limit); Put sends a larger body in
// parts (Config.PartSize).
const MaxPutBytes = 5 << 30

// DefaultRegion is used when no region is configured anywhere: S3-compatible servers accept any,
// and AWS answers it for buckets in us-east-1.
const DefaultRegion = "us-east-1"

// Addressing is how a request names its bucket.
type Addressing int

const (
	// AddressAuto is path-style for a custom endpoint, virtual-hosted style for AWS.
	AddressAuto Addressing = iota
	// AddressPath puts the bucket in the path: https://HOST/BUCKET/KEY.
	AddressPath
	// AddressVirtual puts the bucket in the host name: https://BUCKET.HOST/KEY.
	AddressVirtual
)

// Config overrides what the environment and the AWS files say. The zero value takes everything
// from them.
type Config struct {
	// Profile names the profile of ~/.aws/config and ~/.aws/credentials; "" is AWS_PROFILE, or
	// "default".
	Profile string
	// Endpoint is the S3-compatible server's base URL (https://HOST[:PORT]); "" is
	// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, or AWS.
	Endpoint string
	// Region; "" is AWS_REGION, the profile's region, or DefaultRegion.
	Region string
	// Addressing; AddressAuto by default.
	Addressing Addressing
	// HTTPClient replaces the SDK's (a transport that trusts a private server's CA, or one that
	// counts or logs requests); nil keeps it.
	HTTPClient *http.Client
	// PartSize is the size of the parts Put uploads a larger body in (MinPartSize to MaxPartSize);
	// 0 is DefaultPartSize.
	PartSize int64
}

// Client runs operations against one store (an endpoint with one set of credentials).
type Client struct {
	s3       *s3.Client
	endpoint string   // "" for AWS
	secrets  []string // what is redacted from every error text
	pageSize int32    // keys List asks for per page; 0 takes the store's (1000). Tests lower it.
	partSize int64    // Put sends a larger body in parts of this size (multipart.go)
}

// New loads the configuration and the credentials (so that a missing or unusable configuration
// shows before any work starts) and returns a client. It does not contact the store: Check does.
func New(ctx context.Context, c Config) (*Client, error) {
	opts := []func(*config.LoadOptions) error{
		// Checksums are sent by Put itself (SHA-256); the SDK's default CRC on every request is
		// not understood by every S3-compatible server.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		// A library prints nothing: the SDK's warnings (an IMDS fallback, a checksum it skipped)
		// would reach the user's terminal unasked.
		config.WithLogger(logging.Nop{}),
		config.WithClientLogMode(0),
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(c.Endpoint))
	}
	if c.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(c.HTTPClient))
	}
	cl := &Client{secrets: envSecrets()}
	var err error
	if cl.partSize, err = partSizeOf(c.PartSize); err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, cl.wrap("config", "", "", ErrConfig, err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.BaseEndpoint != nil {
		cl.endpoint = *cfg.BaseEndpoint
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, cl.wrap("credentials", "", "", nil, ctx.Err())
		}
		return nil, &Error{Op: "credentials", Kind: ErrNoCredentials, err: err,
			Detail: cl.redact("none in the environment, the shared config and credentials files, or the machine's role (" + err.Error() + ")")}
	}
	cl.secrets = appendSecret(cl.secrets, creds.SecretAccessKey)
	cl.secrets = appendSecret(cl.secrets, creds.SessionToken)
	path := c.Addressing == AddressPath || c.Addressing == AddressAuto && cl.endpoint != ""
	cl.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = path })
	return cl, nil
}

// Endpoint is the custom endpoint in use, "" for AWS.
func (c *Client) Endpoint() string { return c.endpoint }

// Object is what the store says about one object.
type Object struct {
	Key          string
	Size         int64
	ETag         string
	LastModified time.Time
	// SHA256 is the object's SHA-256 in lowercase hex when the store keeps one (an object Put
	// uploaded, asked for with its checksum), or, for an object Put uploaded in parts, the one it
	// kept in the object's metadata (x-amz-meta-sha256); "" otherwise.
	SHA256 string
	// ContentType, CacheControl and Metadata (the x-amz-meta-* headers, names in lowercase) are
	// what the store serves the object with; Head and Get fill them, List does not.
	ContentType  string
	CacheControl string
	Metadata     map[string]string
	// VersionID is the version a Put stored, in a versioned bucket ("" otherwise, and from
	// Head, Get and List).
	VersionID string
}

// PutOptions are the optional headers of an upload.
type PutOptions struct {
	ContentType  string
	CacheControl string
	// Metadata is stored with the object as x-amz-meta-NAME headers (names in lowercase ASCII).
	Metadata map[string]string
	// IfNoneMatch stores the object only if no object has the key (If-None-Match: *); otherwise
	// the store refuses with ErrPrecondition. The store decides atomically: of writers racing to
	// create a key, one wins. A store that does not implement conditional writes may ignore it
	// or refuse the request (ErrUnsupported).
	IfNoneMatch bool
	// IfMatch, when set, stores the object only if the key's current object has this ETag
	// (If-Match); otherwise ErrPrecondition (ErrNotFound on some stores when there is none).
	IfMatch string
}

// Put uploads body as the object bucket/key, streaming it: it reads body once to learn its size
// and SHA-256, rewinds, and sends it with that checksum, which the store verifies before storing
// the object (ErrChecksum when the bytes changed on the way, or in the file meanwhile). The
// object appears whole or not at all. A body larger than the part size (its size known from its
// Size or Stat method, or a Seek to its end) goes up in parts instead, each with its own SHA-256
// (multipart.go); its conditions (IfNoneMatch, IfMatch) then go with the request that completes
// the upload, so the object still appears only if they hold. It returns the uploaded object's
// size, SHA-256, ETag and version ID.
func (c *Client) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, opt PutOptions) (Object, error) {
	const op = "put"
	if size, err := bodySize(body); err == nil && size > c.partSize {
		return c.putMultipart(ctx, bucket, key, body, size, opt)
	}
	h := sha256.New()
	size, err := io.Copy(h, body)
	if err != nil {
		return Object{}, c.wrap(op, bucket, key, nil, fmt.Errorf("read the data: %w", err))
	}
	if size > MaxPutBytes {
		return Object{}, &Error{Op: op, Bucket: bucket, Key: key, Kind: ErrTooLarge, Detail: fmt.Sprintf("%d bytes, at most %d", size, int64(MaxPutBytes))}
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return Object{}, c.wrap(op, bucket, key, nil, fmt.Errorf("rewind the data: %w", err))
	}
	sum := h.Sum(nil)
	in := &s3.PutObjectInput{
		Bucket:         aws.String(bucket),
		Key:            aws.String(key),
		Body:           body,
		ContentLength:  aws.Int64(size),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
	}
	if opt.ContentType != "" {
		in.ContentType = aws.String(opt.ContentType)
	}
	if opt.CacheControl != "" {
		in.CacheControl = aws.String(opt.CacheControl)
	}
	if len(opt.Metadata) > 0 {
		in.Metadata = opt.Metadata
	}
	if opt.IfNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	if opt.IfMatch != "" {
		in.IfMatch = aws.String(opt.IfMatch)
	}
	// Sent as an unsigned payload instead of read a second time to sign it: the checksum, a
	// signed header, covers the bytes. The body stays seekable, so the SDK's retries rewind it.
	out, err := c.s3.PutObject(ctx, in, s3.WithAPIOptions(unsignedPayload...))
	if err != nil {
		return Object{}, c.wrap(op, bucket, key, nil, err)
	}
	return Object{Key: key, Size: size, ETag: aws.ToString(out.ETag), SHA256: hex.EncodeToString(sum), VersionID: aws.ToString(out.VersionId)}, nil
}

// Range is a stretch of an object: Length bytes from Offset; Length 0 reads to the end.
type Range struct{ Offset, Length int64 }

func (r *Range) header() *string {
	if r == nil {
		return nil
	}
	if r.Length <= 0 {
		return aws.String(fmt.Sprintf("bytes=%d-", r.Offset))
	}
	return aws.String(fmt.Sprintf("bytes=%d-%d", r.Offset, r.Offset+r.Length-1))
}

// Get opens the object bucket/key for reading, the whole of it (r nil) or a range. The caller
// closes the reader. Object.Size is the size of the whole object.
func (c *Client) Get(ctx context.Context, bucket, key string, r *Range) (io.ReadCloser, Object, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Range: r.header()}
	if r == nil {
		in.ChecksumMode = types.ChecksumModeEnabled
	}
	out, err := c.s3.GetObject(ctx, in)
	if err != nil {
		return nil, Object{}, c.wrap("get", bucket, key, nil, err)
	}
	o := Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified), SHA256: objectSHA256(out.ChecksumSHA256, out.ChecksumType, out.Metadata),
		ContentType: aws.ToString(out.ContentType), CacheControl: aws.ToString(out.CacheControl), Metadata: out.Metadata}
	if cr := aws.ToString(out.ContentRange); cr != "" {
		// "bytes 0-9/1234": the whole object's size is after the slash.
		if _, total, ok := strings.Cut(cr, "/"); ok {
			var n int64
			if _, err := fmt.Sscan(total, &n); err == nil {
				o.Size = n
			}
		}
	}
	return &body{ReadCloser: out.Body, c: c, bucket: bucket, key: key}, o, nil
}

// body is an object's content being read; its errors are the package's.
type body struct {
	io.ReadCloser
	c           *Client
	bucket, key string
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.c.wrap("get", b.bucket, b.key, nil, err)
	}
	return n, err
}

// Head returns what the store says about bucket/key; ErrNotFound when there is no such object.
func (c *Client) Head(ctx context.Context, bucket, key string) (Object, error) {
	out, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return Object{}, c.wrap("head", bucket, key, nil, err)
	}
	return Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified), SHA256: objectSHA256(out.ChecksumSHA256, out.ChecksumType, out.Metadata),
		ContentType: aws.ToString(out.ContentType), CacheControl: aws.ToString(out.CacheControl), Metadata: out.Metadata}, nil
}

// List yields every object whose key begins with prefix, in key order, a page of up to 1000 at a
// time; an error ends it.
func (c *Client) List(ctx context.Context, bucket, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
		if c.pageSize > 0 {
			in.MaxKeys = aws.Int32(c.pageSize)
		}
		p := s3.NewListObjectsV2Paginator(c.s3, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(Object{}, c.wrap("list", bucket, prefix, nil, err))
				return
			}
			for _, o := range page.Contents {
				if !yield(Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag), LastModified: aws.ToTime(o.LastModified)}, nil) {
					return
				}
			}
		}
	}
}

// Delete removes bucket/key; deleting a key that does not exist succeeds, as in S3. In a bucket
// with versioning (every bucket with Object Lock) it adds a delete marker and keeps the data.
func (c *Client) Delete(ctx context.Context, bucket, key string) error {
	_, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return c.wrap("delete", bucket, key, nil, err)
	}
	return nil
}

// DeleteIfMatch removes bucket/key only if its current object has the ETag etag; otherwise
// ErrPrecondition. A key without an object is no error, as with Delete. A store that does not
// implement conditional deletes may ignore the condition or refuse the request (ErrUnsupported).
func (c *Client) DeleteIfMatch(ctx context.Context, bucket, key, etag string) error {
	_, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), IfMatch: aws.String(etag)})
	if err != nil {
		e := c.wrap("delete", bucket, key, nil, err)
		if isKind(e, ErrNotFound) {
			return nil
		}
		return e
	}
	return nil
}

// LegalHold reports whether the latest version of bucket/key is under an Object Lock legal hold.
// A bucket without Object Lock gives ErrNoObjectLock.
func (c *Client) LegalHold(ctx context.Context, bucket, key string) (bool, error) {
	out, err := c.s3.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "NoSuchObjectLockConfiguration" {
			return false, nil // an object never held
		}
		return false, c.wrap("get legal hold", bucket, key, nil, err)
	}
	return out.LegalHold != nil && out.LegalHold.Status == types.ObjectLockLegalHoldStatusOn, nil
}

// SetLegalHold puts (on) or lifts an Object Lock legal hold on the latest version of bucket/key:
// while it is on, nobody (not even with delete rights) deletes or overwrites that version. A
// bucket without Object Lock gives ErrNoObjectLock.
func (c *Client) SetLegalHold(ctx context.Context, bucket, key string, on bool) error {
	status := types.ObjectLockLegalHoldStatusOff
	if on {
		status = types.ObjectLockLegalHoldStatusOn
	}
	_, err := c.s3.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: aws.String(bucket), Key: aws.String(key),
		LegalHold: &types.ObjectLockLegalHold{Status: status}, ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		return c.wrap("set legal hold", bucket, key, nil, err)
	}
	return nil
}

// ObjectLock reports whether bucket was created with Object Lock enabled.
func (c *Client) ObjectLock(ctx context.Context, bucket string) (bool, error) {
	out, err := c.s3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "ObjectLockConfigurationNotFoundError" {
			return false, nil
		}
		return false, c.wrap("get object lock configuration", bucket, "", nil, err)
	}
	return out.ObjectLockConfiguration != nil && out.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled, nil
}

// Check lists one key of bucket, so that wrong credentials, a missing bucket or an endpoint that
// does not answer show before any work starts. (A listing, not HeadBucket: the answer to a HEAD
// has no body, so a refusal could not say whether the credentials or the permissions are wrong.)
func (c *Client) Check(ctx context.Context, bucket string) error {
	_, err := c.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)})
	if err != nil {
		return c.wrap("check bucket", bucket, "", nil, err)
	}
	return nil
}

func hexSum(b64 *string, t types.ChecksumType) string {
	if b64 == nil || t == types.ChecksumTypeComposite {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(*b64)
	if err != nil || len(raw) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(raw)
}

// wrap turns an SDK or network error into an *Error: the kind from the store's code or the
// network's failure (unless kind is given), the store's words, no secret.
func (c *Client) wrap(op, bucket, key string, kind, err error) error {
	e := &Error{Op: op, Bucket: bucket, Key: key, Kind: kind, err: err}
	var api smithy.APIError
	var re interface{ HTTPStatusCode() int }
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e.Detail = err.Error()
		if errors.Is(err, context.Canceled) {
			e.Detail = "interrupted"
		}
	case errors.As(err, &api):
		e.Code = api.ErrorCode()
		msg := api.ErrorMessage()
		if e.Kind == nil {
			e.Kind = kindOf(e.Code, msg, status, key != "")
		}
		switch {
		case msg != "" && e.Code != "":
			e.Detail = e.Code + ": " + msg
		case e.Code != "":
			e.Detail = e.Code
		default:
			e.Detail = msg
		}
		if status != 0 {
			e.Detail += fmt.Sprintf(" (HTTP %d)", status)
		}
	case status != 0:
		// An answer without an S3 error body (HEAD requests have none).
		if e.Kind == nil {
			e.Kind = kindOf("", "", status, key != "")
		}
		e.Detail = fmt.Sprintf("HTTP %d", status)
	default:
		var ne net.Error
		var dns *net.DNSError
		var oe *net.OpError
		if e.Kind == nil && (errors.As(err, &ne) || errors.As(err, &dns) || errors.As(err, &oe)) {
			e.Kind = ErrUnreachable
		}
		e.Detail = shortCause(err)
		if c.endpoint != "" && e.Kind == ErrUnreachable {
			e.Detail = "endpoint " + c.endpoint + ": " + e.Detail
		}
	}
	e.Detail = c.redact(e.Detail)
	return e
}

// kindOf maps an S3 error code (or, without one, the HTTP status) to a kind.
func kindOf(code, msg string, status int, object bool) error {
	switch code {
	case "NoSuchKey", "NoSuchVersion":
		return ErrNotFound
	case "NoSuchBucket":
		return ErrNoBucket
	case "InvalidAccessKeyId", "XAdminUserNotFound" /* versitygw's */, "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AuthorizationHeaderMalformed", "InvalidSecurity":
		return ErrAuth
	case "AccessDenied", "AllAccessDisabled", "AccountProblem":
		return ErrDenied
	case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "XAmzContentChecksumMismatch", "InvalidChecksum":
		return ErrChecksum
	case "InvalidRequest":
		if strings.Contains(strings.ToLower(msg), "object lock") {
			return ErrNoObjectLock
		}
	case "EntityTooLarge":
		return ErrTooLarge
	case "PreconditionFailed", "ConditionalRequestConflict":
		return ErrPrecondition
	case "NotImplemented":
		return ErrUnsupported
	}
	if code == "" || code == "NotFound" || code == "Forbidden" {
		// A HEAD answer has no body: only its status says what went wrong.
		switch status {
		case http.StatusNotFound:
			if object {
				return ErrNotFound
			}
			return ErrNoBucket
		case http.StatusForbidden:
			return ErrDenied
		case http.StatusPreconditionFailed:
			return ErrPrecondition
		case http.StatusNotImplemented:
			return ErrUnsupported
		}
	}
	return nil
}

// shortCause is the innermost useful text of a network error ("dial tcp 127.0.0.1:9: connect:
// connection refused") rather than the SDK's whole chain of wrappers.
func shortCause(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Error()
	}
	s := err.Error()
	if i := strings.LastIndex(s, ", "); i >= 0 && strings.HasPrefix(s, "operation error") {
		return s[i+2:]
	}
	return s
}

// redact replaces every secret the client knows of in s.
func (c *Client) redact(s string) string {
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return s
}
