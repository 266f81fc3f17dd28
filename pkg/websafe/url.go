// Package websafe keeps outside text from becoming script on the site's origin or in a podcast
// app: it judges URLs (URL), finds active markup in HTML (Find), and cleans the HTML spacecast
// publishes — show notes, HTML transcripts, descriptions apps may read as HTML — to an
// allow-list (CleanNotes, CleanTranscript, Text).
//
// A URL is judged as a browser would read it, and then some: HTML character references
// (&#106; &#x6A &colon; with or without the semicolon) and percent-escapes are resolved until
// nothing changes, and control characters and white space anywhere in the scheme are dropped
// (browsers drop tabs and newlines: java\tscript: is javascript:). Then only http, https,
// mailto and relative URLs pass.
package websafe

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/net/html"
)

// Schemes are the URL schemes a link or image in published HTML may have; a URL without a
// scheme (relative, or //host/path) passes too.
var Schemes = []string{"http", "https", "mailto"}

// maxDecodeRounds bounds how often entities and percent-escapes are resolved in turn: a URL
// still changing after that is refused.
const maxDecodeRounds = 8

// URL returns nil when raw is safe as an href or src in published HTML: an http, https or
// mailto URL, or a relative one. Otherwise the error (wrapping ErrUnsafeURL) says which scheme
// it has or why it cannot be judged. raw is taken as it stands in an attribute, before the HTML
// parser resolves character references: URL resolves them, so an already resolved value is
// judged the same way.
func URL(raw string) error {
	scheme, err := Scheme(raw)
	if err != nil {
		return err
	}
	if scheme == "" {
		return nil
	}
	for _, s := range Schemes {
		if scheme == s {
			return nil
		}
	}
	return &URLError{URL: raw, Scheme: scheme}
}

// Scheme returns the scheme a browser would see in raw, lower case, after resolving character
// references and percent-escapes and dropping control characters and white space; "" for a
// relative URL.
func Scheme(raw string) (string, error) {
	s := raw
	for i := 0; ; i++ {
		next := percentDecode(html.UnescapeString(s))
		if next == s {
			break
		}
		if i == maxDecodeRounds {
			return "", &URLError{URL: raw, Reason: fmt.Sprintf("it is still encoded after %d rounds of resolving character references and percent-escapes", maxDecodeRounds)}
		}
		s = next
	}
	s = strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7F || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	end := strings.IndexAny(s, ":/\\?#")
	if end < 0 || s[end] != ':' {
		return "", nil // no scheme: relative
	}
	scheme := strings.ToLower(s[:end])
	if scheme == "" {
		return "", &URLError{URL: raw, Reason: "it starts with a colon"}
	}
	for i, r := range scheme {
		if !(r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			// Not a scheme by RFC 3986 §3.1, but a colon before any slash: too close to one to pass.
			return "", &URLError{URL: raw, Reason: fmt.Sprintf("%q before its first colon is not a scheme a link may have", scheme)}
		}
	}
	return scheme, nil
}

// percentDecode resolves every well-formed %XX escape and leaves the rest as it is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
