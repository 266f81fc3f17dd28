package studio

import (
	"slices"
	"testing"

	"github.com/spacecast/spacecast/pkg/session"
)

func TestNames(t *testing.T) {
	hidden := []string{"dora", "Dora Quiet", "Al"}
	for _, c := range []struct {
		about string
		title string
		want  bool
	}{
		{"an identity as a word is found", "dora asks", true},
		{"a display name is found whatever its case", "A question from DORA QUIET", true},
		{"a name next to punctuation is found", "Ask Al: why?", true},
		{"a name inside a longer word is not", "Alice and Aldous", false},
		{"a name at the end of a word is not", "Pandora's box", false},
		{"a title naming nobody hidden is kept", "Ada opens", false},
		{"non-ASCII letters around a name keep it a part of a word", "Élan", false},
		{"an empty title names nobody", "", false},
	} {
		if got := names(c.title, hidden); got != c.want {
			t.Errorf("%s: names(%q) = %v, want %v", c.about, c.title, got, c.want)
		}
	}
}

func TestUnrecordedNames(t *testing.T) {
	m := &session.Manifest{
		Participants: []session.Participant{
			{Identity: "ada", Name: "Ada"},
			{Identity: "dora", Name: "Dora Quiet"}, // present, never recorded
			{Identity: "ada2", Name: "Ada"},        // a listener who shares a recorded speaker's name
			{Identity: "cyd"},                      // redacted: no track, no name
		},
		Tracks: []session.Track{{ID: "ada-1", Participant: "ada"}},
	}
	got := unrecordedNames(m)
	want := []string{"dora", "Dora Quiet", "ada2", "cyd"}
	if !slices.Equal(got, want) {
		t.Fatalf("unrecordedNames = %q, want %q (a name a recorded speaker also has is not hidden)", got, want)
	}
}
