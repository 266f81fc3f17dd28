package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
)

func newJobsCommand(g *globalOptions) *cobra.Command {
	var o natsOptions
	cmd := &cobra.Command{
		Use:   "jobs [show ID | cancel ID]",
		Short: "List, show and cancel the jobs of a fleet (NATS JetStream)",
		Long: `Jobs lists the jobs on NATS JetStream: each room's latest job and each recording's follow-up
job (mix, publish), oldest first, with its state — queued (waiting for a worker), running (a
worker holds it: its name, since when, its last heartbeat and its claim number), done (with its
session's s3:// URL; for a follow-up, its mix's), failed (with the reason; for a follow-up, the
error of each attempt) or cancelled. 'jobs show ID' shows one job whole, 'jobs cancel ID' cancels
one (docs/fleet.md).

` + natsHelp,
		Example: `  spacecast jobs --nats nats://nats:4222
  spacecast jobs show 3f9a0c1d2e4b5a69-7c1e2f00 --json
  spacecast jobs cancel 3f9a0c1d2e4b5a69-7c1e2f00 --reason "the talk moved"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, ctx, done, err := o.open(cmd.Context(), "jobs")
			if err != nil {
				return err
			}
			defer done()
			list, err := q.List(ctx)
			if err != nil {
				return fmt.Errorf("jobs: %w", err)
			}
			if g.json {
				if list == nil {
					list = []fleet.Status{}
				}
				return writeJSON(g.stdout, map[string]any{"jobs": list})
			}
			if len(list) == 0 {
				fmt.Fprintln(g.stdout, "no jobs")
				return nil
			}
			w := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSTATE\tJOB\tSUBMITTED\tWORKER\tSESSION")
			for _, st := range list {
				what, session := jobSummary(st.Job)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", st.Job.ID, st.State, term(what),
					st.Submitted.Format(time.RFC3339), orDash(term(st.Worker)), term(session))
			}
			return w.Flush()
		},
	}
	o.addFlags(cmd)
	cmd.AddCommand(newJobsShowCommand(g), newJobsCancelCommand(g))
	return cmd
}

func newJobsShowCommand(g *globalOptions) *cobra.Command {
	var o natsOptions
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one job",
		Long: `Show prints one job: what it records and where, its state, and for a running job the worker
holding it, its heartbeat and claim number. A room's earlier jobs are found while the bucket's
history keeps them (its last 16 changes).

` + natsHelp,
		Example: `  spacecast jobs show 3f9a0c1d2e4b5a69-7c1e2f00 --json`,
		Args:    exactArgs("jobs show", 1, "ID"),
		RunE: withJob(&o, "jobs show", func(ctx context.Context, q *fleet.Queue, id fleet.JobID) error {
			st, err := q.Get(ctx, id)
			if err != nil {
				return fmt.Errorf("jobs show: %w", err)
			}
			if g.json {
				return writeJSON(g.stdout, st)
			}
			printJob(g, st)
			return nil
		}),
	}
	o.addFlags(cmd)
	return cmd
}

func newJobsCancelCommand(g *globalOptions) *cobra.Command {
	var o natsOptions
	var reason string
	cmd := &cobra.Command{
		Use:   "cancel ID [--reason TEXT]",
		Short: "Cancel a queued or running job",
		Long: `Cancel marks a job cancelled. A queued job is never taken. A running job's worker learns it
within a few seconds and stops the recording, sealing what it recorded into the job's session.
A job that is done, failed or cancelled already cannot be cancelled (exit status 3).

` + natsHelp,
		Example: `  spacecast jobs cancel 3f9a0c1d2e4b5a69-7c1e2f00 --reason "the talk moved"`,
		Args:    exactArgs("jobs cancel", 1, "ID"),
		RunE: withJob(&o, "jobs cancel", func(ctx context.Context, q *fleet.Queue, id fleet.JobID) error {
			st, err := q.Cancel(ctx, id, reason)
			if err != nil {
				return fmt.Errorf("jobs cancel: %w", err)
			}
			if g.json {
				return writeJSON(g.stdout, st)
			}
			fmt.Fprintf(g.stdout, "cancelled %s\n", id)
			return nil
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, kept with the job")
	o.addFlags(cmd)
	return cmd
}

// withJob is the RunE of a command on one job: it checks the ID, opens the queue and runs f.
func withJob(o *natsOptions, command string, f func(ctx context.Context, q *fleet.Queue, id fleet.JobID) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		id, err := fleet.ParseJobID(args[0])
		if err != nil {
			return fmt.Errorf("%s: %w", command, err)
		}
		q, ctx, done, err := o.open(cmd.Context(), command)
		if err != nil {
			return err
		}
		defer done()
		return f(ctx, q, id)
	}
}

// jobSummary is what a job does, in a word or three, and the session it works on.
func jobSummary(j fleet.Job) (what, session string) {
	if f := j.Followup; f != nil {
		steps := "mix"
		if f.Publish != nil {
			steps += ", publish"
		}
		return "followup: " + steps, f.Session
	}
	if r := j.Record; r != nil {
		return r.Protocol + " " + r.Room, r.Session
	}
	return j.Kind, ""
}

// printJob prints one job's status for a person.
func printJob(g *globalOptions, st fleet.Status) {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-12s %s\n", k+":", v)
		}
	}
	line("job", string(st.Job.ID))
	line("state", string(st.State))
	if f := st.Job.Followup; f != nil {
		line("kind", fleet.KindFollowup)
		line("record job", string(f.RecordJob))
		line("session", term(f.Session))
		if u, err := objstore.ParseURL(f.Session); err == nil {
			line("mix", term(f.Mix.MixObject(u).String()))
		}
		if p := f.Publish; p != nil {
			line("publish", term(p.Site))
			line("push", term(p.Push))
			line("title", term(p.Title))
		}
	}
	if r := st.Job.Record; r != nil {
		line("room", term(r.Protocol+" "+r.Room))
		line("url", printableURL(r.URL))
		line("session", term(r.Session))
		line("consent", term(r.Consent))
		if t := r.Then; t != nil && t.Mix != nil {
			line("then mix", term(t.Mix.To+" ("+t.Mix.Format+")"))
			if t.Publish != nil {
				line("then publish", term(t.Publish.Site))
			}
		}
	}
	line("submitted", st.Submitted.Format(time.RFC3339))
	if st.Worker != "" {
		line("worker", term(st.Worker))
		line("claim", fmt.Sprintf("%d (claims: %d)", st.Claim, st.Claims))
		line("since", st.Since.Format(time.RFC3339))
		line("heartbeat", st.Heartbeat.Format(time.RFC3339))
	}
	line("reason", term(st.Reason))
	for i, e := range st.Errors {
		line(fmt.Sprintf("attempt %d", i+1), term(e))
	}
	if st.Job.Kind == fleet.KindFollowup {
		line("result", term(st.Session))
	} else {
		line("recorded", term(st.Session))
	}
	fmt.Fprint(g.stdout, b.String())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
