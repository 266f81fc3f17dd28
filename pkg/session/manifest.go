package session

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// FormatName is the value of Manifest.Format.
const FormatName = "spacecast-session"

// Version is the manifest version this package writes. It reads this version and older ones.
const Version = 1

// ClockRate is the session clock's ticks per second. Opus always decodes at 48 kHz, so one tick
// is one decoded sample and track timelines map without rounding.
const ClockRate = 48000

// ManifestName is the manifest's file name inside a session folder.
const ManifestName = "manifest.json"

// TracksDir is the folder inside a session that holds the per-speaker track files.
const TracksDir = "tracks"

// Manifest is the JSON document at the root of a session folder. Times on the session clock are
// integer ticks of ClockRate (fields ending in _ticks); wall-clock times are RFC 3339 in UTC.
type Manifest struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// ID is unique per recording (a random UUID); it never changes, even when the folder is renamed.
	ID   string `json:"id"`
	Room Room   `json:"room"`
	// StartedAt is the wall-clock time of session tick 0.
	StartedAt time.Time `json:"started_at"`
	// EndedAt is set when the recording stopped; zero while it runs or after a crash.
	EndedAt time.Time `json:"ended_at,omitzero"`
	// Finalized is true once the recorder (or `spacecast recover`) closed every file cleanly.
	Finalized bool `json:"finalized"`
	// ClockRate is always 48000 in version 1.
	ClockRate int `json:"clock_rate"`
	// DurationTicks is the session's length: the end of the last track or gap.
	DurationTicks int64         `json:"duration_ticks"`
	Participants  []Participant `json:"participants"`
	Tracks        []Track       `json:"tracks"`
	// Mix is the live mix the recorder wrote while the room ran, if any.
	Mix *MixFile `json:"mix,omitempty"`
	// Gaps are stretches where the recorder itself heard nothing (reconnecting, paused).
	Gaps []Gap `json:"gaps,omitempty"`
	// Chapters and Soundbites are added by later commands (or by hand) and follow every trim.
	Chapters   []Chapter   `json:"chapters,omitempty"`
	Soundbites []Soundbite `json:"soundbites,omitempty"`
	// Meta holds free-form metadata later commands add (title, description, …).
	Meta map[string]string `json:"meta,omitempty"`

	// Consent is the consent ledger: the policy the recorder ran under and who was recorded when.
	// Absent in sessions recorded before it existed (their policy was "announced" or "assume").
	Consent *Consent `json:"consent,omitempty"`
	// DeleteAfter is when the raw session may be deleted (`record --retain`, `spacecast prune`);
	// zero means no date was set. A moderation hold (hold.json, outside the hashes) overrides it.
	DeleteAfter time.Time `json:"delete_after,omitzero"`
	// Files are the SHA-256 digests of every file of a finalized session (the manifest itself and
	// the files that hold mutable state, such as hold.json and the signature, excluded), sorted by
	// path. `spacecast verify` checks them.
	Files []FileHash `json:"files,omitempty"`
	// Parts are the parts a session recorded in parts was joined from (JoinManifests), part 1
	// first; absent for a session recorded in one piece.
	Parts []Part `json:"parts,omitempty"`
}

// Consent is the consent ledger of a session.
type Consent struct {
	// Policy is how the recorder decided whom to record: "announced" (everyone on stage, the room
	// was told by the recorder), "assume" (everyone on stage, the admin told the room another way)
	// or "opt-in" (only those who signalled consent, from that moment until they withdrew it).
	Policy string `json:"policy"`
	// Allow lists identities recorded under opt-in without a signal (--allow); Exclude lists
	// identities never recorded under any policy (--exclude).
	Allow   []string `json:"allow,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
	// Events say, in order, when each person's recording started and stopped and why, and when
	// the whole room was paused and resumed (Identity empty).
	Events []ConsentEvent `json:"events"`
}

// ConsentEvent is one entry of the consent ledger.
type ConsentEvent struct {
	// Identity is the participant; empty for an event of the whole room (paused, resumed).
	Identity string `json:"identity,omitempty"`
	// Type is one of: "consent-given", "consent-withdrawn" (the person's own signal), "recording"
	// (their audio is recorded from here), "not-recording" (it is not, from here), "excluded",
	// "paused", "resumed", "redacted". Readers must accept types they do not know.
	Type string `json:"type"`
	// AtTicks is where on the session clock it happened; Time is the wall-clock time.
	AtTicks int64     `json:"at_ticks"`
	Time    time.Time `json:"time"`
	// Reason says how it came about: for the recorder's own decisions a reason code
	// (consent_vocab.go: "policy-announced", "allow-list", "exclude-list", "no-consent", …), else
	// the words of whoever caused it: "attribute spacecast.consent=yes", "SIGUSR1", "control
	// socket", "redact --from 1:00 --to 2:00", … Earlier versions wrote flag spellings ("--allow",
	// "--exclude"): read it through ReasonCode.
	Reason string `json:"reason,omitempty"`
	// DurationTicks is set on "redacted": the stretch removed (0: the whole session).
	DurationTicks int64 `json:"duration_ticks,omitempty"`
}

// FileHash is the digest of one file of a finalized session.
type FileHash struct {
	Path   string `json:"path"` // relative to the session folder, slash-separated
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // lowercase hex
}

// Room says where the session was recorded.
type Room struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"` // "livekit", "janus", "whep", or "files" for sessions built from files
	URL      string `json:"url,omitempty"`
}

// Participant is one person in the room, whether or not they spoke.
type Participant struct {
	Identity string `json:"identity"`
	Name     string `json:"name,omitempty"`
	// Presence lists when the participant was in the room, on the session clock.
	Presence []Interval `json:"presence,omitempty"`
}

// Interval is a stretch of the session clock, [StartTicks, EndTicks).
type Interval struct {
	StartTicks int64 `json:"start_ticks"`
	EndTicks   int64 `json:"end_ticks"`
}

// Track is one Ogg Opus file holding one participant's audio as received.
type Track struct {
	ID          string `json:"id"`
	Participant string `json:"participant"` // a Participant.Identity
	File        string `json:"file"`        // relative to the session folder, slash-separated
	Codec       string `json:"codec"`       // "opus"
	Channels    int    `json:"channels"`
	// SSRCs are the RTP synchronisation sources whose packets went into this file.
	SSRCs []uint32 `json:"ssrcs,omitempty"`
	// Timeline maps the file's decoded samples (after pre-skip) to the session clock. Sample
	// MediaSample of the file plays at SessionTicks; each anchor holds until the next one. Anchors
	// are sorted by MediaSample; a jump forward in SessionTicks between anchors is a gap, a small
	// step is a clock correction. The first anchor is at MediaSample 0.
	Timeline []Anchor `json:"timeline"`
	// Gaps name the causes of stretches inside this track with no media (loss, mute, DTX is not a gap).
	Gaps []Gap `json:"gaps,omitempty"`
	// Samples is the file's decoded length once known (finalized sessions).
	Samples int64 `json:"samples,omitempty"`
}

// Anchor ties a sample of a track's file to a tick of the session clock.
type Anchor struct {
	MediaSample  int64 `json:"media_sample"`
	SessionTicks int64 `json:"session_ticks"`
}

// Gap is a stretch of the session clock with no audio and the reason why.
type Gap struct {
	StartTicks    int64  `json:"start_ticks"`
	DurationTicks int64  `json:"duration_ticks"`
	Cause         string `json:"cause"`
}

// MixFile is a mix of the whole room, aligned to session tick 0.
type MixFile struct {
	File     string `json:"file"`
	Channels int    `json:"channels"`
}

// Chapter is a titled stretch starting at StartTicks.
type Chapter struct {
	StartTicks int64  `json:"start_ticks"`
	Title      string `json:"title"`
}

// Soundbite is a stretch worth sharing (Podcasting 2.0 podcast:soundbite).
type Soundbite struct {
	StartTicks    int64  `json:"start_ticks"`
	DurationTicks int64  `json:"duration_ticks"`
	Title         string `json:"title,omitempty"`
}

// Participant returns the participant with the given identity, or nil.
func (m *Manifest) Participant(identity string) *Participant {
	for i := range m.Participants {
		if m.Participants[i].Identity == identity {
			return &m.Participants[i]
		}
	}
	return nil
}

// DisplayName is the participant's name, or their identity when they have none.
func (p *Participant) DisplayName() string {
	if p.Name != "" {
		return p.Name
	}
	return p.Identity
}

// SessionTicks maps a sample of the track's file to the session clock.
func (t *Track) SessionTicks(mediaSample int64) int64 {
	a := t.anchorFor(mediaSample)
	return a.SessionTicks + (mediaSample - a.MediaSample)
}

func (t *Track) anchorFor(mediaSample int64) Anchor {
	a := Anchor{}
	for _, x := range t.Timeline {
		if x.MediaSample > mediaSample {
			break
		}
		a = x
	}
	return a
}

// Validate checks what the rest of spacecast relies on: a known format and version, unique track
// IDs, files inside the folder, tracks owned by known participants, sorted timelines.
func (m *Manifest) Validate() error {
	if m.Format != FormatName {
		return fmt.Errorf("%w: format is %q, want %q", ErrInvalid, m.Format, FormatName)
	}
	if m.Version < 1 || m.Version > Version {
		return fmt.Errorf("%w: version %d (this spacecast reads up to %d: upgrade spacecast)", ErrVersion, m.Version, Version)
	}
	if m.ClockRate != ClockRate {
		return fmt.Errorf("%w: clock_rate is %d, want %d", ErrInvalid, m.ClockRate, ClockRate)
	}
	seen := map[string]bool{}
	for i, t := range m.Tracks {
		if t.ID == "" || seen[t.ID] {
			return fmt.Errorf("%w: track %d: missing or duplicate id %q", ErrInvalid, i, t.ID)
		}
		seen[t.ID] = true
		if err := checkRelPath(t.File); err != nil {
			return fmt.Errorf("%w: track %q: file %q: %w", ErrInvalid, t.ID, t.File, err)
		}
		if m.Participant(t.Participant) == nil {
			return fmt.Errorf("%w: track %q: participant %q is not listed in participants", ErrInvalid, t.ID, t.Participant)
		}
		if t.Codec != "opus" {
			return fmt.Errorf("%w: track %q: codec %q (version 1 holds opus only)", ErrInvalid, t.ID, t.Codec)
		}
		if len(t.Timeline) == 0 || t.Timeline[0].MediaSample != 0 {
			return fmt.Errorf("%w: track %q: timeline must start with an anchor at media_sample 0", ErrInvalid, t.ID)
		}
		for j := 1; j < len(t.Timeline); j++ {
			if t.Timeline[j].MediaSample <= t.Timeline[j-1].MediaSample {
				return fmt.Errorf("%w: track %q: timeline anchors %d and %d are not in order", ErrInvalid, t.ID, j-1, j)
			}
		}
	}
	if m.Mix != nil {
		if err := checkRelPath(m.Mix.File); err != nil {
			return fmt.Errorf("%w: mix file %q: %w", ErrInvalid, m.Mix.File, err)
		}
	}
	return m.checkLimits()
}

func checkRelPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return fmt.Errorf("must be relative to the session folder")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("must stay inside the session folder")
		}
	}
	return nil
}

// Marshal renders the manifest as indented JSON with a trailing newline.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("session: marshal manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// Parse decodes and validates a manifest.
func Parse(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}
