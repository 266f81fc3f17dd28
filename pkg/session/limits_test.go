package session

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// TestValidateLimits feeds manifests whose ticks, durations and counts are out of range. Before
// the limits, each was accepted, and an anchor at tick 2^62 kept mix and inspect busy for ever.
func TestValidateLimits(t *testing.T) {
	base := func() *Manifest {
		return &Manifest{
			Format: FormatName, Version: 1, ClockRate: ClockRate, DurationTicks: 60 * ClockRate,
			Participants: []Participant{{Identity: "a", Presence: []Interval{{0, 60 * ClockRate}}}},
			Tracks: []Track{{ID: "t1", Participant: "a", File: "tracks/t1.opus", Codec: "opus", Channels: 1,
				Timeline: []Anchor{{0, 0}, {48000, 96000}}, Samples: 48000 * 50}},
			Gaps:       []Gap{{StartTicks: 48000, DurationTicks: 48000, Cause: "reconnecting"}},
			Chapters:   []Chapter{{StartTicks: 0, Title: "Intro"}},
			Soundbites: []Soundbite{{StartTicks: 48000, DurationTicks: 480000}},
			Consent:    &Consent{Policy: "assume", Events: []ConsentEvent{{Identity: "a", Type: "recording", AtTicks: 0}}},
		}
	}
	tests := []struct {
		mutate func(*Manifest)
		want   string
		why    string
	}{
		{func(m *Manifest) {}, "", "a manifest within every limit is valid"},
		{func(m *Manifest) { m.DurationTicks = MaxTicks; m.Tracks[0].Timeline[1].SessionTicks = MaxTicks }, "",
			"an anchor may sit at the very end of a 7-day session"},
		{func(m *Manifest) { m.Tracks[0].Timeline[1].SessionTicks = 1 << 62 }, `track "t1": timeline anchor 1: session_ticks is 4611686018427387904`,
			"an anchor at tick 2^62 lies past the session's duration"},
		{func(m *Manifest) { m.Tracks[0].Timeline[0].SessionTicks = 60*ClockRate + 3840 }, "",
			"a first anchor up to one pre-skip past the end is valid (a track whose only packet lies in its pre-skip)"},
		{func(m *Manifest) { m.Tracks[0].Timeline[1].SessionTicks = 60*ClockRate + 65536 }, "the session's duration_ticks plus one Opus pre-skip",
			"an anchor more than a pre-skip past the session's end is refused"},
		{func(m *Manifest) { m.Tracks[0].Timeline[0].SessionTicks = -41811 }, "",
			"a first anchor a little before tick 0 is valid (the recorder settled a burst of first packets there)"},
		{func(m *Manifest) { m.Tracks[0].Timeline[0].SessionTicks = -MaxLead - 1 }, "session_ticks is -480001",
			"an anchor more than 10 s before tick 0 is refused"},
		{func(m *Manifest) { m.Tracks[0].Timeline[1].MediaSample = math.MaxInt64 }, "media_sample",
			"an anchor at a media sample past 7 days is refused"},
		{func(m *Manifest) { m.DurationTicks = 1e18 }, "duration_ticks is 1000000000000000000",
			"a session of 1e18 ticks (660 000 years) is refused"},
		{func(m *Manifest) { m.DurationTicks = -1 }, "duration_ticks is -1", "a negative duration is refused"},
		{func(m *Manifest) { m.Tracks[0].Samples = math.MaxInt64 }, "samples", "a track claiming 2^63 samples is refused"},
		{func(m *Manifest) { m.Gaps[0].DurationTicks = math.MaxInt64 }, "gap 0: duration_ticks",
			"a gap whose end overflows int64 is refused"},
		{func(m *Manifest) {
			m.Tracks[0].Gaps = []Gap{{StartTicks: -96000, DurationTicks: 144000, Cause: "loss"}}
		}, "",
			"a track's loss gap may reach back before tick 0 (packets lost before the first one received)"},
		{func(m *Manifest) { m.Tracks[0].Gaps = []Gap{{StartTicks: math.MinInt64, DurationTicks: 10}} }, `track "t1": gap 0: start_ticks`,
			"a track's gap at -2^63 is refused"},
		{func(m *Manifest) { m.Chapters[0].StartTicks = 1 << 62 }, "chapter 0", "a chapter at tick 2^62 is refused"},
		{func(m *Manifest) { m.Soundbites[0].DurationTicks = MaxTicks }, "soundbite 0: duration_ticks",
			"a soundbite running past 7 days is refused"},
		{func(m *Manifest) { m.Consent.Events[0].AtTicks = math.MinInt64 }, "consent event 0", "a consent event at -2^63 is refused"},
		{func(m *Manifest) { m.Participants[0].Presence[0].EndTicks = math.MaxInt64 }, `participant "a": presence 0: end_ticks`,
			"a presence ending at 2^63 is refused"},
	}
	for _, tt := range tests {
		m := base()
		tt.mutate(m)
		err := m.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.why, err)
			}
			continue
		}
		var le *LimitError
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) || !errors.As(err, &le) {
			t.Errorf("%s: got %v, want a LimitError containing %q", tt.why, err, tt.want)
		}
	}
	if _, err := Parse([]byte(`{"format":"spacecast-session","version":1,"clock_rate":48000,"duration_ticks":1e18}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("a duration written as 1e18 must be refused as invalid: %v", err)
	}
}

// TestDurationTicks converts at the limits: 7 days both ways exactly, and values past what a
// time.Duration holds saturate instead of wrapping (before, Duration(MaxTicks) came out negative:
// ticks × 10^9 overflowed past 53 hours).
func TestDurationTicks(t *testing.T) {
	tests := []struct {
		ticks int64
		want  time.Duration
		why   string
	}{
		{0, 0, "zero is zero"},
		{1, 20833, "one tick is 20.833 µs, rounded down"},
		{ClockRate, time.Second, "48000 ticks are a second"},
		{-ClockRate, -time.Second, "negative ticks convert symmetrically"},
		{MaxTicks, 7 * 24 * time.Hour, "the 7-day limit converts exactly"},
		{math.MaxInt64, math.MaxInt64, "2^63−1 ticks saturate"},
		{math.MinInt64, math.MinInt64, "−2^63 ticks saturate"},
	}
	for _, tt := range tests {
		if got := Duration(tt.ticks); got != tt.want {
			t.Errorf("%s: Duration(%d) = %d, want %d", tt.why, tt.ticks, got, tt.want)
		}
	}
	for _, d := range []time.Duration{0, time.Second, 7 * 24 * time.Hour, 20833, 20834, math.MaxInt64} {
		want := int64(math.Round(d.Seconds() * ClockRate))
		if got := Ticks(d); got != want {
			t.Errorf("Ticks(%v) = %d, want %d", d, got, want)
		}
	}
	if got := Ticks(7 * 24 * time.Hour); got != MaxTicks {
		t.Errorf("Ticks(7 days) = %d, want MaxTicks %d", got, int64(MaxTicks))
	}
}
