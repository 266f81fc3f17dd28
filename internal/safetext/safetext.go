// Package safetext makes text from a room, a server or a file safe to print on a terminal and to
// publish in a feed or a page.
//
// Two rules, one per destination. Term is for a terminal: every control character, every
// Unicode bidirectional control and every byte that is not UTF-8 is shown as a visible escape
// (\x1b, \u202e, \xff), so the text cannot clear the screen, set the window title, write to the
// clipboard or reorder what follows it, and the reader still sees that something was there.
// Publish is for published text (a podcast:person name, a chapter title on a page): the same
// characters are dropped, runs of white space become one space, and the result is trimmed. Both
// cap the length, are idempotent, and return valid UTF-8.
package safetext

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Length caps, in runes, including the "…" a cut string ends with.
const (
	// MaxLine is the cap for one field on a terminal: a name, a title, a track.
	MaxLine = 200
	// MaxText is the cap for a longer text on a terminal: an error message with a server's body.
	MaxText = 4000
	// MaxPublish is the cap for a name or title in published output: the length of a
	// podcast:person name that podcast apps show (feed.MaxPersonName).
	MaxPublish = 128
)

// Unsafe reports whether r must not reach a terminal or a published page as it is: C0 and C1
// controls, DEL, the line and paragraph separators U+2028 and U+2029, the Unicode Bidi_Control
// characters (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), the byte-order mark U+FEFF,
// and the noncharacters U+FFFE and U+FFFF that XML cannot carry. utf8.RuneError stands for a byte
// that is not UTF-8 and is unsafe too (a real U+FFFD in the input is kept by the functions below).
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0xfeff, r == 0xfffe, r == 0xffff:
		return true
	}
	return false
}

// Clean reports whether s is valid UTF-8 without an unsafe rune; Term and Publish return such a
// string unchanged when it is also short enough (Publish also trims space).
func Clean(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (r != utf8.RuneError && Unsafe(r)) {
			return false
		}
		i += n
	}
	return true
}

// Term returns s for one line of a terminal: every unsafe rune (newline and tab included) and every
// byte that is not UTF-8 becomes a visible escape, and the result has at most MaxLine runes.
func Term(s string) string { return term(s, MaxLine, false) }

// TermN is Term with a cap of maxRunes runes (at least 2), for a whole line built from several
// fields, such as an event line that quotes a room's words.
func TermN(s string, maxRunes int) string { return term(s, max(maxRunes, 2), false) }

// TermText returns s for a terminal like Term, but keeps newlines and tabs, and caps at MaxText
// runes: for messages that may span lines, such as an error that quotes a server's answer.
func TermText(s string) string { return term(s, MaxText, true) }

func term(s string, maxRunes int, multiline bool) string {
	if Clean(s) && utf8.RuneCountInString(s) <= maxRunes && (multiline || !strings.ContainsAny(s, "\n\t")) {
		return s
	}
	var b strings.Builder
	runes, cutAt := 0, -1 // cutAt: where a cut goes, before the first escape that passes maxRunes-1
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		piece := s[i : i+n]
		switch {
		case r == utf8.RuneError && n == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case multiline && (r == '\n' || r == '\t'):
		case Unsafe(r) && r < 0x80:
			piece = fmt.Sprintf(`\x%02x`, r)
		case Unsafe(r):
			piece = fmt.Sprintf(`\u%04x`, r)
		}
		i += n
		k := utf8.RuneCountInString(piece)
		if cutAt < 0 && runes+k > maxRunes-1 {
			cutAt = b.Len()
		}
		runes += k
		b.WriteString(piece)
	}
	if runes <= maxRunes {
		return b.String()
	}
	return b.String()[:cutAt] + "…" // an escape is never cut in half
}

// Publish returns s for published output (a feed, a page): terminal escape sequences (ECMA-48
// CSI, OSC, DCS, SOS, PM and APC, 7- or 8-bit) are dropped whole, so "Ada\x1b]0;title\x07"
// becomes "Ada"; other unsafe runes, bytes that are not UTF-8 and U+FFFD (which stands for one,
// and which feed checks refuse) are dropped, except that white-space controls (tab, newline,
// U+2028...) become a space; runs of white space become one space; the result is trimmed and has
// at most MaxPublish runes.
func Publish(s string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == 0x1b || r == 0x9b || r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f {
			i = skipEscape(s, i, r)
			continue
		}
		switch {
		case r == utf8.RuneError: // a byte that is not UTF-8, or U+FFFD standing for one (feed checks refuse it)
			continue
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
			space = true
			continue
		case Unsafe(r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if utf8.RuneCountInString(out) <= MaxPublish {
		return out
	}
	runes := 0
	for i := range out {
		if runes == MaxPublish-1 {
			return strings.TrimRight(out[:i], " ") + "…"
		}
		runes++
	}
	return out
}

// JSON escapes, in the output of encoding/json, the unsafe runes it leaves raw: DEL, C1 controls,
// bidi controls, U+FEFF, U+FFFE and U+FFFF become \uXXXX. encoding/json already escapes C0
// controls, U+2028 and U+2029 and replaces bytes that are not UTF-8, and outside strings JSON has
// only ASCII, so the result decodes to the same value and is safe to print.
func JSON(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x7f && Unsafe(r) }) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x7f && Unsafe(r) && !(r == utf8.RuneError && n == 1) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// skipEscape returns the index in s after the escape sequence whose introducer r ends at i
// (ECMA-48 §5.4 and §8.3.27, 8.3.89, 8.3.128…): a CSI runs to its final byte 0x40–0x7E; an OSC,
// DCS, SOS, PM or APC string runs to BEL or the string terminator (ESC \ or U+009C); ESC followed
// by anything else takes that one character with it. An unterminated sequence runs to the end.
func skipEscape(s string, i int, r rune) int {
	if r == 0x1b {
		if i >= len(s) {
			return i
		}
		switch s[i] {
		case '[':
			r, i = 0x9b, i+1
		case ']', 'P', 'X', '^', '_':
			r, i = 0x9d, i+1
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			return i + n
		}
	}
	if r == 0x9b { // CSI: parameter and intermediate bytes, then one final byte
		for i < len(s) {
			c := s[i]
			i++
			if c >= 0x40 && c <= 0x7e {
				return i
			}
			if c < 0x20 || c >= 0x7f {
				return i - 1 // not a CSI byte: the sequence was broken; keep what follows
			}
		}
		return i
	}
	for i < len(s) { // a control string: to BEL, ESC \ or ST
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + 2
		}
		i++
	}
	return i
}
