package cli

import (
	"crypto/ed25519"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/redact"
	"github.com/spacecast/spacecast/pkg/session"
)

type redactOptions struct {
	speaker string
	from    string
	to      string
	signKey string
	s3      s3Options
}

func newRedactCommand(g *globalOptions) *cobra.Command {
	o := &redactOptions{}
	cmd := &cobra.Command{
		Use:   "redact SESSION|s3://BUCKET/PREFIX/NAME --speaker IDENTITY [--from T --to T]",
		Short: "Remove a person, or a stretch of them, from a recorded session",
		Long: `Redact removes a participant's audio from a finalized session after the fact.

Without --from/--to the person's track files are deleted and their tracks leave the manifest;
they stay listed as a participant (with their presence), and the consent ledger says they were
redacted. With --from and --to (times on the session clock) only that stretch goes: every Opus
packet of their tracks that plays in it is replaced by a silence packet of the same length, so
the timeline and every other sample are unchanged. Packets are 20 ms, so the silence can reach
up to one packet past each end.

The live mix (mix.opus) is made again from the remaining tracks (a plain sum, like the
recorder's); when no track remains it is deleted. Other tracks are not touched. The ledger gets
an entry {type: redacted, identity, at_ticks, duration_ticks, reason}.

A sealed session must verify first: when its files or its signature no longer match its seal
('spacecast verify' says which), redact refuses it (exit 3) and changes nothing, since sealing it
again would make the change look like the recording. There is no override: find out what
changed, restore it from a copy, or redact the copy you trust. A session holding a symbolic link
is refused too.

A sealed session (spacecast verify) is sealed again. Its old signature cannot survive the
change: give --sign-key KEYFILE to sign it again, otherwise it is removed (and the output says
so). --sign-key also seals and signs a session that was not sealed.

Everything is prepared in a staging folder inside the session, then renamed into place, the
manifest last: an error leaves the session as it was. Redaction cannot be undone.

A session in a bucket (s3://BUCKET/PREFIX/NAME) is pulled into a temporary folder (under TMPDIR;
it needs room for the session), checked against its seal, redacted there and stored back. Every
file the redaction changed is stored under a new name (tracks/bob-1.opus becomes
tracks/bob-1.r1.opus), so nothing the old manifest names is overwritten: the new files go up,
then the new manifest, then the old files are deleted (every version of them in a versioned
bucket, so the unredacted audio does not stay as an old version). Until the manifest is up the
old session stands, after it the new one; a redaction stopped half-way is completed or undone by
the next redact of the session. A session under an Object Lock legal hold is refused: the store
keeps its held versions, the audio with them ('spacecast release' first, if the hold may go).

` + s3Help,
		Example: `  spacecast redact town-hall --speaker bob
  spacecast redact town-hall --speaker bob --from 12:30 --to 14:05
  spacecast redact town-hall --speaker bob --from 750 --to 845.5 --sign-key ~/.spacecast/key
  spacecast redact town-hall --speaker bob --json
  spacecast redact s3://recordings/2026/town-hall --speaker bob --from 12:30 --to 14:05`,
		Args: exactArgs("redact", 1, "SESSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if objstore.IsURL(args[0]) {
				return runRedactS3(cmd.Context(), o, g, args[0])
			}
			return runRedact(cmd, o, g, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.speaker, "speaker", "", "the participant's identity (required; 'spacecast inspect SESSION' lists them)")
	fl.StringVar(&o.from, "from", "", "start of the stretch to remove, on the session clock (with --to)")
	fl.StringVar(&o.to, "to", "", "end of the stretch to remove (with --from)")
	fl.StringVar(&o.signKey, "sign-key", "", "ed25519 private key file ('spacecast keygen') to sign the re-sealed session")
	cmd.MarkFlagFilename("sign-key")
	o.s3.addFlags(cmd)
	return cmd
}

func runRedact(cmd *cobra.Command, o *redactOptions, g *globalOptions, dir string) error {
	opts, err := o.redactOpts(dir)
	if err != nil {
		return err
	}
	prog := newProgress(g, "redact")
	opts.Progress = prog
	res, err := redact.Redact(cmd.Context(), dir, opts)
	prog.Finish()
	if err != nil {
		return err // its message starts with "redact: "; the error table picks the exit status
	}
	if g.json {
		return writeJSON(g.stdout, res)
	}
	printRedact(g, o, res, dir)
	return nil
}

// redactOpts are the library's options from the flags.
func (o *redactOptions) redactOpts(dir string) (redact.Options, error) {
	if o.speaker == "" {
		return redact.Options{}, usageErr("redact: --speaker IDENTITY is required (e.g. --speaker bob; 'spacecast inspect %s' lists the speakers)", dir)
	}
	opts := redact.Options{Identity: o.speaker, Reason: "redact"}
	switch {
	case o.from != "" && o.to != "":
		var err error
		if opts.From, err = edit.ParseTime(o.from); err != nil {
			return redact.Options{}, usageErr("redact: --from %q: %v", o.from, err)
		}
		if opts.To, err = edit.ParseTime(o.to); err != nil {
			return redact.Options{}, usageErr("redact: --to %q: %v", o.to, err)
		}
		if opts.To <= opts.From {
			return redact.Options{}, usageErr("redact: --from %s is not before --to %s", o.from, o.to)
		}
		opts.Range = true
		opts.Reason = fmt.Sprintf("redact --from %s --to %s", o.from, o.to)
	case o.from != "" || o.to != "":
		return redact.Options{}, usageErr("redact: give both --from and --to, or neither (to remove the person from the whole session)")
	}
	var key ed25519.PrivateKey
	if o.signKey != "" {
		var err error
		if key, err = session.LoadPrivateKey(o.signKey); err != nil {
			return redact.Options{}, inputErr(fmt.Errorf("redact: --sign-key %s: %w (make one with 'spacecast keygen -o KEYFILE')", o.signKey, err))
		}
		opts.SealUnsealed = true
	}
	opts.Seal = func(d string) error { return session.Seal(d, key) }
	return opts, nil
}

// printRedact says what a redaction did to the session at dir (a folder or a URL).
func printRedact(g *globalOptions, o *redactOptions, res *redact.Result, dir string) {
	w := g.stdout
	if res.Whole {
		fmt.Fprintf(w, "redacted %s (%s) from the whole of %s\n", term(res.Identity), term(res.Name), dir)
	} else {
		fmt.Fprintf(w, "redacted %s (%s) in %s, %s to %s\n", term(res.Identity), term(res.Name), dir, edit.FormatTime(res.From), edit.FormatTime(res.To))
	}
	if len(res.Tracks) == 0 {
		fmt.Fprintf(w, "  %s has no track (never recorded); the ledger records the redaction\n", term(res.Identity))
	}
	for _, t := range res.Tracks {
		switch {
		case t.Action == "deleted":
			fmt.Fprintf(w, "  %-10s %s deleted\n", term(t.ID), termPath(t.File))
		case t.Packets == 0:
			fmt.Fprintf(w, "  %-10s %s has no audio in the stretch; unchanged\n", term(t.ID), termPath(t.File))
		default:
			fmt.Fprintf(w, "  %-10s %s: %d packets (%s) replaced by silence\n", term(t.ID), termPath(t.File), t.Packets, edit.FormatTime(t.Silenced))
		}
	}
	switch res.Mix {
	case "rebuilt":
		fmt.Fprintf(w, "  live mix   %s rebuilt from the remaining tracks\n", res.MixFile)
	case "removed":
		fmt.Fprintf(w, "  live mix   %s deleted: no track remains to make one from\n", res.MixFile)
	case "unchanged":
		fmt.Fprintf(w, "  live mix   %s unchanged: no audio was removed\n", res.MixFile)
	}
	switch {
	case res.Signed:
		fmt.Fprintf(w, "  sealed again and signed with %s ('spacecast verify %s' checks it)\n", o.signKey, dir)
	case res.Sealed && res.SignatureRemoved:
		fmt.Fprintf(w, "  sealed again, unsigned: its old signature no longer matched and was removed (sign with --sign-key KEYFILE)\n")
	case res.Sealed:
		fmt.Fprintf(w, "  sealed again ('spacecast verify %s' checks it)\n", dir)
	case res.SignatureRemoved:
		fmt.Fprintf(w, "  its old signature no longer matched and was removed\n")
	}
}
