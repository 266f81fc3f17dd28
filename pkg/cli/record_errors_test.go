package cli

import (
	"errors"
	"testing"

	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/record/control"
)

// TestRecordErrors: the error table (TestErrorTable has record's cases) also words the warnings
// a recording prints and goes on through, and the summary's "error" of a failed seal says the
// recording is complete.
func TestRecordErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"a failed start announcement names the recorder as the room sees it",
			&record.AnnounceError{What: record.AnnounceStarted, Text: "x", Name: "⏺ REC test", Err: errors.New("boom")},
			`could not announce the recording in the room: boom (the recorder is still visible as "⏺ REC test")`},
		{"a control socket that cannot open says what still reaches the recorder",
			&control.ListenError{Socket: "/run/x.sock", Err: errors.New("boom")},
			"record: control socket /run/x.sock: boom; --pause/--resume will not reach this recorder (SIGUSR1/SIGUSR2 still do)"},
	} {
		if got := warning("record")(c.err); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	if got := summaryError(&record.SealError{Dir: "s", Err: errors.New("boom")}); got != "seal: boom (the recording is complete; 'spacecast recover s' seals it)" {
		t.Errorf("the summary's error for a failed seal: %q", got)
	}
	if got := summaryError(&record.LostError{Dir: "s", Err: errors.New("gone")}); got != "gone" {
		t.Errorf("the summary's error for a lost room: %q", got)
	}
}
