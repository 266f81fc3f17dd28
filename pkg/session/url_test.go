package session

import (
	"net/url"
	"strings"
	"testing"
)

// redactCases are room URLs with credentials in every place a URL can carry them, and what the
// manifest keeps of each.
var redactCases = []struct {
	Why, In, Want string
}{
	{"a URL without query or userinfo is kept", "wss://rooms.example.org:7880/rtc", "wss://rooms.example.org:7880/rtc"},
	{"key= loses its value", "https://w.example/whep/ep?key=s3cret", "https://w.example/whep/ep?key=REDACTED"},
	{"password= loses its value", "https://w.example/janus?password=hunter2", "https://w.example/janus?password=REDACTED"},
	{"jwt= loses its value", "wss://lk.example?jwt=eyJhbGciOiJIUzI1NiJ9.e30.x", "wss://lk.example?jwt=REDACTED"},
	{"an S3 presigned URL loses its signature and credential", "https://b.s3.example/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250101&X-Amz-Signature=abcdef",
		"https://b.s3.example/x?X-Amz-Algorithm=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"},
	{"access_token= loses its value", "wss://lk.example/rtc?access_token=abc.def.ghi", "wss://lk.example/rtc?access_token=REDACTED"},
	{"sig= loses its value", "https://cdn.example/whep?exp=1700000000&sig=deadbeef", "https://cdn.example/whep?exp=REDACTED&sig=REDACTED"},
	{"a name no list knows loses its value too (no value is provably harmless)", "https://w.example/whep?room=weekly&x=1", "https://w.example/whep?room=REDACTED&x=REDACTED"},
	{"a repeated name is kept once", "https://w.example/?k=1&k=2", "https://w.example/?k=REDACTED"},
	{"a name that is not a plain word goes whole (it could be the secret)", "https://w.example/?eyJhbGciOi%2Fxx&ok=1", "https://w.example/?ok=REDACTED"},
	{"a bare secret as the whole query goes", "https://w.example/?" + strings.Repeat("a", 64), "https://w.example/"},
	{"user:password@ is dropped", "https://alice:hunter2@w.example/whep", "https://w.example/whep"},
	{"a user without password is dropped", "wss://token@lk.example", "wss://lk.example"},
	{"the fragment is dropped", "https://w.example/whep#token=abc", "https://w.example/whep"},
	{"an IPv6 host and port are kept", "http://[::1]:8088/janus?apisecret=x", "http://[::1]:8088/janus?apisecret=REDACTED"},
	{"a URL that does not parse gives nothing", "https://w.example/%zz?key=1", ""},
	{"a URL without a host gives nothing", "whep:key=abc", ""},
}

func TestRedactURL(t *testing.T) {
	for _, tc := range redactCases {
		t.Run(tc.Why, func(t *testing.T) {
			if got := RedactURL(tc.In); got != tc.Want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.In, got, tc.Want)
			}
		})
	}
}

func FuzzRedactURL(f *testing.F) {
	for _, tc := range redactCases {
		f.Add(tc.In)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := RedactURL(raw)
		if out == "" {
			return
		}
		if again := RedactURL(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, out, again)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("RedactURL(%q) = %q does not parse: %v", raw, out, err)
		}
		if u.User != nil || u.Fragment != "" || u.RawFragment != "" {
			t.Fatalf("RedactURL(%q) = %q keeps userinfo or a fragment", raw, out)
		}
		for k, vs := range u.Query() {
			for _, v := range vs {
				if v != Redacted {
					t.Fatalf("RedactURL(%q) = %q keeps %s=%q", raw, out, k, v)
				}
			}
		}
		in, _ := url.Parse(raw)
		if in.Host != u.Host || in.Scheme != u.Scheme {
			t.Fatalf("RedactURL(%q) = %q changed the scheme or host", raw, out)
		}
	})
}
