package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/session"
)

type holdOptions struct {
	reason string
}

func newHoldCommand(g *globalOptions) *cobra.Command {
	o := &holdOptions{}
	cmd := &cobra.Command{
		Use:   "hold SESSION --reason TEXT",
		Short: "Keep a session from being pruned (a moderation hold)",
		Long: `Hold writes hold.json into the session folder: the reason, who placed it and when. 'spacecast
prune' never deletes a held session, whatever its delete-after date. hold.json is outside the
session's hashes, so 'spacecast verify' still passes. Holding a held session replaces the reason.
'spacecast release SESSION' lifts the hold.`,
		Example: `  spacecast hold town-hall --reason "moderation request #42"
  spacecast release town-hall`,
		Args: exactArgs("hold", 1, "SESSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHold(o, g, args[0])
		},
	}
	cmd.Flags().StringVar(&o.reason, "reason", "", "why the session must be kept (required)")
	return cmd
}

func newReleaseCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "release SESSION",
		Short: "Lift a session's moderation hold",
		Long: `Release removes the session's hold.json, so 'spacecast prune' may delete the session again once
it is past its delete-after date. Releasing a session that is not held changes nothing.`,
		Example: `  spacecast release town-hall`,
		Args:    exactArgs("release", 1, "SESSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRelease(g, args[0])
		},
	}
}

func runHold(o *holdOptions, g *globalOptions, dir string) error {
	if o.reason == "" {
		return usageErr("hold: give the reason with --reason TEXT (it is kept in hold.json)")
	}
	h, err := session.Hold(dir, o.reason)
	if err != nil {
		return inputErr(fmt.Errorf("hold: %w", err))
	}
	if g.json {
		return writeJSON(g.stdout, map[string]any{"session": dir, "held": true, "hold": h})
	}
	fmt.Fprintf(g.stdout, "held %s since %s by %s: %s\n", dir, h.Since.Format(time.RFC3339), term(h.By), term(h.Reason))
	return nil
}

func runRelease(g *globalOptions, dir string) error {
	h, err := session.Release(dir)
	if err != nil {
		return inputErr(fmt.Errorf("release: %w", err))
	}
	if g.json {
		return writeJSON(g.stdout, map[string]any{"session": dir, "held": false, "released": h})
	}
	if h == nil {
		fmt.Fprintf(g.stdout, "%s was not held; nothing to do\n", dir)
		return nil
	}
	fmt.Fprintf(g.stdout, "released %s (held since %s by %s: %s)\n", dir, h.Since.Format(time.RFC3339), term(h.By), term(h.Reason))
	return nil
}
