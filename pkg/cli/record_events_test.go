package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/pkg/capture"
)

// TestEventLinesArePrintable: names and causes come from the room; an escape sequence in a
// speaker's display name is printed as visible escapes (safetext.Term), never sent to the terminal.
func TestEventLinesArePrintable(t *testing.T) {
	var out bytes.Buffer
	p := newRecordPrinter(&globalOptions{stdout: &out, stderr: &out, isTerminal: true})
	p.Event(capture.Event{Type: capture.EventSpeakerJoined, Identity: "mallory", Name: "Mal\x1b[2J\x1b]0;owned\x07", Track: "t1"})
	p.Event(capture.Event{Type: capture.EventReconnecting, Cause: "server said \x1b[31mbye"})
	got := out.String()
	// The printer's own erase of the status line is the only escape allowed, once per line.
	if n, want := strings.Count(got, "\x1b"), strings.Count(got, "\r\x1b[K"); n != want {
		t.Errorf("event lines carry %d escape characters, %d of them the printer's own:\n%q", n, want, got)
	}
	if !strings.Contains(got, `Mal\x1b[2J\x1b]0;owned\x07 (mallory) started speaking`) {
		t.Errorf("the name is not shown with its control characters replaced:\n%q", got)
	}
}
