package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/pkg/session"
)

// TestRecordRetainAndSign: `record --retain 2w --sign-key K` writes delete_after two weeks after
// the start and seals the session at the end with a signature `verify --key K.pub` accepts; a
// --retain that is not a duration is a usage error naming the forms.
func TestRecordRetainAndSign(t *testing.T) {
	if _, errOut, code := run(t, "record", "ws://127.0.0.1:1", "--room", "x", "--retain", "a month", "-o", t.TempDir()+"/s"); code != 2 || !strings.Contains(errOut, "30d") {
		t.Errorf("bad --retain: exit %d: %s", code, errOut)
	}
	key := filepath.Join(t.TempDir(), "k")
	mustRun(t, "keygen", "-o", key)
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		r := newLiveRoom(t, "wire")
		r.speak("alice", rtptone.Tone{Freq: 440, Duration: 8 * time.Second})
		dir := filepath.Join(t.TempDir(), "session")
		rc := startRecorder(t, r.recordArgs(dir, "--retain", "2w", "--sign-key", key)...)
		rc.waitEvent(t, "joined", 15*time.Second)
		rc.waitEvent(t, "speaker-joined", 10*time.Second)
		time.Sleep(3 * time.Second)
		rc.cmd.Process.Signal(syscall.SIGINT)
		for range rc.events {
		}
		if err := <-rc.done; err != nil {
			t.Fatalf("record: %v\n%s", err, rc.stderr.String())
		}
		s, err := session.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Manifest.DeleteAfter.Sub(s.Manifest.StartedAt); got != 14*24*time.Hour {
			t.Errorf("delete_after - started_at = %v", got)
		}
		out := mustRun(t, "verify", dir, "--key", key+".pub")
		if !strings.Contains(out, "signature: valid") {
			t.Errorf("verify does not find the signature valid:\n%s", out)
		}
		if len(s.Manifest.Files) == 0 {
			t.Errorf("the finalized session was not sealed: no file digests in the manifest")
		}
	})
}
