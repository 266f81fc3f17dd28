package spacecast

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
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

// testReassigns lists the product package variables a test may reassign, each with its reason.
var testReassigns = map[string]string{
	// The CPU dispatch flag, as the standard library's crypto packages have theirs: the tests run
	// both kernels on one machine to hold the vector one to the Go one.
	"pkg/audio/internal/truepeak.useAVX2": "both kernels compared on one machine",
}

// TestNoTestHooksInProduct fails when a test reassigns a package-level variable of a product
// package (under pkg/ or cmd/): such a variable is a hook that exists for tests, shared by every
// test of the process and by the product. A test gets its fault or its shorter interval through
// the product's own seams instead: an option, an unexported field of a value it makes, or a
// fault made from outside (a file in the way, a relay on the network path).
func TestNoTestHooksInProduct(t *testing.T) {
	const module = "github.com/spacecast/spacecast/"
	fset := token.NewFileSet()
	type pkg struct {
		name  string
		vars  map[string]bool
		tests []*ast.File
	}
	pkgs := map[string]*pkg{} // by folder, slash-separated
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(p))
		if pkgs[dir] == nil {
			pkgs[dir] = &pkg{vars: map[string]bool{}}
		}
		pk := pkgs[dir]
		if strings.HasSuffix(p, "_test.go") {
			pk.tests = append(pk.tests, f)
			return nil
		}
		pk.name = f.Name.Name
		for _, decl := range f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, spec := range g.Specs {
					for _, n := range spec.(*ast.ValueSpec).Names {
						if n.Name != "_" {
							pk.vars[n.Name] = true
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	product := func(dir string) bool { return strings.HasPrefix(dir, "pkg/") || strings.HasPrefix(dir, "cmd/") }
	checked := 0
	for dir, pk := range pkgs {
		for _, f := range pk.tests {
			checked++
			// What the file calls the product packages it imports.
			imported := map[string]string{}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				rel, ok := strings.CutPrefix(p, module)
				if !ok || !product(rel) || pkgs[rel] == nil {
					continue
				}
				name := pkgs[rel].name
				if imp.Name != nil {
					name = imp.Name.Name
				}
				imported[name] = rel
			}
			ast.Inspect(f, func(n ast.Node) bool {
				a, ok := n.(*ast.AssignStmt)
				if !ok || a.Tok != token.ASSIGN {
					return true
				}
				for _, lhs := range a.Lhs {
					owner, name := "", ""
					switch x := lhs.(type) {
					case *ast.Ident: // in-package: a name this file does not declare
						if x.Obj == nil && f.Name.Name == pk.name && product(dir) {
							owner, name = dir, x.Name
						}
					case *ast.SelectorExpr: // pkg.Var, from another package's test
						if id, ok := x.X.(*ast.Ident); ok && id.Obj == nil && imported[id.Name] != "" {
							owner, name = imported[id.Name], x.Sel.Name
						}
					}
					if owner == "" || !pkgs[owner].vars[name] {
						continue
					}
					if _, ok := testReassigns[owner+"."+name]; ok {
						continue
					}
					t.Errorf("%s: a test reassigns %s's package variable %s: give the product a seam that is not a shared global (see this test's doc)",
						fset.Position(a.Pos()), path.Base(owner), name)
				}
				return true
			})
		}
	}
	if checked < 100 {
		t.Fatalf("read only %d test files; is the test running at the module root?", checked)
	}
}
