package studio

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/session"
)

// MetaFrame is the description of the ID3 TXXX frame that holds a file's Meta as JSON.
const MetaFrame = "spacecast"

// MetaVersion is the version of Meta this spacecast writes, and the newest it reads.
const MetaVersion = 1

// Meta is what spacecast's own MP3 files say about themselves, in one ID3 TXXX frame described
// "spacecast" (docs/session-format.md, "Metadata in spacecast's MP3 files"; the JSON gives times
// in seconds, json.go). Times are on the file's own timeline, except the time map's old side, which is the source clock: the session
// clock when the file came from a session, else the timeline of the first file the chain of edits
// started from (for a mix of files: the mix's timeline, on which FILE@OFFSET places the inputs).
type Meta struct {
	Version int          `json:"version"`
	Session *MetaSession `json:"session,omitempty"`
	// Speakers are the people whose audio was mixed into the file (see docs for clips).
	Speakers []MetaSpeaker `json:"speakers,omitempty"`
	// Chapters and Soundbites are on the file's timeline, moved by every cut.
	Chapters   []ChapterInfo   `json:"chapters,omitempty"`
	Soundbites []SoundbiteInfo `json:"soundbites,omitempty"`
	// TimeMap lists the stretches of the source clock the file plays, in file order: source
	// [OldStart, OldEnd) plays from NewStart in the file.
	TimeMap []MapEntry `json:"time_map"`
}

// MetaSession names the session a file came from.
type MetaSession struct {
	ID        string    `json:"id"`
	Room      string    `json:"room"`
	StartedAt time.Time `json:"started_at,omitzero"`
}

// MetaSpeaker is one person whose audio is in the file.
type MetaSpeaker struct {
	Identity string `json:"identity"`
	Name     string `json:"name"`
}

// maxMetaSeconds bounds every time in a Meta: nothing spacecast makes is longer than a month, and
// the bound keeps sums of times far from overflow.
const maxMetaSeconds = 31 * 24 * 3600

// soundbiteSlack is how much of a soundbite an edit may take off at its edges and still keep it
// (shortened by that much): a frame-accurate MP3 join lands up to half a frame (12 ms at 48 kHz)
// from the requested time, an exact join splits its 10 ms crossfade in the middle.
const soundbiteSlack = 25 * time.Millisecond

// ReadMeta reads the spacecast metadata of an MP3. A file without an ID3v2 tag or without the
// frame gives nil, nil; an unreadable tag or a malformed frame is an error naming the file.
func ReadMeta(path string) (*Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("studio: read metadata: %w", err)
	}
	defer f.Close()
	return readMeta(bufio.NewReader(f), path)
}

// readMeta reads the metadata from the ID3v2 tag at the start of r; name is for messages.
func readMeta(r io.Reader, name string) (*Meta, error) {
	tag, _, err := id3.Read(r)
	if errors.Is(err, id3.ErrNoTag) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("studio: read metadata: %s: %w", name, err)
	}
	v, ok := tag.Text[MetaFrame]
	if !ok {
		return nil, nil
	}
	m, err := ParseMeta([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%w (%s: ID3 TXXX %q)", err, name, MetaFrame)
	}
	return m, nil
}

// ParseMeta decodes and checks the JSON of a TXXX "spacecast" frame. Errors wrap ErrBadMeta, or
// ErrMetaVersion for a version newer than MetaVersion. Fields it does not know are ignored.
func ParseMeta(data []byte) (*Meta, error) {
	var probe struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMeta, err)
	}
	switch {
	case probe.Version == nil:
		return nil, fmt.Errorf("%w: no version", ErrBadMeta)
	case *probe.Version > MetaVersion:
		return nil, fmt.Errorf("%w: version %d (this spacecast reads up to %d: upgrade spacecast)", ErrMetaVersion, *probe.Version, MetaVersion)
	case *probe.Version < 1:
		return nil, fmt.Errorf("%w: version %d", ErrBadMeta, *probe.Version)
	}
	m := &Meta{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMeta, err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// Marshal encodes m as compact JSON for the TXXX frame, times rounded to the microsecond. It
// refuses a Meta that ParseMeta would refuse.
func (m *Meta) Marshal() ([]byte, error) {
	r := m.rounded()
	if err := r.check(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// check enforces what readers rely on: times in range, ranges not reversed, the time map in file
// order without overlaps.
func (m *Meta) check() error {
	if m.Version != MetaVersion {
		return fmt.Errorf("%w: version %d", ErrBadMeta, m.Version)
	}
	bad := func(what string, i int, format string, args ...any) error {
		return fmt.Errorf("%w: %s[%d]: %s", ErrBadMeta, what, i, fmt.Sprintf(format, args...))
	}
	for i, s := range m.Speakers {
		if s.Identity == "" {
			return bad("speakers", i, "no identity")
		}
	}
	if len(m.TimeMap) == 0 {
		return fmt.Errorf("%w: empty time_map", ErrBadMeta)
	}
	for i, e := range m.TimeMap {
		switch {
		case !inRange(e.OldStart, e.OldEnd, e.NewStart):
			return bad("time_map", i, "a time outside 0-%d s", maxMetaSeconds)
		case e.OldEnd <= e.OldStart:
			return bad("time_map", i, "old_end_seconds %g is not after old_start_seconds %g", seconds(e.OldEnd), seconds(e.OldStart))
		case i > 0 && e.NewStart < newEnd(m.TimeMap[i-1])-time.Microsecond:
			return bad("time_map", i, "new_start_seconds %g overlaps the entry before (entries are in file order)", seconds(e.NewStart))
		}
	}
	for i, c := range m.Chapters {
		switch {
		case !inRange(c.Start, c.End):
			return bad("chapters", i, "a time outside 0-%d s", maxMetaSeconds)
		case c.End < c.Start:
			return bad("chapters", i, "end_seconds %g is before start_seconds %g", seconds(c.End), seconds(c.Start))
		}
	}
	for i, s := range m.Soundbites {
		switch {
		case !inRange(s.Start, s.Duration, s.Start+s.Duration):
			return bad("soundbites", i, "a time outside 0-%d s", maxMetaSeconds)
		case s.Duration <= 0:
			return bad("soundbites", i, "duration_seconds %g is not positive", seconds(s.Duration))
		}
	}
	return nil
}

func inRange(ds ...time.Duration) bool {
	for _, d := range ds {
		if d < 0 || d > maxMetaSeconds*time.Second {
			return false
		}
	}
	return true
}

func newEnd(e MapEntry) time.Duration { return e.NewStart + e.OldEnd - e.OldStart }

// rounded is a copy of m with every time rounded to the microsecond.
func (m *Meta) rounded() *Meta {
	r := m.clone()
	for i := range r.TimeMap {
		e := &r.TimeMap[i]
		e.OldStart, e.OldEnd, e.NewStart = e.OldStart.Round(time.Microsecond), e.OldEnd.Round(time.Microsecond), e.NewStart.Round(time.Microsecond)
	}
	for i := range r.Chapters {
		c := &r.Chapters[i]
		c.Start, c.End = c.Start.Round(time.Microsecond), c.End.Round(time.Microsecond)
	}
	for i := range r.Soundbites {
		s := &r.Soundbites[i]
		s.Start, s.Duration = s.Start.Round(time.Microsecond), s.Duration.Round(time.Microsecond)
	}
	return r
}

// clone is a deep copy of m.
func (m *Meta) clone() *Meta {
	r := *m
	if m.Session != nil {
		s := *m.Session
		r.Session = &s
	}
	r.Speakers = slices.Clone(m.Speakers)
	r.Chapters = slices.Clone(m.Chapters)
	r.Soundbites = slices.Clone(m.Soundbites)
	r.TimeMap = slices.Clone(m.TimeMap)
	return &r
}

// FromSource maps t on the source clock (the session clock, for a file made from a session) to
// the file's timeline. When t was cut, it returns where the audio resumes after the cut (the
// file's end when nothing follows) and false.
func (m *Meta) FromSource(t time.Duration) (time.Duration, bool) {
	tm := m.timeMap()
	resume, found := tm.Len(), false
	for _, s := range tm.Segments {
		switch {
		case t >= s.Old.Start && t < s.Old.End:
			return s.New + t - s.Old.Start, true
		case s.Old.Start > t && (!found || s.New < resume):
			resume, found = s.New, true
		}
	}
	return resume, false
}

// Duration is the length of the file the map describes: the end of its last stretch.
func (m *Meta) Duration() time.Duration { return m.timeMap().Len() }

// timeMap is m.TimeMap as an edit.TimeMap.
func (m *Meta) timeMap() edit.TimeMap {
	var tm edit.TimeMap
	for _, e := range m.TimeMap {
		tm.Segments = append(tm.Segments, edit.Segment{Old: edit.Range{Start: e.OldStart, End: e.OldEnd}, New: e.NewStart})
	}
	return tm
}

// mapEntries turns a time map into its entries in a Meta or a TrimResult.
func mapEntries(tm edit.TimeMap) []MapEntry {
	out := make([]MapEntry, 0, len(tm.Segments))
	for _, s := range tm.Segments {
		out = append(out, MapEntry{s.Old.Start, s.Old.End, s.New})
	}
	return out
}

// composeMaps relates the source of first to the output of then: first maps source → A, then
// maps A → B (the kept stretches of an edit of A). Each stretch of then takes the parts of first
// that play in it. Stretches contiguous on both sides are merged.
func composeMaps(first, then edit.TimeMap) edit.TimeMap {
	var out edit.TimeMap
	for _, e := range then.Segments {
		for _, s := range first.Segments {
			// s plays at [s.New, s.New+len) of A; keep what e keeps of it.
			lo, hi := max(s.New, e.Old.Start), min(s.New+s.Old.Len(), e.Old.End)
			if lo >= hi {
				continue
			}
			seg := edit.Segment{
				Old: edit.Range{Start: s.Old.Start + (lo - s.New), End: s.Old.Start + (hi - s.New)},
				New: e.New + (lo - e.Old.Start),
			}
			if n := len(out.Segments); n > 0 {
				last := &out.Segments[n-1]
				if last.Old.End == seg.Old.Start && last.New+last.Old.Len() == seg.New {
					last.Old.End = seg.Old.End
					continue
				}
			}
			out.Segments = append(out.Segments, seg)
		}
	}
	return out
}

// identityMap plays [0, length) of a file onto itself.
func identityMap(length time.Duration) edit.TimeMap {
	if length <= 0 {
		return edit.TimeMap{}
	}
	return edit.TimeMap{Segments: []edit.Segment{{Old: edit.Range{Start: 0, End: length}}}}
}

// edited is the metadata of the output of an edit of m's file: e maps the file's time to the
// output's. The time map composes; chapters and soundbites move, and those cut away are dropped.
func (m *Meta) edited(e edit.TimeMap) *Meta {
	out := m.clone()
	out.Version = MetaVersion
	out.TimeMap = mapEntries(composeMaps(m.timeMap(), e))
	out.Chapters = moveChapters(m.Chapters, e)
	out.Soundbites = moveSoundbites(m.Soundbites, e)
	return out
}

// moveSoundbites maps soundbites through an edit. A soundbite survives only inside one kept
// stretch: podcast apps play start + duration, so one with a cut inside would play across the
// join. Up to soundbiteSlack may be lost at its edges (a snapped join); it is shortened by that.
func moveSoundbites(sbs []SoundbiteInfo, e edit.TimeMap) []SoundbiteInfo {
	var out []SoundbiteInfo
	for _, sb := range sbs {
		r := edit.Range{Start: sb.Start, End: sb.Start + sb.Duration}
		for _, s := range e.Segments {
			if r.Start < s.Old.Start-soundbiteSlack || r.End > s.Old.End+soundbiteSlack {
				continue
			}
			lo, hi := max(r.Start, s.Old.Start), min(r.End, s.Old.End)
			if hi-lo < r.Len()-soundbiteSlack || hi <= lo {
				continue
			}
			out = append(out, SoundbiteInfo{Start: s.New + lo - s.Old.Start, Duration: hi - lo, Title: sb.Title})
			break
		}
	}
	return out
}

// sessionMeta is the metadata of audio aligned to a session's clock from tick 0 to length: the
// session, the given speakers, the session's chapters and soundbites.
func sessionMeta(s *session.Session, speakers []MetaSpeaker, chapters []ChapterInfo, length time.Duration) *Meta {
	m := s.Manifest
	out := &Meta{
		Version:  MetaVersion,
		Session:  &MetaSession{ID: m.ID, Room: m.Room.Name, StartedAt: m.StartedAt},
		Speakers: speakers,
		Chapters: chapters,
		TimeMap:  mapEntries(identityMap(length)),
	}
	hidden := unrecordedNames(m)
	for _, sb := range m.Soundbites {
		title := sb.Title
		if names(title, hidden) {
			title = "" // it names someone who was not recorded (unrecorded.go); a soundbite's title is optional
		}
		out.Soundbites = append(out.Soundbites, SoundbiteInfo{
			Start:    session.Duration(sb.StartTicks),
			Duration: session.Duration(sb.DurationTicks),
			Title:    title,
		})
	}
	// Soundbites reaching past the audio are moved like any other: kept only when inside it.
	out.Soundbites = moveSoundbites(out.Soundbites, identityMap(length))
	return out
}

// metaTag is the ID3 tag that carries m: its chapters as CHAP/CTOC frames and m itself as JSON.
// base, when not nil, gives the other fields (title, artwork, chapters of its own that come
// first); it is not modified.
func metaTag(m *Meta, base *id3.Tag) (*id3.Tag, error) {
	js, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	t := id3.Tag{}
	if base != nil {
		t = *base
	}
	t.Chapters = append(slices.Clone(t.Chapters), id3Chapters(m.Chapters)...)
	text := make(map[string]string, len(t.Text)+1)
	for k, v := range t.Text {
		text[k] = v
	}
	text[MetaFrame] = string(js)
	t.Text = text
	return &t, nil
}
