package edit

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
		why  string
	}{
		{"754.5", 754*time.Second + 500*time.Millisecond, true, "plain seconds with a fraction"},
		{"0", 0, true, "zero is a time"},
		{"12:34.5", 12*time.Minute + 34500*time.Millisecond, true, "minutes and seconds"},
		{"1:02:03.250", time.Hour + 2*time.Minute + 3250*time.Millisecond, true, "hours, minutes, seconds, millis"},
		{"90:00", 90 * time.Minute, true, "the leading field may exceed 59"},
		{"1h2m3s", time.Hour + 2*time.Minute + 3*time.Second, true, "Go duration syntax"},
		{"250ms", 250 * time.Millisecond, true, "Go duration in milliseconds"},
		{" 30 ", 30 * time.Second, true, "surrounding space is ignored"},
		{"1:99", 0, false, "seconds field of 99 is not a time"},
		{"1:60:00", 0, false, "a minutes field of 60 after hours is not a time"},
		{"-5", 0, false, "negative seconds are rejected"},
		{"-1s", 0, false, "negative durations are rejected"},
		{"1e3", 0, false, "exponents are not accepted"},
		{"NaN", 0, false, "NaN is not a time"},
		{"", 0, false, "empty is not a time"},
		{"1:2:3:4", 0, false, "four fields are too many"},
		{"abc", 0, false, "words are not times"},
		{"1:", 0, false, "a trailing colon leaves no seconds"},
		{"1000000000", 0, false, "times beyond a week are refused"},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("%s: ParseTime(%q) = %v, %v; want %v", tt.why, tt.in, got, err, tt.want)
		}
		if !tt.ok && err == nil {
			t.Errorf("%s: ParseTime(%q) = %v, want an error", tt.why, tt.in, got)
		}
	}
}

func TestFormatTimeRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, 999 * time.Millisecond, 61500 * time.Millisecond, 2*time.Hour + 3*time.Millisecond} {
		got, err := ParseTime(FormatTime(d))
		if err != nil || got != d {
			t.Errorf("ParseTime(FormatTime(%v)) = %v, %v (formatted %q)", d, got, err, FormatTime(d))
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		want Range
		ok   bool
		why  string
	}{
		{"0-30", Range{0, 30 * time.Second}, true, "seconds to seconds"},
		{"1:00-1:30.5", Range{time.Minute, 90500 * time.Millisecond}, true, "clock times"},
		{"1m+15s", Range{time.Minute, 75 * time.Second}, true, "start plus duration"},
		{"30-10", Range{}, false, "an end before the start is refused"},
		{"10-10", Range{}, false, "an empty range is refused"},
		{"-10", Range{}, false, "a missing start is refused"},
		{"10-", Range{}, false, "a missing end is refused"},
		{"a-b", Range{}, false, "words are refused"},
	}
	for _, tt := range tests {
		got, err := ParseRange(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("%s: ParseRange(%q) = %v, %v; want %v", tt.why, tt.in, got, err, tt.want)
		}
		if !tt.ok && err == nil {
			t.Errorf("%s: ParseRange(%q) = %v, want an error", tt.why, tt.in, got)
		}
	}
}

func TestNormalize(t *testing.T) {
	s := time.Second
	got, err := Normalize([]Range{{20 * s, 30 * s}, {0, 5 * s}, {5 * s, 10 * s}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Range{{0, 10 * s}, {20 * s, 30 * s}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("touching ranges merge and sort: got %v, want %v", got, want)
	}
	if _, err := Normalize([]Range{{0, 10 * s}, {5 * s, 15 * s}}); !errors.Is(err, ErrOverlap) {
		t.Errorf("overlapping cuts must be refused, got %v", err)
	}
}

func TestTimeMap(t *testing.T) {
	s := time.Second
	keep := Complement([]Range{{0, 10 * s}, {20 * s, 25 * s}}, 60*s)
	if len(keep) != 2 || keep[0] != (Range{10 * s, 20 * s}) || keep[1] != (Range{25 * s, 60 * s}) {
		t.Fatalf("Complement = %v", keep)
	}
	m := KeepMap(keep)
	if m.Len() != 45*s {
		t.Errorf("output length = %v, want 45s", m.Len())
	}
	tests := []struct {
		in   time.Duration
		want time.Duration
		kept bool
		why  string
	}{
		{5 * s, 0, false, "a time in the leading cut lands at the start"},
		{10 * s, 0, true, "the first kept sample lands at zero"},
		{15 * s, 5 * s, true, "inside the first kept part"},
		{22 * s, 10 * s, false, "a time in the middle cut lands where audio resumes"},
		{30 * s, 15 * s, true, "inside the second kept part"},
		{70 * s, 45 * s, false, "past the end lands at the end"},
	}
	for _, tt := range tests {
		got, kept := m.Map(tt.in)
		if got != tt.want || kept != tt.kept {
			t.Errorf("%s: Map(%v) = %v, %v; want %v, %v", tt.why, tt.in, got, kept, tt.want, tt.kept)
		}
	}
	if r, ok := m.MapRange(Range{30 * s, 45 * s}); !ok || r != (Range{15 * s, 30 * s}) {
		t.Errorf("a soundbite in a kept part moves with the cut: got %v %v", r, ok)
	}
	if _, ok := m.MapRange(Range{2 * s, 8 * s}); ok {
		t.Errorf("a soundbite wholly inside a cut must not survive")
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"754.5", "1:02:03.250", "1h2m3s", "12:34", "-1", "1e9", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTime(s)
		if err != nil {
			return
		}
		if d < 0 || d > maxTime {
			t.Fatalf("ParseTime(%q) = %v out of bounds", s, d)
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"0-30", "1:00-1:30.5", "1m+15s", "30-10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err == nil && r.End <= r.Start {
			t.Fatalf("ParseRange(%q) = %v: end not after start", s, r)
		}
	})
}

// TestFormatTime prints well-formed times for every duration: before, math.MinInt64 (what an
// overflowing length conversion gives) printed as "--47:-16.-855".
func TestFormatTime(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
		why  string
	}{
		{0, "0:00.000", "zero has minutes and seconds"},
		{1499 * time.Microsecond, "0:00.001", "below half a millisecond rounds down"},
		{1500 * time.Microsecond, "0:00.002", "half a millisecond rounds up"},
		{59999500 * time.Microsecond, "1:00.000", "rounding carries into the minutes"},
		{time.Hour + 2*time.Minute + 3*time.Second + 4*time.Millisecond, "1:02:03.004", "hours appear when there are any"},
		{7 * 24 * time.Hour, "168:00:00.000", "a week is 168 hours"},
		{-61500 * time.Millisecond, "-1:01.500", "a negative time has one minus sign and positive fields"},
		{math.MaxInt64, "2562047:47:16.855", "the longest duration prints whole"},
		{math.MinInt64, "-2562047:47:16.855", "the most negative duration prints with one minus sign, not --47:-16.-855"},
	}
	for _, tt := range tests {
		if got := FormatTime(tt.d); got != tt.want {
			t.Errorf("%s: FormatTime(%d) = %q, want %q", tt.why, int64(tt.d), got, tt.want)
		}
	}
}

// TestSeconds: results' seconds become Durations rounded to the nanosecond, saturating where a
// Duration ends instead of wrapping to a negative time.
func TestSeconds(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want time.Duration
		why  string
	}{
		{1.5, 1500 * time.Millisecond, "a plain value"},
		{0.1 + 0.2, 300 * time.Millisecond, "float noise rounds away"},
		{-2.25, -2250 * time.Millisecond, "negative times stay negative"},
		{1e18, math.MaxInt64, "too long for a Duration saturates"},
		{-1e18, math.MinInt64, "too negative saturates"},
		{math.Inf(1), math.MaxInt64, "infinity saturates"},
		{math.NaN(), 0, "NaN is no time"},
	} {
		if got := Seconds(c.in); got != c.want {
			t.Errorf("%s: Seconds(%v) = %v, want %v", c.why, c.in, got, c.want)
		}
	}
}

func TestInSeconds(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want string
		why  string
	}{
		{1118 * time.Millisecond, "1.118", "whole milliseconds print as written (d.Seconds() gives 1.1179999999999999)"},
		{29922271 * time.Microsecond, "29.922271", "whole microseconds too: the metadata's times"},
		{109653895833, "109.653895833", "nanoseconds are kept"},
		{-2250 * time.Millisecond, "-2.25", "negative times stay negative"},
		{0, "0", "zero"},
	} {
		got := InSeconds(c.in)
		if s := strconv.FormatFloat(got, 'f', -1, 64); s != c.want {
			t.Errorf("%s: InSeconds(%v) = %s, want %s", c.why, c.in, s, c.want)
		}
		if back := Seconds(got); back != c.in {
			t.Errorf("%s: Seconds(InSeconds(%v)) = %v", c.why, c.in, back)
		}
	}
}
