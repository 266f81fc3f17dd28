package cli

import "github.com/spacecast/spacecast/pkg/cli/ui"

// newProgress is the progress of command's long jobs: a line on stderr when it is a terminal,
// nothing with --quiet or --json or on a pipe, so pipes and logs stay clean.
func newProgress(g *globalOptions, command string) ui.Progress {
	if g.quiet || g.json || !g.isTerminal {
		return ui.NoProgress{}
	}
	return ui.NewTermProgress(g.stderr, command)
}
