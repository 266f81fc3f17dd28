package studio

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spacecast/spacecast/pkg/session"
)

// People who were in a room but whose voice was never recorded (excluded, no consent under
// opt-in, a listener) or was redacted afterwards have no track. What spacecast publishes never
// names them (issue 5): the speakers list only people heard, and the titles a session carries
// along (its chapters and soundbites, written by hand or by earlier commands) are checked here.

// unrecordedNames returns the identities and display names of the session's participants who have
// no track, except names a recorded participant also goes by (those are about someone recorded).
func unrecordedNames(m *session.Manifest) []string {
	recorded := map[string]bool{}
	for _, t := range m.Tracks {
		recorded[t.Participant] = true
	}
	taken := map[string]bool{}
	for i := range m.Participants {
		if p := &m.Participants[i]; recorded[p.Identity] {
			taken[strings.ToLower(p.Identity)] = true
			taken[strings.ToLower(p.DisplayName())] = true
		}
	}
	var out []string
	for i := range m.Participants {
		p := &m.Participants[i]
		if recorded[p.Identity] {
			continue
		}
		for _, n := range []string{p.Identity, p.Name} {
			if n = strings.TrimSpace(n); n != "" && !taken[strings.ToLower(n)] {
				out = append(out, n)
			}
		}
	}
	return out
}

// names reports whether title mentions any of names: case-insensitively, as whole words (a
// name "Al" is not found in "Alice").
func names(title string, names []string) bool {
	t := strings.ToLower(title)
	for _, n := range names {
		n = strings.ToLower(n)
		for from := 0; ; {
			i := strings.Index(t[from:], n)
			if i < 0 {
				break
			}
			i += from
			end := i + len(n)
			if !wordRune(t, i, true) && !wordRune(t, end, false) {
				return true
			}
			from = i + 1
		}
	}
	return false
}

// wordRune reports whether the rune just before byte i of s (before) or at byte i is a letter or
// a digit; outside s it is not.
func wordRune(s string, i int, before bool) bool {
	var r rune
	switch {
	case before && i > 0:
		r, _ = utf8.DecodeLastRuneInString(s[:i])
	case !before && i < len(s):
		r, _ = utf8.DecodeRuneInString(s[i:])
	default:
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// neutralChapterTitle replaces the title of the n-th chapter (from 1) that names someone who was
// not recorded.
func neutralChapterTitle(n int) string { return fmt.Sprintf("Chapter %d", n) }
