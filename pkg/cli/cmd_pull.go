package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/sessionstore"
)

type pullOptions struct {
	s3 s3Options
}

func newPullCommand(g *globalOptions) *cobra.Command {
	o := &pullOptions{}
	cmd := &cobra.Command{
		Use:   "pull s3://BUCKET/PREFIX/NAME DIR",
		Short: "Download a session from an S3-compatible bucket into a new folder, unchanged",
		Long: `Pull downloads the session stored under s3://BUCKET/PREFIX/NAME/ (by 'spacecast push') into the
new folder DIR, byte for byte. It writes into a temporary folder beside DIR and renames it into
place only when every file is there and a sealed session matches its seal, so a pull that fails
or is interrupted leaves nothing behind. 'spacecast verify DIR' passes on the copy.

A place with files but no manifest.json (a push that did not finish) is refused as incomplete,
and DIR must not exist yet.

` + s3Help,
		Example: `  spacecast pull s3://recordings/2026/town-hall town-hall
  spacecast pull s3://recordings/2026/town-hall town-hall --json && spacecast verify town-hall
  AWS_ENDPOINT_URL=http://127.0.0.1:9000 spacecast pull s3://sessions/town-hall /tmp/town-hall`,
		Args: exactArgs("pull", 2, "s3://BUCKET/PREFIX/NAME DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPull(cmd, o, g, args[0], args[1])
		},
	}
	o.s3.addFlags(cmd)
	return cmd
}

func runPull(cmd *cobra.Command, o *pullOptions, g *globalOptions, src, dir string) error {
	u, err := parseS3("pull", src)
	if err != nil {
		return err
	}
	if err := checkOutput("pull", "DIR", dir); err != nil {
		return err
	}
	if err := checkNotInSite("pull", "DIR", dir, "a raw recording"); err != nil {
		return err
	}
	ctx := cmd.Context()
	cl, err := o.s3.client(ctx, u.Bucket)
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	prog := newProgress(g, "pull")
	defer prog.Finish()
	rep, err := sessionstore.Pull(ctx, cl, u, dir, sessionstore.Options{OnFile: func(n, of int, rel string, bytes int64) {
		prog.Stage(fmt.Sprintf("%d/%d %s (%d bytes)", n, of, termPath(rel), bytes), 0, 0)
	}})
	prog.Finish()
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, rep)
	}
	fmt.Fprintf(g.stdout, "pulled %s to %s: %d files, %d bytes\n", u, termPath(dir), rep.Files, rep.Bytes)
	if rep.Sealed {
		fmt.Fprintf(g.stdout, "every file matches the seal in its manifest\n")
	} else {
		fmt.Fprintf(g.stdout, "note: the session is not sealed: its files could not be checked\n")
	}
	return nil
}
