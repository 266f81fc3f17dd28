package cli

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/studio"
)

func newInspectCommand(g *globalOptions) *cobra.Command {
	var s3 s3Options
	cmd := &cobra.Command{
		Use:   "inspect INPUT",
		Short: "Show duration, format, loudness and true peak of a file, or the speakers of a session",
		Long: `Inspect decodes INPUT and reports its exact duration (from the LAME tag where present), format,
bitrate, encoder delay and padding, integrated loudness (LUFS), loudness range (LU), true peak
(dBTP), sample peak and share of silence. For an MP3 that spacecast made, it shows the metadata
the file carries: session, speakers, soundbites and the map from the session clock. For a session folder it lists the speakers, their
offsets and talk time, and whether the recording was finalized.

--json prints one object with stable keys, documented in docs/inspect.md.

` + s3ReadHelp + s3Help,
		Example: `  spacecast inspect episode.mp3
  spacecast inspect testdata/demo/session
  spacecast inspect s3://recordings/2026/town-hall
  spacecast inspect episode.mp3 --json | jq .loudness_lufs`,
		Args: exactArgs("inspect", 1, "INPUT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd, &s3, g, args[0])
		},
	}
	s3.addFlags(cmd)
	return cmd
}

func runInspect(cmd *cobra.Command, s3 *s3Options, g *globalOptions, input string) error {
	sess, _, err := s3.openBucketSession(cmd.Context(), "inspect", input)
	if err != nil {
		return err
	}
	prog := newProgress(g, "inspect")
	var r *studio.Report
	if sess != nil {
		r, err = studio.InspectSession(cmd.Context(), sess, prog)
	} else {
		r, err = studio.Inspect(cmd.Context(), input, prog)
	}
	prog.Finish()
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, r)
	}
	w := g.stdout
	fmt.Fprintf(w, "%s\n", termPath(r.Path))
	exact := ""
	if !r.DurationExact {
		exact = " (estimated: no LAME tag)"
	}
	if r.Session != nil {
		s := r.Session
		state := "finalized"
		if !s.Finalized {
			state = "NOT finalized (recording still running, or it crashed: run 'spacecast recover')"
		}
		fmt.Fprintf(w, "  session     %s, room %q (%s), started %s, %s\n", term(s.ID), s.Room, term(s.Protocol), s.StartedAt.Format("2006-01-02 15:04:05 MST"), state)
		fmt.Fprintf(w, "  duration    %s, %d tracks, %d gaps\n", edit.FormatTime(r.Duration), s.Tracks, s.Gaps)
		for _, sp := range s.Speakers {
			fmt.Fprintf(w, "  speaker     %-20s from %s  talk %s  %.1f LUFS  (%d track(s))\n", term(sp.Name), edit.FormatTime(sp.Offset), edit.FormatTime(sp.Talk), sp.LoudnessLUFS, sp.Tracks)
		}
	} else {
		fmt.Fprintf(w, "  format      %s, %d Hz, %d ch", term(r.Format), r.SampleRate, r.Channels)
		if r.BitrateKbps > 0 {
			mode := "CBR"
			if r.VBR {
				mode = "VBR"
			}
			fmt.Fprintf(w, ", %d kbps %s", r.BitrateKbps, mode)
		}
		if r.Encoder != "" {
			fmt.Fprintf(w, ", encoder %s", term(r.Encoder))
		}
		fmt.Fprintf(w, "\n  duration    %s (%.3f s)%s\n", edit.FormatTime(r.Duration), r.Duration.Seconds(), exact)
		if r.EncoderDelaySamples > 0 || r.PaddingSamples > 0 {
			fmt.Fprintf(w, "  gapless     delay %d, padding %d samples\n", r.EncoderDelaySamples, r.PaddingSamples)
		}
	}
	fmt.Fprintf(w, "  loudness    %.1f LUFS integrated, range %.1f LU\n", r.LoudnessLUFS, r.LoudnessRangeLU)
	fmt.Fprintf(w, "  peaks       %.1f dBTP true peak, %.1f dBFS sample peak\n", r.TruePeakDBTP, r.SamplePeakDBFS)
	fmt.Fprintf(w, "  silence     %.0f%%\n", 100*r.SilenceShare)
	for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
		fmt.Fprintf(w, "  tag         %s: %s\n", term(k), term(r.Tags[k]))
	}
	for _, c := range r.Chapters {
		fmt.Fprintf(w, "  chapter     %s  %s\n", edit.FormatTime(c.Start), term(c.Title))
	}
	if r.SpacecastError != "" {
		fmt.Fprintf(w, "  spacecast   metadata unreadable: %s\n", term(r.SpacecastError))
	}
	if m := r.Spacecast; m != nil {
		if m.Session != nil {
			fmt.Fprintf(w, "  spacecast   from session %s, room %q, started %s\n", term(m.Session.ID), m.Session.Room, m.Session.StartedAt.Format("2006-01-02 15:04:05 MST"))
		}
		for _, sp := range m.Speakers {
			fmt.Fprintf(w, "  speaker     %s (%s)\n", term(sp.Name), term(sp.Identity))
		}
		for _, sb := range m.Soundbites {
			fmt.Fprintf(w, "  soundbite   %s+%s  %s\n", edit.FormatTime(sb.Start), edit.FormatTime(sb.Duration), term(sb.Title))
		}
		for _, e := range m.TimeMap {
			fmt.Fprintf(w, "  source      %s-%s  plays at %s\n", edit.FormatTime(e.OldStart), edit.FormatTime(e.OldEnd), edit.FormatTime(e.NewStart))
		}
	}
	return nil
}
