package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/pkg/session"
)

// TestRecordDiskFull: the binary records three speakers of a real LiveKit room onto a 256 KiB
// tmpfs until it fills. It stops by itself with exit status 1 and an error that names the full
// disk (ENOSPC), the session folder and what to do; the session left behind opens, `inspect`
// reads it and says it is not finalized, and every track it names decodes with opusdec, holding
// its speaker's tone for at least the length the manifest states. Once the disk has room again,
// `recover` finishes the session as the message says.
func TestRecordDiskFull(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		testutil.Require(t, "opusdec")
		spacecastBinary(t)
		r := newLiveRoom(t, "full")
		freq := map[string]float64{"ann": 440, "ben": 660, "cat": 880}
		for id, f := range freq {
			r.speak(id, rtptone.Tone{Freq: f, Duration: 100 * time.Second})
		}
		full := netns.DiskFull(t, 256)
		dir := filepath.Join(full, "session")
		rc := startRecorder(t, r.recordArgs(dir)...)
		rc.waitEvent(t, "joined", 15*time.Second)
		summary, code := rc.finish(t, 90*time.Second)
		stderr := rc.stderr.String()
		t.Logf("exit %d; summary %v; stderr:\n%s", code, summary, stderr)
		if code != ExitFailure {
			t.Errorf("exit %d, want %d (ExitFailure: an I/O error such as a full disk)", code, ExitFailure)
		}
		if summary == nil || summary["reason"] != "failed" || !strings.Contains(summary["error"].(string), "no space left on device") {
			t.Errorf("summary %v, want reason failed and the ENOSPC error", summary)
		}
		for _, want := range []string{"the disk is full", "no space left on device", dir, "Free space", "spacecast recover " + dir} {
			if !strings.Contains(stderr, want) {
				t.Errorf("the error does not say %q", want)
			}
		}
		elapsed, _ := summary["duration"].(float64)

		s, err := session.Open(dir)
		if err != nil {
			t.Fatalf("the session left by a full disk does not open: %v", err)
		}
		m := s.Manifest
		if m.Finalized || len(m.Tracks) != 3 {
			t.Fatalf("manifest: finalized %v, %d tracks; want 3 tracks, not finalized", m.Finalized, len(m.Tracks))
		}
		out, errOut, code := run(t, "inspect", dir)
		if code != 0 || !strings.Contains(out, "NOT finalized") {
			t.Errorf("inspect: exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		// Each track decodes, holds its tone, and keeps all but at most the last 2 s before the
		// failure; the manifest names no sample the file lacks.
		judge := func(s *session.Session, when string) {
			t.Helper()
			for _, tr := range s.Manifest.Tracks {
				x := testutil.Mono(testutil.OpusdecDecode(t, s.Path(tr.File)), tr.Channels)
				got := float64(len(x)) / 48000
				joined := session.Duration(tr.Timeline[0].SessionTicks).Seconds()
				last := tr.Timeline[len(tr.Timeline)-1].MediaSample
				t.Logf("%s: %s (%s) decodes to %.2f s from %.2f s on; the recorder stopped at %.2f s; samples %d, last anchor at sample %d",
					when, tr.File, tr.Participant, got, joined, elapsed, tr.Samples, last)
				if got < elapsed-joined-2 {
					t.Errorf("%s: %s decodes to %.2f s, more than 2 s short of the %.2f s recorded", when, tr.File, got, elapsed-joined)
				}
				if int64(len(x)) < last || int64(len(x)) < tr.Samples-960 {
					t.Errorf("%s: %s decodes to %d samples, the manifest names sample %d (samples %d)", when, tr.File, len(x), last, tr.Samples)
				}
				if p := toneEnergy(x, freq[tr.Participant]); p < 0.1 {
					t.Errorf("%s: %s's track holds RMS %.3f at %.0f Hz", when, tr.Participant, p, freq[tr.Participant])
				}
			}
		}
		judge(s, "on the full disk")

		// recover on the disk that is still full must not damage the session.
		_, errOut, code = run(t, "recover", dir)
		t.Logf("recover on the full disk: exit %d: %s", code, strings.TrimSpace(errOut))
		if _, err := session.Open(dir); err != nil {
			t.Fatalf("the session does not open after recover on a full disk: %v", err)
		}

		// The problem fixed (the tmpfs grown to 4 MiB), recover finishes the session in place.
		if err := syscall.Mount("spacecast-full", full, "tmpfs", syscall.MS_REMOUNT|syscall.MS_NOSUID|syscall.MS_NODEV, "size=4096k"); err != nil {
			t.Fatalf("grow the tmpfs: %v", err)
		}
		mustRun(t, "recover", dir)
		s, err = session.Open(dir)
		if err != nil || !s.Manifest.Finalized || len(s.Manifest.Tracks) != 3 {
			t.Fatalf("after recover: %v, finalized %v", err, err == nil && s.Manifest.Finalized)
		}
		judge(s, "recovered")
	})
}
