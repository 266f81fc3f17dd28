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

// MapEntry is one kept stretch: input [OldStart, OldEnd) plays from NewStart in the output.
type MapEntry struct {
	OldStartSeconds float64 `json:"old_start_seconds"`
	OldEndSeconds   float64 `json:"old_end_seconds"`
	NewStartSeconds float64 `json:"new_start_seconds"`
}

// TrimResult reports what Trim wrote.
type TrimResult struct {
	Output          string        `json:"output"`
	Mode            string        `json:"mode"` // "copy" or "exact"
	Format          string        `json:"format"`
	InputSeconds    float64       `json:"input_seconds"`
	DurationSeconds float64       `json:"duration_seconds"`
	RemovedSeconds  float64       `json:"removed_seconds"`
	TimeMap         []MapEntry    `json:"time_map"`
	Chapters        []ChapterInfo `json:"chapters,omitempty"`
	// Soundbites are a session input's soundbites, moved with the cut (dropped when cut away).
	Soundbites []SoundbiteInfo `json:"soundbites,omitempty"`
}

// SoundbiteInfo is a soundbite in output time.
type SoundbiteInfo struct {
	StartSeconds    float64 `json:"start_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`
	Title           string  `json:"title,omitempty"`
}

// Trim removes the cut ranges from the input and joins what is left.
func Trim(ctx context.Context, opts TrimOptions, prog Progress) (*TrimResult, error) {
	if prog == nil {
		prog = NoProgress{}
	}
	if len(opts.Cuts) == 0 {
		return nil, fmt.Errorf("give at least one --cut START-END")
	}
	cuts, err := edit.Normalize(opts.Cuts)
	if err != nil {
		return nil, err
	}
	kind, input, chapters, cleanup, err := prepare(ctx, opts.Input, opts.Output, prog)
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
	if chapters == nil && info.Kind == codec.MP3 {
		chapters = readChapters(input)
	}
	tm := edit.KeepMap(keep)
	moved := moveChapters(chapters, tm)

	res := &TrimResult{Output: opts.Output, Format: string(kind), InputSeconds: total.Seconds(), Chapters: moved}
	if session.IsSession(opts.Input) {
		s, err := session.Open(opts.Input)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		for _, sb := range s.Manifest.Soundbites {
			start := session.Duration(sb.StartTicks)
			if r, ok := tm.MapRange(edit.Range{Start: start, End: start + session.Duration(sb.DurationTicks)}); ok {
				res.Soundbites = append(res.Soundbites, SoundbiteInfo{r.Start.Seconds(), r.Len().Seconds(), sb.Title})
			}
		}
	}
	if info.Kind == codec.MP3 && kind == codec.MP3 && !opts.Exact {
		var prefix []byte
		if tag := chapterTag(moved); tag != nil {
			if prefix, err = tag.Marshal(); err != nil {
				return nil, err
			}
		}
		ci, err := cutMP3(input, opts.Output, kind, keep, prefix)
		if err != nil {
			return nil, err
		}
		res.Mode, res.DurationSeconds = "copy", ci.seconds
	} else {
		n, err := trimExact(ctx, input, opts, kind, keep, moved, prog)
		if err != nil {
			return nil, err
		}
		res.Mode, res.DurationSeconds = "exact", f.Seconds(n)
	}
	res.RemovedSeconds = res.InputSeconds - res.DurationSeconds
	for _, s := range tm.Segments {
		res.TimeMap = append(res.TimeMap, MapEntry{s.Old.Start.Seconds(), s.Old.End.Seconds(), s.New.Seconds()})
	}
	return res, nil
}

func trimExact(ctx context.Context, input string, opts TrimOptions, kind codec.Kind, keep []edit.Range, chapters []ChapterInfo, prog Progress) (int64, error) {
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
			return 0, fmt.Errorf("%w: the kept stretch %s is shorter than two crossfades (%s); cut less or lower --crossfade", ErrBadInput, k, opts.Crossfade)
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
		tag = chapterTag(chapters)
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

// chapterTag makes an ID3 tag holding chapters, or nil when there are none.
func chapterTag(chapters []ChapterInfo) *id3.Tag {
	if len(chapters) == 0 {
		return nil
	}
	return &id3.Tag{Chapters: id3Chapters(chapters)}
}

// id3Chapters turns chapters into ID3 CHAP frames with IDs ch0, ch1, …
func id3Chapters(chapters []ChapterInfo) []id3.Chapter {
	var out []id3.Chapter
	for i, c := range chapters {
		out = append(out, id3.Chapter{ID: fmt.Sprintf("ch%d", i), Title: c.Title,
			Start: secondsToDuration(c.StartSeconds), End: secondsToDuration(c.EndSeconds)})
	}
	return out
}

func secondsToDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

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
		out = append(out, ChapterInfo{StartSeconds: c.Start.Seconds(), EndSeconds: c.End.Seconds(), Title: c.Title})
	}
	return out
}

// moveChapters maps chapters through a trim; a chapter wholly inside a cut disappears.
func moveChapters(chs []ChapterInfo, tm edit.TimeMap) []ChapterInfo {
	var out []ChapterInfo
	for _, c := range chs {
		r, ok := tm.MapRange(edit.Range{Start: secondsToDuration(c.StartSeconds), End: secondsToDuration(c.EndSeconds)})
		if !ok {
			continue
		}
		out = append(out, ChapterInfo{StartSeconds: r.Start.Seconds(), EndSeconds: r.End.Seconds(), Title: c.Title})
	}
	return out
}
