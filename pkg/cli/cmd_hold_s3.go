package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// runHoldS3 is hold for a session in a bucket.
func runHoldS3(ctx context.Context, o *holdOptions, s3 *s3Options, g *globalOptions, arg string) error {
	if o.reason == "" {
		return usageErr("hold: give the reason with --reason TEXT (it is kept in hold.json)")
	}
	u, err := parseS3("hold", arg)
	if err != nil {
		return err
	}
	cl, err := s3.client(ctx, u.Bucket)
	if err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	rep, err := sessionstore.Hold(ctx, cl, u, o.reason, time.Now())
	if err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, map[string]any{"session": u.String(), "held": true, "hold": rep.Hold,
			"object_lock": rep.ObjectLock, "legal_holds": rep.LegalHolds})
	}
	h := rep.Hold
	fmt.Fprintf(g.stdout, "held %s since %s by %s: %s\n", u, h.Since.Format(time.RFC3339), term(h.By), term(h.Reason))
	if rep.ObjectLock {
		fmt.Fprintf(g.stdout, "  Object Lock: every version of the session is under a legal hold (%d put now): the store refuses to delete them until 'spacecast release %s'\n", rep.LegalHolds, u)
	} else {
		fmt.Fprintf(g.stdout, "  note: the bucket has no Object Lock: 'spacecast prune' honours the hold, but anyone with delete rights can still delete the session\n")
	}
	return nil
}

// runReleaseS3 is release for a session in a bucket.
func runReleaseS3(ctx context.Context, s3 *s3Options, g *globalOptions, arg string) error {
	u, err := parseS3("release", arg)
	if err != nil {
		return err
	}
	cl, err := s3.client(ctx, u.Bucket)
	if err != nil {
		return fmt.Errorf("release: %w", err)
	}
	rep, err := sessionstore.Release(ctx, cl, u)
	if err != nil {
		return fmt.Errorf("release: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, map[string]any{"session": u.String(), "held": false, "released": rep.Hold,
			"object_lock": rep.ObjectLock, "legal_holds_lifted": rep.LegalHolds})
	}
	switch h := rep.Hold; {
	case h == nil && rep.LegalHolds == 0:
		fmt.Fprintf(g.stdout, "%s was not held; nothing to do\n", u)
	case h == nil:
		fmt.Fprintf(g.stdout, "released %s (no hold.json)\n", u)
	default:
		fmt.Fprintf(g.stdout, "released %s (held since %s by %s: %s)\n", u, h.Since.Format(time.RFC3339), term(h.By), term(h.Reason))
	}
	if rep.LegalHolds > 0 {
		fmt.Fprintf(g.stdout, "  Object Lock legal hold lifted from %d object versions\n", rep.LegalHolds)
	}
	return nil
}
