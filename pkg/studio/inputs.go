package studio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/audio/resample"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/session"
)

// speaker is one voice of a mix: a participant of a session, or one input file. It can be opened
// once per pass over the audio.
type speaker struct {
	Name     string
	Identity string
	// offset is where the speaker's stream starts on the mix timeline, in frames at the mix rate.
	offset int64
	// native is the format the speaker decodes to before conversion to the mix format.
	native audio.Format
	open   func() (audio.Stream, io.Closer, error)
}

// openAt opens the speaker converted to the mix format f.
func (s *speaker) openAt(f audio.Format) (audio.Stream, io.Closer, error) {
	st, c, err := s.open()
	if err != nil {
		return nil, nil, err
	}
	if st.Format().Channels != f.Channels {
		if st, err = audio.Remix(st, f.Channels); err != nil {
			return nil, nil, errors.Join(err, c.Close())
		}
	}
	if st.Format().SampleRate != f.SampleRate {
		if st, err = resample.New(st, f.SampleRate); err != nil {
			return nil, nil, errors.Join(err, c.Close())
		}
	}
	return st, c, nil
}

// closers closes several things, joining their errors.
type closers []io.Closer

// Close closes in reverse order, so what was opened last (a reader of what came before) goes first.
func (cs closers) Close() error {
	var err error
	for i := len(cs) - 1; i >= 0; i-- {
		err = errors.Join(err, cs[i].Close())
	}
	return err
}

// InputPath is the file or folder an input argument of Mix names: the argument itself, or FILE of
// "FILE@OFFSET".
func InputPath(arg string) string {
	p, _, err := splitOffset(arg)
	if err != nil {
		return arg
	}
	return p
}

// splitOffset splits "FILE@OFFSET". A path that exists as typed is never split, so files whose
// names contain '@' still work.
func splitOffset(arg string) (string, time.Duration, error) {
	i := strings.LastIndex(arg, "@")
	if i < 0 {
		return arg, 0, nil
	}
	if _, err := os.Stat(arg); err == nil {
		return arg, 0, nil
	}
	off, err := edit.ParseTime(arg[i+1:])
	if err != nil {
		return "", 0, fmt.Errorf("%w: %s: offset %q: %w", ErrBadInput, arg, arg[i+1:], err)
	}
	return arg[:i], off, nil
}

// sessionSpeakers turns a session's participants into speakers at 48 kHz.
func sessionSpeakers(s *session.Session, exclude []string) ([]*speaker, error) {
	m := s.Manifest
	var out []*speaker
	for i := range m.Participants {
		p := &m.Participants[i]
		if slices.Contains(exclude, p.Identity) || slices.Contains(exclude, p.Name) {
			continue
		}
		var tracks []*session.Track
		channels := 1
		for j := range m.Tracks {
			if t := &m.Tracks[j]; t.Participant == p.Identity {
				tracks = append(tracks, t)
				channels = max(channels, t.Channels)
			}
		}
		if len(tracks) == 0 {
			continue // a listener
		}
		start := tracks[0].Timeline[0].SessionTicks
		for _, t := range tracks {
			start = min(start, t.Timeline[0].SessionTicks)
		}
		// What a track holds from before tick 0 (session.MaxLead at most) is not played: the
		// session, and so the mix, begins at tick 0.
		lead := max(0, -start)
		f := audio.Format{SampleRate: session.ClockRate, Channels: channels}
		out = append(out, &speaker{
			Name: p.DisplayName(), Identity: p.Identity, offset: start + lead, native: f,
			open: func() (audio.Stream, io.Closer, error) {
				mix := audio.NewMixer(f)
				var cs closers
				for _, t := range tracks {
					ts, err := s.OpenTrack(t)
					if err != nil {
						return nil, nil, errors.Join(fmt.Errorf("%w: %w", ErrBadInput, err), cs.Close())
					}
					cs = append(cs, ts)
					var st audio.Stream = ts
					if ts.Format().Channels != channels {
						if st, err = audio.Remix(ts, channels); err != nil {
							return nil, nil, errors.Join(err, cs.Close())
						}
					}
					if err := mix.Add(st, ts.Start()-start, 0); err != nil {
						return nil, nil, errors.Join(err, cs.Close())
					}
				}
				if lead > 0 {
					if err := audio.Skip(mix, lead); err != nil {
						return nil, nil, errors.Join(err, cs.Close())
					}
					if n, ok := audio.Length(mix); ok {
						return &afterLead{mix, max(0, n-lead)}, cs, nil
					}
				}
				return mix, cs, nil
			},
		})
	}
	return out, nil
}

// fileSpeaker makes a speaker of one audio file, named by the file's base name.
func fileSpeaker(arg string) (*speaker, time.Duration, error) {
	path, off, err := splitOffset(arg)
	if err != nil {
		return nil, 0, err
	}
	src, err := codec.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	native := src.Format()
	if err := src.Close(); err != nil {
		return nil, 0, err
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return &speaker{
		Name: name, Identity: name, native: native,
		open: func() (audio.Stream, io.Closer, error) {
			src, err := codec.Open(path)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %w", ErrBadInput, err)
			}
			return src, src, nil
		},
	}, off, nil
}

// mixRate picks the mix's sample rate: the highest input rate an MP3 can carry (48 kHz at most).
func mixRate(speakers []*speaker) int {
	rate := 0
	for _, s := range speakers {
		rate = max(rate, s.native.SampleRate)
	}
	for _, r := range []int{48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000} {
		if rate >= r {
			return r
		}
	}
	return 8000
}

// afterLead is a stream whose first frames were skipped, with its remaining length.
type afterLead struct {
	audio.Stream
	frames int64
}

func (a *afterLead) Len() int64 { return a.frames }
