package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// runRedactS3 is redact for a session in a bucket: pulled into a temporary folder (redaction
// rewrites whole tracks), redacted there, and stored back (sessionstore.Redact).
func runRedactS3(ctx context.Context, o *redactOptions, g *globalOptions, arg string) error {
	u, err := parseS3("redact", arg)
	if err != nil {
		return err
	}
	opts, err := o.redactOpts(arg)
	if err != nil {
		return err
	}
	cl, err := o.s3.client(ctx, u.Bucket)
	if err != nil {
		return fmt.Errorf("redact: %w", err)
	}
	prog := newProgress(g, "redact")
	opts.Progress = prog
	rep, err := sessionstore.Redact(ctx, cl, u, "", opts)
	prog.Finish()
	if err != nil {
		return fmt.Errorf("redact: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, rep)
	}
	switch rep.Repaired {
	case "completed":
		fmt.Fprintf(g.stdout, "completed an earlier redaction of %s that had stopped half-way\n", u)
	case "undone":
		fmt.Fprintf(g.stdout, "undid an earlier redaction of %s that had stopped half-way (its manifest was not up yet)\n", u)
	}
	printRedact(g, o, rep.Result, u.String())
	for _, old := range slices.Sorted(maps.Keys(rep.Renamed)) {
		fmt.Fprintf(g.stdout, "  stored     %s as %s (the old object is deleted)\n", termPath(old), termPath(rep.Renamed[old]))
	}
	return nil
}
