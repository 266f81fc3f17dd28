package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/sessionstore"
)

type pushOptions struct {
	s3 s3Options
}

func newPushCommand(g *globalOptions) *cobra.Command {
	o := &pushOptions{}
	cmd := &cobra.Command{
		Use:   "push SESSION s3://BUCKET/PREFIX/NAME",
		Short: "Upload a finished session to an S3-compatible bucket, unchanged",
		Long: `Push uploads every file of a finalized session folder (tracks, live mix, manifest.json,
manifest.json.sig, hold.json) under s3://BUCKET/PREFIX/NAME/, byte for byte, each with its
SHA-256, which the server checks before it stores the file. manifest.json goes last: a push
that stops half-way (Ctrl-C, a network failure) leaves files without a manifest, which pull
refuses as incomplete, and the next push of the same session completes it.

A sealed session is checked against its seal first (as 'spacecast verify' does): a session that
changed since it was sealed is not uploaded. A session still recording, or left by a recorder
that died, is refused ('spacecast recover' finishes it). A place that already holds a session
(a manifest.json) is never overwritten.

` + s3Help,
		Example: `  spacecast push town-hall s3://recordings/2026/town-hall
  AWS_PROFILE=r2 spacecast push town-hall s3://podcast-raw/town-hall --json
  spacecast push town-hall s3://sessions/town-hall --endpoint-url http://127.0.0.1:9000
  spacecast pull s3://recordings/2026/town-hall town-hall-copy && spacecast verify town-hall-copy`,
		Args: exactArgs("push", 2, "SESSION s3://BUCKET/PREFIX/NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPush(cmd, o, g, args[0], args[1])
		},
	}
	o.s3.addFlags(cmd)
	return cmd
}

func runPush(cmd *cobra.Command, o *pushOptions, g *globalOptions, dir, dst string) error {
	u, err := parseS3("push", dst)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	cl, err := o.s3.client(ctx, u.Bucket)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	prog := newProgress(g, "push")
	defer prog.Finish()
	rep, err := sessionstore.Push(ctx, cl, dir, u, sessionstore.Options{OnFile: func(n, of int, rel string, bytes int64) {
		prog.Stage(fmt.Sprintf("%d/%d %s (%d bytes)", n, of, termPath(rel), bytes), 0, 0)
	}})
	prog.Finish()
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, rep)
	}
	fmt.Fprintf(g.stdout, "pushed %s to %s: %d files, %d bytes\n", termPath(dir), u, rep.Files, rep.Bytes)
	if !rep.Sealed {
		fmt.Fprintf(g.stdout, "note: the session is not sealed, so 'spacecast verify' on a pulled copy has no digests to check\n")
	}
	return nil
}
