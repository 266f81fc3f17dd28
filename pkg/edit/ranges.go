package edit

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Range is a half-open stretch of a timeline, [Start, End).
type Range struct {
	Start, End time.Duration
}

// Len is the range's duration.
func (r Range) Len() time.Duration { return r.End - r.Start }

func (r Range) String() string { return FormatTime(r.Start) + "-" + FormatTime(r.End) }

// ParseRange parses START-END (each as ParseTime accepts) or START+DURATION.
func ParseRange(s string) (Range, error) {
	s = strings.TrimSpace(s)
	sep := "-"
	i := strings.Index(s, "-")
	if j := strings.Index(s, "+"); j >= 0 && (i < 0 || j < i) {
		i, sep = j, "+"
	}
	if i <= 0 || i == len(s)-1 {
		return Range{}, ErrBadRange
	}
	start, err := ParseTime(s[:i])
	if err != nil {
		return Range{}, fmt.Errorf("%w: start %q: %w", ErrBadRange, s[:i], err)
	}
	second, err := ParseTime(s[i+1:])
	if err != nil {
		return Range{}, fmt.Errorf("%w: %q: %w", ErrBadRange, s[i+1:], err)
	}
	r := Range{Start: start, End: second}
	if sep == "+" {
		r.End = start + second
	}
	if r.End <= r.Start {
		return Range{}, fmt.Errorf("%w: end %s is not after start %s", ErrBadRange, FormatTime(r.End), FormatTime(r.Start))
	}
	return r, nil
}

// Normalize sorts ranges by start and reports an error naming the first pair that overlaps.
// Touching ranges (one's End equal to the next's Start) are merged. It does not modify its argument.
func Normalize(rs []Range) ([]Range, error) {
	out := append([]Range(nil), rs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 {
			prev := &merged[n-1]
			if r.Start < prev.End {
				return nil, fmt.Errorf("%w: %s and %s", ErrOverlap, prev, r)
			}
			if r.Start == prev.End {
				prev.End = r.End
				continue
			}
		}
		merged = append(merged, r)
	}
	return merged, nil
}

// Complement returns the parts of [0, total) not covered by cuts, which must be normalized.
// Cuts reaching past total are clipped to it.
func Complement(cuts []Range, total time.Duration) []Range {
	var keep []Range
	at := time.Duration(0)
	for _, c := range cuts {
		if c.Start >= total {
			break
		}
		if c.Start > at {
			keep = append(keep, Range{at, c.Start})
		}
		if c.End > at {
			at = c.End
		}
	}
	if at < total {
		keep = append(keep, Range{at, total})
	}
	return keep
}
