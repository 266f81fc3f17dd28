package session

import (
	"fmt"
	"math"
	"time"
)

// MaxTicks is the longest session spacecast reads or writes: 7 days on the session clock. Every
// tick, duration and sample count in a manifest must lie within it, and every timeline anchor
// within the session's own duration_ticks (from MaxLead before tick 0 to one Opus pre-skip after
// the end, see maxPreSkip). A room runs for hours; the bound keeps tick arithmetic
// (and its conversion to time.Duration, which overflows past 53 hours of ticks × nanoseconds) far
// from int64 overflow, and keeps a forged manifest from making mix or inspect run for ever.
const MaxTicks = 7 * 24 * 60 * 60 * ClockRate

// MaxLead is how far before tick 0 a track's timeline may start: 10 s. The recorder places a
// track's first packets by their arrival and the sender's reports, and settles the first anchor
// during the first second; a burst of packets at the start, or a sender's clock running ahead,
// can put it a little before the session began. Readers play nothing before tick 0.
const MaxLead = 10 * ClockRate

// maxPreSkip is the largest Opus pre-skip (a 16-bit field, RFC 7845 §5.1). A track's first anchor
// places media sample 0, which follows the pre-skip: a track whose few packets all lie inside the
// pre-skip has that anchor up to one pre-skip past the end of its audio, and so of the session.
const maxPreSkip = 65535

// LimitError is a tick, duration or sample count in a manifest outside what a session can hold.
// It wraps ErrInvalid.
type LimitError struct {
	Field string // where it is, e.g. `track "ada-1": timeline anchor 1: session_ticks`
	Value int64
	Min   int64
	Max   int64
	// MaxName says what Max is: "7 days" (MaxTicks) or "duration_ticks" (the session's length).
	MaxName string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%v: %s is %d, outside %d to %d (%s)", ErrInvalid, e.Field, e.Value, e.Min, e.Max, e.MaxName)
}

func (e *LimitError) Unwrap() error { return ErrInvalid }

// checkTicks refuses v outside [0, hi].
func checkTicks(field string, v, hi int64, hiName string) error {
	return checkRange(field, v, 0, hi, hiName)
}

// checkRange refuses v outside [lo, hi].
func checkRange(field string, v, lo, hi int64, hiName string) error {
	if v < lo || v > hi {
		return &LimitError{Field: field, Value: v, Min: lo, Max: hi, MaxName: hiName}
	}
	return nil
}

// checkSpan refuses a stretch [start, start+dur) that begins or ends outside [0, MaxTicks].
func checkSpan(field string, start, dur int64) error {
	if err := checkTicks(field+": start_ticks", start, MaxTicks, "7 days"); err != nil {
		return err
	}
	if err := checkTicks(field+": duration_ticks", dur, MaxTicks-start, "7 days less its start"); err != nil {
		return err
	}
	return nil
}

// checkLimits checks every tick, duration and count of the manifest against MaxTicks, and the
// timeline anchors against the session's duration.
func (m *Manifest) checkLimits() error {
	if err := checkTicks("duration_ticks", m.DurationTicks, MaxTicks, "7 days"); err != nil {
		return err
	}
	for _, p := range m.Participants {
		for j, iv := range p.Presence {
			f := fmt.Sprintf("participant %q: presence %d", p.Identity, j)
			if err := checkTicks(f+": start_ticks", iv.StartTicks, MaxTicks, "7 days"); err != nil {
				return err
			}
			if err := checkTicks(f+": end_ticks", iv.EndTicks, MaxTicks, "7 days"); err != nil {
				return err
			}
		}
	}
	for _, t := range m.Tracks {
		if err := checkTicks(fmt.Sprintf("track %q: samples", t.ID), t.Samples, MaxTicks, "7 days"); err != nil {
			return err
		}
		for j, a := range t.Timeline {
			f := fmt.Sprintf("track %q: timeline anchor %d", t.ID, j)
			if err := checkTicks(f+": media_sample", a.MediaSample, MaxTicks, "7 days"); err != nil {
				return err
			}
			if err := checkRange(f+": session_ticks", a.SessionTicks, -MaxLead, m.DurationTicks+maxPreSkip, "the session's duration_ticks plus one Opus pre-skip"); err != nil {
				return err
			}
		}
		for j, g := range t.Gaps {
			// A loss gap ends where the packet after it was placed, and a loss of many packets
			// reaches back past tick 0: gaps are only counted, so only their size is bounded.
			f := fmt.Sprintf("track %q: gap %d", t.ID, j)
			if err := checkRange(f+": start_ticks", g.StartTicks, -MaxTicks, MaxTicks, "7 days either side of tick 0"); err != nil {
				return err
			}
			if err := checkTicks(f+": duration_ticks", g.DurationTicks, MaxTicks, "7 days"); err != nil {
				return err
			}
		}
	}
	for j, g := range m.Gaps {
		if err := checkSpan(fmt.Sprintf("gap %d", j), g.StartTicks, g.DurationTicks); err != nil {
			return err
		}
	}
	for j, c := range m.Chapters {
		if err := checkTicks(fmt.Sprintf("chapter %d: start_ticks", j), c.StartTicks, MaxTicks, "7 days"); err != nil {
			return err
		}
	}
	for j, s := range m.Soundbites {
		if err := checkSpan(fmt.Sprintf("soundbite %d", j), s.StartTicks, s.DurationTicks); err != nil {
			return err
		}
	}
	for j, p := range m.Parts {
		if err := checkSpan(fmt.Sprintf("part %d", j+1), p.OffsetTicks, p.DurationTicks); err != nil {
			return err
		}
	}
	if m.Consent != nil {
		for j, e := range m.Consent.Events {
			if err := checkSpan(fmt.Sprintf("consent event %d", j), e.AtTicks, e.DurationTicks); err != nil {
				return err
			}
		}
	}
	return nil
}

// Duration converts ticks of the session clock to a time.Duration, exactly to the nanosecond's
// rounding down. Ticks past what a time.Duration holds (about 292 years) saturate at its bounds
// rather than wrap; a manifest that passed Validate never comes near them.
func Duration(ticks int64) time.Duration {
	const perSecond = int64(time.Second)
	whole, frac := ticks/ClockRate, ticks%ClockRate
	if whole > math.MaxInt64/perSecond-1 {
		return math.MaxInt64
	}
	if whole < math.MinInt64/perSecond+1 {
		return math.MinInt64
	}
	return time.Duration(whole*perSecond + frac*perSecond/ClockRate)
}

// Ticks converts a time.Duration to ticks of the session clock, rounding to nearest (halves away
// from zero). It never overflows: a time.Duration is at most about 292 years.
func Ticks(d time.Duration) int64 {
	const perSecond = int64(time.Second)
	whole, frac := int64(d)/perSecond, int64(d)%perSecond
	r := (frac*ClockRate + perSecond/2) / perSecond
	if frac < 0 {
		r = (frac*ClockRate - perSecond/2) / perSecond
	}
	return whole*ClockRate + r
}
