package cli

import (
	"fmt"
	"io"
	"os"
	"path"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/internal/fsutil"
	"github.com/spacecast/spacecast/pkg/session"
)

type exportOptions struct {
	output string
	s3     s3Options
}

func newExportCommand(g *globalOptions) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export SESSION -o FILE.tar",
		Short: "Pack a session with its manifest, signature and hold into one tar file",
		Long: `Export writes the whole session folder (tracks, live mix, manifest.json, manifest.json.sig,
hold.json) as a plain tar archive under one top folder named like SESSION, for a moderation
request or an archive. Entries are in a fixed order without owner names, so two exports of the
same session are identical. Unpack it with any tar and run 'spacecast verify' on the copy.

The archive is written to a temporary file beside FILE.tar and renamed into place when complete.

` + s3ReadHelp + `From a bucket, each object is streamed into the archive (one GET each) under a top folder named
like the session's last URL segment; files get mode 0644 and the objects' times.

` + s3Help,
		Example: `  spacecast export town-hall -o town-hall.tar
  tar -xf town-hall.tar -C /tmp && spacecast verify /tmp/town-hall
  spacecast export s3://recordings/2026/town-hall -o town-hall.tar`,
		Args: exactArgs("export", 1, "SESSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(cmd, o, g, args[0])
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "tar file to write (required)")
	o.s3.addFlags(cmd)
	return cmd
}

func runExport(cmd *cobra.Command, o *exportOptions, g *globalOptions, dir string) (err error) {
	if o.output == "" {
		return usageErr("export: give the archive with -o FILE.tar")
	}
	if err := checkOutput("export", "-o", o.output, dir); err != nil {
		return err
	}
	if err := checkNotInSite("export", "-o", o.output, "a raw recording's archive"); err != nil {
		return err
	}
	s, u, err := o.s3.openBucketSession(cmd.Context(), "export", dir)
	if err != nil {
		return err
	}
	export := func(w io.Writer) error { return session.ExportFiles(s, path.Base(u.Prefix), w) }
	if s == nil {
		if s, err = session.Open(dir); err != nil {
			return inputErr(fmt.Errorf("export: %w", err))
		}
		warnUnfinalized(g, dir)
		export = func(w io.Writer) error { return session.Export(dir, w) }
	}
	started, exportErr := false, error(nil)
	err = fsutil.WriteAtomic(o.output, 0o644, func(w io.Writer) error {
		started = true
		exportErr = export(w)
		return exportErr
	})
	switch {
	case err != nil && exportErr != nil && u.Bucket != "":
		// The bucket failed while it was read: its error decides (the store's status 5).
		return fmt.Errorf("export: %w", err)
	case err != nil && (!started || exportErr != nil):
		// No file can be made beside the output, or the session could not be read.
		return inputErr(fmt.Errorf("export: %w", err))
	case err != nil:
		return fmt.Errorf("export: %w", err)
	}
	st, err := os.Stat(o.output)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, map[string]any{"session": dir, "id": s.Manifest.ID, "output": o.output, "bytes": st.Size(), "sealed": len(s.Manifest.Files) > 0})
	}
	fmt.Fprintf(g.stdout, "exported %s to %s (%d bytes)\n", dir, o.output, st.Size())
	if len(s.Manifest.Files) == 0 {
		fmt.Fprintf(g.stdout, "note: the session is not sealed, so 'spacecast verify' on the copy has no digests to check\n")
	}
	return nil
}
