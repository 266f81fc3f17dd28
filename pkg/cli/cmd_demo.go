package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/studio"
)

type demoOptions struct {
	output string
}

func newDemoCommand(g *globalOptions) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo [-o DIR]",
		Short: "Run the studio end to end on the bundled demo session",
		Long: `Demo copies the bundled demo session (three speakers, overlapping turns, one joining late,
one leaving and coming back) into DIR and runs the studio on it: mix to a levelled,
loudness-normalised MP3 with chapters, cut an exact clip and a lossless one, trim the start,
and inspect the result. It prints what it made and the commands to look at it.

It needs nothing but this binary: no server, no network, no ffmpeg.`,
		Example: `  spacecast demo
  spacecast demo -o /tmp/spacecast-demo`,
		Args: exactArgs("demo", 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd, o, g)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "spacecast-demo", "folder to write the demo into")
	return cmd
}

func runDemo(cmd *cobra.Command, o *demoOptions, g *globalOptions) error {
	ctx := cmd.Context()
	out := o.output
	sess := filepath.Join(out, "session")
	if err := os.RemoveAll(sess); err != nil {
		return err
	}
	sub, err := fs.Sub(spacecast.DemoSession, "testdata/demo/session")
	if err != nil {
		return err
	}
	if err := os.CopyFS(sess, sub); err != nil {
		return fmt.Errorf("demo: copy the demo session to %s: %w", sess, err)
	}
	w := g.stdout
	step := func(format string, a ...any) {
		if !g.json {
			fmt.Fprintf(w, format, a...)
		}
	}
	step("demo session copied to %s\n\n", sess)

	prog := newProgress(g, "demo")
	defer prog.Finish()
	episode := filepath.Join(out, "episode.mp3")
	mo := studio.DefaultMixOptions()
	mo.Inputs, mo.Output, mo.MinChapter = []string{sess}, episode, 20*time.Second
	mo.Tag.Title, mo.Tag.Artist, mo.Tag.Album = "Keeping live rooms", "spacecast demo", "spacecast"
	mix, err := studio.Mix(ctx, mo, prog)
	if err != nil {
		return studioErr("demo: mix", err)
	}
	prog.Finish()
	step("1. mixed %d speakers into %s: %s, %.1f LUFS, %.1f dBTP, %d chapters\n", len(mix.Speakers), episode,
		edit.FormatTime(secs(mix.DurationSeconds)), mix.LoudnessLUFS, mix.TruePeakDBTP, len(mix.Chapters))
	for _, s := range mix.Speakers {
		step("     %-12s talks %s, levelled %+.1f dB\n", s.Name, edit.FormatTime(secs(s.TalkSeconds)), s.LevelGainDB)
	}

	clip := filepath.Join(out, "clip.mp3")
	co := studio.ClipOptions{Input: episode, Output: clip, Start: 40 * time.Second, Duration: 20 * time.Second, Fade: 10 * time.Millisecond}
	cr, err := studio.Clip(ctx, co, prog)
	if err != nil {
		return studioErr("demo: clip", err)
	}
	prog.Finish()
	step("2. cut an exact clip %s-%s into %s\n", edit.FormatTime(secs(cr.StartSeconds)), edit.FormatTime(secs(cr.EndSeconds)), clip)

	copyClip := filepath.Join(out, "clip-copy.mp3")
	co.Output, co.Copy, co.Fade = copyClip, true, 0
	if _, err := studio.Clip(ctx, co, prog); err != nil {
		return studioErr("demo: clip --copy", err)
	}
	step("3. cut the same clip losslessly (no re-encode) into %s\n", copyClip)

	trimmed := filepath.Join(out, "episode-trimmed.mp3")
	tr, err := studio.Trim(ctx, studio.TrimOptions{Input: episode, Output: trimmed,
		Cuts: []edit.Range{{Start: 0, End: 3 * time.Second}}}, prog)
	if err != nil {
		return studioErr("demo: trim", err)
	}
	prog.Finish()
	step("4. trimmed the first 3 s losslessly into %s (%s, chapters moved with it)\n", trimmed, edit.FormatTime(secs(tr.DurationSeconds)))

	rep, err := studio.Inspect(ctx, episode, prog)
	if err != nil {
		return studioErr("demo: inspect", err)
	}
	prog.Finish()
	if g.json {
		return writeJSON(w, map[string]any{"session": sess, "mix": mix, "clip": cr, "clip_copy": copyClip, "trim": tr, "inspect": rep})
	}
	step("5. inspected %s: %.3f s, %.1f LUFS, true peak %.1f dBTP, LRA %.1f LU\n\n", episode, rep.DurationSeconds, rep.LoudnessLUFS, rep.TruePeakDBTP, rep.LoudnessRangeLU)
	step("Look at it:\n  spacecast inspect %s\n  spacecast inspect %s\n  ffplay %s   (or any player)\n", sess, episode, clip)
	return nil
}
