package edit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxTime bounds parsed times: nothing spacecast edits is longer than a week, and the bound keeps
// arithmetic on sample counts far from overflow.
const maxTime = 7 * 24 * time.Hour

// ParseTime parses a time offset as users type it:
//
//	754.5         seconds
//	12:34.5       minutes and seconds
//	1:02:03.250   hours, minutes and seconds
//	1h2m3.5s      Go duration syntax (also 30s, 250ms)
//
// Negative times are rejected. Fractions are kept to the nanosecond.
func ParseTime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ErrBadTime
	}
	var d time.Duration
	var err error
	switch {
	case strings.Contains(s, ":"):
		d, err = parseClock(s)
	case strings.ContainsAny(s, "hmsuµn"):
		d, err = time.ParseDuration(s)
	default:
		d, err = parseSeconds(s)
	}
	if err != nil {
		return 0, ErrBadTime
	}
	if d < 0 || d > maxTime {
		return 0, ErrBadTime
	}
	return d, nil
}

func parseSeconds(s string) (time.Duration, error) {
	// Only plain decimal numbers: strconv.ParseFloat would also take "1e3", "0x10", "Inf" and "NaN".
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return 0, ErrBadTime
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f > maxTime.Seconds() {
		return 0, ErrBadTime
	}
	return time.Duration(math.Round(f * float64(time.Second))), nil
}

// parseClock reads [HH:]MM:SS(.fff). Minutes and seconds fields after the first are below 60.
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, ErrBadTime
	}
	sec, err := parseSeconds(parts[len(parts)-1])
	if err != nil || sec >= time.Minute || len(parts[len(parts)-1]) == 0 {
		return 0, ErrBadTime
	}
	total := sec
	unit := time.Minute
	for i := len(parts) - 2; i >= 0; i-- {
		p := parts[i]
		if p == "" || len(p) > 6 {
			return 0, ErrBadTime
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || (i > 0 && n >= 60) {
			return 0, ErrBadTime
		}
		if strings.ContainsAny(p, "+-") {
			return 0, ErrBadTime
		}
		total += time.Duration(n) * unit
		unit *= 60
	}
	return total, nil
}

// Seconds converts a count of seconds (as JSON results and metadata carry them) to a Duration,
// rounded to the nanosecond; values past what a Duration holds saturate instead of wrapping to a
// negative time, and NaN is 0. InSeconds is its inverse.
func Seconds(s float64) time.Duration {
	switch d := math.Round(s * float64(time.Second)); {
	case d != d:
		return 0
	case d >= math.MaxInt64:
		return math.MaxInt64
	case d <= math.MinInt64:
		return math.MinInt64
	default:
		return time.Duration(d)
	}
}

// InSeconds is d as a count of seconds, for JSON results and metadata: the inverse of Seconds.
// It is one division, so a whole number of microseconds gives the float nearest its decimal
// (1.118, where d.Seconds() gives 1.1179999999999999).
func InSeconds(d time.Duration) float64 { return float64(d) / float64(time.Second) }

// FormatTime renders d as HH:MM:SS.mmm (hours omitted when zero), the inverse of ParseTime to the
// millisecond. A negative d gets one leading minus sign and the fields of its magnitude; every
// time.Duration, math.MinInt64 included, prints as a well-formed time.
func FormatTime(d time.Duration) string {
	sign := ""
	mag := uint64(d) // the magnitude as unsigned, so that −math.MinInt64 does not overflow
	if d < 0 {
		sign, mag = "-", -mag
	}
	ms := (mag + uint64(time.Millisecond)/2) / uint64(time.Millisecond)
	h, ms := ms/3_600_000, ms%3_600_000
	m, ms := ms/60_000, ms%60_000
	sec, ms := ms/1000, ms%1000
	if h > 0 {
		return fmt.Sprintf("%s%d:%02d:%02d.%03d", sign, h, m, sec, ms)
	}
	return fmt.Sprintf("%s%d:%02d.%03d", sign, m, sec, ms)
}
