package sitestore

import (
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
