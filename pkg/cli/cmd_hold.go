package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

type holdOptions struct {
	reason string
	s3     s3Options
}

func newHoldCommand(g *globalOptions) *cobra.Command {
	o := &holdOptions{}
	cmd := &cobra.Command{
		Use:   "hold SESSION|s3://BUCKET/PREFIX/NAME --reason TEXT",
		Short: "Keep a session from being pruned (a moderation hold)",
		Long: `Hold writes hold.json into the session folder: the reason, who placed it and when. 'spacecast
prune' never deletes a held session, whatever its delete-after date. hold.json is outside the
session's hashes, so 'spacecast verify' still passes. Holding a held session replaces the reason.
'spacecast release SESSION' lifts the hold.

A session in a bucket (s3://BUCKET/PREFIX/NAME) gets the same hold.json. Where the bucket has
Object Lock, every version of every object of the session is also put under an S3 legal hold,
which the store itself enforces: no one, whatever their rights, deletes a held version until
'spacecast release' lifts it. Without Object Lock only spacecast's prune honours the hold.
docs/storage.md says what each kind of bucket guarantees and which permissions it takes.

` + s3Help,
		Example: `  spacecast hold town-hall --reason "moderation request #42"
  spacecast release town-hall
  spacecast hold s3://recordings/2026/town-hall --reason "legal request #9" --json`,
		Args: exactArgs("hold", 1, "SESSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if objstore.IsURL(args[0]) {
				return runHoldS3(cmd.Context(), o, &o.s3, g, args[0])
			}
			return runHold(o, g, args[0])
		},
	}
	cmd.Flags().StringVar(&o.reason, "reason", "", "why the session must be kept (required)")
	o.s3.addFlags(cmd)
	return cmd
}

func newReleaseCommand(g *globalOptions) *cobra.Command {
	var s3 s3Options
	cmd := &cobra.Command{
		Use:   "release SESSION|s3://BUCKET/PREFIX/NAME",
		Short: "Lift a session's moderation hold",
		Long: `Release removes the session's hold.json, so 'spacecast prune' may delete the session again once
it is past its delete-after date. Releasing a session that is not held changes nothing.

For a session in a bucket it lifts the Object Lock legal holds on its object versions (whoever
placed them), then removes hold.json.

` + s3Help,
		Example: `  spacecast release town-hall
  spacecast release s3://recordings/2026/town-hall`,
		Args: exactArgs("release", 1, "SESSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if objstore.IsURL(args[0]) {
				return runReleaseS3(cmd.Context(), &s3, g, args[0])
			}
			return runRelease(g, args[0])
		},
	}
	s3.addFlags(cmd)
	return cmd
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
