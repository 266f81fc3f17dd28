package websafe

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzURL: a URL that passes is one whose scheme, after every decoding a browser could do, is
// http, https, mailto or none; URL never panics.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"https://e.com", "javascript:x", "&#106;avascript:x", "java\tscript:x", "%6Aavascript:x", "//e.com", "a:b", "mailto:x@y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if URL(s) != nil {
			return
		}
		// What a browser sees once the attribute is parsed: entities resolved, tabs and
		// newlines dropped, leading and trailing space trimmed.
		seen := strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, html.UnescapeString(s))
		seen = strings.ToLower(strings.Trim(seen, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
		for _, bad := range []string{"javascript:", "vbscript:", "data:", "file:"} {
			if strings.HasPrefix(seen, bad) {
				t.Fatalf("URL(%q) passed, but a browser reads %q", s, seen)
			}
		}
	})
}

// FuzzCleanNotes: whatever goes in, what comes out has nothing Find flags (or cleaning refuses).
func FuzzCleanNotes(f *testing.F) {
	for _, s := range []string{`<a href="javascript:x">y</a>`, `<img src=x onerror=y>`, `<svg><script>x</script></svg>`, `<p style="a:url(x)">`, `<a href="java&#x09;script:x">`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := CleanNotes(s)
		if err != nil {
			return
		}
		if fs := Find(out, Options{}); len(fs) > 0 {
			t.Fatalf("CleanNotes(%q) = %q, which has %v", s, out, fs)
		}
		tout, err := CleanTranscript([]byte(s))
		if err != nil {
			return
		}
		if fs := Find(string(tout), Options{Document: true}); len(fs) > 0 {
			t.Fatalf("CleanTranscript(%q) = %q, which has %v", s, tout, fs)
		}
	})
}
