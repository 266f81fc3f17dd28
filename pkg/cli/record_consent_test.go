package cli

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/janusserver"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/pkg/record/control"
	"github.com/spacecast/spacecast/pkg/room/livekit"
	"github.com/spacecast/spacecast/pkg/session"
)

// toneWindow is one 20 ms window of a decoded file, placed on the session clock.
type toneWindow struct {
	file   string
	at     time.Duration // session time of the window's start
	levels map[float64]float64
}

// sessionWindows decodes every Ogg Opus file of the session with opusdec and measures each
// frequency in 20 ms windows, placed on the session clock (a track by its timeline, the mix from
// tick 0). It also returns the files it found.
func sessionWindows(t *testing.T, dir string, freqs ...float64) ([]toneWindow, []string) {
	t.Helper()
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".opus") {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	var out []toneWindow
	for _, f := range files {
		var tr *session.Track
		for i := range s.Manifest.Tracks {
			if s.Manifest.Tracks[i].File == f {
				tr = &s.Manifest.Tracks[i]
			}
		}
		ch := 1
		if tr != nil {
			ch = tr.Channels
		}
		pcm := testutil.Mono(testutil.OpusdecDecode(t, filepath.Join(dir, filepath.FromSlash(f))), ch)
		for i := 0; i+960 <= len(pcm); i += 960 {
			at := int64(i)
			if tr != nil {
				at = tr.SessionTicks(int64(i))
			}
			w := toneWindow{file: f, at: session.Duration(at), levels: map[float64]float64{}}
			for _, fr := range freqs {
				w.levels[fr] = toneEnergy(pcm[i:i+960], fr)
			}
			out = append(out, w)
		}
	}
	return out, files
}

// ledger returns the consent events of the session as "identity type" strings.
func ledger(m *session.Manifest) []string {
	if m.Consent == nil {
		return nil
	}
	var out []string
	for _, e := range m.Consent.Events {
		out = append(out, strings.TrimSpace(e.Identity+" "+e.Type))
	}
	return out
}

// consentEvent is the last ledger event of identity of type typ.
func consentEvent(m *session.Manifest, identity, typ string) *session.ConsentEvent {
	var found *session.ConsentEvent
	for i, e := range m.Consent.Events {
		if e.Identity == identity && e.Type == typ {
			found = &m.Consent.Events[i]
		}
	}
	return found
}

// stopRecorder sends SIGINT, waits for exit 0 and opens the session.
func stopRecorder(t *testing.T, rc *recorder, dir string) *session.Manifest {
	t.Helper()
	rc.cmd.Process.Signal(syscall.SIGINT)
	for range rc.events {
	}
	if err := <-rc.done; err != nil {
		t.Fatalf("recorder: %v; stderr:\n%s", err, rc.stderr.String())
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Manifest.Finalized {
		t.Fatal("the session is not finalized")
	}
	return s.Manifest
}

// A tone counts as heard in a 20 ms window above heardLevel (the tones are sent at 0.3, RMS
// 0.21) and as absent below absentLevel.
const (
	heardLevel  = 0.05
	absentLevel = 0.01
)

// TestRecordConsentOptIn: --consent opt-in through a real livekit-server with two pion speakers.
// Alice sets spacecast.consent=yes after a second and removes it three seconds later; Bob never
// consents. Every file of the session is decoded: Bob's tone is nowhere (he has no file), Alice's
// only between her consent and its withdrawal, to within 100 ms of each; the ledger and the
// JSON events say so.
func TestRecordConsentOptIn(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		testutil.Require(t, "opusdec")
		testutil.Require(t, "ffmpeg")
		r := newLiveRoom(t, "optin")
		alice, _ := r.speakOn("alice", rtptone.Tone{Freq: 440, Duration: 15 * time.Second})
		r.speakOn("bob", rtptone.Tone{Freq: 1250, Duration: 15 * time.Second})
		dir := filepath.Join(t.TempDir(), "session")
		rc := startRecorder(t, r.recordArgs(dir, "--consent", "opt-in")...)
		rc.waitEvent(t, "joined", 15*time.Second)
		time.Sleep(1500 * time.Millisecond)
		given := time.Now()
		if err := alice.SetAttributes(r.ctx, map[string]string{livekit.ConsentAttribute: livekit.ConsentYes}); err != nil {
			t.Fatal(err)
		}
		rc.waitEvent(t, "consent-given", 5*time.Second)
		time.Sleep(3 * time.Second)
		withdrawn := time.Now()
		if err := alice.SetAttributes(r.ctx, map[string]string{livekit.ConsentAttribute: ""}); err != nil {
			t.Fatal(err)
		}
		rc.waitEvent(t, "consent-withdrawn", 5*time.Second)
		time.Sleep(2 * time.Second)
		m := stopRecorder(t, rc, dir)

		if m.Consent == nil || m.Consent.Policy != "opt-in" {
			t.Fatalf("consent ledger %+v, want policy opt-in", m.Consent)
		}
		for _, want := range []string{"alice consent-given", "alice recording", "alice consent-withdrawn", "alice not-recording", "bob not-recording"} {
			if !strings.Contains(strings.Join(ledger(m), ","), want) {
				t.Errorf("the ledger %v lacks %q", ledger(m), want)
			}
		}
		for _, e := range m.Consent.Events {
			if e.Identity == "bob" && e.Type == "recording" {
				t.Errorf("the ledger says bob was recorded: %+v", e)
			}
		}
		wins, files := sessionWindows(t, dir, 440, 1250)
		for _, f := range files {
			if strings.Contains(f, "bob") {
				t.Errorf("bob never consented but has a file: %s", f)
			}
		}
		start := given.Sub(m.StartedAt)
		end := withdrawn.Sub(m.StartedAt)
		var first, last time.Duration = -1, -1
		heardAlice := 0
		for _, w := range wins {
			if w.levels[1250] > absentLevel {
				t.Errorf("%s: bob's tone at %v (level %.3f)", w.file, w.at, w.levels[1250])
			}
			if w.levels[440] > absentLevel {
				if first < 0 || w.at < first {
					first = w.at
				}
				last = max(last, w.at+20*time.Millisecond)
			}
			if w.levels[440] > heardLevel {
				heardAlice++
			}
		}
		t.Logf("files %v; alice consented at %v, withdrew at %v; her tone from %v to %v in %d windows",
			files, start, end, first, last, heardAlice)
		if first < start-100*time.Millisecond || last > end+100*time.Millisecond {
			t.Errorf("alice heard from %v to %v, want only inside her consent %v–%v (±100 ms)", first, last, start, end)
		}
		if d := last - end; d < -100*time.Millisecond {
			t.Errorf("alice's audio stops %v before she withdrew", -d)
		}
		if heardAlice < 2*100 { // 3 s in her track and in the mix
			t.Errorf("alice heard in %d windows, want about 300 (her track and the mix)", heardAlice)
		}
		if e := consentEvent(m, "alice", "not-recording"); e == nil ||
			math.Abs(session.Duration(e.AtTicks).Seconds()-end.Seconds()) > 0.1 {
			t.Errorf("ledger not-recording %+v, want at %v", e, end)
		}
	})
}

// TestRecordExcludeAndPause: --exclude bob under announced; a pause by `spacecast record --pause
// DIR` (the control socket) and a resume by SIGUSR2. Bob's tone is in no file; a "paused" gap is
// in the manifest with nobody's audio inside it; a speaker in the room got "recording paused"
// and "recording resumed" announcements.
func TestRecordExcludeAndPause(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		testutil.Require(t, "opusdec")
		testutil.Require(t, "ffmpeg")
		r := newLiveRoom(t, "pause")
		alice, _ := r.speakOn("alice", rtptone.Tone{Freq: 440, Duration: 15 * time.Second})
		msgs := alice.Messages()
		r.speakOn("bob", rtptone.Tone{Freq: 1250, Duration: 15 * time.Second})
		dir := filepath.Join(t.TempDir(), "session")
		rc := startRecorder(t, r.recordArgs(dir, "--exclude", "bob", "--exclude", "carol")...)
		// Two seconds of alice before the pause, counted from her track, not from the join:
		// LiveKit forwards a track only once the recorder's subscription is negotiated (up to a
		// second after the join on a loaded machine, when 298 of the 300 windows were heard).
		rc.waitSpeaker(t, "speaker-joined", "alice", 15*time.Second)
		time.Sleep(2 * time.Second)

		out := mustRun(t, "record", "--pause", dir)
		if !strings.Contains(out, "recording paused") {
			t.Errorf("record --pause answered %q", out)
		}
		rc.waitEvent(t, "paused", 5*time.Second)
		if _, _, code := run(t, "record", "--pause", dir); code != ExitFailure {
			t.Errorf("a second --pause: exit %d, want %d (already paused)", code, ExitFailure)
		}
		time.Sleep(2 * time.Second)
		rc.cmd.Process.Signal(syscall.SIGUSR2)
		rc.waitEvent(t, "resumed", 5*time.Second)
		time.Sleep(2 * time.Second)

		got := map[string]bool{}
		deadline := time.After(5 * time.Second)
	read:
		for !got["recording-paused"] || !got["recording-resumed"] {
			select {
			case msg := <-msgs:
				var a livekit.Announcement
				if msg.Topic == livekit.AnnounceTopic && json.Unmarshal(msg.Payload, &a) == nil {
					got[a.Type] = true
				}
			case <-deadline:
				break read
			}
		}
		if !got["recording-paused"] || !got["recording-resumed"] {
			t.Errorf("announcements heard in the room: %v, want recording-paused and recording-resumed", got)
		}
		m := stopRecorder(t, rc, dir)
		if _, err := os.Stat(filepath.Join(dir, control.FileName)); err == nil {
			t.Errorf("%s left behind after the recorder stopped", control.FileName)
		}

		var gap *session.Gap
		for i, g := range m.Gaps {
			if g.Cause == "paused" {
				gap = &m.Gaps[i]
			}
		}
		if gap == nil || math.Abs(session.Duration(gap.DurationTicks).Seconds()-2) > 0.3 {
			t.Fatalf("session gaps %+v, want one paused of about 2 s", m.Gaps)
		}
		from, to := session.Duration(gap.StartTicks), session.Duration(gap.StartTicks+gap.DurationTicks)
		wins, files := sessionWindows(t, dir, 440, 1250)
		heard := 0
		for _, w := range wins {
			if w.levels[1250] > absentLevel {
				t.Errorf("%s: bob's tone (excluded) at %v (level %.3f)", w.file, w.at, w.levels[1250])
			}
			if w.levels[440] > absentLevel && w.at >= from+40*time.Millisecond && w.at+20*time.Millisecond <= to-40*time.Millisecond {
				t.Errorf("%s: alice's tone at %v inside the pause %v–%v", w.file, w.at, from, to)
			}
			if w.levels[440] > heardLevel {
				heard++
			}
		}
		if heard < 300 {
			t.Errorf("alice heard in %d windows outside the pause, want about 400", heard)
		}
		for _, f := range files {
			if strings.Contains(f, "bob") {
				t.Errorf("bob, excluded, has a file: %s", f)
			}
		}
		l := strings.Join(ledger(m), ",")
		for _, want := range []string{"alice recording", "bob excluded", "paused", "resumed"} {
			if !strings.Contains(l, want) {
				t.Errorf("the ledger %v lacks %q", l, want)
			}
		}
		if e := consentEvent(m, "", "paused"); e == nil || e.Reason != "control socket" {
			t.Errorf("paused event %+v, want reason control socket", e)
		}
		if e := consentEvent(m, "", "resumed"); e == nil || e.Reason != "SIGUSR2" {
			t.Errorf("resumed event %+v, want reason SIGUSR2", e)
		}
	})
}

// TestRecordConsentAudioBridgeRefused: where the server mixes (Janus AudioBridge) opt-in and
// --exclude refuse to start, with exit 2 and a message that says why, whether the plugin was
// named or found; nothing is left behind.
func TestRecordConsentAudioBridgeRefused(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		bin := spacecastBinary(t) // built before anyone speaks (see newLiveRoom)
		j := janusserver.Start(t, ns)
		alice := janusserver.NewSpeaker(t, ns, j.URL, janusserver.AudioBridge, janusserver.AudioBridgeID, "Alice", 440)
		alice.Publish()
		for _, c := range []struct {
			name  string
			extra []string
		}{
			{"opt-in with the plugin named", []string{"--consent", "opt-in", "--janus-plugin", "audiobridge"}},
			{"opt-in with the plugin found in the room", []string{"--consent", "opt-in"}},
			{"--exclude with the plugin found in the room", []string{"--exclude", "Alice"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "session")
				cmd := exec.Command(bin, append(janusArgs(j, ns, janusserver.AudioBridgeID, dir, "--duration", "3s"), c.extra...)...)
				out, err := cmd.CombinedOutput()
				code := cmd.ProcessState.ExitCode()
				if err != nil && code < 0 {
					t.Fatal(err)
				}
				t.Logf("exit %d: %s", code, strings.TrimSpace(string(out)))
				if code != ExitUsage {
					t.Errorf("exit %d, want %d", code, ExitUsage)
				}
				for _, w := range []string{"AudioBridge", "mixes"} {
					if !strings.Contains(string(out), w) {
						t.Errorf("the output does not say %q", w)
					}
				}
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("left %s behind", dir)
				}
			})
		}
	})
}

// TestRecordConsentFlags: consent flags that cannot work are refused before joining anything.
func TestRecordConsentFlags(t *testing.T) {
	noRecorder := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an unknown policy is a usage error", []string{"record", "ws://127.0.0.1:1", "--room", "x", "--consent", "optin"}, ExitUsage, "opt-in"},
		{"--allow without opt-in means nothing and is refused", []string{"record", "ws://127.0.0.1:1", "--room", "x", "--allow", "ann"}, ExitUsage, "--consent opt-in"},
		{"opt-in over WHEP (no participant list) is refused", []string{"record", "http://127.0.0.1:1/whep", "--consent", "opt-in"}, ExitUsage, "WHEP"},
		{"--pause needs the session folder", []string{"record", "--pause"}, ExitUsage, "DIR"},
		{"--pause and --resume together are refused", []string{"record", "--pause", "--resume", noRecorder}, ExitUsage, "one"},
		{"--pause on a folder no recorder writes says so", []string{"record", "--pause", noRecorder}, ExitBadInput, "no recorder is running"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, stderr, c.code, c.want)
			}
		})
	}
}
