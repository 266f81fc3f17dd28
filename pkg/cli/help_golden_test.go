package cli

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/internal/testutil/golden"
)

// helpGoldenDir is where the --help golden files live, one per command: testdata/help/.
const helpGoldenDir = "help"

// helpCommands walks the real command tree, hidden commands included, and returns each
// command's words after "spacecast" (the root is the empty path). cobra's help command is in
// the tree as a user sees it; the completion command and its shell subcommands are cobra's
// code but ours to document (our Long text, our EXIT STATUS), so they are golden too. cobra's
// hidden __complete commands, a protocol between the shell scripts and the binary, are added
// only while a command line runs and are not walked.
func helpCommands() [][]string {
	root := NewRootCommand(BuildInfo{Version: "test", Commit: "none", Date: "today"}, io.Discard, io.Discard)
	root.InitDefaultHelpCmd()
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(root, nil)
	return paths
}

// helpGoldenName is the golden file of a command: help/spacecast_feed_init.
func helpGoldenName(path []string) string {
	return helpGoldenDir + "/" + strings.Join(append([]string{"spacecast"}, path...), "_")
}

// TestHelpGolden runs every command's --help, as a user would, and compares it with its golden
// file: a changed help text, a new or renamed flag, or a command without a golden file fails
// (run go test ./pkg/cli -run Golden -update, then review and commit testdata/help/).
func TestHelpGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, path := range helpCommands() {
		name := helpGoldenName(path)
		seen[filepath.Base(golden.Path(name))] = true
		t.Run(strings.TrimPrefix(name, helpGoldenDir+"/"), func(t *testing.T) {
			out := mustRun(t, append(path, "--help")...)
			golden.Assert(t, []byte(out), name)
		})
	}
	// A golden file whose command is gone is stale: -update removes it, otherwise it fails.
	dir := filepath.Dir(golden.Path(helpGoldenDir + "/x"))
	entries, err := os.ReadDir(dir)
	if err != nil && !golden.Update() {
		t.Fatal(err)
	}
	var stale []string
	for _, e := range entries {
		if !seen[e.Name()] {
			stale = append(stale, e.Name())
		}
	}
	sort.Strings(stale)
	for _, s := range stale {
		if golden.Update() {
			if err := os.Remove(filepath.Join(dir, s)); err != nil {
				t.Error(err)
			}
			continue
		}
		t.Errorf("%s is the golden file of no command: run with -update to remove it", filepath.Join(dir, s))
	}
}
