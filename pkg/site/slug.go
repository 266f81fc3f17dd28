package site

import (
	"strings"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
)

// MaxSlug is the longest slug, in bytes.
const MaxSlug = 60

// fold spells letters that NFKD does not decompose into ASCII.
var fold = map[rune]string{
	'ß': "ss", 'æ': "ae", 'Æ': "ae", 'ø': "o", 'Ø': "o", 'œ': "oe", 'Œ': "oe", 'ł': "l", 'Ł': "l",
	'đ': "d", 'Đ': "d", 'ð': "d", 'Ð': "d", 'þ': "th", 'Þ': "th", 'ı': "i", '&': " and ",
}

// Slugify makes an episode's slug from its title: Unicode compatibility decomposition (NFKD),
// combining marks dropped, a few letters spelled out (ß → ss), lowercased, every run of other
// characters a single hyphen, at most MaxSlug bytes, cut at a hyphen when it can be. It returns
// "" when the title has no ASCII letter or digit left.
func Slugify(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFKD.String(title) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		s, ok := fold[r]
		if !ok {
			s = string(unicode.ToLower(r))
		}
		for _, c := range s {
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
	s := b.String()
	if len(s) > MaxSlug {
		s = s[:MaxSlug]
		if i := strings.LastIndexByte(s, '-'); i >= MaxSlug/2 {
			s = s[:i]
		}
		s = strings.TrimRight(s, "-")
	}
	return s
}

// ValidSlug reports whether s is a slug: 1 to MaxSlug lowercase ASCII letters, digits and single
// hyphens between them.
func ValidSlug(s string) bool {
	if s == "" || len(s) > MaxSlug || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// EpisodeGUID is an episode's guid: the UUIDv5 of its slug in the show's podcast:guid namespace.
// Slugs are never reused within a show, so neither is a GUID, and the GUID survives a move of the
// site to another host (the show's GUID does).
func EpisodeGUID(showGUID, slug string) (string, error) {
	ns, err := uuid.Parse(showGUID)
	if err != nil {
		return "", errorf("the show's guid %q is not a UUID (podcast.yaml: guid): %w", showGUID, err)
	}
	return uuid.NewSHA1(ns, []byte(slug)).String(), nil
}
