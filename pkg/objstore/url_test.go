package objstore

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		want   URL
		reason string // in the error; "" for a valid URL
	}{
		{"a bucket alone is the whole bucket", "s3://my-bucket", URL{Bucket: "my-bucket"}, ""},
		{"a prefix of several segments is kept as written", "s3://my.bucket/shows/2026/town-hall", URL{Bucket: "my.bucket", Prefix: "shows/2026/town-hall"}, ""},
		{"spaces and unicode are valid in keys", "s3://abc/Café talk", URL{Bucket: "abc", Prefix: "Café talk"}, ""},
		{"another scheme is refused", "gs://bucket/x", URL{}, "want s3://"},
		{"an uppercase scheme is refused, saying so", "S3://bucket/x", URL{}, "lowercase"},
		{"no bucket", "s3:///x", URL{}, "no bucket"},
		{"a short bucket name", "s3://ab/x", URL{}, "3 to 63"},
		{"an uppercase bucket name", "s3://MyBucket/x", URL{}, "lowercase letters"},
		{"an underscore in a bucket name", "s3://my_bucket/x", URL{}, "lowercase letters"},
		{"a bucket beginning with a hyphen", "s3://-bucket/x", URL{}, "begins and ends"},
		{"two dots in a row", "s3://a..b/x", URL{}, "two dots"},
		{"an IP address as a bucket", "s3://192.168.1.1/x", URL{}, "IP address"},
		{"a reserved prefix", "s3://xn--bucket/x", URL{}, "reserved"},
		{"a reserved suffix", "s3://bucket-s3alias/x", URL{}, "reserved"},
		{"a trailing slash on the bucket", "s3://bucket/", URL{}, "ends with '/'"},
		{"a trailing slash on the prefix", "s3://bucket/a/", URL{}, "empty segment"},
		{"a double slash", "s3://bucket/a//b", URL{}, "empty segment"},
		{"a dot-dot segment", "s3://bucket/a/../b", URL{}, "'..'"},
		{"a dot segment", "s3://bucket/./b", URL{}, "'.'"},
		{"a control character", "s3://bucket/a\nb", URL{}, "control character"},
		{"a backslash", `s3://bucket/a\b`, URL{}, "backslash"},
		{"a query", "s3://bucket/a?versionId=1", URL{}, "'?'"},
		{"a fragment", "s3://bucket/a#b", URL{}, "'#'"},
		{"a prefix too long", "s3://bucket/" + strings.Repeat("a", MaxPrefixBytes+1), URL{}, "768 bytes"},
		{"invalid UTF-8", "s3://bucket/\xff", URL{}, "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseURL(c.in)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("ParseURL(%q): %v", c.in, err)
				}
				if got != c.want {
					t.Fatalf("ParseURL(%q) = %+v, want %+v", c.in, got, c.want)
				}
				if got.String() != c.in {
					t.Fatalf("String() = %q, want %q", got.String(), c.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseURL(%q) = %+v, want an error", c.in, got)
			}
			if !errors.Is(err, ErrBadURL) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("ParseURL(%q): %v; want ErrBadURL saying %q", c.in, err, c.reason)
			}
		})
	}
}

// TestParseURLCredentials: a URL with credentials is refused and never repeated, so the secret in
// it reaches no terminal or log.
func TestParseURLCredentials(t *testing.T) {
	for _, in := range []string{"s3://AKIAEXAMPLE:wJalrXUtnFEMIsecret@bucket/x", "s3://wJalrXUtnFEMIsecret@bucket"} {
		_, err := ParseURL(in)
		if !errors.Is(err, ErrURLCredentials) || !errors.Is(err, ErrBadURL) {
			t.Fatalf("ParseURL(%q): %v, want ErrURLCredentials", in, err)
		}
		if strings.Contains(err.Error(), "wJalrXUtnFEMIsecret") {
			t.Fatalf("the error repeats the secret: %v", err)
		}
	}
}

func TestURLKey(t *testing.T) {
	u := URL{Bucket: "b", Prefix: "shows/ep1"}
	if got := u.Key("tracks/a.opus"); got != "shows/ep1/tracks/a.opus" {
		t.Fatalf("Key = %q", got)
	}
	if got := u.Dir(); got != "shows/ep1/" {
		t.Fatalf("Dir = %q", got)
	}
	if got := (URL{Bucket: "b"}).Key("x"); got != "x" {
		t.Fatalf("Key without prefix = %q", got)
	}
}

// FuzzParseURL: ParseURL never panics; what it accepts prints back as given and parses again to
// the same URL, with a bucket and prefix that keep their rules.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"s3://bucket", "s3://my.bucket/a/b", "s3://u:p@b/x", "s3://b/a//c", "S3://x", "s3://ab", "s3://a-b.c/Café"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		if err != nil {
			if strings.Contains(s, "@") && errors.Is(err, ErrURLCredentials) && strings.Contains(err.Error(), s) {
				t.Fatalf("a credentials error repeats the URL: %v", err)
			}
			return
		}
		if u.String() != s {
			t.Fatalf("String() = %q, want %q", u.String(), s)
		}
		again, err := ParseURL(u.String())
		if err != nil || again != u {
			t.Fatalf("reparse %q: %+v, %v", s, again, err)
		}
		if badBucket(u.Bucket) != "" || badPrefix(u.Prefix) != "" || strings.HasSuffix(u.Prefix, "/") || strings.HasPrefix(u.Prefix, "/") {
			t.Fatalf("accepted a bad URL %q: %+v", s, u)
		}
	})
}
