package cli

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/record/control"
	"github.com/spacecast/spacecast/pkg/room"
)

// TestRecordErrors: what pkg/record returns becomes the message naming the flag and the exit
// status, in one place.
func TestRecordErrors(t *testing.T) {
	o := &recordOptions{name: "⏺ REC test", stopWhenEmpty: 2 * time.Minute}
	diskFull := fmt.Errorf("track t1: write: %w\ntrack t2: write: no space", syscall.ENOSPC)
	cases := []struct {
		name string
		err  error
		code int
		want string
	}{
		{"an unknown protocol names --protocol", &record.ProtocolError{Name: "sip"}, ExitUsage,
			`record: --protocol "sip": want livekit, janus or whep`},
		{"a URL without a host is not repeated", record.ErrURLNoHost, ExitUsage,
			"record: the room URL does not parse as a URL with a host (want ws://, wss://, http:// or https://HOST/…)"},
		{"a scheme of no room suggests --protocol", &record.SchemeError{URL: "ftp://x", Scheme: "ftp"}, ExitUsage,
			`record: "ftp://x": scheme "ftp" is not a room URL; pass --protocol if the URL is right`},
		{"a LiveKit room without a name names --room", &record.JoinError{Protocol: "livekit", Err: record.ErrNoRoomName}, ExitUsage,
			"record: bad room URL: LiveKit needs --room (and --api-key/--api-secret, or --token)"},
		{"refused credentials keep the recorder out of the room", &record.JoinError{Protocol: "livekit", Err: fmt.Errorf("livekit: %w", room.ErrAuth)}, ExitRoom,
			"record: livekit: the server refused the credentials"},
		{"any other join failure says so", &record.JoinError{Protocol: "janus", Err: errors.New("janus: odd")}, ExitRoom,
			"record: could not join: janus: odd"},
		{"a mixed room refuses --exclude", record.ErrServerMixes, ExitUsage,
			"record: --exclude cannot be honoured in a Janus AudioBridge room"},
		{"a folder that filled meanwhile is bad input", fmt.Errorf("record: s: %w", capture.ErrExists), ExitBadInput,
			"record: s: session folder exists and is not empty"},
		{"a full disk says what to free and how to finish", &record.FinalizeError{Dir: "s", Elapsed: 90500 * time.Millisecond, Err: diskFull}, ExitFailure,
			"record: the disk is full: track t1: write: no space left on device\n  The recording stopped after 1m30s; everything up to the last sync (every second) is in s.\n" +
				"  Free space on that disk (or move the folder to a disk with room), then run 'spacecast recover s' to finish the session."},
		{"another finalize failure points to recover", &record.FinalizeError{Dir: "s", Err: errors.New("mix: boom")}, ExitFailure,
			"record: stopped: mix: boom; everything up to the last sync is in s ('spacecast recover s' finishes it once the problem is fixed)"},
		{"a failed seal says the recording is complete", &record.SealError{Dir: "s", Err: errors.New("boom")}, ExitFailure,
			"record: stopped: seal: boom (the recording is complete; 'spacecast recover s' seals it); everything up to the last sync is in s " +
				"('spacecast recover s' finishes it once the problem is fixed)"},
		{"a lost room is exit 4 with the session finalized", &record.LostError{Dir: "s", Err: fmt.Errorf("whep: %w", room.ErrLost)}, ExitRoom,
			"record: whep: lost the connection to the room and could not reconnect in time; the session in s is finalized up to then"},
		{"a failed start announcement names the recorder", &record.AnnounceError{What: record.AnnounceStarted, Text: "x", Err: errors.New("boom")}, ExitFailure,
			`could not announce the recording in the room: boom (the recorder is still visible as "⏺ REC test")`},
		{"a failed pause announcement says what", &record.AnnounceError{What: record.AnnouncePaused, Text: "⏸ recording paused", Err: errors.New("boom")}, ExitFailure,
			`could not tell the room "⏸ recording paused": boom`},
		{"a control socket that cannot open names --pause/--resume", &control.ListenError{Socket: "/run/x.sock", Err: errors.New("boom")}, ExitFailure,
			"record: control socket /run/x.sock: boom; --pause/--resume will not reach this recorder (SIGUSR1/SIGUSR2 still do)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := recordErrors(c.err, o)
			if got := err.Error(); len(got) < len(c.want) || got[:len(c.want)] != c.want {
				t.Errorf("message\n got %q\nwant %q", got, c.want)
			}
			if got := ExitCode(err); got != c.code {
				t.Errorf("exit %d, want %d", got, c.code)
			}
		})
	}
	if recordErrors(nil, o) != nil {
		t.Error("no error became one")
	}
	if got := summaryError(&record.SealError{Dir: "s", Err: errors.New("boom")}); got != "seal: boom (the recording is complete; 'spacecast recover s' seals it)" {
		t.Errorf("the summary's error for a failed seal: %q", got)
	}
}
