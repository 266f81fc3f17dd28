package feed

import (
	"strings"
	"testing"

	"github.com/spacecast/spacecast/pkg/websafe"
)

// TestRenderCleansActiveMarkup: an episode record whose notes or descriptions carry active
// markup (written by an older spacecast, or by hand) still makes a feed in which nothing runs:
// the notes are cleaned, a description keeps its text but loses its tags, and Check finds
// nothing active.
func TestRenderCleansActiveMarkup(t *testing.T) {
	tests := []struct{ name, notes, desc string }{
		{"a javascript: link behind a character reference", `<p><a href="&#106;avascript:alert(1)">x</a></p>`, "fine"},
		{"a script element", `<p>a</p><script>alert(1)</script>`, "fine"},
		{"an image with an error handler", `<img src=x onerror=alert(1)>`, "fine"},
		{"an iframe", `<iframe src="https://evil.example/"></iframe>`, "fine"},
		{"a description that is an image with an error handler", "", `<img src=x onerror=alert(1)>`},
		{"a description with a data: link", "", `see <a href="data:text/html,<script>alert(1)</script>">this</a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sampleShow()
			s.Description = tt.desc
			eps := sampleEpisodes()
			eps[0].NotesHTML, eps[0].Description = tt.notes, tt.desc
			out := render(t, s, eps)
			root, err := parseTree(out)
			if err != nil {
				t.Fatal(err)
			}
			ch := root.first("", "channel")
			texts := []string{ch.first("", "description").text.String()}
			for _, it := range ch.all("", "item") {
				for _, tag := range []*element{it.first("", "description"), it.first(NamespaceContent, "encoded")} {
					if tag != nil {
						texts = append(texts, tag.text.String())
					}
				}
			}
			for _, text := range texts {
				if f := websafe.Find(text, websafe.Options{}); len(f) > 0 {
					t.Errorf("the feed carries %v in %q", f, text)
				}
			}
			probs, err := Check(out, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range probs {
				if strings.Contains(p.Msg, "active markup") {
					t.Errorf("Check: %s", p)
				}
			}
			// The description keeps every character a reader sees.
			for _, it := range ch.all("", "item") {
				if it.first("", "guid").trimmed() != eps[0].GUID {
					continue
				}
				if d := it.first("", "description").text.String(); strings.ReplaceAll(d, "&lt;", "<") != tt.desc {
					t.Errorf("description %q, want %q with only its '<' escaped", d, tt.desc)
				}
			}
		})
	}
}
