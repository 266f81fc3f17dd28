package sitestore

import (
	"bytes"
	"testing"
)

// FuzzParseState: a state object read from a bucket (outside bytes) is refused or read; what is
// read has only clean site paths and 64-hex digests, and encodes to a state that reads the same.
func FuzzParseState(f *testing.F) {
	s := newState()
	s.Objects["feed.xml"] = entry{SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Bytes: 12, ETag: `"x"`, ContentType: "application/rss+xml", CacheControl: CacheFeed}
	f.Add(s.encode())
	f.Add([]byte(`{"format":"spacecast-site-push","version":1,"objects":{"../x":{}}}`))
	f.Add([]byte(`{"format":"spacecast-site-push","version":1,"objects":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseState(b)
		if err != nil {
			return
		}
		for rel, e := range s.Objects {
			if checkRel(rel) != nil || !isHexSHA256(e.SHA256) || e.Bytes < 0 {
				t.Fatalf("accepted %q: %+v", rel, e)
			}
		}
		again, err := parseState(s.encode())
		if err != nil || !sameState(s, again) {
			t.Fatalf("a state read does not read again the same: %v", err)
		}
	})
}

// FuzzParseLock: a lock object read from a bucket is refused or read, never a panic; what is
// read has an owner and a lease of at most a day.
func FuzzParseLock(f *testing.F) {
	f.Add([]byte(`{"format":"spacecast-site-push-lock","owner":"x","host_id":"h","pid":12,"since":"2026-01-01T00:00:00Z","renewals":3,"lease_seconds":60}`))
	f.Add([]byte(`{"format":"spacecast-site-push-lock","owner":"","pid":-1}`))
	f.Add(bytes.Repeat([]byte("["), 100))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseLock(b)
		if err != nil {
			return
		}
		if h.Owner == "" || h.PID < 0 || h.LeaseSeconds < 0 || h.LeaseSeconds > 86400 {
			t.Fatalf("accepted %+v", h)
		}
		_ = h.String()
	})
}
