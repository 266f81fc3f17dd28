// Package golden compares a test's output with a golden file under testdata/ and rewrites the
// file instead when the tests run with -update.
//
// A golden file is the reviewed output of a command or a renderer: a change to it shows in the
// diff of the commit that made it. Run the tests with -update after an intended change, read the
// diff (git diff testdata/), and commit the new golden files with the code.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update is -update: rewrite the golden files with what the tests got. It is registered here
// once, for every test binary that imports this package.
var update = flag.Bool("update", false, "rewrite testdata/*.golden with what the tests got")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Path is the golden file of name: testdata/NAME.golden, relative to the test's package folder.
// name may hold slashes to group golden files in folders (help/spacecast_mix).
func Path(name string) string {
	return filepath.Join("testdata", filepath.FromSlash(name)+".golden")
}

// Assert compares got with the golden file of name and fails t, showing the first line that
// differs, when they are not the same; line endings (CRLF or LF) are not compared. Under -update
// it writes got to the file instead, creating its folder.
func Assert(t testing.TB, got []byte, name string) {
	t.Helper()
	path := Path(name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			t.Fatalf("golden: %s does not exist: run with -update to create it, then review and commit it", path)
		}
		t.Fatalf("golden: %v", err)
	}
	if d := Diff(normalize(want), normalize(got)); d != "" {
		t.Errorf("golden: output differs from %s (if the change is intended, run with -update and commit the new file):\n%s", path, d)
	}
}

// normalize turns CRLF and lone CR line endings into LF, so that a golden file checked out with
// Windows line endings still compares equal.
func normalize(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
}

// context is how many equal lines Diff shows before the first differing one.
const context = 3

// Diff describes where want and got first differ: the line number, a few equal lines before
// it, and the wanted and the got line (marked - and +). It is "" when they are equal.
func Diff(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	w := strings.Split(string(want), "\n")
	g := strings.Split(string(got), "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (want %d lines, got %d):\n", i+1, len(w), len(g))
	for j := max(0, i-context); j < i; j++ {
		fmt.Fprintf(&b, "   %s\n", w[j])
	}
	if i < len(w) {
		fmt.Fprintf(&b, " - %s\n", w[i])
	} else {
		b.WriteString(" - (end of file)\n")
	}
	if i < len(g) {
		fmt.Fprintf(&b, " + %s\n", g[i])
	} else {
		b.WriteString(" + (end of output)\n")
	}
	return b.String()
}
