package session

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"time"
)

// A room whose recorder died is taken over by another recorder, which cannot write into the dead
// one's place: it records a continuation, a session of its own in a place named after the first
// (docs/session-format.md, "Sessions in parts"). JoinManifests makes the parts' manifests the
// manifest of one session again.

// GapFailover is the cause of a session-level gap between two parts of a session: the recorder
// of the part before it stopped (died, was cut off) and another one took the room over.
const GapFailover = "failover"

// PartSuffix is what a continuation's name adds to the session's: NAME-part2, NAME-part3, …
// (part 1 is NAME itself).
const PartSuffix = "-part"

// MaxParts bounds the parts of one session: NAME-part2 … NAME-part99.
const MaxParts = 99

// JoinedMixName is the joined session's live mix: made again from its tracks, the outage silent.
const JoinedMixName = "mix.joined.opus"

// PartName is the name of part n (from 1) of the session named name.
func PartName(name string, n int) string {
	if n <= 1 {
		return name
	}
	return fmt.Sprintf("%s%s%d", name, PartSuffix, n)
}

// PartFilePrefix is what part n's (n ≥ 2) track IDs and file names get in the joined session:
// "p2-", so that tracks/t1-ada.opus of part 2 is tracks/p2-t1-ada.opus and its track p2-t1.
func PartFilePrefix(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf("p%d-", n)
}

// Part says where one part of a joined session lies on its clock (Manifest.Parts).
type Part struct {
	// ID is the part's own session id (part 1's is the session's).
	ID        string    `json:"id"`
	StartedAt time.Time `json:"started_at"`
	// OffsetTicks is where the part's tick 0 is on the joined session's clock.
	OffsetTicks   int64 `json:"offset_ticks"`
	DurationTicks int64 `json:"duration_ticks"`
	// Prefix is what the part's track IDs and file names got ("" for part 1, "p2-", …).
	Prefix string `json:"prefix,omitempty"`
}

// JoinManifests makes one manifest of the manifests of a session's parts, in order (part 1
// first), each finalized: part 1's, extended with each later part, whose clock is shifted by the
// difference of the parts' StartedAt. A later part's tracks get PartFilePrefix before their ID
// and file name; its participants are merged by identity (presence appended), its consent events,
// gaps, chapters and soundbites shifted and appended; a session-level gap of cause GapFailover
// covers the stretch between the end of one part and the start of the next, when there is one
// (a part that starts before the previous one ended, a takeover while the first recorder still
// ran, has none: both recordings are kept here, and sessionstore.JoinParts, which has the files,
// cuts the earlier part's tracks where the later part begins). The parts' live mixes are not carried over: the
// joined manifest names JoinedMixName, which the caller makes from the joined tracks (nil when
// no part had a mix). The seal (Files) is left empty. The parts are not changed.
func JoinManifests(parts []*Manifest) (*Manifest, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no parts to join", ErrInvalid)
	}
	for i, p := range parts {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("part %d: %w", i+1, err)
		}
		if !p.Finalized {
			return nil, fmt.Errorf("part %d: %w", i+1, ErrNotFinalized)
		}
	}
	first := parts[0]
	out := cloneManifest(first)
	out.Files = nil
	out.Mix = nil
	out.Parts = []Part{{ID: first.ID, StartedAt: first.StartedAt, DurationTicks: first.DurationTicks}}
	files := map[string]bool{}
	for _, t := range out.Tracks {
		files[t.File] = true
	}
	mixChannels := 0
	if first.Mix != nil {
		mixChannels = first.Mix.Channels
	}
	end := first.DurationTicks // where the parts so far end on the joined clock
	for i, p := range parts[1:] {
		n := i + 2
		off := Ticks(p.StartedAt.Sub(first.StartedAt))
		if off < 0 {
			return nil, &PartOrderError{Part: n, Before: Duration(-off)}
		}
		if off+p.DurationTicks > MaxTicks {
			return nil, &LimitError{Field: fmt.Sprintf("part %d: end", n), Value: off + p.DurationTicks, Max: MaxTicks, MaxName: "7 days"}
		}
		prefix := PartFilePrefix(n)
		out.Parts = append(out.Parts, Part{ID: p.ID, StartedAt: p.StartedAt, OffsetTicks: off, DurationTicks: p.DurationTicks, Prefix: prefix})
		if off > end {
			out.Gaps = append(out.Gaps, Gap{StartTicks: end, DurationTicks: off - end, Cause: GapFailover})
		}
		for _, t := range p.Tracks {
			nt := shiftTrack(t, off)
			nt.ID = prefix + t.ID
			dir, base := path.Split(t.File)
			nt.File = dir + prefix + base
			if files[nt.File] {
				return nil, fmt.Errorf("%w: part %d: track %q: file %q is named twice", ErrInvalid, n, t.ID, nt.File)
			}
			files[nt.File] = true
			out.Tracks = append(out.Tracks, nt)
		}
		for _, pp := range p.Participants {
			pres := shiftIntervals(pp.Presence, off)
			if q := out.Participant(pp.Identity); q != nil {
				q.Presence = append(q.Presence, pres...)
				if q.Name == "" {
					q.Name = pp.Name
				}
				continue
			}
			out.Participants = append(out.Participants, Participant{Identity: pp.Identity, Name: pp.Name, Presence: pres})
		}
		for _, g := range p.Gaps {
			out.Gaps = append(out.Gaps, Gap{StartTicks: g.StartTicks + off, DurationTicks: g.DurationTicks, Cause: g.Cause})
		}
		for _, c := range p.Chapters {
			out.Chapters = append(out.Chapters, Chapter{StartTicks: c.StartTicks + off, Title: c.Title})
		}
		for _, s := range p.Soundbites {
			out.Soundbites = append(out.Soundbites, Soundbite{StartTicks: s.StartTicks + off, DurationTicks: s.DurationTicks, Title: s.Title})
		}
		out.Consent = joinConsent(out.Consent, p.Consent, off)
		for k, v := range p.Meta {
			if _, ok := out.Meta[k]; !ok {
				if out.Meta == nil {
					out.Meta = map[string]string{}
				}
				out.Meta[k] = v
			}
		}
		if out.DeleteAfter.IsZero() {
			out.DeleteAfter = p.DeleteAfter
		}
		if p.Mix != nil && mixChannels == 0 {
			mixChannels = p.Mix.Channels
		}
		end = max(end, off+p.DurationTicks)
		out.EndedAt = laterTime(out.EndedAt, p.EndedAt)
	}
	slices.SortStableFunc(out.Gaps, func(a, b Gap) int { return cmp.Compare(a.StartTicks, b.StartTicks) })
	slices.SortStableFunc(out.Chapters, func(a, b Chapter) int { return cmp.Compare(a.StartTicks, b.StartTicks) })
	if out.Consent != nil {
		slices.SortStableFunc(out.Consent.Events, func(a, b ConsentEvent) int { return cmp.Compare(a.AtTicks, b.AtTicks) })
	}
	out.DurationTicks = end
	out.Finalized = true
	if mixChannels > 0 && len(out.Tracks) > 0 {
		name := JoinedMixName
		if files[name] {
			return nil, fmt.Errorf("%w: the joined mix %q is a track's file", ErrInvalid, name)
		}
		out.Mix = &MixFile{File: name, Channels: mixChannels}
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("joined manifest: %w", err)
	}
	return out, nil
}

// PartOrderError says that a part started before part 1: the parts are not of one recording,
// or the recorders' clocks disagree by more than the outage. It wraps ErrInvalid.
type PartOrderError struct {
	Part   int
	Before time.Duration
}

func (e *PartOrderError) Error() string {
	return fmt.Sprintf("%v: part %d started %s before part 1 (parts are joined by their started_at)", ErrInvalid, e.Part, e.Before)
}

func (e *PartOrderError) Unwrap() error { return ErrInvalid }

func shiftTrack(t Track, off int64) Track {
	nt := t
	nt.SSRCs = slices.Clone(t.SSRCs)
	nt.Timeline = make([]Anchor, len(t.Timeline))
	for i, a := range t.Timeline {
		nt.Timeline[i] = Anchor{MediaSample: a.MediaSample, SessionTicks: a.SessionTicks + off}
	}
	nt.Gaps = nil
	for _, g := range t.Gaps {
		nt.Gaps = append(nt.Gaps, Gap{StartTicks: g.StartTicks + off, DurationTicks: g.DurationTicks, Cause: g.Cause})
	}
	return nt
}

func shiftIntervals(ivs []Interval, off int64) []Interval {
	out := make([]Interval, 0, len(ivs))
	for _, iv := range ivs {
		out = append(out, Interval{StartTicks: iv.StartTicks + off, EndTicks: iv.EndTicks + off})
	}
	return out
}

// joinConsent appends the ledger b, shifted by off, to a (a copy is returned; either may be nil).
func joinConsent(a, b *Consent, off int64) *Consent {
	if b == nil {
		return a
	}
	if a == nil {
		a = &Consent{Policy: b.Policy}
	}
	out := *a
	out.Allow = union(a.Allow, b.Allow)
	out.Exclude = union(a.Exclude, b.Exclude)
	out.Events = slices.Clone(a.Events)
	for _, e := range b.Events {
		e.AtTicks += off
		out.Events = append(out.Events, e)
	}
	return &out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func laterTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// cloneManifest copies m deeply enough that changing the copy's slices and maps leaves m as it is.
func cloneManifest(m *Manifest) *Manifest {
	c := *m
	c.Participants = nil
	for _, p := range m.Participants {
		p.Presence = slices.Clone(p.Presence)
		c.Participants = append(c.Participants, p)
	}
	c.Tracks = nil
	for _, t := range m.Tracks {
		c.Tracks = append(c.Tracks, shiftTrack(t, 0))
	}
	c.Gaps = slices.Clone(m.Gaps)
	c.Chapters = slices.Clone(m.Chapters)
	c.Soundbites = slices.Clone(m.Soundbites)
	c.Parts = slices.Clone(m.Parts)
	if m.Meta != nil {
		c.Meta = make(map[string]string, len(m.Meta))
		for k, v := range m.Meta {
			c.Meta[k] = v
		}
	}
	if m.Consent != nil {
		cc := *m.Consent
		cc.Allow = slices.Clone(cc.Allow)
		cc.Exclude = slices.Clone(cc.Exclude)
		cc.Events = slices.Clone(cc.Events)
		c.Consent = &cc
	}
	return &c
}
