package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// readNotSaid lists, by file, the string literals outside pkg/cli that hold a flag's spelling as
// data read from disk, never said to a user: earlier versions wrote "--allow" and "--exclude" as
// consent ledger reasons, and the session package maps them to the codes that replaced them. An
// entry that no longer matches fails the test, so the list cannot outlive its reason.
var readNotSaid = map[string][]string{
	"pkg/session/consent_vocab.go": {"--allow", "--exclude"},
}

// commandFlags returns every flag of the command tree as it is typed: "--name" for each long
// name, and "-x" for each one-letter shorthand.
func commandFlags(t *testing.T) (long, short map[string]bool) {
	t.Helper()
	long, short = map[string]bool{}, map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		add := func(f *pflag.Flag) {
			long["--"+f.Name] = true
			if f.Shorthand != "" {
				short["-"+f.Shorthand] = true
			}
		}
		c.Flags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCommand(BuildInfo{}, &strings.Builder{}, &strings.Builder{}))
	return long, short
}

// flagsIn returns the flags of long and short that s names as words: "--wait" in "use --wait to
// wait" or "(--wait 30s)", but not in "--waiting"; "-o" in "choose another -o", but not in
// "2006-01-02", "x-o" or "-out".
func flagsIn(s string, long, short map[string]bool) []string {
	var found []string
	for _, m := range longFlag.FindAllStringSubmatch(s, -1) {
		if long[m[1]] {
			found = append(found, m[1])
		}
	}
	for _, m := range shortFlag.FindAllStringSubmatch(s, -1) {
		if short[m[1]] {
			found = append(found, m[1])
		}
	}
	return found
}

var (
	// A long flag is "--" and a name, neither preceded nor followed by a letter, digit, '_' or '-'.
	longFlag = regexp.MustCompile(`(?:^|[^\w-])(--[a-z][a-z0-9-]*[a-z0-9])(?:$|[^\w-])`)
	// A short flag is "-" and one letter, standing alone: after the start, a space or an opening
	// bracket or quote, and before the end, a space or punctuation. A hyphen inside a word or a
	// date, or a minus before a number, is not one.
	shortFlag = regexp.MustCompile(`(?:^|[\s(\['"])(-[a-zA-Z])(?:$|[\s,.;:)\]'"])`)
)

// TestNoFlagNamesInLibraries: no string literal in a package outside pkg/cli names a flag of the
// spacecast command line. Only the CLI knows its flags: a library says what happened to what (a
// room, a file, a limit) and the CLI's error table adds the flag to use. Test helpers (files that
// import "testing", like internal/testutil) run other programs with their own flags and are not
// checked.
func TestNoFlagNamesInLibraries(t *testing.T) {
	long, short := commandFlags(t)
	if !long["--wait"] || !long["--lock-timeout"] || !short["-o"] {
		t.Fatalf("the command tree's flags are not collected: %d long, %d short", len(long), len(short))
	}
	found := libraryFlagNames(t, "../..", long, short)
	for file, flags := range readNotSaid {
		dir := filepath.ToSlash(filepath.Dir(file))
		for _, f := range flags {
			var rest []string
			for _, at := range found[dir][f] {
				if !strings.HasPrefix(at, file+":") {
					rest = append(rest, at)
				}
			}
			if len(rest) == len(found[dir][f]) {
				t.Errorf("%s no longer holds %s: take it off readNotSaid", file, f)
				continue
			}
			found[dir][f] = rest
		}
	}
	var dirs []string
	for dir, flags := range found {
		if len(flags) > 0 {
			dirs = append(dirs, dir)
		}
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		var flags []string
		for f := range found[dir] {
			flags = append(flags, f)
		}
		sort.Strings(flags)
		for _, f := range flags {
			for _, at := range found[dir][f] {
				t.Errorf("%s: a library names the flag %s (return an error that says what happened, and give the flag in pkg/cli/errors.go)", at, f)
			}
		}
	}
}

// libraryFlagNames parses every non-test Go file under root's pkg/ and internal/, except pkg/cli
// and files that import "testing", and returns, by package folder and flag, where a string
// literal names a flag.
func libraryFlagNames(t *testing.T, root string, long, short map[string]bool) map[string]map[string][]string {
	t.Helper()
	found := map[string]map[string][]string{}
	fset := token.NewFileSet()
	for _, top := range []string{"pkg", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if rel == "pkg/cli" || d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f, err := parser.ParseFile(fset, rel, src, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				if imp.Path.Value == `"testing"` {
					return nil
				}
			}
			dir := filepath.ToSlash(filepath.Dir(rel))
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				for _, flag := range flagsIn(s, long, short) {
					if found[dir] == nil {
						found[dir] = map[string][]string{}
					}
					found[dir][flag] = append(found[dir][flag], fset.Position(lit.Pos()).String())
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found
}

// TestFlagsIn: what counts as naming a flag, and what does not.
func TestFlagsIn(t *testing.T) {
	long := map[string]bool{"--wait": true, "--slug": true, "--lock-timeout": true}
	short := map[string]bool{"-o": true, "-q": true}
	cases := []struct {
		name, s string
		want    []string
	}{
		{"a flag in a hint is found", "no room yet (use --wait to wait for it)", []string{"--wait"}},
		{"a flag with its value is found", "nobody came within --wait 30s", []string{"--wait"}},
		{"a flag with = is found", "try --slug=x", []string{"--slug"}},
		{"a flag with a hyphen is found", "or raise --lock-timeout)", []string{"--lock-timeout"}},
		{"a longer name that starts like a flag is not one", "--waiting and --slugs", nil},
		{"a flag spacecast does not have is not one", "run npm ci --prefix dir", nil},
		{"a short flag standing alone is found", "choose another -o", []string{"-o"}},
		{"a short flag in quotes is found", `pass "-q"`, []string{"-q"}},
		{"a hyphen inside a word or date is not a flag", "re-open x-o 2006-01-02 -1.5 dB -out", nil},
		{"a lone dash is not a flag", "a - b", nil},
	}
	for _, c := range cases {
		got := flagsIn(c.s, long, short)
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: flagsIn(%q) = %q, want %q", c.name, c.s, got, c.want)
		}
	}
}
