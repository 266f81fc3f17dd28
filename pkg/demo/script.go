// Package demo is the in-process demo room of `spacecast demo`: a WHEP endpoint on 127.0.0.1 where
// the bundled demo session's speakers talk live, at real time, as Opus RTP. Three speakers take
// overlapping turns, one joins late, one leaves and comes back, and the host mutes for a while.
// The room reports what it played, and when, so a recording of it can be checked against it.
package demo

import (
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/spacecast/spacecast/pkg/session"
)

// Stint is a stretch one speaker talks without a pause in the RTP stream: a part of one of the
// session's track files, played from At after the room starts.
type Stint struct {
	Speaker string // identity: the msid stream id of the speaker's track
	Name    string
	File    string        // path of the Ogg Opus file in the session folder
	At      time.Duration // when the stint starts, from the start of the room
	// FromSample is the file's media sample (after pre-skip) where the stint starts; Samples how
	// many it plays (48 kHz).
	FromSample, Samples int64
}

// Duration is how long the stint plays.
func (s Stint) Duration() time.Duration { return session.Duration(s.Samples) }

// Speaker is a person in the demo room.
type Speaker struct {
	Identity, Name string
}

// Script reads the session's manifest and lays its tracks out as stints: every timeline anchor
// starts one (a mute, a second publication of the same person). A length shorter than the session
// shortens the room: every stint starts proportionally earlier and plays the first part of its
// audio (which still plays at real speed), so joins, leaves and overlaps keep their order.
func Script(sess fs.FS, length time.Duration) (stints []Stint, speakers []Speaker, total time.Duration, err error) {
	b, err := fs.ReadFile(sess, "manifest.json")
	if err != nil {
		return nil, nil, 0, fmt.Errorf("demo: the demo session: %w", err)
	}
	m, err := session.Parse(b)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("demo: the demo session's manifest.json: %w", err)
	}
	total = session.Duration(m.DurationTicks)
	if total <= 0 {
		return nil, nil, 0, fmt.Errorf("demo: the demo session's manifest.json has no duration")
	}
	scale := 1.0
	if length > 0 && length < total {
		scale = float64(length) / float64(total)
		total = length
	}
	for _, p := range m.Participants {
		speakers = append(speakers, Speaker{Identity: p.Identity, Name: p.DisplayName()})
	}
	for _, tr := range m.Tracks {
		p := m.Participant(tr.Participant)
		if p == nil {
			return nil, nil, 0, fmt.Errorf("demo: track %s belongs to nobody", tr.ID)
		}
		for i, a := range tr.Timeline {
			end := tr.Samples
			if i+1 < len(tr.Timeline) {
				end = tr.Timeline[i+1].MediaSample
			}
			if end <= a.MediaSample {
				continue
			}
			stints = append(stints, Stint{
				Speaker: p.Identity, Name: p.DisplayName(), File: tr.File,
				At:         time.Duration(float64(session.Duration(a.SessionTicks)) * scale),
				FromSample: a.MediaSample,
				Samples:    int64(float64(end-a.MediaSample) * scale),
			})
		}
	}
	if len(stints) == 0 {
		return nil, nil, 0, fmt.Errorf("demo: the demo session has no audio")
	}
	slices.SortStableFunc(stints, func(a, b Stint) int { return int(a.At - b.At) })
	return stints, speakers, total, nil
}
