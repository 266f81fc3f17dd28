package capture

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// remapTimeline gives track t the timeline of its recovered file: the file lost the audio of
// sr.drops, so every sample after a drop is moved back to where it played, by an anchor, and the
// lost stretch becomes a gap with cause GapDamaged. It returns the damage as placed on the
// session clock.
func remapTimeline(t *session.Track, sr *streamRecovery) []Damage {
	var out []Damage
	if len(sr.drops) == 0 {
		return out
	}
	orig := session.Track{Timeline: slices.Clone(t.Timeline)}
	type span struct{ at, start, end int64 } // new media sample; lost [start, end) in old media samples
	var spans []span
	var cum int64
	for _, d := range sr.drops {
		at := d.at - sr.preSkip
		spans = append(spans, span{at, at + cum, at + cum + d.samples})
		cum += d.samples
		dm := Damage{Offset: d.offset, Bytes: d.bytes, Pages: d.pages}
		if d.samples > 0 {
			s0 := orig.SessionTicks(max(0, at+cum-d.samples))
			s1 := orig.SessionTicks(max(0, at+cum))
			if at+cum-d.samples < 0 { // lost audio in the pre-skip
				s0 = orig.SessionTicks(0) + (at + cum - d.samples)
			}
			dm.StartTicks, dm.DurationTicks = s0, max(0, s1-s0)
			if dm.DurationTicks > 0 {
				t.Gaps = append(t.Gaps, session.Gap{StartTicks: s0, DurationTicks: dm.DurationTicks, Cause: GapDamaged})
			}
		}
		out = append(out, dm)
	}
	// newToOld maps a media sample of the recovered file to the old file's.
	newToOld := func(x int64) int64 {
		var sh int64
		for _, s := range spans {
			if s.at <= x {
				sh += s.end - s.start
			}
		}
		return x + sh
	}
	cands := []int64{0}
	for _, s := range spans {
		cands = append(cands, max(0, s.at))
	}
	for _, a := range orig.Timeline {
		x, lost := a.MediaSample, false
		for _, s := range spans {
			switch {
			case s.end > s.start && a.MediaSample >= s.start && a.MediaSample < s.end:
				lost = true
			case a.MediaSample >= s.end:
				x -= s.end - s.start
			}
		}
		if !lost {
			cands = append(cands, max(0, x))
		}
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	var tl []session.Anchor
	for _, x := range cands {
		at := orig.SessionTicks(newToOld(x))
		if n := len(tl); n > 0 && tl[n-1].SessionTicks+(x-tl[n-1].MediaSample) == at {
			continue // on the line of the anchor before: not needed
		}
		tl = append(tl, session.Anchor{MediaSample: x, SessionTicks: at})
	}
	t.Timeline = tl
	slices.SortStableFunc(t.Gaps, func(a, b session.Gap) int {
		switch {
		case a.StartTicks < b.StartTicks:
			return -1
		case a.StartTicks > b.StartTicks:
			return 1
		}
		return 0
	})
	return out
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// checkLength refuses a recovered stream whose granule positions its packets and bytes cannot
// explain (a forged file: damage is skipped by the scan, but a page with a good checksum and an
// absurd position is not damage). The recovered stream, the file's own bytes when nothing was
// rewritten, is clean from its first page to its last, so the whole of it is checked; the
// recorder's files start at granule position 0.
func (sr *streamRecovery) checkLength(path string, orig []byte) error {
	b := sr.out
	if b == nil {
		b = orig
	}
	size := int64(len(b))
	if err := ogg.CheckGranules(bytes.NewReader(b), size); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := ogg.CheckSpan(0, 0, sr.granule, size); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
