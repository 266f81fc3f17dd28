package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/session"
)

// TestPublishNamesOnlyRecorded: what is published never names a person who was not recorded.
// The demo session gets a participant who was present but never recorded (dora, "Dora Quiet": no
// track, a ledger saying not-recording) and loses cyd to `spacecast redact`; its chapters and a
// soundbite, written by hand, name both. After mix → publish (the MP3, and the session folder
// itself) every file of the site, and the MP3s' tags as ffprobe reads them, are searched for
// their identities and display names: absent. Brook and Ada, who were recorded, are present.
func TestPublishNamesOnlyRecorded(t *testing.T) {
	testutil.Require(t, "ffprobe")
	sess := filepath.Join(t.TempDir(), "town-hall")
	if err := os.CopyFS(sess, os.DirFS(demoSession)); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(sess)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Manifest
	m.Participants = append(m.Participants, session.Participant{Identity: "dora", Name: "Dora Quiet",
		Presence: []session.Interval{{StartTicks: 0, EndTicks: m.DurationTicks}}})
	m.Consent = &session.Consent{Policy: "opt-in", Events: []session.ConsentEvent{
		{Identity: "dora", Type: "not-recording", AtTicks: 0, Time: m.StartedAt, Reason: "no consent given"},
	}}
	sec := func(s int64) int64 { return s * session.ClockRate }
	m.Chapters = []session.Chapter{
		{StartTicks: 0, Title: "Ada (host) opens"},
		{StartTicks: sec(30), Title: "Dora Quiet asks Cyd about clips"},
		{StartTicks: sec(60), Title: "cyd answers"},
		{StartTicks: sec(80), Title: "Brook closes"},
	}
	m.Soundbites = append(m.Soundbites, session.Soundbite{StartTicks: sec(85), DurationTicks: sec(10), Title: "dora's question"})
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "redact", sess, "--speaker", "cyd")

	ep := filepath.Join(t.TempDir(), "ep.mp3")
	mustRun(t, "mix", sess, "-o", ep)
	site := newTestSite(t)
	mustRun(t, "publish", site, ep, "--title", "Town hall, mixed")
	mustRun(t, "publish", site, sess, "--title", "Town hall, from the session")

	hidden := regexp.MustCompile(`(?i)\b(dora|dora quiet|cyd)\b`)
	var seen strings.Builder // everything searched, for the positive check
	check := func(where, text string) {
		t.Helper()
		seen.WriteString(text)
		if loc := hidden.FindStringIndex(text); loc != nil {
			lo, hi := max(0, loc[0]-60), min(len(text), loc[1]+60)
			t.Errorf("%s names someone who was not recorded: …%s…", where, text[lo:hi])
		}
	}
	probe := func(path string) {
		t.Helper()
		out, _ := testutil.Run(t, "ffprobe", "-v", "error", "-show_chapters", "-show_entries", "format_tags", "-of", "json", path)
		var r struct {
			Format   struct{ Tags map[string]string }   `json:"format"`
			Chapters []struct{ Tags map[string]string } `json:"chapters"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Chapters) != 4 || r.Format.Tags["spacecast"] == "" {
			t.Fatalf("%s: %d chapters, spacecast tag %q: the judge sees nothing", path, len(r.Chapters), r.Format.Tags["spacecast"])
		}
		check(path+" (ffprobe)", string(out))
	}
	probe(ep)
	err = filepath.WalkDir(site, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".mp3":
			probe(p)
		case ".png", ".jpg":
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			check(p, string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Brook", "Ada (host) opens", "Brook closes", "Chapter 2"} {
		if !strings.Contains(seen.String(), want) {
			t.Errorf("%q is nowhere in the site: the search would not find a name either", want)
		}
	}
}
