// Package textutil holds the small text functions several packages share: the slug of a title or
// a name (Slug), and the edit distance between two names (EditDistance), for "did you mean".
package textutil

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// fold spells letters that NFKD does not decompose into ASCII.
var fold = map[rune]string{
	'ß': "ss", 'æ': "ae", 'Æ': "ae", 'ø': "o", 'Ø': "o", 'œ': "oe", 'Œ': "oe", 'ł': "l", 'Ł': "l",
	'đ': "d", 'Đ': "d", 'ð': "d", 'Ð': "d", 'þ': "th", 'Þ': "th", 'ı': "i", '&': " and ",
}

// Slug spells s in lowercase ASCII letters, digits and single hyphens, for a URL or a file name:
// Unicode compatibility decomposition (NFKD), combining marks dropped, a few letters spelled out
// (ß → ss, & → and), lowercased, every run of other characters a single hyphen, none at the ends,
// at most maxBytes bytes, cut at a hyphen when one is in the second half. It returns "" when s has
// no ASCII letter or digit left.
//
// Published episode URLs are made with it: an input must keep its slug across versions
// (TestSlug pins them).
func Slug(s string, maxBytes int) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		f, ok := fold[r]
		if !ok {
			f = string(unicode.ToLower(r))
		}
		for _, c := range f {
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				if hyphen && b.Len() > 0 {
					b.WriteByte('-')
				}
				b.WriteRune(c)
				hyphen = false
			} else {
				hyphen = true
			}
		}
	}
	out := b.String()
	if len(out) > maxBytes {
		out = out[:maxBytes]
		if i := strings.LastIndexByte(out, '-'); i >= maxBytes/2 {
			out = out[:i]
		}
		out = strings.TrimRight(out, "-")
	}
	return out
}

// EditDistance is the Levenshtein distance between a and b in runes (not bytes, so "é" for "e"
// is one edit): the fewest insertions, deletions and substitutions that turn a into b. It takes
// time len(a)·len(b); callers comparing outside input bound its length first.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
