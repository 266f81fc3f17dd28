package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/studio"
)

type mixOptions struct {
	s3          s3Options
	output      string
	loudness    float64
	truePeak    float64
	noNormalize bool
	noLevel     bool
	level       bool
	bitrate     int
	channels    int
	exclude     []string
	maxSilence  string
	minChapter  string
	title       string
	artist      string
	album       string
	date        string
	artwork     string
}

func newMixCommand(g *globalOptions) *cobra.Command {
	o := &mixOptions{}
	cmd := &cobra.Command{
		Use:   "mix INPUT... -o OUT",
		Short: "Mix speakers into one levelled, loudness-normalised file",
		Long: `Mix decodes its inputs, places them on one timeline, evens out the speakers, sums them,
normalises the loudness under a true-peak ceiling and encodes the result.

INPUT is a session folder (what 'spacecast record' writes), or audio files (WAV, MP3, Ogg Opus),
each one speaker. Place a file on the timeline with FILE@OFFSET (FILE@1:30 starts it at 90 s).

Speakers are levelled against each other first (speech-gated loudness, up to ±12 dB each; on by
default for several inputs): uneven microphones are the main flaw of room audio. The sum is then
brought to --loudness (integrated, EBU R128 / ITU-R BS.1770-4) and a true-peak limiter keeps it
at or under --true-peak. A mono output is measured as one channel, as ffmpeg's ebur128 does.

The output format follows the extension: .mp3 (LAME, with a LAME/Info tag so every decoder gets
the exact length, ID3v2 tags and, for several speakers, ID3 chapters: one per stretch led by one
speaker), .wav (16-bit PCM) or .opus (Ogg Opus).

An MP3 also carries spacecast's own metadata as JSON in an ID3 TXXX frame named "spacecast": the
session it came from, the speakers heard in it (not those --exclude left out), its chapters, the
session's soundbites and a map from the session clock to the file's time (--max-silence cuts).
clip and trim carry it on; 'spacecast inspect' shows it (docs/session-format.md).

` + s3ReadHelp + s3Help,
		Example: `  spacecast mix testdata/demo/session -o episode.mp3
  spacecast mix host.wav guest.mp3@2.5 -o episode.mp3 --title "Episode 1" --artist "Ada"
  spacecast mix session/ -o episode.opus --exclude brook --max-silence 2s
  spacecast mix session/ -o raw.wav --no-normalize --no-level
  spacecast mix s3://recordings/2026/town-hall -o episode.mp3`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("mix: give at least one INPUT (a session folder or audio files)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMix(cmd, o, g, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.output, "output", "o", "", "output file: .mp3, .wav or .opus (required)")
	fl.Float64Var(&o.loudness, "loudness", -16, "integrated loudness target in LUFS")
	fl.Float64Var(&o.truePeak, "true-peak", -1, "true-peak ceiling in dBTP")
	fl.BoolVar(&o.noNormalize, "no-normalize", false, "skip loudness normalisation and the limiter")
	fl.BoolVar(&o.noLevel, "no-level", false, "do not level speakers against each other")
	fl.BoolVar(&o.level, "level", false, "level speakers even when there is only one input")
	fl.IntVar(&o.bitrate, "bitrate", 0, "bitrate in kbps for .mp3/.opus (default 64 mono / 128 stereo MP3)")
	fl.IntVar(&o.channels, "channels", 0, "output channels, 1 or 2 (default: the most any input has)")
	fl.StringSliceVar(&o.exclude, "exclude", nil, "leave out a speaker (identity, name, or file base name); repeatable")
	fl.StringVar(&o.maxSilence, "max-silence", "", "shorten dead air longer than this to this (e.g. 2s)")
	fl.StringVar(&o.minChapter, "min-chapter", "60s", "shortest chapter for multi-speaker mixes (0 for none)")
	fl.StringVar(&o.title, "title", "", "ID3 title (MP3)")
	fl.StringVar(&o.artist, "artist", "", "ID3 artist (MP3)")
	fl.StringVar(&o.album, "album", "", "ID3 album (MP3)")
	fl.StringVar(&o.date, "date", "", "ID3 recording date, YYYY-MM-DD (MP3)")
	fl.StringVar(&o.artwork, "artwork", "", "cover image, JPEG or PNG (MP3)")
	cmd.MarkFlagFilename("output", "mp3", "wav", "opus")
	cmd.MarkFlagFilename("artwork", "jpg", "jpeg", "png")
	o.s3.addFlags(cmd)
	return cmd
}

func runMix(cmd *cobra.Command, o *mixOptions, g *globalOptions, args []string) error {
	if o.output == "" {
		return usageErr("mix: -o OUT is required (e.g. -o episode.mp3)")
	}
	opts := studio.DefaultMixOptions()
	opts.Inputs, opts.Output = args, o.output
	opts.LoudnessLUFS, opts.TruePeakDBTP = o.loudness, o.truePeak
	opts.Normalize = !o.noNormalize
	opts.BitrateKbps, opts.Channels, opts.Exclude = o.bitrate, o.channels, o.exclude
	switch {
	case o.noLevel && o.level:
		return usageErr("mix: --level and --no-level contradict each other")
	case o.noLevel:
		opts.Level = "off"
	case o.level:
		opts.Level = "on"
	}
	if o.channels != 0 && o.channels != 1 && o.channels != 2 {
		return usageErr("mix: --channels %d: use 1 or 2", o.channels)
	}
	if o.loudness > -5 || o.loudness < -40 {
		return usageErr("mix: --loudness %g LUFS is out of range (use -40 to -5; podcasts use -16)", o.loudness)
	}
	if o.truePeak > 0 || o.truePeak < -20 {
		return usageErr("mix: --true-peak %g dBTP is out of range (use -20 to 0; -1 is usual)", o.truePeak)
	}
	var err error
	if o.maxSilence != "" {
		if opts.MaxSilence, err = edit.ParseTime(o.maxSilence); err != nil || opts.MaxSilence <= 0 {
			return usageErr("mix: --max-silence %q: %v", o.maxSilence, edit.ErrBadTime)
		}
	}
	if opts.MinChapter, err = edit.ParseTime(o.minChapter); err != nil {
		return usageErr("mix: --min-chapter %q: %v", o.minChapter, err)
	}
	opts.Tag = id3.Tag{Title: o.title, Artist: o.artist, Album: o.album, Date: o.date}
	if o.artwork != "" {
		pic, err := loadArtwork(o.artwork)
		if err != nil {
			return inputErr(fmt.Errorf("mix: --artwork %s: %w", o.artwork, err))
		}
		opts.Tag.Artwork = pic
	}
	inputs := []string{o.artwork}
	for _, a := range args {
		inputs = append(inputs, studio.InputPath(a))
	}
	if err := checkOutput("mix", "-o", o.output, inputs...); err != nil {
		return err
	}
	if err := checkOutputDir(o.output); err != nil {
		return inputErr(fmt.Errorf("mix: %w", err))
	}
	for _, a := range args {
		if objstore.IsURL(a) && len(args) > 1 {
			return usageErr("mix: %s is a session in a bucket: a session must be the only input", a)
		}
	}
	sess, _, err := o.s3.openBucketSession(cmd.Context(), "mix", args[0])
	if err != nil {
		return err
	}
	if sess != nil {
		opts.Inputs, opts.Session = nil, sess
	}
	warnUnfinalized(g, args...)
	prog := newProgress(g, "mix")
	res, err := studio.Mix(cmd.Context(), opts, prog)
	prog.Finish()
	if err != nil {
		return fmt.Errorf("mix: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, res)
	}
	w := g.stdout
	fmt.Fprintf(w, "wrote %s: %s, %s, %d Hz, %d ch", termPath(res.Output), strings.ToUpper(res.Format), edit.FormatTime(res.Duration), res.SampleRate, res.Channels)
	if res.BitrateKbps > 0 {
		fmt.Fprintf(w, ", %d kbps", res.BitrateKbps)
	}
	fmt.Fprintf(w, "\nloudness %.1f LUFS, true peak %.1f dBTP (gain %+.1f dB)\n", res.LoudnessLUFS, res.TruePeakDBTP, res.GainDB)
	for _, s := range res.Speakers {
		fmt.Fprintf(w, "  speaker %-20s at %s  talk %s  %.1f LUFS, levelled %+.1f dB\n", term(s.Name), edit.FormatTime(s.Offset), edit.FormatTime(s.Talk), s.LoudnessLUFS, s.LevelGainDB)
	}
	if res.RemovedSilence > 0 {
		fmt.Fprintf(w, "shortened silence by %s\n", edit.FormatTime(res.RemovedSilence))
	}
	for _, c := range res.Chapters {
		fmt.Fprintf(w, "  chapter %s  %s\n", edit.FormatTime(c.Start), term(c.Title))
	}
	printSoundbites(w, res.Soundbites)
	return nil
}

// printSoundbites lists soundbites as the text output of mix, clip and trim shows them.
func printSoundbites(w io.Writer, sbs []studio.SoundbiteInfo) {
	for _, s := range sbs {
		fmt.Fprintf(w, "  soundbite %s+%s  %s\n", edit.FormatTime(s.Start), edit.FormatTime(s.Duration), term(s.Title))
	}
}

func loadArtwork(path string) (*id3.Picture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	switch {
	case len(b) > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return &id3.Picture{MIME: "image/jpeg", Data: b}, nil
	case len(b) > 8 && string(b[1:4]) == "PNG":
		return &id3.Picture{MIME: "image/png", Data: b}, nil
	}
	return nil, fmt.Errorf("not a JPEG or PNG image")
}

// checkOutputDir fails early, before any work, when the output's folder does not exist.
func checkOutputDir(out string) error {
	dir := filepath.Dir(out)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("-o %s: folder %s does not exist (create it first)", out, dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("-o %s: %s is not a folder", out, dir)
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return fmt.Errorf("-o %s is a folder; name a file such as %s", out, filepath.Join(out, "episode.mp3"))
	}
	return nil
}
