package testutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast"
)

// DemoSession copies the bundled demo session (testdata/demo/session: finalized, sealed, three
// speakers) into a new temporary folder and returns its path, for tests that change a session.
func DemoSession(t testing.TB) string {
	t.Helper()
	src, err := fs.Sub(spacecast.DemoSession, "testdata/demo/session")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "session")
	if err := os.CopyFS(dir, src); err != nil {
		t.Fatal(err)
	}
	return dir
}
