package session

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenDemo(t *testing.T) {
	s, err := Open("../../testdata/demo/session")
	if err != nil {
		t.Fatal(err)
	}
	m := s.Manifest
	if len(m.Participants) != 3 || len(m.Tracks) != 4 {
		t.Fatalf("demo session: %d participants, %d tracks; want 3 and 4", len(m.Participants), len(m.Tracks))
	}
	for _, tr := range m.Tracks {
		if _, err := os.Stat(s.Path(tr.File)); err != nil {
			t.Errorf("track %s: %v", tr.ID, err)
		}
	}
}

func TestTimelineMapping(t *testing.T) {
	tr := Track{Timeline: []Anchor{{0, 48000}, {96000, 200000}, {144000, 247000}}}
	tests := []struct {
		media, want int64
		why         string
	}{
		{0, 48000, "the first sample plays at the first anchor"},
		{95999, 143999, "samples follow one tick each until the next anchor"},
		{96000, 200000, "a jump forward is a gap"},
		{144000, 247000, "a step back is a clock correction"},
		{150000, 253000, "after the last anchor samples keep following"},
	}
	for _, tt := range tests {
		if got := tr.SessionTicks(tt.media); got != tt.want {
			t.Errorf("%s: SessionTicks(%d) = %d, want %d", tt.why, tt.media, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	base := func() *Manifest {
		return &Manifest{
			Format: FormatName, Version: 1, ClockRate: ClockRate,
			Participants: []Participant{{Identity: "a"}},
			Tracks: []Track{{ID: "t1", Participant: "a", File: "tracks/t1.opus", Codec: "opus", Channels: 1,
				Timeline: []Anchor{{0, 0}}}},
		}
	}
	tests := []struct {
		mutate func(*Manifest)
		want   string
		why    string
	}{
		{func(m *Manifest) {}, "", "a minimal manifest is valid"},
		{func(m *Manifest) { m.Version = 2 }, "upgrade spacecast", "a newer version is refused with advice"},
		{func(m *Manifest) { m.Format = "x" }, "format", "another format is refused"},
		{func(m *Manifest) { m.Tracks[0].File = "../etc/passwd" }, "inside the session folder", "paths may not leave the folder"},
		{func(m *Manifest) { m.Tracks[0].File = "/abs" }, "relative", "absolute paths are refused"},
		{func(m *Manifest) { m.Tracks[0].Participant = "b" }, "not listed", "tracks need a known participant"},
		{func(m *Manifest) { m.Tracks = append(m.Tracks, m.Tracks[0]) }, "duplicate", "track ids are unique"},
		{func(m *Manifest) { m.Tracks[0].Timeline = []Anchor{{5, 0}} }, "media_sample 0", "the timeline starts at sample 0"},
		{func(m *Manifest) { m.Tracks[0].Timeline = []Anchor{{0, 0}, {0, 5}} }, "not in order", "anchors are sorted"},
	}
	for _, tt := range tests {
		m := base()
		tt.mutate(m)
		err := m.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.why, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.why, err, tt.want)
		}
	}
}

func TestSaveIsAtomicAndRoundTrips(t *testing.T) {
	dir := t.TempDir()
	s := &Session{Dir: dir, Manifest: &Manifest{Format: FormatName, Version: 1, ClockRate: ClockRate}}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s.Manifest.Meta = map[string]string{"title": "x"}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("save left %d files, want only manifest.json", len(entries))
	}
	got, err := Open(dir)
	if err != nil || got.Manifest.Meta["title"] != "x" {
		t.Errorf("round trip: %v %v", got, err)
	}
}

func TestOpenNotSession(t *testing.T) {
	_, err := Open(t.TempDir())
	if !errors.Is(err, ErrNotSession) {
		t.Errorf("an empty folder: got %v, want ErrNotSession", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ManifestName), []byte("{not json"), 0o644)
	if _, err := Open(dir); !errors.Is(err, ErrInvalid) {
		t.Errorf("a torn manifest: got %v, want ErrInvalid", err)
	}
}

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("../../testdata/demo/session/manifest.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"format":"spacecast-session","version":1,"clock_rate":48000}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Parse accepted a manifest Validate refuses: %v", err)
		}
		for _, tr := range m.Tracks {
			if strings.Contains(tr.File, "..") && checkRelPath(tr.File) != nil {
				t.Fatalf("escaping path accepted: %q", tr.File)
			}
		}
	})
}
