package site

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// TestInitFolders: Init replaces no file. What each folder holds decides: a site's own files are
// ErrSiteFiles even with IntoExisting; other files are ErrNotEmpty without it; hidden files and a
// repository's README, LICENSE and CNAME do not count. A refused folder is byte-identical.
func TestInitFolders(t *testing.T) {
	for _, tt := range []struct {
		files        []string
		intoExisting bool
		want         error
		why          string
	}{
		{[]string{"episodes.json"}, true, ErrSiteFiles, "a site that lost podcast.yaml keeps its episode record"},
		{[]string{"index.html"}, true, ErrSiteFiles, "another web root's page"},
		{[]string{"episodes/old.mp3"}, true, ErrSiteFiles, "an episodes folder"},
		{[]string{"assets/x.css"}, true, ErrSiteFiles, "an assets folder"},
		{[]string{"artwork.jpg"}, true, ErrSiteFiles, "artwork under the name Init writes"},
		{[]string{"notes.txt"}, false, ErrNotEmpty, "any other file, without IntoExisting"},
		{[]string{"notes.txt"}, true, nil, "any other file, with IntoExisting"},
		{[]string{".git/HEAD", "README.md", "LICENSE", "COPYING", "CNAME", ".nojekyll"}, false, nil, "a new repository's files"},
		{nil, false, nil, "an empty folder"},
	} {
		dir := t.TempDir()
		for _, f := range tt.files {
			p := filepath.Join(dir, f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		before := testutil.TreeHash(t, dir, nil)
		_, err := Init(context.Background(), dir, testShow(), "", Options{IntoExisting: tt.intoExisting})
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("%s: %v", tt.why, err)
		case tt.want != nil:
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrBadInput) {
				t.Errorf("%s: %v, want %v (bad input)", tt.why, err, tt.want)
			}
			testutil.SameTree(t, tt.why, before, testutil.TreeHash(t, dir, nil))
		}
		for _, f := range tt.files {
			if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || string(b) != f {
				t.Errorf("%s: %s changed", tt.why, f)
			}
		}
	}
}

// TestBuildLeavesANonSiteAlone: Build on a folder without podcast.yaml is ErrNoSite and leaves no
// lock file or staging folder (it used to leave .spacecast.lock).
func TestBuildLeavesANonSiteAlone(t *testing.T) {
	dir := t.TempDir()
	if _, err := Build(context.Background(), dir, Options{}); !errors.Is(err, ErrNoSite) {
		t.Fatalf("build of an empty folder: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("build of a non-site left %v", entries)
	}
}
