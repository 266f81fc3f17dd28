package room

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		why, a, b string
		same      bool
	}{
		{"the same URL", "http://127.0.0.1:8080/whep", "http://127.0.0.1:8080/sessions/1", true},
		{"another port of the same host is another origin", "http://127.0.0.1:8080/", "http://127.0.0.1:8081/", false},
		{"another loopback address is another origin", "http://127.0.0.1:8080/", "http://127.0.0.2:8080/", false},
		{"a subdomain is another origin", "https://example.org/", "https://evil.example.org/", false},
		{"https is another origin than http", "http://example.org/", "https://example.org/", false},
		{"the default port may be written or not", "https://example.org/", "https://EXAMPLE.org:443/x", true},
	} {
		t.Run(tc.why, func(t *testing.T) {
			a, _ := url.Parse(tc.a)
			b, _ := url.Parse(tc.b)
			if got := SameOrigin(a, b); got != tc.same {
				t.Errorf("SameOrigin(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.same)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("é", 300)
	for _, tc := range []struct {
		why, in, want string
	}{
		{"the first line, trimmed", "  bad token\nstack trace…", "bad token"},
		{"a long body is cut at a rune boundary", long, strings.Repeat("é", 100) + "…"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			got := Excerpt([]byte(tc.in), 200)
			if got != tc.want || !utf8.ValidString(got) {
				t.Errorf("Excerpt = %q, want %q", got, tc.want)
			}
		})
	}
}
