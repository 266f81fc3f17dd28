package sitestore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The objects a push keeps beside the site, under the prefix. Their names begin with a dot, like
// the site folder's own files, and are never files of a site.
const (
	StateName = ".spacecast-push.json"
	LockName  = ".spacecast-push.lock"
)

const (
	stateFormat  = "spacecast-site-push"
	stateVersion = 1
	// maxStateBytes bounds what is read of a state object: a site of 100,000 episodes' files
	// takes about 60 MB.
	maxStateBytes = 64 << 20
)

// entry is what the state says of one object a push uploaded.
type entry struct {
	SHA256       string `json:"sha256"`
	Bytes        int64  `json:"bytes"`
	ETag         string `json:"etag,omitempty"` // "" until the upload is known to have finished
	ContentType  string `json:"content_type"`
	CacheControl string `json:"cache_control"`
}

// state is .spacecast-push.json: every object under the prefix that a push uploaded and has not
// deleted since, by its path below the prefix. A push deletes only objects listed here.
type state struct {
	Format  string           `json:"format"`
	Version int              `json:"version"`
	Objects map[string]entry `json:"objects"`
}

func newState() *state {
	return &state{Format: stateFormat, Version: stateVersion, Objects: map[string]entry{}}
}

func (s *state) encode() []byte {
	b, _ := json.MarshalIndent(s, "", " ") // a map of strings and numbers: cannot fail
	return append(b, '\n')
}

// parseState reads a state object. A bucket is outside input: every path must be a clean
// relative path that a site can have, and every digest 64 hex digits.
func parseState(b []byte) (*state, error) {
	var s state
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if s.Format != stateFormat || s.Version != stateVersion {
		return nil, fmt.Errorf("%w: format %q version %d, want %q version %d", ErrBadState, s.Format, s.Version, stateFormat, stateVersion)
	}
	if s.Objects == nil {
		s.Objects = map[string]entry{}
	}
	for rel, e := range s.Objects {
		if err := checkRel(rel); err != nil {
			return nil, fmt.Errorf("%w: object %q: %v", ErrBadState, rel, err)
		}
		if !isHexSHA256(e.SHA256) || e.Bytes < 0 {
			return nil, fmt.Errorf("%w: object %q: a digest of 64 hex digits and a size are required", ErrBadState, rel)
		}
	}
	return &s, nil
}

// checkRel refuses a path below the prefix that is not a clean relative slash path a site can
// have: empty, "." or ".." segments, a leading dot in any segment (the push's own objects, dot
// files), backslashes, control characters.
func checkRel(rel string) error {
	if rel == "" || len(rel) > 1024 || !utf8.ValidString(rel) || strings.ContainsRune(rel, '\\') {
		return fmt.Errorf("not a path of a site")
	}
	for _, r := range rel {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("a control character")
		}
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return fmt.Errorf("an empty segment or one that begins with a dot")
		}
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
