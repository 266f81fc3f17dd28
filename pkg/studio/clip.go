package studio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/spacecast/spacecast/internal/fsutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/codec/mp3"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// ClipOptions are the inputs of Clip.
type ClipOptions struct {
	Input, Output string
	// Session, when set, is the input: a session opened where it is stored (a bucket, see
	// sessionstore.Open). Input then only names it in messages.
	Session *session.Session
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

// ClipResult reports what Clip wrote. Its JSON (json.go) gives times in seconds.
type ClipResult struct {
	Output string
	Mode   string // "exact" or "copy"
	Format string
	// Start and End are the clipped range of the input; Duration is the clip's length.
	Start, End, Duration time.Duration
	SampleRate           int
	Channels             int
	// Chapters and Soundbites are the input's, moved onto the clip (those outside it dropped).
	Chapters   []ChapterInfo
	Soundbites []SoundbiteInfo
}

// Clip cuts [Start, End) out of the input.
func Clip(ctx context.Context, opts ClipOptions, prog Progress) (*ClipResult, error) {
	if prog == nil {
		prog = NoProgress{}
	}
	var base *Meta
	if opts.Last > 0 {
		var err error
		var done func()
		if opts, base, done, err = lastRange(opts); err != nil {
			return nil, err
		}
		defer done()
	}
	r, err := clipRange(opts)
	if err != nil {
		return nil, err
	}
	kind, input, mixed, cleanup, err := prepare(ctx, opts.Input, opts.Session, opts.Output, prog)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if base == nil {
		base = mixed
	}
	if opts.Copy {
		return clipCopy(input, opts, r, kind, base)
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
	in, err := metaOf(base, opts.Input, input, src.Info.Kind, f.Duration(src.Info.Frames))
	if err != nil {
		return nil, err
	}
	meta := in.edited(edit.TimeMap{Segments: []edit.Segment{{Old: edit.Range{Start: f.Duration(start), End: f.Duration(end)}}}})
	var tag *id3.Tag
	if kind == codec.MP3 {
		if tag, err = metaTag(meta, nil); err != nil {
			return nil, err
		}
	}
	out, err := codec.Create(opts.Output, f, codec.EncodeOptions{BitrateKbps: snapBitrate(kind, bitrate), Tag: tag})
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
		Start: r.Start, End: r.End, Duration: f.Duration(end - start),
		SampleRate: f.SampleRate, Channels: f.Channels, Chapters: meta.Chapters, Soundbites: meta.Soundbites}, nil
}

// lastRange turns --last into a range over a session's live mix (or its full mix when it has none).
// Clipping the live mix, it also returns the mix's metadata: the session, everyone with a track
// (the live mix holds them all), the session's chapters and soundbites. The live mix of a session
// read where it is stored (opts.Session) is streamed into a temporary file first, the one file
// the clip reads; done removes it.
func lastRange(opts ClipOptions) (_ ClipOptions, _ *Meta, done func(), _ error) {
	done = func() {}
	s := opts.Session
	if s == nil {
		var err error
		if s, err = session.Open(opts.Input); err != nil {
			if errors.Is(err, session.ErrNotSession) {
				return opts, nil, done, fmt.Errorf("%w: %s: %w", ErrBadInput, opts.Input, ErrNoLast)
			}
			return opts, nil, done, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
	}
	end := session.Duration(s.Manifest.DurationTicks)
	var base *Meta
	if s.Manifest.Mix != nil {
		if n, err := liveLength(s.Files(), s.Manifest.Mix.File); err == nil && n > 0 {
			mix := s.Path(s.Manifest.Mix.File)
			if opts.Session != nil {
				if mix, done, err = copyOut(s.Files(), s.Manifest.Mix.File); err != nil {
					return opts, nil, func() {}, err
				}
			}
			opts.Input, opts.Session, end = mix, nil, session.Duration(n)
			speakers, err := sessionSpeakers(s, nil)
			if err != nil {
				done()
				return opts, nil, func() {}, err
			}
			var who []MetaSpeaker
			for _, sp := range speakers {
				who = append(who, MetaSpeaker{Identity: sp.Identity, Name: sp.Name})
			}
			f := audio.Format{SampleRate: session.ClockRate, Channels: 1}
			base = sessionMeta(s, who, chaptersFor(s, nil, nil, f, 0, nil, n), end)
		}
	}
	if end <= 0 {
		done()
		return opts, nil, func() {}, fmt.Errorf("%w: %s holds no audio yet", ErrBadInput, opts.Input)
	}
	opts.Start = max(0, end-opts.Last)
	opts.End, opts.Duration = end, 0
	return opts, base, done, nil
}

// liveLength is how many samples of the Ogg Opus file rel of src are on whole pages now.
func liveLength(src session.Files, rel string) (int64, error) {
	f, err := src.Open(rel)
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
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	// The recorder's mix starts at granule position 0; its last page may claim no more than the
	// file can hold.
	if err := ogg.CheckSpan(0, 0, g, size); err != nil {
		return 0, fmt.Errorf("%s: %w", src.Name(rel), err)
	}
	return g - int64(r.Head().PreSkip), nil
}

// copyOut streams the file rel of src into a new temporary file, and returns its path and a
// function that removes it.
func copyOut(src session.Files, rel string) (string, func(), error) {
	in, err := src.Open(rel)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	defer in.Close()
	out, err := os.CreateTemp("", "spacecast-"+path.Base(rel)+".*")
	if err != nil {
		return "", nil, err
	}
	remove := func() { os.Remove(out.Name()) }
	_, err = io.Copy(out, in)
	if err = errors.Join(err, out.Close()); err != nil {
		remove()
		return "", nil, err
	}
	return out.Name(), remove, nil
}

func clipRange(opts ClipOptions) (edit.Range, error) {
	r := edit.Range{Start: opts.Start, End: opts.End}
	switch {
	case opts.End != 0 && opts.Duration != 0:
		return r, fmt.Errorf("studio: %w: both an end and a duration are given", ErrBadRange)
	case opts.Duration > 0:
		r.End = opts.Start + opts.Duration
	case opts.End == 0:
		return r, fmt.Errorf("studio: %w: no end and no duration", ErrBadRange)
	}
	if r.End <= r.Start {
		return r, fmt.Errorf("studio: %w: the end %s is not after the start %s", ErrBadRange, edit.FormatTime(r.End), edit.FormatTime(r.Start))
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
func clipCopy(input string, opts ClipOptions, r edit.Range, kind codec.Kind, base *Meta) (*ClipResult, error) {
	res, err := cutMP3(opts.Input, input, opts.Output, kind, []edit.Range{r}, base)
	if err != nil {
		return nil, err
	}
	return &ClipResult{Output: opts.Output, Mode: "copy", Format: "mp3",
		Start: r.Start, End: r.End,
		Duration: res.length, SampleRate: res.rate, Channels: res.channels,
		Chapters: res.meta.Chapters, Soundbites: res.meta.Soundbites}, nil
}

type cutInfo struct {
	length         time.Duration
	rate, channels int
	// timeMap maps the input's time to the output's, from where the joins really landed.
	timeMap edit.TimeMap
	// meta is what the output carries.
	meta *Meta
}

// cutMP3 keeps the given ranges of an MP3 without re-encoding, writing atomically. The output's
// ID3 tag carries the input's metadata (base, or what the file carries, see metaOf) moved by the
// cut; it is made once the cut is done, since the joins land on frame boundaries. name is the
// input as the user gave it, for messages.
func cutMP3(name, input, output string, kind codec.Kind, keep []edit.Range, base *Meta) (*cutInfo, error) {
	if kind != codec.MP3 {
		return nil, fmt.Errorf("%w: %w: name the output .mp3", ErrBadInput, ErrLosslessMP3)
	}
	if k, err := codec.SniffFile(input); err != nil || k != codec.MP3 {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadInput, name, ErrLosslessMP3)
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
		return nil, fmt.Errorf("%w: %s: %w", ErrBadInput, name, err)
	}
	f := mf.Format()
	var ranges []mp3.Range
	for _, k := range keep {
		s, e := f.Frames(k.Start), f.Frames(k.End)
		if s >= mf.Samples || e > mf.Samples {
			return nil, fmt.Errorf("%w: %s is %s long; the range %s reaches past its end", ErrBadInput, name,
				edit.FormatTime(f.Duration(mf.Samples)), k)
		}
		ranges = append(ranges, mp3.Range{Start: s, End: e})
	}
	meta, err := metaOf(base, name, input, codec.MP3, f.Duration(mf.Samples))
	if err != nil {
		return nil, err
	}
	// The cut goes to a temporary file; the tag, once the landing is known, and the cut go to the
	// output, atomically (with codec.Output's mode, 0600, like every studio output).
	dir, pattern := filepath.Dir(output), "."+filepath.Base(output)+".part*"
	audioTmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	defer func() { audioTmp.Close(); os.Remove(audioTmp.Name()) }()
	res, err := mp3.Cut(audioTmp, in, mf, ranges, mp3.CutOptions{})
	if err != nil {
		return nil, fmt.Errorf("cut %s: %w", name, err)
	}
	ci := &cutInfo{length: f.Duration(res.Samples), rate: f.SampleRate, channels: f.Channels}
	for _, l := range res.Ranges {
		if l.Source.Len() > 0 {
			ci.timeMap.Segments = append(ci.timeMap.Segments, edit.Segment{
				Old: edit.Range{Start: f.Duration(l.Source.Start), End: f.Duration(l.Source.End)}, New: f.Duration(l.At)})
		}
	}
	ci.meta = meta.edited(ci.timeMap)
	tag, err := metaTag(ci.meta, nil)
	if err != nil {
		return nil, err
	}
	prefix, err := tag.Marshal()
	if err != nil {
		return nil, err
	}
	err = fsutil.WriteAtomic(output, 0o600, func(w io.Writer) error {
		if _, err := w.Write(prefix); err != nil {
			return err
		}
		if _, err := audioTmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		_, err := io.Copy(w, audioTmp)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cut %s: %w", name, err)
	}
	return ci, nil
}

// metaOf is the metadata an edit of a file starts from: base when the input was a session (its
// mix's) or a live mix; else what the file carries in its TXXX "spacecast" frame; else, for any
// other file, a map of the file onto itself with the file's ID3 chapters. A malformed frame is an
// error: carrying on without it would silently drop speakers and soundbites. name is the input as
// the user gave it, path the file to read.
func metaOf(base *Meta, name, path string, kind codec.Kind, length time.Duration) (*Meta, error) {
	if base != nil {
		return base, nil
	}
	if kind == codec.MP3 {
		m, err := ReadMeta(path)
		switch {
		case errors.Is(err, ErrBadMeta) || errors.Is(err, ErrMetaVersion):
			return nil, fmt.Errorf("%w: %w (make the file again with spacecast, or remove the frame with an ID3 editor)", ErrBadInput, err)
		case err == nil && m != nil:
			return m, nil
		}
		// Any other tag problem: the file is still audio; carry on as with a file without metadata.
	}
	m := &Meta{Version: MetaVersion, TimeMap: mapEntries(identityMap(length))}
	if kind == codec.MP3 {
		m.Chapters = readChapters(path)
	}
	return m, nil
}

// prepare checks an edit's output name against its input and flattens a session input to one
// file (see flatten). It returns the output's kind, the file to edit and, for a session, the
// metadata of its mix.
func prepare(ctx context.Context, input string, sess *session.Session, output string, prog Progress) (codec.Kind, string, *Meta, func(), error) {
	if sess == nil {
		if err := checkNotSame(input, output); err != nil {
			return "", "", nil, nil, err
		}
	}
	kind, err := codec.KindOfPath(output)
	if err != nil {
		return "", "", nil, nil, err
	}
	file, meta, cleanup, err := flatten(ctx, input, sess, prog)
	if err != nil {
		return "", "", nil, nil, err
	}
	return kind, file, meta, cleanup, nil
}

// flatten turns a session input into one audio file (the mix with default settings, in a
// temporary folder) so clip and trim can work on it, and returns the mix's metadata. Files pass
// through unchanged. sess, when set, is the session to flatten (one read where it is stored).
func flatten(ctx context.Context, input string, sess *session.Session, prog Progress) (string, *Meta, func(), error) {
	if sess == nil && !session.IsSession(input) {
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
	opts.Inputs, opts.Session = []string{input}, sess
	opts.Output = filepath.Join(dir, "mix.wav")
	res, err := Mix(ctx, opts, prog)
	if err != nil {
		cleanup()
		return "", nil, nil, err
	}
	return opts.Output, res.meta, cleanup, nil
}
