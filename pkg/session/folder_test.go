package session

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEnclosing: a folder is a session when its manifest.json says so (or, unreadable, sits beside
// tracks/); another program's manifest.json does not count. Enclosing finds the session a path is
// in, at any depth, for paths that do not exist yet.
func TestEnclosing(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rec/manifest.json", `{"format":"spacecast-session","version":1}`)
	write("rec/tracks/a.opus", "x")
	write("damaged/manifest.json", `{"format":"spacecast-se`)
	write("damaged/tracks/a.opus", "x")
	write("webapp/manifest.json", `{"name":"app","format":"pwa"}`)
	write("broken-other/manifest.json", `not json`)
	for _, tt := range []struct {
		path, want string
		why        string
	}{
		{"rec", "rec", "the session itself"},
		{"rec/tracks/new/deeper.opus", "rec", "a new path two folders in"},
		{"damaged/clip.mp3", "damaged", "a session whose manifest was cut short"},
		{"webapp/icon.png", "", "a web app's manifest.json"},
		{"broken-other/x", "", "an unreadable manifest.json without tracks/"},
		{"elsewhere/x", "", "no manifest above"},
	} {
		got, ok := Enclosing(filepath.Join(root, tt.path))
		want := ""
		if tt.want != "" {
			want = filepath.Join(root, tt.want)
		}
		if got != want || ok != (want != "") {
			t.Errorf("%s: Enclosing(%s) = %q, %v; want %q", tt.why, tt.path, got, ok, want)
		}
	}
}
