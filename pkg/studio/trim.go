package studio

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/session"
)

// TrimOptions are the inputs of Trim.
type TrimOptions struct {
	Input, Output string
	// Session, when set, is the input: a session opened where it is stored (a bucket, see
	// sessionstore.Open). Input then only names it in messages.
	Session *session.Session
	// Cuts are the stretches to remove.
	Cuts []edit.Range
	// Exact re-encodes for sample-accurate joins with short crossfades. MP3 input is cut
	// losslessly (frame-accurate) unless Exact is set; other inputs are always exact.
	Exact bool
	// Crossfade is the length of each join's crossfade when exact.
	Crossfade time.Duration
	// BitrateKbps of a re-encoded output (0: the source's).
	BitrateKbps int
}

// MapEntry is one kept stretch: input [OldStart, OldEnd) plays from NewStart in the output. In a
// Meta the input is the source clock (the session's), in a TrimResult the trimmed file. Its JSON
// (json.go) gives the times in seconds.
type MapEntry struct {
	OldStart, OldEnd, NewStart time.Duration
}

// TrimResult reports what Trim wrote. Its JSON (json.go) gives times in seconds.
type TrimResult struct {
	Output string
	Mode   string // "copy" or "exact"
	Format string
	// InputDuration is the input's length, Duration the output's, Removed the difference (more
	// than the cuts by the crossfades of an exact trim).
	InputDuration, Duration, Removed time.Duration
	TimeMap                          []MapEntry
	Chapters                         []ChapterInfo
	// Soundbites are the input's (a session's, or those a spacecast MP3 carries), moved with the
	// cut; one with a cut inside it is dropped.
	Soundbites []SoundbiteInfo
}

// SoundbiteInfo is a soundbite in output time; its JSON (json.go) gives times in seconds.
type SoundbiteInfo struct {
	Start, Duration time.Duration
	Title           string
}

// Trim removes the cut ranges from the input and joins what is left.
func Trim(ctx context.Context, opts TrimOptions, prog Progress) (*TrimResult, error) {
	if prog == nil {
		prog = NoProgress{}
	}
	if len(opts.Cuts) == 0 {
		return nil, fmt.Errorf("studio: %w: nothing to cut", ErrBadRange)
	}
	cuts, err := edit.Normalize(opts.Cuts)
	if err != nil {
		return nil, err
	}
	kind, input, base, cleanup, err := prepare(ctx, opts.Input, opts.Session, opts.Output, prog)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	src, err := codec.Open(input)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	info := src.Info
	src.Close()
	f := info.Format
	total := f.Duration(info.Frames)
	for _, c := range cuts {
		if c.Start >= total {
			return nil, fmt.Errorf("%w: %s is %s long; the cut %s starts past its end", ErrBadInput, opts.Input, edit.FormatTime(total), c)
		}
	}
	keep := edit.Complement(cuts, total)
	if len(keep) == 0 {
		return nil, fmt.Errorf("%w: the cuts remove all of %s", ErrBadInput, opts.Input)
	}

	res := &TrimResult{Output: opts.Output, Format: string(kind), InputDuration: total}
	var tm edit.TimeMap
	var meta *Meta
	if info.Kind == codec.MP3 && kind == codec.MP3 && !opts.Exact {
		ci, err := cutMP3(opts.Input, input, opts.Output, kind, keep, base)
		if err != nil {
			return nil, err
		}
		res.Mode, res.Duration = "copy", ci.length
		tm, meta = ci.timeMap, ci.meta
	} else {
		in, err := metaOf(base, opts.Input, input, info.Kind, total)
		if err != nil {
			return nil, err
		}
		tm = exactMap(keep, f, f.Frames(opts.Crossfade))
		meta = in.edited(tm)
		n, err := trimExact(ctx, input, opts, kind, keep, meta, prog)
		if err != nil {
			return nil, err
		}
		res.Mode, res.Duration = "exact", f.Duration(n)
	}
	res.Removed = res.InputDuration - res.Duration
	res.TimeMap = mapEntries(tm)
	res.Chapters, res.Soundbites = meta.Chapters, meta.Soundbites
	return res, nil
}

// exactMap is the time map of an exact trim: the kept ranges (cut on the sample) joined with
// crossfades of xf frames. Each crossfade is split in its middle: up to there the time belongs to
// the part that fades out, after it to the part that fades in.
func exactMap(keep []edit.Range, f audio.Format, xf int64) edit.TimeMap {
	var tm edit.TimeMap
	if len(keep) < 2 {
		xf = 0
	}
	half := xf / 2
	at := int64(0) // output frame where the current part starts
	for i, k := range keep {
		s, e := f.Frames(k.Start), f.Frames(k.End)
		lead, tail := int64(0), int64(0)
		if i > 0 {
			lead = half
		}
		if i < len(keep)-1 {
			tail = xf - half
		}
		tm.Segments = append(tm.Segments, edit.Segment{
			Old: edit.Range{Start: f.Duration(s + lead), End: f.Duration(e - tail)},
			New: f.Duration(at + lead),
		})
		at += e - s - xf
	}
	return tm
}

func trimExact(ctx context.Context, input string, opts TrimOptions, kind codec.Kind, keep []edit.Range, meta *Meta, prog Progress) (int64, error) {
	var parts []audio.Stream
	var srcs closers
	defer func() { srcs.Close() }()
	var info codec.Info
	for _, k := range keep {
		src, err := codec.Open(input)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		srcs = append(srcs, src)
		info = src.Info
		f := src.Format()
		if err := audio.Skip(src, f.Frames(k.Start)); err != nil {
			return 0, err
		}
		parts = append(parts, audio.Take(src, f.Frames(k.End)-f.Frames(k.Start)))
	}
	f := info.Format
	xf := f.Frames(opts.Crossfade)
	for _, k := range keep {
		if f.Frames(k.Len()) < 2*xf && len(keep) > 1 {
			return 0, fmt.Errorf("%w: the kept stretch %s: %w (%s); cut less", ErrBadInput, k, ErrShortKeep, opts.Crossfade)
		}
	}
	joined, err := audio.Join(parts, xf)
	if err != nil {
		return 0, err
	}
	bitrate := opts.BitrateKbps
	if bitrate == 0 && info.Kind == kind {
		bitrate = info.BitrateKbps
	}
	var tag *id3.Tag
	if kind == codec.MP3 {
		if tag, err = metaTag(meta, nil); err != nil {
			return 0, err
		}
	}
	out, err := codec.Create(opts.Output, f, codec.EncodeOptions{BitrateKbps: snapBitrate(kind, bitrate), Tag: tag})
	if err != nil {
		return 0, err
	}
	prog.Stage("trimming", 0, f.SampleRate)
	n, err := codec.Copy(ctx, out, joined, prog.Advance)
	if err != nil {
		out.Abort()
		return 0, err
	}
	return n, out.Commit()
}

// id3Chapters turns chapters into ID3 CHAP frames with IDs ch0, ch1, …
func id3Chapters(chapters []ChapterInfo) []id3.Chapter {
	var out []id3.Chapter
	for i, c := range chapters {
		out = append(out, id3.Chapter{ID: fmt.Sprintf("ch%d", i), Title: c.Title,
			Start: c.Start, End: c.End})
	}
	return out
}

// readChapters returns an MP3's ID3 chapters, or nil.
func readChapters(path string) []ChapterInfo {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	tag, _, err := id3.Read(f)
	if err != nil || tag == nil {
		return nil
	}
	var out []ChapterInfo
	for _, c := range tag.Chapters {
		out = append(out, ChapterInfo{Start: c.Start, End: c.End, Title: c.Title})
	}
	return out
}

// moveChapters maps chapters through a trim; a chapter wholly inside a cut disappears.
func moveChapters(chs []ChapterInfo, tm edit.TimeMap) []ChapterInfo {
	var out []ChapterInfo
	for _, c := range chs {
		r, ok := tm.MapRange(edit.Range{Start: c.Start, End: c.End})
		if !ok {
			continue
		}
		out = append(out, ChapterInfo{Start: r.Start, End: r.End, Title: c.Title})
	}
	return out
}
