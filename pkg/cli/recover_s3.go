package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// runRecoverS3 finishes a session recorded into a bucket whose recorder died: from its spool when
// that is still on this machine, else from the pieces in the bucket (sessionstore.RecoverLive).
func runRecoverS3(ctx context.Context, g *globalOptions, arg, signKey, spool string, s3o *s3Options) error {
	u, err := parseS3("recover", arg)
	if err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if signKey != "" {
		if key, err = session.LoadPrivateKey(signKey); err != nil {
			return inputErr(fmt.Errorf("recover: --sign-key: %w", err))
		}
	}
	if spool, err = spoolFor("recover", spool, u); err != nil {
		return err
	}
	cl, err := s3o.client(ctx, u.Bucket)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	var crep *capture.RecoverReport
	var sealed string
	opt := sessionstore.RecoverOptions{Spool: spool, Finalize: func(dir string) error {
		crep, sealed, err = recoverFolder(dir, key)
		return err
	}}
	if !g.json && !g.quiet {
		opt.OnFile = func(n, of int, rel string, bytes int64) {
			fmt.Fprintf(g.stderr, "recover: uploading %d/%d %s (%d bytes)\n", n, of, rel, bytes)
		}
	}
	rep, err := sessionstore.RecoverLive(ctx, cl, u, opt)
	if err != nil {
		return err
	}
	// Then the session's parts, if a takeover recorded it in parts: each part left live is
	// recovered as above (sealed, not signed: the joined session is), then all are joined.
	jopt := sessionstore.JoinOptions{Key: key, OnFile: opt.OnFile, Finalize: func(dir string) error {
		_, _, err := recoverFolder(dir, nil)
		return err
	}}
	if opt.OnFile != nil {
		jopt.OnFile = func(n, of int, rel string, bytes int64) {
			fmt.Fprintf(g.stderr, "recover: joining parts: uploading %d/%d %s (%d bytes)\n", n, of, rel, bytes)
		}
	}
	join, err := sessionstore.JoinParts(ctx, cl, u, jopt)
	if err != nil {
		return err
	}
	if g.json {
		return writeJSON(g.stdout, struct {
			*sessionstore.RecoverReport
			Session *capture.RecoverReport   `json:"session,omitempty"`
			Sealed  string                   `json:"sealed,omitempty"`
			Join    *sessionstore.JoinReport `json:"join"`
		}{rep, crep, sealed, join})
	}
	defer printJoin(g, join)
	if rep.Finished {
		fmt.Fprintf(g.stdout, "%s is already finished; nothing to recover (leftover pieces, if any, deleted)\n", u)
		return nil
	}
	switch rep.From {
	case "spool":
		fmt.Fprintf(g.stdout, "recovered %s from its spool %s (it holds everything the recorder wrote): %s\n", u, rep.Spool, crep.Duration.Round(1e6))
	default:
		fmt.Fprintf(g.stdout, "recovered %s from %d pieces in the bucket (%d bytes): %s\n", u, rep.Pieces, rep.Bytes, crep.Duration.Round(1e6))
	}
	if !crep.AlreadyFinalized {
		printRecovered(g, crep)
	}
	for _, h := range rep.Holes {
		fmt.Fprintf(g.stdout, "  %s: a piece is missing at byte %d: kept up to it\n", h.File, h.From)
	}
	fmt.Fprintf(g.stdout, "uploaded: %d files, %d bytes, the manifest last; the pieces are deleted\nseal: %s\n", rep.Push.Files, rep.Push.Bytes, sealed)
	return nil
}

// printJoin says what joining the session's parts did, when it had parts.
func printJoin(g *globalOptions, rep *sessionstore.JoinReport) {
	if len(rep.Parts) < 2 {
		return
	}
	if rep.Resumed {
		fmt.Fprintf(g.stdout, "its %d parts were joined already by a join that stopped: finished it (%d objects of the parts deleted)\n", len(rep.Parts), rep.Deleted)
		return
	}
	fmt.Fprintf(g.stdout, "joined %d parts into one session of %s:\n", len(rep.Parts), edit.FormatTime(session.Duration(rep.DurationTicks)))
	for i, p := range rep.Parts {
		how := "finished"
		if p.Recovered != nil {
			how = "recovered from its pieces"
		}
		fmt.Fprintf(g.stdout, "  part %d %s: from %s for %s, %s, %s\n", i+1, p.URL, edit.FormatTime(session.Duration(p.OffsetTicks)),
			edit.FormatTime(session.Duration(p.DurationTicks)), count(p.Tracks, "track"), how)
	}
	for _, c := range rep.Cut {
		if c.Removed {
			fmt.Fprintf(g.stdout, "  track %s left out: it began after the next part began, at %s (that part recorded it)\n", c.Track, edit.FormatTime(session.Duration(c.AtTicks)))
			continue
		}
		fmt.Fprintf(g.stdout, "  track %s cut at %s, where the next part began (%s recorded twice)\n", c.Track,
			edit.FormatTime(session.Duration(c.AtTicks)), session.Duration(c.Samples).Round(time.Millisecond))
	}
	for _, gap := range rep.Gaps {
		fmt.Fprintf(g.stdout, "  gap (cause %s) from %s to %s\n", gap.Cause, edit.FormatTime(session.Duration(gap.StartTicks)),
			edit.FormatTime(session.Duration(gap.StartTicks+gap.DurationTicks)))
	}
	fmt.Fprintf(g.stdout, "uploaded: %d files, %d bytes, the manifest last; deleted: the parts' objects and what of part 1 the joined session replaces (%d objects)\n", rep.Uploaded, rep.Bytes, rep.Deleted)
}
