package studio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/codec/mp3"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// ClipOptions are the inputs of Clip.
type ClipOptions struct {
	Input, Output string
	// Start and End bound the clip; with End zero, Duration gives its length.
	Start, End, Duration time.Duration
	// Fade is the length of the fade in and out of an exact clip (0: none).
	Fade time.Duration
	// Copy cuts an MP3 without re-encoding, frame-accurate.
	Copy bool
	// BitrateKbps of a re-encoded clip (0: the source's).
	BitrateKbps int
	// Last, instead of Start/End, clips the last stretch of a session — while it is being recorded
	// too: the clip comes from the live mix as far as it is on disk.
	Last time.Duration
}

// ClipResult reports what Clip wrote.
type ClipResult struct {
	Output          string  `json:"output"`
	Mode            string  `json:"mode"` // "exact" or "copy"
	Format          string  `json:"format"`
	StartSeconds    float64 `json:"start_seconds"`
	EndSeconds      float64 `json:"end_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	SampleRate      int     `json:"sample_rate"`
	Channels        int     `json:"channels"`
}

// Clip cuts [Start, End) out of the input.
func Clip(ctx context.Context, opts ClipOptions, prog Progress) (*ClipResult, error) {
	if prog == nil {
		prog = NoProgress{}
	}
	if opts.Last > 0 {
		var err error
		if opts, err = lastRange(opts); err != nil {
			return nil, err
		}
	}
	r, err := clipRange(opts)
	if err != nil {
		return nil, err
	}
	kind, input, _, cleanup, err := prepare(ctx, opts.Input, opts.Output, prog)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if opts.Copy {
		return clipCopy(input, opts, r, kind)
	}

	src, err := codec.Open(input)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	defer src.Close()
	f := src.Format()
	start, end := f.Frames(r.Start), f.Frames(r.End)
	if err := checkInside(opts.Input, src.Info, start, end, f); err != nil {
		return nil, err
	}
	if err := audio.Skip(src, start); err != nil {
		return nil, fmt.Errorf("%w: %s: seek to %s: %w", ErrBadInput, opts.Input, edit.FormatTime(r.Start), err)
	}
	var s audio.Stream = audio.Take(src, end-start)
	if fade := f.Frames(opts.Fade); fade > 0 {
		fade = min(fade, (end-start)/2)
		if s, err = audio.Fade(s, fade, fade); err != nil {
			return nil, err
		}
	}
	bitrate := opts.BitrateKbps
	if bitrate == 0 && src.Info.Kind == kind {
		bitrate = src.Info.BitrateKbps
	}
	out, err := codec.Create(opts.Output, f, codec.EncodeOptions{BitrateKbps: snapBitrate(kind, bitrate)})
	if err != nil {
		return nil, err
	}
	prog.Stage("clipping", end-start, f.SampleRate)
	n, err := codec.Copy(ctx, out, s, prog.Advance)
	if err == nil && n != end-start {
		err = fmt.Errorf("%w: %s ends at %s, before the clip's end %s", ErrBadInput, opts.Input,
			edit.FormatTime(f.Duration(start+n)), edit.FormatTime(r.End))
	}
	if err != nil {
		out.Abort()
		return nil, err
	}
	if err := out.Commit(); err != nil {
		return nil, err
	}
	return &ClipResult{Output: opts.Output, Mode: "exact", Format: string(kind),
		StartSeconds: r.Start.Seconds(), EndSeconds: r.End.Seconds(), DurationSeconds: f.Seconds(end - start),
		SampleRate: f.SampleRate, Channels: f.Channels}, nil
}

// lastRange turns --last into a range over a session's live mix (or its full mix when it has none).
func lastRange(opts ClipOptions) (ClipOptions, error) {
	s, err := session.Open(opts.Input)
	if err != nil {
		if errors.Is(err, session.ErrNotSession) {
			return opts, fmt.Errorf("%w: --last clips a session folder (a recording, running or not); for a file use --start and --end", ErrBadInput)
		}
		return opts, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	end := session.Duration(s.Manifest.DurationTicks)
	if s.Manifest.Mix != nil {
		mix := s.Path(s.Manifest.Mix.File)
		if n, err := liveLength(mix); err == nil && n > 0 {
			opts.Input, end = mix, time.Duration(n)*time.Second/48000
		}
	}
	if end <= 0 {
		return opts, fmt.Errorf("%w: %s holds no audio yet", ErrBadInput, opts.Input)
	}
	opts.Start = max(0, end-opts.Last)
	opts.End, opts.Duration = end, 0
	return opts, nil
}

// liveLength is how many samples of an Ogg Opus file are on whole pages now.
func liveLength(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := ogg.NewOpusReader(f)
	if err != nil {
		return 0, err
	}
	g, _, err := ogg.LastGranule(f)
	if err != nil {
		return 0, err
	}
	return g - int64(r.Head().PreSkip), nil
}

func clipRange(opts ClipOptions) (edit.Range, error) {
	r := edit.Range{Start: opts.Start, End: opts.End}
	switch {
	case opts.End != 0 && opts.Duration != 0:
		return r, fmt.Errorf("give --end or --duration, not both")
	case opts.Duration > 0:
		r.End = opts.Start + opts.Duration
	case opts.End == 0:
		return r, fmt.Errorf("give --end or --duration")
	}
	if r.End <= r.Start {
		return r, fmt.Errorf("--end %s is not after --start %s", edit.FormatTime(r.End), edit.FormatTime(r.Start))
	}
	return r, nil
}

// checkInside refuses a range that reaches past the end of an input of known length.
func checkInside(name string, info codec.Info, start, end int64, f audio.Format) error {
	if info.Frames < 0 || !info.LengthExact {
		return nil
	}
	if start >= info.Frames || end > info.Frames {
		return fmt.Errorf("%w: %s is %s long; the range %s-%s reaches past its end", ErrBadInput, name,
			edit.FormatTime(f.Duration(info.Frames)), edit.FormatTime(f.Duration(start)), edit.FormatTime(f.Duration(end)))
	}
	return nil
}

// snapBitrate picks the nearest bitrate the output format offers.
func snapBitrate(k codec.Kind, kbps int) int {
	if kbps <= 0 || k != codec.MP3 {
		return kbps
	}
	best := 32
	for _, b := range []int{8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320} {
		if abs(b-kbps) < abs(best-kbps) {
			best = b
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// clipCopy cuts an MP3 without re-encoding.
func clipCopy(input string, opts ClipOptions, r edit.Range, kind codec.Kind) (*ClipResult, error) {
	res, err := cutMP3(input, opts.Output, kind, []edit.Range{r}, nil)
	if err != nil {
		return nil, err
	}
	return &ClipResult{Output: opts.Output, Mode: "copy", Format: "mp3",
		StartSeconds: r.Start.Seconds(), EndSeconds: r.End.Seconds(),
		DurationSeconds: res.seconds, SampleRate: res.rate, Channels: res.channels}, nil
}

type cutInfo struct {
	seconds        float64
	rate, channels int
	timeMap        edit.TimeMap
}

// cutMP3 keeps the given ranges of an MP3 without re-encoding, writing atomically.
func cutMP3(input, output string, kind codec.Kind, keep []edit.Range, prefix []byte) (*cutInfo, error) {
	if kind != codec.MP3 {
		return nil, fmt.Errorf("%w: a lossless cut writes MP3; name the output .mp3 (or drop --copy to re-encode)", ErrBadInput)
	}
	if k, err := codec.SniffFile(input); err != nil || k != codec.MP3 {
		return nil, fmt.Errorf("%w: %s: a lossless cut needs MP3 input (WAV clips are lossless without --copy)", ErrBadInput, input)
	}
	in, err := os.Open(input)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return nil, err
	}
	mf, err := mp3.Probe(in, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadInput, input, err)
	}
	f := mf.Format()
	var ranges []mp3.Range
	for _, k := range keep {
		s, e := f.Frames(k.Start), f.Frames(k.End)
		if s >= mf.Samples || e > mf.Samples {
			return nil, fmt.Errorf("%w: %s is %s long; the range %s reaches past its end", ErrBadInput, input,
				edit.FormatTime(f.Duration(mf.Samples)), k)
		}
		ranges = append(ranges, mp3.Range{Start: s, End: e})
	}
	tmp, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".part*")
	if err != nil {
		return nil, err
	}
	res, err := mp3.Cut(tmp, in, mf, ranges, mp3.CutOptions{Prefix: prefix})
	if err == nil {
		err = tmp.Sync()
	}
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), output)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("cut %s: %w", input, err)
	}
	return &cutInfo{seconds: f.Seconds(res.Samples), rate: f.SampleRate, channels: f.Channels}, nil
}

// prepare checks an edit's output name against its input and flattens a session input to one
// file (see flatten). It returns the output's kind and the file to edit.
func prepare(ctx context.Context, input, output string, prog Progress) (codec.Kind, string, []ChapterInfo, func(), error) {
	if err := checkNotSame(input, output); err != nil {
		return "", "", nil, nil, err
	}
	kind, err := codec.KindOfPath(output)
	if err != nil {
		return "", "", nil, nil, err
	}
	file, chapters, cleanup, err := flatten(ctx, input, prog)
	if err != nil {
		return "", "", nil, nil, err
	}
	return kind, file, chapters, cleanup, nil
}

// flatten turns a session input into one audio file (the mix with default settings, in a
// temporary folder) so clip and trim can work on it, and returns the mix's chapters. Files pass
// through unchanged.
func flatten(ctx context.Context, input string, prog Progress) (string, []ChapterInfo, func(), error) {
	if !session.IsSession(input) {
		if st, err := os.Stat(input); err != nil {
			return "", nil, nil, fmt.Errorf("%w: %w", ErrBadInput, err)
		} else if st.IsDir() {
			return "", nil, nil, fmt.Errorf("%w: %s is a folder but not a spacecast session (no manifest.json)", ErrBadInput, input)
		}
		return input, nil, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "spacecast-mix-")
	if err != nil {
		return "", nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	opts := DefaultMixOptions()
	opts.Inputs = []string{input}
	opts.Output = filepath.Join(dir, "mix.wav")
	res, err := Mix(ctx, opts, prog)
	if err != nil {
		cleanup()
		return "", nil, nil, err
	}
	return opts.Output, res.Chapters, cleanup, nil
}
