package session

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)

// part makes a finalized part that started at t0+start, durSec long, with a track per identity
// (none when ids is empty), each present and recorded for the whole part.
func part(id string, start time.Duration, durSec int64, ids ...string) *Manifest {
	d := durSec * ClockRate
	m := &Manifest{Format: FormatName, Version: 1, ID: id, ClockRate: ClockRate, Finalized: true,
		StartedAt: t0.Add(start), EndedAt: t0.Add(start + time.Duration(durSec)*time.Second), DurationTicks: d,
		Room:    Room{Name: "weekly", Protocol: "livekit"},
		Mix:     &MixFile{File: "mix.opus", Channels: 1},
		Consent: &Consent{Policy: "announced"},
	}
	for i, who := range ids {
		m.Participants = append(m.Participants, Participant{Identity: who, Name: "N " + who, Presence: []Interval{{0, d}}})
		tid := fmt.Sprintf("t%d", i+1)
		m.Tracks = append(m.Tracks, Track{ID: tid, Participant: who, File: "tracks/" + tid + "-" + who + ".opus", Codec: "opus",
			Channels: 1, Samples: d - ClockRate, Timeline: []Anchor{{0, ClockRate / 2}}, Gaps: []Gap{{ClockRate, 960, "loss"}}})
		m.Consent.Events = append(m.Consent.Events, ConsentEvent{Identity: who, Type: "recording", AtTicks: 0, Time: m.StartedAt, Reason: "policy-announced"})
	}
	return m
}

func TestJoinManifests(t *testing.T) {
	tests := []struct {
		why        string
		parts      []*Manifest
		wantDur    int64
		wantGaps   []Gap
		wantTracks map[string]int64 // track id → session tick of its first anchor
		wantFiles  []string
		wantPeople map[string]int // identity → presence intervals
	}{
		{
			why:        "part 2 starts 10 s after part 1 ended: its clock moves by 30 s and the outage is a failover gap",
			parts:      []*Manifest{part("a", 0, 20, "ada"), part("b", 30*time.Second, 15, "ada")},
			wantDur:    45 * ClockRate,
			wantGaps:   []Gap{{20 * ClockRate, 10 * ClockRate, GapFailover}},
			wantTracks: map[string]int64{"t1": ClockRate / 2, "p2-t1": 30*ClockRate + ClockRate/2},
			wantFiles:  []string{"tracks/t1-ada.opus", "tracks/p2-t1-ada.opus"},
			wantPeople: map[string]int{"ada": 2},
		},
		{
			why:        "overlapping clocks: part 2 started 5 s before part 1's last piece; no gap, both kept, the session ends with the later end",
			parts:      []*Manifest{part("a", 0, 20, "ada"), part("b", 15*time.Second, 3, "ada")},
			wantDur:    20 * ClockRate,
			wantGaps:   nil,
			wantTracks: map[string]int64{"t1": ClockRate / 2, "p2-t1": 15*ClockRate + ClockRate/2},
			wantFiles:  []string{"tracks/t1-ada.opus", "tracks/p2-t1-ada.opus"},
			wantPeople: map[string]int{"ada": 2},
		},
		{
			why:        "a part inside the one before it (its recorder started and stopped while the first still ran): no gap, the length is the first's",
			parts:      []*Manifest{part("a", 0, 30, "ada"), part("b", 10*time.Second, 5, "ada")},
			wantDur:    30 * ClockRate,
			wantTracks: map[string]int64{"t1": ClockRate / 2, "p2-t1": 10*ClockRate + ClockRate/2},
			wantFiles:  []string{"tracks/t1-ada.opus", "tracks/p2-t1-ada.opus"},
			wantPeople: map[string]int{"ada": 2},
		},
		{
			why:        "three parts, the third starting before the second's last piece but after the first ended: one gap, then an overlap",
			parts:      []*Manifest{part("a", 0, 10, "ada"), part("b", 15*time.Second, 10, "ada"), part("c", 22*time.Second, 10, "ada")},
			wantDur:    32 * ClockRate,
			wantGaps:   []Gap{{10 * ClockRate, 5 * ClockRate, GapFailover}},
			wantTracks: map[string]int64{"t1": ClockRate / 2, "p2-t1": 15*ClockRate + ClockRate/2, "p3-t1": 22*ClockRate + ClockRate/2},
			wantFiles:  []string{"tracks/t1-ada.opus", "tracks/p2-t1-ada.opus", "tracks/p3-t1-ada.opus"},
			wantPeople: map[string]int{"ada": 3},
		},
		{
			why:        "a participant only in part 2 joins the participants with their shifted presence",
			parts:      []*Manifest{part("a", 0, 10, "ada"), part("b", 12*time.Second, 10, "ada", "bob")},
			wantDur:    22 * ClockRate,
			wantGaps:   []Gap{{10 * ClockRate, 2 * ClockRate, GapFailover}},
			wantTracks: map[string]int64{"t1": ClockRate / 2, "p2-t1": 12*ClockRate + ClockRate/2, "p2-t2": 12*ClockRate + ClockRate/2},
			wantFiles:  []string{"tracks/t1-ada.opus", "tracks/p2-t1-ada.opus", "tracks/p2-t2-bob.opus"},
			wantPeople: map[string]int{"ada": 2, "bob": 1},
		},
		{
			why:        "a part with no tracks (the room was empty) still has its gap and its length",
			parts:      []*Manifest{part("a", 0, 10, "ada"), part("b", 14*time.Second, 6), part("c", 25*time.Second, 5, "ada")},
			wantDur:    30 * ClockRate,
			wantGaps:   []Gap{{10 * ClockRate, 4 * ClockRate, GapFailover}, {20 * ClockRate, 5 * ClockRate, GapFailover}},
			wantTracks: map[string]int64{"t1": ClockRate / 2, "p3-t1": 25*ClockRate + ClockRate/2},
			wantFiles:  []string{"tracks/t1-ada.opus", "tracks/p3-t1-ada.opus"},
			wantPeople: map[string]int{"ada": 2},
		},
		{
			why:        "one part is the session as it is, with its mix named again",
			parts:      []*Manifest{part("a", 0, 10, "ada")},
			wantDur:    10 * ClockRate,
			wantTracks: map[string]int64{"t1": ClockRate / 2},
			wantFiles:  []string{"tracks/t1-ada.opus"},
			wantPeople: map[string]int{"ada": 1},
		},
	}
	for _, tt := range tests {
		before := make([]*Manifest, len(tt.parts))
		for i, p := range tt.parts {
			before[i] = cloneManifest(p)
		}
		m, err := JoinManifests(tt.parts)
		if err != nil {
			t.Errorf("%s: %v", tt.why, err)
			continue
		}
		if !reflect.DeepEqual(before, tt.parts) {
			t.Errorf("%s: the parts were changed", tt.why)
		}
		if m.DurationTicks != tt.wantDur {
			t.Errorf("%s: duration_ticks %d, want %d", tt.why, m.DurationTicks, tt.wantDur)
		}
		if !reflect.DeepEqual(m.Gaps, tt.wantGaps) {
			t.Errorf("%s: gaps %+v, want %+v", tt.why, m.Gaps, tt.wantGaps)
		}
		var files []string
		for _, tr := range m.Tracks {
			files = append(files, tr.File)
			want, ok := tt.wantTracks[tr.ID]
			if !ok || tr.Timeline[0].SessionTicks != want {
				t.Errorf("%s: track %s starts at %d, want %d (listed: %v)", tt.why, tr.ID, tr.Timeline[0].SessionTicks, want, ok)
			}
			if tr.Gaps[0].StartTicks != tr.Timeline[0].SessionTicks+ClockRate/2 {
				t.Errorf("%s: track %s: its loss gap did not move with it: %+v", tt.why, tr.ID, tr.Gaps)
			}
		}
		if len(m.Tracks) != len(tt.wantTracks) || !reflect.DeepEqual(files, tt.wantFiles) {
			t.Errorf("%s: files %v, want %v", tt.why, files, tt.wantFiles)
		}
		for who, n := range tt.wantPeople {
			if p := m.Participant(who); p == nil || len(p.Presence) != n {
				t.Errorf("%s: %s: presence %+v, want %d intervals", tt.why, who, p, n)
			}
		}
		if len(m.Participants) != len(tt.wantPeople) {
			t.Errorf("%s: %d participants, want %d", tt.why, len(m.Participants), len(tt.wantPeople))
		}
		last := tt.parts[0]
		for _, p := range tt.parts {
			if p.EndedAt.After(last.EndedAt) {
				last = p
			}
		}
		if !m.EndedAt.Equal(last.EndedAt) || !m.Finalized || m.ID != tt.parts[0].ID || len(m.Files) != 0 {
			t.Errorf("%s: ended_at %v (want %v), finalized %v, id %q, files %d", tt.why, m.EndedAt, last.EndedAt, m.Finalized, m.ID, len(m.Files))
		}
		if m.Mix == nil || m.Mix.File != JoinedMixName {
			t.Errorf("%s: mix %+v, want %s", tt.why, m.Mix, JoinedMixName)
		}
		if len(m.Parts) != len(tt.parts) {
			t.Errorf("%s: %d parts listed, want %d", tt.why, len(m.Parts), len(tt.parts))
		}
		var events int
		for _, p := range tt.parts {
			events += len(p.Consent.Events)
		}
		if len(m.Consent.Events) != events {
			t.Errorf("%s: %d consent events, want %d", tt.why, len(m.Consent.Events), events)
		}
		for i := 1; i < len(m.Consent.Events); i++ {
			if m.Consent.Events[i].AtTicks < m.Consent.Events[i-1].AtTicks {
				t.Errorf("%s: consent events out of order: %+v", tt.why, m.Consent.Events)
			}
		}
	}
}

func TestJoinManifestsShiftsEverything(t *testing.T) {
	a, b := part("a", 0, 10, "ada"), part("b", 20*time.Second, 10, "bob")
	b.Chapters = []Chapter{{ClockRate, "two"}}
	b.Soundbites = []Soundbite{{2 * ClockRate, 15 * ClockRate, "bite"}}
	b.Gaps = []Gap{{3 * ClockRate, ClockRate, "reconnecting"}}
	b.Consent.Policy, b.Consent.Allow = "opt-in", []string{"bob"}
	b.Meta = map[string]string{"title": "not this", "extra": "x"}
	a.Meta = map[string]string{"title": "Weekly"}
	a.Mix = nil
	b.Mix.Channels = 2
	m, err := JoinManifests([]*Manifest{a, b})
	if err != nil {
		t.Fatal(err)
	}
	off := int64(20 * ClockRate)
	if m.Chapters[0].StartTicks != off+ClockRate || m.Soundbites[0].StartTicks != off+2*ClockRate {
		t.Errorf("chapters %+v, soundbites %+v: not moved by part 2's offset", m.Chapters, m.Soundbites)
	}
	want := []Gap{{10 * ClockRate, 10 * ClockRate, GapFailover}, {off + 3*ClockRate, ClockRate, "reconnecting"}}
	if !reflect.DeepEqual(m.Gaps, want) {
		t.Errorf("gaps %+v, want %+v", m.Gaps, want)
	}
	if m.Consent.Policy != "announced" || !reflect.DeepEqual(m.Consent.Allow, []string{"bob"}) {
		t.Errorf("consent %+v: want part 1's policy and the allow lists' union", m.Consent)
	}
	if m.Meta["title"] != "Weekly" || m.Meta["extra"] != "x" {
		t.Errorf("meta %v: part 1's values win, later parts add keys", m.Meta)
	}
	if m.Mix == nil || m.Mix.Channels != 2 {
		t.Errorf("mix %+v: want the first mix's channels (2) when part 1 had none", m.Mix)
	}
	if p := m.Parts[1]; p.OffsetTicks != off || p.Prefix != "p2-" || p.ID != "b" {
		t.Errorf("part 2 listed as %+v", p)
	}
}

func TestJoinManifestsRefuses(t *testing.T) {
	unfinished := part("b", 20*time.Second, 10, "ada")
	unfinished.Finalized = false
	clash := part("b", 20*time.Second, 10, "ada")
	first := part("a", 0, 10, "ada")
	first.Tracks = append(first.Tracks, first.Tracks[0])
	first.Tracks[1].ID, first.Tracks[1].File = "x", "tracks/p2-t1-ada.opus"
	tests := []struct {
		why   string
		parts []*Manifest
		want  error
	}{
		{"no parts", nil, ErrInvalid},
		{"a part not finalized (recover it first)", []*Manifest{part("a", 0, 10, "ada"), unfinished}, ErrNotFinalized},
		{"a part that started before part 1", []*Manifest{part("a", 0, 10, "ada"), part("b", -5*time.Second, 10, "ada")}, ErrInvalid},
		{"a later part's file named like one of part 1", []*Manifest{first, clash}, ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := JoinManifests(tt.parts); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.why, err, tt.want)
		}
	}
	var oe *PartOrderError
	if _, err := JoinManifests([]*Manifest{part("a", 0, 10, "ada"), part("b", -5*time.Second, 10, "ada")}); !errors.As(err, &oe) || oe.Part != 2 || oe.Before != 5*time.Second {
		t.Errorf("a part before part 1: %v, want a PartOrderError for part 2, 5s", err)
	}
}

// TestJoinManifestsValid is a property: whatever the parts (random starts, overlaps, lengths,
// speakers, empty parts), the joined manifest passes Validate, survives Marshal and Parse, lists
// every track once and covers every part.
func TestJoinManifestsValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	people := []string{"ada", "bob", "cyd", "dan"}
	for i := range 500 {
		n := 1 + rng.IntN(4)
		var parts []*Manifest
		start := time.Duration(0)
		for k := range n {
			var ids []string
			for _, p := range people {
				if rng.IntN(2) == 0 {
					ids = append(ids, p)
				}
			}
			dur := int64(1 + rng.IntN(120))
			parts = append(parts, part(fmt.Sprint(k), start, dur, ids...))
			// the next part: anywhere from 10 s before this one's end to a minute after it
			start += time.Duration(dur)*time.Second + time.Duration(rng.IntN(70)-10)*time.Second + time.Duration(rng.IntN(1000))*time.Millisecond
			start = max(start, parts[len(parts)-1].StartedAt.Sub(t0))
		}
		m, err := JoinManifests(parts)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("case %d: the joined manifest does not parse: %v", i, err)
		}
		if !reflect.DeepEqual(back.Parts, m.Parts) {
			t.Fatalf("case %d: parts changed on the way through JSON", i)
		}
		tracks := 0
		for k, p := range parts {
			tracks += len(p.Tracks)
			off := m.Parts[k].OffsetTicks
			if off+p.DurationTicks > m.DurationTicks {
				t.Fatalf("case %d: part %d ends at %d, past the session's %d", i, k+1, off+p.DurationTicks, m.DurationTicks)
			}
		}
		if len(m.Tracks) != tracks {
			t.Fatalf("case %d: %d tracks, want %d", i, len(m.Tracks), tracks)
		}
		for _, g := range m.Gaps {
			if g.Cause == GapFailover && g.DurationTicks <= 0 {
				t.Fatalf("case %d: empty failover gap %+v", i, g)
			}
		}
	}
}

func TestPartName(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{1, "panel"}, {2, "panel-part2"}, {12, "panel-part12"}} {
		if got := PartName("panel", tt.n); got != tt.want {
			t.Errorf("PartName(panel, %d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
