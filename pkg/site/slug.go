package site

import (
	"strings"

	"github.com/google/uuid"

	"github.com/spacecast/spacecast/internal/textutil"
)

// MaxSlug is the longest slug, in bytes.
const MaxSlug = 60

// Slugify makes an episode's slug from its title (textutil.Slug): Unicode compatibility
// decomposition (NFKD), combining marks dropped, a few letters spelled out (ß → ss), lowercased,
// every run of other characters a single hyphen, at most MaxSlug bytes, cut at a hyphen when it
// can be. It returns "" when the title has no ASCII letter or digit left.
func Slugify(title string) string { return textutil.Slug(title, MaxSlug) }

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
