package studio

import (
	"time"

	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/session"
)

// chaptersFor makes the chapters of a multi-speaker mix, in output seconds. A session's own
// chapters (added by hand or by earlier commands) win; otherwise each stretch led by one speaker,
// no shorter than minChapter, becomes a chapter titled with the speaker's name.
func chaptersFor(sess *session.Session, speakers []*speaker, stats []speakerStats, f audio.Format, minChapter time.Duration, cuts []audio.Cut, total int64) []ChapterInfo {
	type mark struct {
		at    int64 // mix frames
		title string
	}
	var marks []mark
	switch {
	case sess != nil && len(sess.Manifest.Chapters) > 0:
		// A title naming someone who was not recorded is replaced (unrecorded.go).
		hidden := unrecordedNames(sess.Manifest)
		for i, c := range sess.Manifest.Chapters {
			title := c.Title
			if names(title, hidden) {
				title = neutralChapterTitle(i + 1)
			}
			marks = append(marks, mark{c.StartTicks * int64(f.SampleRate) / session.ClockRate, safetext.Publish(title)})
		}
	case len(speakers) > 1 && minChapter > 0:
		for _, seg := range leaderSegments(speakers, stats, f, total, minChapter) {
			// A display name is what the room said: players show chapter titles, so only its
			// printable part becomes one (safetext.Publish).
			title := safetext.Publish(speakers[seg.leader].Name)
			if title == "" {
				title = safetext.Publish(speakers[seg.leader].Identity)
			}
			marks = append(marks, mark{seg.start, title})
		}
	}
	if len(marks) == 0 {
		return nil
	}
	end := afterCuts(total, cuts)
	var out []ChapterInfo
	for i, m := range marks {
		start := afterCuts(m.at, cuts)
		stop := end
		if i+1 < len(marks) {
			stop = afterCuts(marks[i+1].at, cuts)
		}
		if stop <= start {
			continue
		}
		out = append(out, ChapterInfo{Start: f.Duration(start), End: f.Duration(stop), Title: m.title})
	}
	return out
}

// afterCuts maps a mix frame to the output after silence cuts (sorted, in mix frames).
func afterCuts(at int64, cuts []audio.Cut) int64 {
	out := at
	for _, c := range cuts {
		switch {
		case c.End <= at:
			out -= c.End - c.Start
		case c.Start < at:
			out -= at - c.Start
		}
	}
	return out
}

type segment struct {
	start, end int64 // mix frames
	leader     int   // speaker index
}

// leaderSegments finds who leads each stretch: per second, the speaker with the most speech in a
// ten-second window around it; runs of one leader are merged until none is shorter than minLen.
func leaderSegments(speakers []*speaker, stats []speakerStats, f audio.Format, total int64, minLen time.Duration) []segment {
	seconds := int((total + int64(f.SampleRate) - 1) / int64(f.SampleRate))
	if seconds == 0 {
		return nil
	}
	// activity[s][sec]: blocks of speech of speaker s in second sec of the mix.
	activity := make([][]int, len(speakers))
	for i, sp := range speakers {
		activity[i] = make([]int, seconds+1)
		blockOffset := sp.offset * 10 / int64(f.SampleRate)
		for b := range stats[i].steps {
			if stats[i].speaking(b) {
				if sec := (int64(b) + blockOffset) / 10; sec < int64(len(activity[i])) {
					activity[i][sec]++
				}
			}
		}
	}
	const half = 5 // seconds each side
	leader := make([]int, seconds)
	prev := -1
	for sec := 0; sec < seconds; sec++ {
		best, bestScore := prev, 0
		for i := range speakers {
			score := 0
			for k := max(0, sec-half); k <= min(seconds-1, sec+half); k++ {
				score += activity[i][k]
			}
			if score > bestScore || (score == bestScore && i == prev && score > 0) {
				best, bestScore = i, score
			}
		}
		if best < 0 {
			best = 0
		}
		leader[sec], prev = best, best
	}
	var segs []segment
	for sec := 0; sec < seconds; sec++ {
		if n := len(segs); n > 0 && segs[n-1].leader == leader[sec] {
			segs[n-1].end = int64(sec+1) * int64(f.SampleRate)
			continue
		}
		segs = append(segs, segment{int64(sec) * int64(f.SampleRate), int64(sec+1) * int64(f.SampleRate), leader[sec]})
	}
	segs[len(segs)-1].end = total
	minFrames := f.Frames(minLen)
	for len(segs) > 1 {
		shortest := 0
		for i, s := range segs {
			if s.end-s.start < segs[shortest].end-segs[shortest].start {
				shortest = i
			}
		}
		s := segs[shortest]
		if s.end-s.start >= minFrames {
			break
		}
		// Fold the short stretch into its longer neighbour.
		into := shortest - 1
		if into < 0 || (shortest+1 < len(segs) && segs[shortest+1].end-segs[shortest+1].start > segs[into].end-segs[into].start) {
			into = shortest + 1
		}
		if into < shortest {
			segs[into].end = s.end
		} else {
			segs[into].start = s.start
		}
		segs = append(segs[:shortest], segs[shortest+1:]...)
		// Neighbours led by the same speaker become one.
		merged := segs[:1]
		for _, x := range segs[1:] {
			if last := &merged[len(merged)-1]; last.leader == x.leader {
				last.end = x.end
				continue
			}
			merged = append(merged, x)
		}
		segs = merged
	}
	return segs
}
