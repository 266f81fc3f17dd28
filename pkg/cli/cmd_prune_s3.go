package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// runPruneS3 is prune for a prefix of a bucket (or a whole bucket).
func runPruneS3(ctx context.Context, o *pruneOptions, g *globalOptions, arg string, now time.Time) error {
	opts, err := o.pruneOpts(now)
	if err != nil {
		return err
	}
	u, err := objstore.ParseURL(arg)
	if err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("prune: %w", err)}
	}
	cl, err := o.s3.client(ctx, u.Bucket)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	rep, err := sessionstore.Prune(ctx, cl, u, sessionstore.PruneOptions{PruneOptions: opts})
	if err != nil {
		if errors.Is(err, session.ErrNoSessions) {
			return inputErr(fmt.Errorf("prune: %s holds no spacecast session (no folder with a manifest.json): give the prefix your recordings are under; nothing was deleted", u))
		}
		if errors.Is(err, session.ErrLocked) {
			return fmt.Errorf("prune: %w; nothing was deleted (run it again later)", err)
		}
		return fmt.Errorf("prune: %w", err)
	}
	return printPrune(g, rep, "interrupted prune, deleted now")
}
