package objstore

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Scheme is the prefix of every URL ParseURL takes.
const Scheme = "s3://"

// MaxPrefixBytes bounds a URL's prefix, leaving room under S3's 1024-byte key limit for the
// names a session or a site puts below it.
const MaxPrefixBytes = 768

// URL is a parsed s3://BUCKET/PREFIX: a bucket and a clean prefix (slash-separated, no empty, "."
// or ".." segment, no leading or trailing slash; "" for the whole bucket).
type URL struct {
	Bucket string
	Prefix string
}

// IsURL reports whether s is meant as an s3:// URL (whether or not it is a valid one), so that a
// command can tell a bucket from a local path before parsing.
func IsURL(s string) bool {
	return len(s) >= len(Scheme) && strings.EqualFold(s[:len(Scheme)], Scheme)
}

// ParseURL parses s3://BUCKET[/PREFIX]. The bucket follows S3's naming rules for general purpose
// buckets (3-63 characters: lowercase letters, digits, dots and hyphens; a letter or digit first
// and last; no "..", not an IP address, none of the reserved prefixes and suffixes). The prefix is
// valid UTF-8 without control characters, backslashes, '?', '#', empty, "." or ".." segments, or
// a trailing slash, and at most MaxPrefixBytes long. A URL with user:password@ is refused without
// being repeated: credentials come from the environment and the AWS files, never from a URL.
func ParseURL(s string) (URL, error) {
	if !IsURL(s) {
		return URL{}, urlErr(s, "want s3://BUCKET/PREFIX")
	}
	if s[:len(Scheme)] != Scheme {
		return URL{}, urlErr(s, "write the scheme in lowercase: s3://")
	}
	rest := s[len(Scheme):]
	bucket, prefix, hasSlash := strings.Cut(rest, "/")
	if strings.Contains(bucket, "@") {
		return URL{}, &URLError{Reason: "holds credentials (user:password@): give them in the environment or ~/.aws/credentials, never in a URL", creds: true}
	}
	if !utf8.ValidString(s) {
		return URL{}, urlErr("", "is not valid UTF-8")
	}
	if reason := badBucket(bucket); reason != "" {
		return URL{}, urlErr(s, reason)
	}
	if hasSlash && prefix == "" {
		return URL{}, urlErr(s, "ends with '/': leave it off (s3://"+bucket+")")
	}
	if reason := badPrefix(prefix); reason != "" {
		return URL{}, urlErr(s, reason)
	}
	return URL{Bucket: bucket, Prefix: prefix}, nil
}

func urlErr(s, reason string) error {
	// Control characters would reach a terminal through %q escaped; the text is shown as given.
	return &URLError{URL: s, Reason: reason}
}

// badBucket says why name is not a general purpose bucket name S3 accepts, or "".
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func badBucket(name string) string {
	switch {
	case name == "":
		return "no bucket: want s3://BUCKET/PREFIX"
	case len(name) < 3 || len(name) > 63:
		return "a bucket name is 3 to 63 characters long"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return "a bucket name holds only lowercase letters, digits, dots and hyphens"
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' {
		return "a bucket name begins and ends with a letter or digit"
	}
	if strings.Contains(name, "..") {
		return "a bucket name has no two dots in a row"
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return "a bucket name is not an IP address"
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return "a bucket name does not begin with " + p + " (reserved)"
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return "a bucket name does not end with " + s + " (reserved)"
		}
	}
	return ""
}

// badPrefix says why p is not a clean prefix, or "".
func badPrefix(p string) string {
	if p == "" {
		return ""
	}
	if len(p) > MaxPrefixBytes {
		return "the prefix is longer than 768 bytes"
	}
	for _, r := range p {
		switch {
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return "the prefix holds a control character"
		case r == '\\':
			return "the prefix holds a backslash: S3 keys are separated by '/'"
		case r == '?' || r == '#':
			return "the prefix holds '?' or '#', which a URL would cut off"
		}
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return "the prefix has an empty segment ('//', or '/' at the start or end)"
		case ".", "..":
			return "the prefix has a '.' or '..' segment"
		}
	}
	return ""
}

// String is the URL as ParseURL reads it.
func (u URL) String() string {
	if u.Prefix == "" {
		return Scheme + u.Bucket
	}
	return Scheme + u.Bucket + "/" + u.Prefix
}

// Key is the key of the object named rel (a clean slash path) under the prefix.
func (u URL) Key(rel string) string {
	if u.Prefix == "" {
		return rel
	}
	return u.Prefix + "/" + rel
}

// Dir is the prefix with its trailing slash, the prefix that lists everything below it ("" for
// the whole bucket).
func (u URL) Dir() string {
	if u.Prefix == "" {
		return ""
	}
	return u.Prefix + "/"
}
