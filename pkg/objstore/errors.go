package objstore

import (
	"errors"
	"fmt"
	"strings"
)

// The kinds of failure. Every error of a Client operation is an *Error that matches one of them
// (or none, for a failure the store did not explain).
var (
	// ErrBadURL is matched by every *URLError: text that is not an s3://BUCKET/PREFIX URL.
	ErrBadURL = errors.New("not an s3://BUCKET/PREFIX URL")
	// ErrURLCredentials is matched by a URL with user:password@ in it; the URL is not repeated.
	ErrURLCredentials = errors.New("an s3 URL never holds credentials")
	// ErrConfig is the AWS configuration (a shared config or credentials file, a profile) that
	// could not be loaded.
	ErrConfig = errors.New("the AWS configuration could not be loaded")
	// ErrNoCredentials: no source of credentials (environment, shared files, profile, the
	// machine's role) gave any.
	ErrNoCredentials = errors.New("no credentials found")
	// ErrAuth: the store refused the credentials (an unknown access key, a wrong secret key, an
	// expired token).
	ErrAuth = errors.New("the store refused the credentials")
	// ErrDenied: the credentials are valid but may not do this to this bucket or key.
	ErrDenied = errors.New("access denied")
	// ErrNoBucket: the bucket does not exist at this endpoint.
	ErrNoBucket = errors.New("no such bucket")
	// ErrNotFound: no object has this key.
	ErrNotFound = errors.New("no such object")
	// ErrUnreachable: the endpoint did not answer (refused, timed out, no route, DNS).
	ErrUnreachable = errors.New("the store does not answer")
	// ErrChecksum: the bytes the store received do not match the checksum sent with them.
	ErrChecksum = errors.New("the store received different bytes than were sent (checksum mismatch)")
	// ErrNoObjectLock: a legal hold was asked of a bucket created without Object Lock.
	ErrNoObjectLock = errors.New("the bucket has no Object Lock")
	// ErrTooLarge: an object larger than S3 stores (MaxObjectBytes).
	ErrTooLarge = errors.New("object larger than S3 stores")
	// ErrPartSize: a Config.PartSize outside S3's limits (MinPartSize to MaxPartSize).
	ErrPartSize = errors.New("part size outside S3's limits")
	// ErrPrecondition: a conditional write or delete found the object not as required (an
	// object where none was to be, or another ETag than the one given).
	ErrPrecondition = errors.New("the object is not as the request required (a precondition failed)")
	// ErrUnsupported: the store does not implement the request (NotImplemented, HTTP 501).
	ErrUnsupported = errors.New("the store does not implement this request")
)

// URLError is text that is not a valid s3:// URL; it matches ErrBadURL (and ErrURLCredentials
// when that is why). URL is empty when the text held credentials.
type URLError struct {
	URL    string
	Reason string
	creds  bool
}

func (e *URLError) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("objstore: the s3 URL %s", e.Reason)
	}
	return fmt.Sprintf("objstore: %q: %s", e.URL, e.Reason)
}

// Unwrap gives ErrBadURL, and ErrURLCredentials for a URL with credentials.
func (e *URLError) Unwrap() []error {
	if e.creds {
		return []error{ErrBadURL, ErrURLCredentials}
	}
	return []error{ErrBadURL}
}

// Error is the failure of one operation on one bucket or object. Its text names the operation,
// the object (s3://BUCKET/KEY), the kind and what the store said; never a credential.
type Error struct {
	Op     string // "put", "get", "head", "list", "delete", "get legal hold", "set legal hold", "connect"
	Bucket string // "" when the operation concerns no bucket
	Key    string // "" for a bucket or a prefix operation
	// Kind is one of the sentinels above, or nil when the store's answer fits none.
	Kind error
	// Code is the store's error code ("NoSuchKey", "SignatureDoesNotMatch"), if it answered.
	Code string
	// Detail is what happened, in the store's or the network's words, with secrets redacted.
	Detail string

	err error // the cause, for errors.Is (context.Canceled); its text is never shown
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("objstore: ")
	b.WriteString(e.Op)
	if e.Bucket != "" {
		b.WriteString(" ")
		b.WriteString(URL{Bucket: e.Bucket, Prefix: e.Key}.String())
	}
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap gives the kind and the cause.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.err != nil {
		out = append(out, e.err)
	}
	return out
}
