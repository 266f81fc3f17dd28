package session

import (
	"net/url"
	"slices"
	"strings"
)

// Redacted is what RedactURL writes in place of a query parameter's value.
const Redacted = "REDACTED"

// RedactURL returns a room URL fit to keep in a manifest, an export or a log: scheme, host, port
// and path stay; user:password@, the fragment and every query value go. No query value is kept,
// because none can be proven harmless: rooms and gateways put keys, passwords, JWTs, signed-URL
// signatures (X-Amz-Signature, sig) under any name, and even a room name can be the room's only
// secret. A parameter's name stays, with the value Redacted, so that a reader sees the URL needed
// one (?key=REDACTED); a name that is not a plain word (letters, digits, '-', '_', '.', at most
// 40 of them) could itself be a secret and goes with its value. A URL that does not parse, or has
// no scheme and host, gives "".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return ""
	}
	out := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	if u.RawQuery != "" {
		var keys []string
		for _, part := range strings.Split(u.RawQuery, "&") {
			k, _, _ := strings.Cut(part, "=")
			if k, err = url.QueryUnescape(k); err != nil || !plainKey(k) || slices.Contains(keys, k) {
				continue
			}
			keys = append(keys, k)
		}
		q := make([]string, 0, len(keys))
		for _, k := range keys {
			q = append(q, k+"="+Redacted)
		}
		out.RawQuery = strings.Join(q, "&")
	}
	return out.String()
}

// plainKey reports whether a query parameter's name is a plain word that can be shown.
func plainKey(k string) bool {
	if k == "" || len(k) > 40 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
