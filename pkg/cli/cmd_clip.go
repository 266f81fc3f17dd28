package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/studio"
)

type clipOptions struct {
	s3       s3Options
	output   string
	start    string
	end      string
	duration string
	fade     string
	copy     bool
	bitrate  int
	last     string
}

func newClipCommand(g *globalOptions) *cobra.Command {
	o := &clipOptions{}
	cmd := &cobra.Command{
		Use:   "clip INPUT (--start T (--end T | --duration D) | --last D) -o OUT",
		Short: "Cut an exact clip, or a lossless frame-accurate one with --copy",
		Long: `Clip cuts the stretch from --start to --end (or --start plus --duration) out of INPUT.

By default the clip is exact: boundaries fall on the sample, a short fade (--fade, 10 ms) keeps
the edges from clicking, and the audio is re-encoded at the source's bitrate.

--copy cuts an MP3 without re-encoding: frame-accurate (a frame is 24 ms at 48 kHz), no
generation loss. The first frame decodes cleanly (its bit reservoir is carried along) and the
LAME/Xing tag is rewritten so decoders play exactly the cut.

INPUT is an MP3 (any encoder, CBR or VBR, MPEG-1/2, ID3v2/ID3v1/APE tags), a WAV, an Ogg Opus
file, or a session folder (mixed with mix's defaults first).

--last D clips the last D of a session: the "clip that" button. It works while 'spacecast record'
is still writing the session (the clip comes from the live mix as far as it is on disk, at most
about 2 s behind the room).

An MP3 clip carries spacecast's metadata (ID3 TXXX "spacecast") on from its input: the session,
the speakers mixed into it, the chapters and soundbites that fall inside the clip (moved to the
clip's time) and the map from the session clock to the clip's time.

Times: seconds (754.5), MM:SS(.mmm), HH:MM:SS(.mmm) or 1h2m3s.

` + s3ReadHelp + `From a bucket, --last streams the session's live mix into a temporary file (the one file it
clips), and a clip by --start/--end mixes the tracks as they stream.

` + s3Help,
		Example: `  spacecast clip episode.mp3 --start 12:30 --duration 30s -o clip.mp3
  spacecast clip town-hall/ --last 30s -o that.mp3
  spacecast clip episode.mp3 --start 754.5 --end 784.5 --copy -o clip.mp3
  spacecast clip session/ --start 1:00 --end 1:30 -o clip.wav
  spacecast clip s3://recordings/2026/town-hall --last 30s -o that.mp3`,
		Args: exactArgs("clip", 1, "INPUT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runClip(cmd, o, g, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.output, "output", "o", "", "output file: .mp3, .wav or .opus (required)")
	fl.StringVar(&o.start, "start", "", "where the clip starts (required)")
	fl.StringVar(&o.end, "end", "", "where the clip ends")
	fl.StringVar(&o.duration, "duration", "", "how long the clip is (instead of --end)")
	fl.StringVar(&o.fade, "fade", "10ms", "fade in and out of an exact clip (0 for none)")
	fl.BoolVar(&o.copy, "copy", false, "MP3 only: cut without re-encoding, frame-accurate")
	fl.IntVar(&o.bitrate, "bitrate", 0, "bitrate in kbps of the re-encoded clip (default: the source's)")
	fl.StringVar(&o.last, "last", "", "clip the last D of a session, even one being recorded (instead of --start/--end)")
	cmd.MarkFlagFilename("output", "mp3", "wav", "opus")
	o.s3.addFlags(cmd)
	return cmd
}

func runClip(cmd *cobra.Command, o *clipOptions, g *globalOptions, input string) error {
	switch {
	case o.output == "":
		return usageErr("clip: -o OUT is required (e.g. -o clip.mp3)")
	case o.last != "" && (o.start != "" || o.end != "" || o.duration != ""):
		return usageErr("clip: --last replaces --start, --end and --duration; give one or the other")
	case o.last != "":
	case o.start == "":
		return usageErr("clip: --start is required (e.g. --start 12:30)")
	case o.end == "" && o.duration == "":
		return usageErr("clip: give --end T or --duration D")
	case o.end != "" && o.duration != "":
		return usageErr("clip: give --end or --duration, not both")
	}
	opts := studio.ClipOptions{Input: input, Output: o.output, Copy: o.copy, BitrateKbps: o.bitrate}
	var err error
	if o.last != "" {
		if opts.Last, err = parseTimeFlag("clip", "last", o.last); err != nil {
			return err
		}
		if opts.Last <= 0 {
			return usageErr("clip: --last must be longer than 0")
		}
	} else if opts.Start, err = parseTimeFlag("clip", "start", o.start); err != nil {
		return err
	}
	if o.end != "" {
		if opts.End, err = parseTimeFlag("clip", "end", o.end); err != nil {
			return err
		}
		if opts.End <= opts.Start {
			return usageErr("clip: --end %s is not after --start %s", o.end, o.start)
		}
	}
	if o.duration != "" {
		if opts.Duration, err = parseTimeFlag("clip", "duration", o.duration); err != nil {
			return err
		}
		if opts.Duration <= 0 {
			return usageErr("clip: --duration must be longer than 0")
		}
	}
	if opts.Fade, err = parseTimeFlag("clip", "fade", o.fade); err != nil {
		return err
	}
	if o.copy && cmd.Flags().Changed("fade") && opts.Fade > 0 {
		return usageErr("clip: --fade needs re-encoding; it cannot go with --copy")
	}
	if err := checkOutput("clip", "-o", o.output, input); err != nil {
		return err
	}
	if err := checkOutputDir(o.output); err != nil {
		return inputErr(fmt.Errorf("clip: %w", err))
	}
	if opts.Session, _, err = o.s3.openBucketSession(cmd.Context(), "clip", input); err != nil {
		return err
	}
	warnUnfinalized(g, input)
	prog := newProgress(g, "clip")
	res, err := studio.Clip(cmd.Context(), opts, prog)
	prog.Finish()
	if err != nil {
		return fmt.Errorf("clip: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, res)
	}
	_, err = fmt.Fprintf(g.stdout, "wrote %s: %s to %s (%s, %s)\n", res.Output,
		edit.FormatTime(res.Start), edit.FormatTime(res.End), edit.FormatTime(res.Duration), res.Mode)
	printSoundbites(g.stdout, res.Soundbites)
	return err
}

func parseTimeFlag(command, flag, value string) (time.Duration, error) {
	d, err := edit.ParseTime(value)
	if err != nil {
		return 0, usageErr("%s: --%s %s is %v", command, flag, value, err)
	}
	return d, nil
}

func exactArgs(command string, n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr("%s: want %s, got %d argument(s) (see 'spacecast %s --help')", command, names, len(args), command)
		}
		return nil
	}
}
