package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

type pruneOptions struct {
	olderThan string
	dryRun    bool
	s3        s3Options
}

func newPruneCommand(g *globalOptions) *cobra.Command {
	o := &pruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune ROOT|s3://BUCKET[/PREFIX] [--older-than D] [--dry-run]",
		Short: "Delete raw sessions past their delete-after date (never held or live ones)",
		Long: `Prune looks for session folders under ROOT (folders whose manifest.json is a spacecast session;
ROOT itself may be one) and deletes those past the delete-after date the recorder wrote
('record --retain', 30 days by default), whether or not they were published. With --older-than D
it deletes instead those whose recording started more than D ago.

It never deletes:
  a session under a moderation hold ('spacecast hold'), or whose hold.json is unreadable;
  an unfinalized session whose recorder may still run: its control socket answers, or one of its
    files changed in the last minute (one whose recorder died long ago is judged by its dates);
  anything that is not a session folder: other files, hidden folders, a podcast site (a folder
    with podcast.yaml, episodes.json or .spacecast.lock) and everything in it.

D is a number of days (30d) or weeks (2w), or a Go duration (720h, 90m).

Prune is safe from cron and when two run at once: it holds an flock on ROOT/.spacecast-prune.lock
while it works, and deletes a session by renaming it to a hidden .spacecast-trash-* folder in ROOT
first, then removing that; a trash folder left by a crash is removed by the next run. It prints
what it removed (and, unless -q, what it kept and why). --dry-run deletes nothing.

In a bucket (s3://BUCKET/PREFIX) the sessions are the folders with a manifest.json, judged the
same way; a session without a finalized manifest (a recording into the bucket in progress, with
pieces under .live/; a push that did not finish) is never deleted, nor one with any object
version under an Object Lock legal hold. Every version of a deleted session goes, in a versioned
bucket too. Two prunes take turns on a lock object (PREFIX/.spacecast-prune.lock, created only
if absent and renewed while the prune runs; a lock not renewed for 30 s is taken over). A
session's manifest.json is deleted first, so a session half deleted reads as incomplete, never
as whole; the next prune finishes it.

` + s3Help,
		Example: `  spacecast prune /srv/recordings --dry-run
  spacecast prune s3://recordings/2026 --json
  spacecast prune /srv/recordings
  spacecast prune /srv/recordings --older-than 90d --json
  # crontab: every night at 03:00
  0 3 * * * spacecast prune -q /srv/recordings`,
		Args: exactArgs("prune", 1, "ROOT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if objstore.IsURL(args[0]) {
				return runPruneS3(cmd.Context(), o, g, args[0], time.Time{})
			}
			return runPrune(o, g, args[0], time.Time{})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.olderThan, "older-than", "", "delete sessions that started more than D ago (30d, 2w, 720h) instead of by their delete-after date")
	fl.BoolVar(&o.dryRun, "dry-run", false, "list what would be deleted; delete nothing")
	o.s3.addFlags(cmd)
	return cmd
}

// pruneOpts are the library's options from the flags.
func (o *pruneOptions) pruneOpts(now time.Time) (session.PruneOptions, error) {
	opts := session.PruneOptions{DryRun: o.dryRun, Now: now}
	if o.olderThan != "" {
		d, err := session.ParseAge(o.olderThan)
		if err != nil {
			return opts, usageErr("prune: --older-than %s is not a duration: use days (30d), weeks (2w) or a Go duration (720h, 90m)", o.olderThan)
		}
		opts.OlderThan = d
	}
	return opts, nil
}

func runPrune(o *pruneOptions, g *globalOptions, root string, now time.Time) error {
	opts, err := o.pruneOpts(now)
	if err != nil {
		return err
	}
	rep, err := session.Prune(root, opts)
	if err != nil {
		if errors.Is(err, session.ErrNoSessions) {
			return inputErr(fmt.Errorf("prune: %s holds no spacecast session (no folder with a spacecast manifest.json): give the folder your recordings are in; nothing was deleted", root))
		}
		if errors.Is(err, session.ErrLocked) {
			return fmt.Errorf("prune: %w; nothing was deleted (run it again later)", err)
		}
		return inputErr(fmt.Errorf("prune: %w", err))
	}
	return printPrune(g, rep, "interrupted prune")
}

// printPrune prints what a prune did; finished names what an earlier interrupted prune left
// (a trash folder, a session half deleted).
func printPrune(g *globalOptions, rep *session.PruneReport, finished string) error {
	for i := range rep.Kept {
		if rep.Kept[i].Undated {
			rep.Kept[i].Reason += " (use --older-than)"
		}
	}
	if g.json {
		return writeJSON(g.stdout, rep)
	}
	verb := "deleted"
	if rep.DryRun {
		verb = "would delete"
	}
	for _, n := range rep.Finished {
		fmt.Fprintf(g.stdout, "finished %s (left by an %s)\n", termPath(n), finished)
	}
	var bytes int64
	for _, e := range rep.Deleted {
		bytes += e.Bytes
		fmt.Fprintf(g.stdout, "%s %s (%s; %.1f MB)\n", verb, termPath(e.Path), term(e.Reason), float64(e.Bytes)/1e6)
	}
	if !g.quiet {
		for _, e := range rep.Kept {
			fmt.Fprintf(g.stdout, "kept %s (%s)\n", termPath(e.Path), term(trimKept(e.Reason)))
		}
	}
	fmt.Fprintf(g.stdout, "%s %d session(s), %.1f MB; kept %d\n", verb, len(rep.Deleted), float64(bytes)/1e6, len(rep.Kept))
	return nil
}

func trimKept(reason string) string {
	const p = "kept: "
	if len(reason) >= len(p) && reason[:len(p)] == p {
		return reason[len(p):]
	}
	return reason
}
