package room

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/spacecast/spacecast/pkg/session"
)

// Origin is u's origin (RFC 6454 §4): scheme, host and port, an absent port being the scheme's
// default, in lower case.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// SameOrigin reports whether a and b have one origin.
func SameOrigin(a, b *url.URL) bool { return Origin(a) == Origin(b) }

// SameOriginRedirects returns hc (copied) with a redirect policy that refuses to follow a request
// to another origin when carries reports that it holds a credential (an Authorization header, a
// secret in its body or query). net/http itself forwards Authorization to every port of the same
// host name and to its subdomains, and a 307/308 resends the body. The policy of hc (10
// redirects by default) still applies.
func SameOriginRedirects(hc *http.Client, carries func(*http.Request) bool) *http.Client {
	out := *hc
	next := hc.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !SameOrigin(req.URL, via[0].URL) && carries(via[0]) {
			return fmt.Errorf("%w: %s", ErrCrossOrigin, Origin(req.URL))
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &out
}

// Excerpt is what an error quotes of a server's answer: its first non-empty line, trimmed, at most
// maxBytes long (cut at a rune boundary, with "…"). The server chooses these bytes: the CLI
// still prints them through its terminal sanitiser.
func Excerpt(b []byte, maxBytes int) string {
	s := strings.TrimSpace(string(b))
	s, _, _ = strings.Cut(s, "\n")
	s = strings.TrimSpace(s)
	if len(s) <= maxBytes {
		return s
	}
	cut := maxBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// ShowURL is a room URL for an error or a log: without credentials (session.RedactURL), or "the
// room URL" when it does not parse.
func ShowURL(raw string) string {
	if s := session.RedactURL(raw); s != "" {
		return s
	}
	return "the room URL"
}
