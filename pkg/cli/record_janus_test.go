package cli

import (
	"context"
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
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/janus"
	"github.com/spacecast/spacecast/pkg/session"
)

// The Janus tests run the real binary on the server side of the namespace, beside the pion
// speakers, with its ICE held to that veth (--interface); Janus itself is on the client side.

// janusArgs are the arguments that record the Janus room roomID into dir.
func janusArgs(j *janusserver.Server, ns *netns.NS, roomID, dir string, extra ...string) []string {
	return append([]string{"record", j.URL, "--room", roomID, "--interface", ns.ServerIface, "-o", dir, "--json"}, extra...)
}

// speakerNames reads events until n speaker-joined events have come and returns their names. A
// warning that the room could not be told of the recording is an error.
func (rc *recorder) speakerNames(t *testing.T, n int, timeout time.Duration) []string {
	t.Helper()
	var names []string
	deadline := time.After(timeout)
	for len(names) < n {
		select {
		case e, ok := <-rc.events:
			if !ok {
				t.Fatalf("recorder exited before %d speakers joined; stderr:\n%s", n, rc.stderr.String())
			}
			if msg, _ := e["message"].(string); e["type"] == "error" && strings.Contains(msg, "announce") {
				t.Errorf("record warned: %s", msg)
			}
			if e["type"] == "speaker-joined" {
				name, _ := e["name"].(string)
				names = append(names, name)
			}
		case <-deadline:
			t.Fatalf("%d of %d speakers joined within %v", len(names), n, timeout)
		}
	}
	return names
}

// stopJanusRecorder sends SIGINT and checks the recorder finalized the session with exit 0.
func stopJanusRecorder(t *testing.T, rc *recorder, dir string) *session.Session {
	t.Helper()
	rc.cmd.Process.Signal(syscall.SIGINT)
	summary, code := rc.finish(t, 20*time.Second)
	if code != ExitOK {
		t.Fatalf("record exited %d after SIGINT; stderr:\n%s", code, rc.stderr.String())
	}
	if summary == nil || summary["reason"] != "interrupted" || summary["error"] != nil {
		t.Errorf("summary %v, want reason interrupted and no error", summary)
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Manifest
	if !m.Finalized || m.Room.Protocol != "janus" || !strings.HasPrefix(m.Room.URL, "http://") {
		t.Errorf("manifest: finalized %v, room %+v; want a finalized janus session", m.Finalized, m.Room)
	}
	return s
}

// participantNamed finds a participant by display name.
func participantNamed(m *session.Manifest, name string) *session.Participant {
	for i := range m.Participants {
		if m.Participants[i].Name == name {
			return &m.Participants[i]
		}
	}
	return nil
}

// TestRecordJanusVideoRoom: `spacecast record` joins a VideoRoom on a real Janus where Alice
// (440 Hz) and Bob (1250 Hz) publish, shows itself to the room under its REC name, and on SIGINT
// finalizes a session with one track per publisher: each holding their own tone, where and as long
// as they sent it, and none of the other's (opusdec on the session clock, ffmpeg over the whole
// file); the live mix holds Alice alone, then both.
func TestRecordJanusVideoRoom(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		testutil.Require(t, "ffmpeg")
		testutil.Require(t, "opusdec")
		spacecastBinary(t) // built before anyone speaks (see newLiveRoom)
		j := janusserver.Start(t, ns)
		alice := janusserver.NewSpeaker(t, ns, j.URL, janusserver.VideoRoom, janusserver.VideoRoomID, "Alice", 440)
		bob := janusserver.NewSpeaker(t, ns, j.URL, janusserver.VideoRoom, janusserver.VideoRoomID, "Bob", 1250)
		alice.Publish()
		bob.Publish()

		dir := filepath.Join(t.TempDir(), "session")
		rc := startRecorder(t, janusArgs(j, ns, janusserver.VideoRoomID, dir)...)
		rc.waitEvent(t, "joined", 15*time.Second)
		names := rc.speakerNames(t, 2, 10*time.Second)
		t.Logf("speakers joined: %v", names)

		// The room lists the recorder under its REC display name, as a publisher (of its announcements'
		// data channel only).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		data, err := alice.Request(ctx, map[string]any{"request": "listparticipants", "room": 2001})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Participants []struct {
				Display   string `json:"display"`
				Publisher bool   `json:"publisher"`
			} `json:"participants"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			t.Fatal(err)
		}
		seen := false
		for _, p := range list.Participants {
			seen = seen || (p.Display == room.DefaultIdentity.Name && p.Publisher)
		}
		if !seen {
			t.Errorf("the room's participants %+v do not show the recorder as %q", list.Participants, room.DefaultIdentity.Name)
		}

		// A participant subscribed to the recorder's data channel is told when the recording stops.
		listener := janusserver.NewListener(t, ns, j.URL, janusserver.VideoRoomID, room.DefaultIdentity.Name)

		const say = 2 * time.Second
		time.Sleep(300 * time.Millisecond)
		aliceOn := alice.Say(say)
		time.Sleep(time.Second)
		bobOn := bob.Say(say)
		time.Sleep(say + 500*time.Millisecond)
		s := stopJanusRecorder(t, rc, dir)
		m := s.Manifest
		// The line, then its JSON (the start announcement's JSON, repeated every 5 s, may come first).
		var told []string
		stopped := false
		for !stopped {
			select {
			case msg := <-listener.Messages:
				told = append(told, msg)
				stopped = msg == "⏹ recording stopped"
				continue
			case <-time.After(2 * time.Second):
			}
			break
		}
		t.Logf("the listener was told %q", told)
		if !stopped {
			t.Errorf("the room's listener was told %q, not \"⏹ recording stopped\"", told)
		}
		if m.Room.Name != janusserver.VideoRoomID {
			t.Errorf("room name %q, want %q", m.Room.Name, janusserver.VideoRoomID)
		}
		if len(m.Tracks) != 2 {
			t.Fatalf("%d tracks, want one per publisher: %+v", len(m.Tracks), m.Tracks)
		}
		type who struct {
			freq, other float64
			on          time.Time
		}
		want := map[string]who{"Alice": {440, 1250, aliceOn}, "Bob": {1250, 440, bobOn}}
		seenNames := map[string]bool{}
		for _, tr := range m.Tracks {
			p := m.Participant(tr.Participant)
			if p == nil {
				t.Fatalf("track %s: participant %q is not in the manifest", tr.ID, tr.Participant)
			}
			w, ok := want[p.Name]
			if !ok || seenNames[p.Name] {
				t.Fatalf("track %s belongs to %q; want one track each for Alice and Bob", tr.ID, p.Name)
			}
			seenNames[p.Name] = true
			if len(p.Presence) == 0 {
				t.Errorf("%s has no presence in the manifest", p.Name)
			}
			// opusdec, placed on the session clock by the track's timeline.
			x := onSessionClock(t, s, tr)
			on, off := toneSpan(x, w.freq)
			sent := sessionAt(m, w.on)
			t.Logf("%s (%s): %.0f Hz from %.3f s to %.3f s, sent at %.3f s", p.Name, tr.ID, w.freq, on.Seconds(), off.Seconds(), sent.Seconds())
			if d := on - sent; d < -60*time.Millisecond || d > 60*time.Millisecond {
				t.Errorf("%s's tone starts %v from where it was sent (±60 ms)", p.Name, d)
			}
			if l := off - on; (l - say).Abs() > 60*time.Millisecond {
				t.Errorf("%s's tone lasts %v, want %v", p.Name, l, say)
			}
			if o, _ := toneSpan(x, w.other); o >= 0 {
				t.Errorf("%s's track holds the other speaker's %.0f Hz from %v", p.Name, w.other, o)
			}
			if a, b := toneIn(x, on, off, w.freq), toneIn(x, on, off, w.other); a < 0.1 || b > a/100 {
				t.Errorf("%s's tone: RMS %.3f at %.0f Hz, %.4f at %.0f Hz", p.Name, a, w.freq, b, w.other)
			}
			// ffmpeg over the whole file: the length the manifest states, the speaker's own tone.
			ff := testutil.FFmpegDecode(t, s.Path(tr.File), 48000, 1)
			if d := int64(len(ff)) - tr.Samples; d < -960 || d > 960 {
				t.Errorf("%s: ffmpeg decodes %d samples, the manifest says %d", tr.File, len(ff), tr.Samples)
			}
			if a, b := toneEnergy(ff, w.freq), toneEnergy(ff, w.other); a < 0.02 || b > a/100 {
				t.Errorf("%s: ffmpeg finds RMS %.4f at %.0f Hz and %.4f at %.0f Hz", tr.File, a, w.freq, b, w.other)
			}
		}
		// The live mix, on the session clock: Alice alone, then both.
		mix := testutil.FFmpegDecode(t, s.Path(m.Mix.File), 48000, 1)
		a0, b0 := sessionAt(m, aliceOn), sessionAt(m, bobOn)
		for _, c := range []struct {
			what     string
			from, to time.Duration
			a, b     bool
		}{
			{"Alice alone", a0 + 100*time.Millisecond, b0 - 100*time.Millisecond, true, false},
			{"both", b0 + 100*time.Millisecond, a0 + say - 100*time.Millisecond, true, true},
			{"Bob alone", a0 + say + 100*time.Millisecond, b0 + say - 100*time.Millisecond, false, true},
		} {
			pa, pb := toneIn(mix, c.from, c.to, 440), toneIn(mix, c.from, c.to, 1250)
			t.Logf("mix, %s: 440 Hz %.3f, 1250 Hz %.3f", c.what, pa, pb)
			// There: RMS over 0.05 (a lone tone is 0.21); gone: under 0.01.
			if (c.a && pa < 0.05) || (!c.a && pa > 0.01) || (c.b && pb < 0.05) || (!c.b && pb > 0.01) {
				t.Errorf("mix, %s: RMS %.3f at 440 Hz, %.3f at 1250 Hz", c.what, pa, pb)
			}
		}
		out := mustRun(t, "inspect", dir)
		if !strings.Contains(out, "Alice") || !strings.Contains(out, "Bob") {
			t.Errorf("inspect does not name both speakers:\n%s", out)
		}
	})
}

// TestRecordJanusAudioBridge: an AudioBridge room (found without --janus-plugin, its string id
// given as digits) where Alice and Bob speak with overlap. The recorder records AudioBridge's own
// mix as one track; it holds Alice alone, both, then Bob alone, by opusdec on the session clock,
// and both tones by ffmpeg; Alice and Bob are the session's participants.
func TestRecordJanusAudioBridge(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		testutil.Require(t, "ffmpeg")
		testutil.Require(t, "opusdec")
		spacecastBinary(t) // built before anyone speaks (see newLiveRoom)
		j := janusserver.Start(t, ns)
		alice := janusserver.NewSpeaker(t, ns, j.URL, janusserver.AudioBridge, janusserver.AudioBridgeID, "Alice", 440)
		bob := janusserver.NewSpeaker(t, ns, j.URL, janusserver.AudioBridge, janusserver.AudioBridgeID, "Bob", 1250)
		alice.Publish()
		bob.Publish()

		dir := filepath.Join(t.TempDir(), "session")
		rc := startRecorder(t, janusArgs(j, ns, janusserver.AudioBridgeID, dir, "--consent", "assume")...)
		rc.waitEvent(t, "joined", 15*time.Second)
		if names := rc.speakerNames(t, 1, 10*time.Second); names[0] != janus.MixName {
			t.Errorf("speaker %q joined, want AudioBridge's mix %q", names[0], janus.MixName)
		}

		const say = 2 * time.Second
		time.Sleep(300 * time.Millisecond)
		aliceOn := alice.Say(say)
		time.Sleep(time.Second)
		bobOn := bob.Say(say)
		time.Sleep(say + 500*time.Millisecond)
		s := stopJanusRecorder(t, rc, dir)
		m := s.Manifest
		if len(m.Tracks) != 1 || m.Tracks[0].Participant != janus.MixIdentity {
			t.Fatalf("tracks %+v, want the one mix track of %s", m.Tracks, janus.MixIdentity)
		}
		for _, name := range []string{"Alice", "Bob", janus.MixName} {
			if participantNamed(m, name) == nil {
				t.Errorf("%q is not among the participants %+v", name, m.Participants)
			}
		}
		tr := m.Tracks[0]
		x := onSessionClock(t, s, tr)
		// AudioBridge mixes each participant after a jitter buffer of its own (seen: 0.08–0.2 s, not
		// the same for each participant), so each window starts 250 ms after the change it follows
		// and ends where the earliest next change can be heard.
		a0, b0 := sessionAt(m, aliceOn), sessionAt(m, bobOn)
		aOn, aOff := toneSpan(x, 440)
		bOn, bOff := toneSpan(x, 1250)
		t.Logf("AudioBridge's mix: 440 Hz on %v to %v after Alice, 1250 Hz on %v to %v after Bob",
			(aOn - a0).Round(time.Millisecond), (aOff - a0 - say).Round(time.Millisecond), (bOn - b0).Round(time.Millisecond), (bOff - b0 - say).Round(time.Millisecond))
		const lag = 250 * time.Millisecond
		for _, c := range []struct {
			what     string
			from, to time.Duration
			a, b     bool
		}{
			{"Alice alone", a0 + lag, b0, true, false},
			{"both", b0 + lag, a0 + say, true, true},
			{"Bob alone", a0 + say + lag, b0 + say, false, true},
		} {
			pa, pb := toneIn(x, c.from, c.to, 440), toneIn(x, c.from, c.to, 1250)
			t.Logf("AudioBridge's mix, %s [%.2f s, %.2f s): 440 Hz %.3f, 1250 Hz %.3f", c.what, c.from.Seconds(), c.to.Seconds(), pa, pb)
			level := max(pa, pb)
			for _, tone := range []struct {
				freq  float64
				p     float64
				there bool
			}{{440, pa, c.a}, {1250, pb, c.b}} {
				// There: at least 0.05 RMS and within 20 dB of the stronger; gone: 30 dB under it.
				if (tone.there && (tone.p < 0.05 || tone.p < level/10)) || (!tone.there && tone.p > level/math.Pow(10, 1.5)) {
					t.Errorf("AudioBridge's mix, %s: RMS %.4f at %.0f Hz (of %.4f), want it there: %v", c.what, tone.p, tone.freq, level, tone.there)
				}
			}
		}
		ff := testutil.FFmpegDecode(t, s.Path(tr.File), 48000, 1)
		if d := int64(len(ff)) - tr.Samples; d < -960 || d > 960 {
			t.Errorf("%s: ffmpeg decodes %d samples, the manifest says %d", tr.File, len(ff), tr.Samples)
		}
		floor := toneEnergy(ff, 3000)
		if pa, pb := toneEnergy(ff, 440), toneEnergy(ff, 1250); pa < 10*floor || pb < 10*floor || pa < 0.02 || pb < 0.02 {
			t.Errorf("%s: ffmpeg finds RMS %.4f at 440 Hz and %.4f at 1250 Hz over %.4f at 3000 Hz", tr.File, pa, pb, floor)
		}
	})
}

// TestRecordJanusBadRooms: a Janus room that cannot be recorded is a clear error within seconds,
// exit status 4 (ExitRoom), and no session folder left behind.
func TestRecordJanusBadRooms(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		bin := spacecastBinary(t) // built before anyone speaks (see newLiveRoom)
		j := janusserver.Start(t, ns)
		pat := janusserver.NewSpeaker(t, ns, j.URL, janusserver.VideoRoom, janusserver.PINRoomID, "Pat", 440)
		pat.Publish()
		for _, c := range []struct {
			name  string
			room  string
			extra []string
			want  []string
		}{
			{"a room neither plugin has", "999", nil, []string{"room 999", "no such room", "check --room"}},
			{"a room the named plugin lacks", janusserver.AudioBridgeID, []string{"--janus-plugin", "videoroom"}, []string{"no such room", "videoroom"}},
			{"a room with no speaker, without --wait", janusserver.VideoRoomID, nil, []string{"no speaker", "--wait"}},
			{"a wrong PIN", janusserver.PINRoomID, []string{"--pin", "0000"}, []string{"credentials", "--pin"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "session")
				start := time.Now()
				cmd := exec.Command(bin, append(janusArgs(j, ns, c.room, dir), c.extra...)...)
				out, err := cmd.CombinedOutput()
				code := cmd.ProcessState.ExitCode()
				if err != nil && code < 0 {
					t.Fatal(err)
				}
				t.Logf("exit %d after %v: %s", code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(out)))
				if code != ExitRoom {
					t.Errorf("exit %d, want %d (ExitRoom)", code, ExitRoom)
				}
				for _, w := range c.want {
					if !strings.Contains(string(out), w) {
						t.Errorf("the output does not say %q", w)
					}
				}
				if d := time.Since(start); d > 15*time.Second {
					t.Errorf("took %v to fail", d)
				}
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("left %s behind", dir)
				}
			})
		}
	})
}
