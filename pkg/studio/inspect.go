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

// Report is what inspect finds. JSON keys are stable and documented in docs/inspect.md.
type Report struct {
	Path            string  `json:"path"`
	Type            string  `json:"type"`   // "file" or "session"
	Format          string  `json:"format"` // "mp3", "wav", "opus"; "session" for sessions
	DurationSeconds float64 `json:"duration_seconds"`
	// DurationExact is false for an MP3 without a LAME/Xing tag, whose encoder delay is unknown.
	DurationExact bool   `json:"duration_exact"`
	SampleRate    int    `json:"sample_rate"`
	Channels      int    `json:"channels"`
	BitrateKbps   int    `json:"bitrate_kbps,omitempty"`
	VBR           bool   `json:"vbr,omitempty"`
	Encoder       string `json:"encoder,omitempty"`
	// EncoderDelaySamples and PaddingSamples are what a gapless decoder trims (MP3: the LAME tag;
	// Opus: pre-skip).
	EncoderDelaySamples int `json:"encoder_delay_samples"`
	PaddingSamples      int `json:"padding_samples"`

	LoudnessLUFS    float64 `json:"loudness_lufs"`
	LoudnessRangeLU float64 `json:"loudness_range_lu"`
	TruePeakDBTP    float64 `json:"true_peak_dbtp"`
	SamplePeakDBFS  float64 `json:"sample_peak_dbfs"`
	// SilenceShare is the share of 400 ms blocks quieter than -60 LUFS, from 0 to 1.
	SilenceShare float64 `json:"silence_share"`

	Tags     map[string]string `json:"tags,omitempty"`
	Chapters []ChapterInfo     `json:"chapters,omitempty"`
	Session  *SessionReport    `json:"session,omitempty"`
	// Spacecast is the metadata a spacecast MP3 carries (see ReadMeta); SpacecastError says why
	// a file's TXXX "spacecast" frame could not be read.
	Spacecast      *Meta  `json:"spacecast,omitempty"`
	SpacecastError string `json:"spacecast_error,omitempty"`
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

// SpeakerReport is one speaker of a session.
type SpeakerReport struct {
	Identity      string  `json:"identity"`
	Name          string  `json:"name"`
	Tracks        int     `json:"tracks"`
	OffsetSeconds float64 `json:"offset_seconds"`
	TalkSeconds   float64 `json:"talk_seconds"`
	LoudnessLUFS  float64 `json:"loudness_lufs"`
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
	r.DurationSeconds = f.Seconds(frames)
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
		chs = append(chs, ChapterInfo{StartSeconds: c.Start.Seconds(), EndSeconds: c.End.Seconds(), Title: c.Title})
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
	r := &Report{Path: path, Type: "session", Format: "session", SampleRate: session.ClockRate, Channels: 1,
		DurationSeconds: f.Seconds(m.DurationTicks), DurationExact: m.Finalized}
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
			OffsetSeconds: f.Seconds(sp.offset), TalkSeconds: stats[i].talkSeconds(), LoudnessLUFS: finite(stats[i].loudness)})
		if end := f.Seconds(sp.offset + stats[i].frames); end > r.DurationSeconds {
			r.DurationSeconds = end
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
