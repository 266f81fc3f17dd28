package spacecast

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// testHelpers is where test-only code lives: the one folder whose packages may import "testing".
const testHelpers = "internal/testutil"

// TestNoTestingInProduct fails when a package that is not a test helper imports "testing" (or a
// test helper) outside its _test.go files: such code is compiled into the spacecast binary, and its
// package would offer test-only API to every caller. It reads the import lists of every .go file,
// whatever its build tags, so a file built only on some platforms counts too.
func TestNoTestingInProduct(t *testing.T) {
	const module = "github.com/spacecast/spacecast/"
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if filepath.ToSlash(path) == testHelpers {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "testing" || strings.HasPrefix(p, "testing/") || strings.HasPrefix(p, module+testHelpers) {
				t.Errorf("%s imports %q: test-only code belongs in %s/... or a _test.go file", path, p, testHelpers)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read only %d product files; is the test running at the module root?", files)
	}
}
