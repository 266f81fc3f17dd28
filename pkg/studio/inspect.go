package studio

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/audio/loudness"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/session"
)

// Report is what inspect finds. Its JSON (json.go) has stable keys, documented in docs/inspect.md,
// and gives times in seconds.
type Report struct {
	Path     string
	Type     string // "file" or "session"
	Format   string // "mp3", "wav", "opus"; "session" for sessions
	Duration time.Duration
	// DurationExact is false for an MP3 without a LAME/Xing tag, whose encoder delay is unknown.
	DurationExact bool
	SampleRate    int
	Channels      int
	BitrateKbps   int
	VBR           bool
	Encoder       string
	// EncoderDelaySamples and PaddingSamples are what a gapless decoder trims (MP3: the LAME tag;
	// Opus: pre-skip).
	EncoderDelaySamples int
	PaddingSamples      int

	LoudnessLUFS    float64
	LoudnessRangeLU float64
	TruePeakDBTP    float64
	SamplePeakDBFS  float64
	// SilenceShare is the share of 400 ms blocks quieter than -60 LUFS, from 0 to 1.
	SilenceShare float64

	Tags     map[string]string
	Chapters []ChapterInfo
	Session  *SessionReport
	// Spacecast is the metadata a spacecast MP3 carries (see ReadMeta); SpacecastError says why
	// a file's TXXX "spacecast" frame could not be read.
	Spacecast      *Meta
	SpacecastError string
}

// SessionReport describes a session folder.
type SessionReport struct {
	ID        string          `json:"id"`
	Room      string          `json:"room"`
	Protocol  string          `json:"protocol"`
	StartedAt time.Time       `json:"started_at"`
	Finalized bool            `json:"finalized"`
	Tracks    int             `json:"tracks"`
	Speakers  []SpeakerReport `json:"speakers"`
	Gaps      int             `json:"gaps"`
}

// SpeakerReport is one speaker of a session; its JSON (json.go) gives times in seconds.
type SpeakerReport struct {
	Identity string
	Name     string
	Tracks   int
	// Offset is where the speaker's first audio is on the session clock; Talk how long they
	// were active.
	Offset, Talk time.Duration
	LoudnessLUFS float64
}

// Inspect measures a file or describes a session.
func Inspect(ctx context.Context, path string, prog Progress) (*Report, error) {
	if prog == nil {
		prog = NoProgress{}
	}
	if session.IsSession(path) {
		return inspectSession(ctx, path, prog)
	}
	src, err := codec.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	defer src.Close()
	info := src.Info
	f := info.Format
	r := &Report{
		Path: path, Type: "file", Format: string(info.Kind), DurationExact: info.LengthExact,
		SampleRate: f.SampleRate, Channels: f.Channels, BitrateKbps: info.BitrateKbps, VBR: info.VBR,
		Encoder: info.Encoder, EncoderDelaySamples: info.DelaySamples, PaddingSamples: info.PaddingSamples,
	}
	prog.Stage("measuring", max(info.Frames, 0), f.SampleRate)
	m := loudness.NewMeter(f)
	frames, err := measure(ctx, progressStream{src, prog}, m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err) // the source's errors name the file
	}
	r.Duration = f.Duration(frames)
	r.LoudnessLUFS = finite(m.Integrated())
	r.LoudnessRangeLU = m.Range()
	r.TruePeakDBTP = finite(m.TruePeak())
	r.SamplePeakDBFS = finite(m.SamplePeak())
	r.SilenceShare = m.SilenceShare()
	if info.Kind == codec.MP3 {
		r.Tags, r.Chapters = readTags(path)
		if r.Spacecast, err = ReadMeta(path); err != nil {
			r.SpacecastError = err.Error()
		}
	}
	return r, nil
}

func measure(ctx context.Context, s audio.Stream, m *loudness.Meter) (int64, error) {
	ch := s.Format().Channels
	buf := make([]float32, 8192*ch)
	var frames int64
	for {
		if err := ctx.Err(); err != nil {
			return frames, err
		}
		n, err := s.Read(buf)
		m.Write(buf[:n])
		frames += int64(n / ch)
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return frames, err
		}
	}
}

func readTags(path string) (map[string]string, []ChapterInfo) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	tag, _, err := id3.Read(f)
	if err != nil || tag == nil {
		return nil, nil
	}
	tags := map[string]string{}
	for k, v := range map[string]string{"title": tag.Title, "artist": tag.Artist, "album": tag.Album, "date": tag.Date, "comment": tag.Comment, "genre": tag.Genre} {
		if v != "" {
			tags[k] = v
		}
	}
	var chs []ChapterInfo
	for _, c := range tag.Chapters {
		chs = append(chs, ChapterInfo{Start: c.Start, End: c.End, Title: c.Title})
	}
	if len(tags) == 0 {
		tags = nil
	}
	return tags, chs
}

func inspectSession(ctx context.Context, path string, prog Progress) (*Report, error) {
	s, err := session.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	return InspectSession(ctx, s, prog)
}

// InspectSession describes a session opened anywhere: a folder (session.Open) or where it is
// stored (a bucket, see sessionstore.Open). The report's Path is the session's Location.
func InspectSession(ctx context.Context, s *session.Session, prog Progress) (*Report, error) {
	if prog == nil {
		prog = NoProgress{}
	}
	m := s.Manifest
	speakers, err := sessionSpeakers(s, nil)
	if err != nil {
		return nil, err
	}
	f := audio.Format{SampleRate: session.ClockRate, Channels: 1}
	stats, err := analyseSpeakers(ctx, speakers, f, prog)
	if err != nil {
		return nil, err
	}
	r := &Report{Path: s.Location(), Type: "session", Format: "session", SampleRate: session.ClockRate, Channels: 1,
		Duration: f.Duration(m.DurationTicks), DurationExact: m.Finalized}
	sr := &SessionReport{ID: m.ID, Room: m.Room.Name, Protocol: m.Room.Protocol, StartedAt: m.StartedAt,
		Finalized: m.Finalized, Tracks: len(m.Tracks), Gaps: len(m.Gaps)}
	for _, t := range m.Tracks {
		sr.Gaps += len(t.Gaps)
	}
	for i, sp := range speakers {
		n := 0
		for _, t := range m.Tracks {
			if t.Participant == sp.Identity {
				n++
			}
		}
		sr.Speakers = append(sr.Speakers, SpeakerReport{Identity: sp.Identity, Name: sp.Name, Tracks: n,
			Offset: f.Duration(sp.offset), Talk: stats[i].talk(), LoudnessLUFS: finite(stats[i].loudness)})
		if end := f.Duration(sp.offset + stats[i].frames); end > r.Duration {
			r.Duration = end
		}
	}
	r.Session = sr
	// The room as it sounded: every speaker summed as recorded, before levelling.
	prog.Stage("measuring the room", 0, 0)
	meter := loudness.NewMeter(f)
	if _, err := renderMix(ctx, speakers, make([]float64, len(speakers)), f, MixOptions{}, 0, 0,
		func(p []float32) error { meter.Write(p); return nil }, prog); err != nil {
		return nil, err
	}
	r.LoudnessLUFS = finite(meter.Integrated())
	r.LoudnessRangeLU = meter.Range()
	r.TruePeakDBTP = finite(meter.TruePeak())
	r.SamplePeakDBFS = finite(meter.SamplePeak())
	r.SilenceShare = meter.SilenceShare()
	return r, nil
}
