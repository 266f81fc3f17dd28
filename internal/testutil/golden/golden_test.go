package golden

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Assert reports instead of failing the test.
type recorder struct {
	testing.TB
	msgs []string
}

// fatal is what recorder.Fatalf panics with, to stop Assert as t.Fatalf would.
type fatal struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(fatal{})
}

// assert runs Assert on a recorder and returns what it reported.
func assert(t *testing.T, got, name string) []string {
	t.Helper()
	if Update() {
		t.Skip("golden's own tests compare with fixed files: run them without -update")
	}
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if _, ok := p.(fatal); !ok {
					panic(p)
				}
			}
		}()
		Assert(r, []byte(got), name)
	}()
	return r.msgs
}

func TestGoldenAssert(t *testing.T) {
	tests := []struct {
		why, got, name string
		want           string // a part of the one message Assert reports; "" for none
	}{
		{"output equal to a golden file written with CRLF line endings passes", "first line\nsecond line\n", "crlf", ""},
		{"output with CRLF line endings equal to the golden file passes", "first line\r\nsecond line\r\n", "crlf", ""},
		{"a changed line fails and shows the wanted and the got line", "first line\nsecond LINE\n", "crlf", "line 2"},
		{"a missing golden file fails and says to run with -update", "x", "missing", "run with -update"},
		{"output shorter than the golden file fails", "first line\n", "crlf", " - second line"},
	}
	for _, tt := range tests {
		msgs := assert(t, tt.got, tt.name)
		switch {
		case tt.want == "" && len(msgs) > 0:
			t.Errorf("%s: Assert reported %q", tt.why, msgs)
		case tt.want != "" && (len(msgs) != 1 || !strings.Contains(msgs[0], tt.want)):
			t.Errorf("%s: Assert reported %q, want one message with %q", tt.why, msgs, tt.want)
		}
	}
}

func TestGoldenDiff(t *testing.T) {
	tests := []struct {
		why, want, got string
		diff           string // the whole description Diff returns
	}{
		{"equal texts have no diff", "a\nb\n", "a\nb\n", ""},
		{"a changed line is shown with the equal lines before it",
			"1\n2\n3\n4\n5\n", "1\n2\n3\n4\nfive\n",
			"first difference at line 5 (want 6 lines, got 6):\n   2\n   3\n   4\n - 5\n + five\n"},
		{"an added last line is shown against the end of the file",
			"a", "a\nb",
			"first difference at line 2 (want 1 lines, got 2):\n   a\n - (end of file)\n + b\n"},
	}
	for _, tt := range tests {
		if d := Diff([]byte(tt.want), []byte(tt.got)); d != tt.diff {
			t.Errorf("%s: Diff returned\n%s\nwant\n%s", tt.why, d, tt.diff)
		}
	}
}
