package room

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// flagLike is a command-line flag as spacecast spells them: --wait, --reconnect-timeout.
var flagLike = regexp.MustCompile(`(^|[^\w-])--[a-z][a-z-]*`)

// TestNoFlagNames: no string literal in pkg/room or its adapters names a command-line flag. A
// library says what happened to what (the room, the timeout, the credentials); only the command
// line knows what its flags are called, and says so in its own messages.
func TestNoFlagNames(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && flagLike.MatchString(lit.Value) {
				t.Errorf("%s: %s names a flag", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
