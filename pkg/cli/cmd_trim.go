package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/studio"
)

type trimOptions struct {
	s3        s3Options
	output    string
	cuts      []string
	exact     bool
	crossfade string
	bitrate   int
}

func newTrimCommand(g *globalOptions) *cobra.Command {
	o := &trimOptions{}
	cmd := &cobra.Command{
		Use:   "trim INPUT --cut START-END [--cut START-END ...] -o OUT",
		Short: "Remove stretches from a recording, keeping chapters in place",
		Long: `Trim removes each --cut range from INPUT and joins what is left: the host's "edit start
time" (--cut 0-45) and cutting out a bad stretch in the middle.

An MP3 is cut losslessly by default, frame-accurate, so a whole episode loses no generation; every
join decodes without errors. --exact re-encodes for sample-accurate joins with short crossfades
(--crossfade, 10 ms). Other inputs are always cut exactly.

ID3 chapters (and, for a session, its chapters) move with the cut; a chapter wholly inside a cut
is dropped. Soundbites (a session's, or those a spacecast MP3 carries) move too; one with a cut
inside it is dropped, not shortened, since podcast apps play it by start and duration. --json
prints the old-to-new time map.

An MP3 output carries spacecast's metadata (ID3 TXXX "spacecast": session, speakers, chapters,
soundbites, and the map from the session clock to the file's time, composed with any earlier
edit), so a trim of a trimmed file still knows where each second was recorded.

Ranges are START-END or START+DURATION, times as seconds, MM:SS(.mmm), HH:MM:SS(.mmm) or 1h2m3s.

` + s3ReadHelp + `A session in a bucket is never changed: trim writes its output locally, like every other input.

` + s3Help,
		Example: `  spacecast trim episode.mp3 --cut 0-45 -o episode-trimmed.mp3
  spacecast trim episode.mp3 --cut 0-45 --cut 31:10-33:05 --exact -o out.mp3
  spacecast trim episode.mp3 --cut 10:00+90s -o out.mp3 --json
  spacecast trim s3://recordings/2026/town-hall --cut 0-45 -o episode.mp3`,
		Args: exactArgs("trim", 1, "INPUT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrim(cmd, o, g, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.output, "output", "o", "", "output file (required)")
	fl.StringArrayVar(&o.cuts, "cut", nil, "a range to remove, START-END or START+DURATION; repeatable (required)")
	fl.BoolVar(&o.exact, "exact", false, "re-encode for sample-accurate joins with crossfades")
	fl.StringVar(&o.crossfade, "crossfade", "10ms", "crossfade at each join when exact")
	fl.IntVar(&o.bitrate, "bitrate", 0, "bitrate in kbps when re-encoding (default: the source's)")
	cmd.MarkFlagFilename("output", "mp3", "wav", "opus")
	o.s3.addFlags(cmd)
	return cmd
}

func runTrim(cmd *cobra.Command, o *trimOptions, g *globalOptions, input string) error {
	switch {
	case o.output == "":
		return usageErr("trim: -o OUT is required (e.g. -o trimmed.mp3)")
	case len(o.cuts) == 0:
		return usageErr("trim: give at least one --cut START-END (e.g. --cut 0-45)")
	}
	opts := studio.TrimOptions{Input: input, Output: o.output, Exact: o.exact, BitrateKbps: o.bitrate}
	for _, c := range o.cuts {
		r, err := edit.ParseRange(c)
		if err != nil {
			return usageErr("trim: --cut %s: %v", c, err)
		}
		opts.Cuts = append(opts.Cuts, r)
	}
	if _, err := edit.Normalize(opts.Cuts); err != nil {
		return usageErr("trim: --cut: %v (merge them into one cut)", err)
	}
	var err error
	if opts.Crossfade, err = parseTimeFlag("trim", "crossfade", o.crossfade); err != nil {
		return err
	}
	if err := checkOutput("trim", "-o", o.output, input); err != nil {
		return err
	}
	if err := checkOutputDir(o.output); err != nil {
		return inputErr(fmt.Errorf("trim: %w", err))
	}
	if opts.Session, _, err = o.s3.openBucketSession(cmd.Context(), "trim", input); err != nil {
		return err
	}
	warnUnfinalized(g, input)
	prog := newProgress(g, "trim")
	res, err := studio.Trim(cmd.Context(), opts, prog)
	prog.Finish()
	if err != nil {
		return fmt.Errorf("trim: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, res)
	}
	w := g.stdout
	fmt.Fprintf(w, "wrote %s: %s, removed %s (%s)\n", res.Output, edit.FormatTime(res.Duration), edit.FormatTime(res.Removed), res.Mode)
	for _, m := range res.TimeMap {
		fmt.Fprintf(w, "  kept %s-%s  now at %s\n", edit.FormatTime(m.OldStart), edit.FormatTime(m.OldEnd), edit.FormatTime(m.NewStart))
	}
	printSoundbites(w, res.Soundbites)
	return nil
}
