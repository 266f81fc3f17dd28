package textutil

import (
	"strings"
	"testing"
)

// TestSlug pins the slugs of the two functions Slug replaces: site.Slugify (episode URLs, at most
// 60 bytes; published URLs must never change, so every row's site column is what the old function
// gave) and capture's track-file slug (at most 40 bytes, "speaker" when empty). before is the old
// capture slug where it differed: it kept "_" and runs of "-", and dropped accented letters
// whole ("José" → "jos"); a track's file is named in the manifest, so only new tracks change.
func TestSlug(t *testing.T) {
	tests := []struct {
		in, site, track, before, why string
	}{
		{"Episode 1: Keeping live rooms", "episode-1-keeping-live-rooms", "episode-1-keeping-live-rooms", "", "punctuation and spaces become one hyphen"},
		{"Épisode 2 — Ça commence", "episode-2-ca-commence", "episode-2-ca-commence", "pisode-2-a-commence", "accents are dropped after NFKD, the letters kept"},
		{"Straße & Smørrebrød", "strasse-and-smorrebrod", "strasse-and-smorrebrod", "stra-e-sm-rrebr-d", "letters NFKD keeps whole are spelled out"},
		{"  --Hello--  ", "hello", "hello", "", "no hyphens at the ends"},
		{"ﬁnal ①", "final-1", "final-1", "nal", "compatibility characters decompose"},
		{"日本語", "", "speaker", "", "nothing ASCII is left"},
		{"", "", "speaker", "", "an empty name"},
		{strings.Repeat("word ", 30), "word-word-word-word-word-word-word-word-word-word-word-word", "word-word-word-word-word-word-word-word", "", "cut at a hyphen within the limit"},
		{strings.Repeat("a", 70), strings.Repeat("a", 60), strings.Repeat("a", 40), "", "one long word is cut at the limit"},
		{"alice", "alice", "alice", "", "a plain identity is itself"},
		{"Ada (host)", "ada-host", "ada-host", "", "a display name with a role"},
		{"PSTN +1 555 0100", "pstn-1-555-0100", "pstn-1-555-0100", "", "a phone caller"},
		{"guest-", "guest", "guest", "", "a trailing hyphen goes"},
		{"José", "jose", "jose", "jos", "an accented letter keeps its base letter"},
		{"bob_smith", "bob-smith", "bob-smith", "bob_smith", "an underscore is a separator like any other"},
		{"a--b", "a-b", "a-b", "a--b", "runs of hyphens become one"},
	}
	for _, tt := range tests {
		if got := Slug(tt.in, 60); got != tt.site {
			t.Errorf("%s: Slug(%q, 60) = %q, want %q (the published slug)", tt.why, tt.in, got, tt.site)
		}
		track := Slug(tt.in, 40)
		if track == "" {
			track = "speaker"
		}
		if track != tt.track {
			t.Errorf("%s: track slug of %q = %q, want %q", tt.why, tt.in, track, tt.track)
		}
		if tt.before != "" && tt.before == tt.track {
			t.Errorf("%s: before %q is the same as now; leave it empty", tt.why, tt.before)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
		why  string
	}{
		{"", "", 0, "two empty strings"},
		{"title", "title", 0, "the same word"},
		{"titel", "title", 2, "a swap is two edits"},
		{"tile", "title", 1, "one letter missing"},
		{"", "author", 6, "everything inserted"},
		{"tïtle", "title", 1, "an accented letter is one edit, not two bytes"},
		{"society & culture", "society & cultur", 1, "one deletion at the end"},
		{"日本", "日本語", 1, "runes, not bytes"},
	}
	for _, tt := range tests {
		if got := EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: EditDistance(%q, %q) = %d, want %d", tt.why, tt.a, tt.b, got, tt.want)
		}
		if got := EditDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("%s: EditDistance(%q, %q) = %d, want %d (symmetric)", tt.why, tt.b, tt.a, got, tt.want)
		}
	}
}
