package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/lkserver"
	"github.com/spacecast/spacecast/internal/testutil/lkspeaker"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/pkg/record/control"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/session"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// spacecastBinary builds the command once for the tests that need a real process (signals, kill -9).
func spacecastBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "spacecast-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "spacecast")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			// A data race in the recorder makes the binary exit 66 with the report on stderr,
			// which the test that ran it shows.
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "github.com/spacecast/spacecast/cmd/spacecast")...).CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// liveRoom is a real LiveKit server on loopback with pion speakers sending tones.
type liveRoom struct {
	t      *testing.T
	srv    *lkserver.Server
	room   string
	ctx    context.Context
	wg     sync.WaitGroup
	errs   chan error
	cancel context.CancelFunc
}

// newLiveRoom starts the server. The recorder binary is built first: a test's speakers join
// before its recorder starts, and a build between the two (seconds under load) used to eat a
// short speaker's whole time in the room, so the recorder found nobody.
func newLiveRoom(t *testing.T, name string) *liveRoom {
	spacecastBinary(t)
	srv := lkserver.Start(t, lkserver.Config{BindIP: "127.0.0.1"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	r := &liveRoom{t: t, srv: srv, room: name, ctx: ctx, cancel: cancel, errs: make(chan error, 8)}
	t.Cleanup(func() {
		cancel()
		r.wg.Wait()
	})
	return r
}

// speak joins a speaker and sends a tone in the background. The speaker leaves when the tone
// ends, or earlier when leave is called.
func (r *liveRoom) speak(identity string, tone rtptone.Tone) (leave func()) {
	r.t.Helper()
	_, leave = r.speakOn(identity, tone)
	return leave
}

// speakOn is speak that also returns the speaker, so the test can set its attributes and read
// the room's data messages.
func (r *liveRoom) speakOn(identity string, tone rtptone.Tone) (s *lkspeaker.Speaker, leave func()) {
	r.t.Helper()
	tok, err := lkspeaker.Token(r.srv.APIKey, r.srv.APISecret, r.room, identity, identity, time.Hour)
	if err != nil {
		r.t.Fatal(err)
	}
	s, err = lkspeaker.Join(r.ctx, r.srv.URL, tok, rtc.Options{Loopback: true})
	if err != nil {
		r.t.Fatal(err)
	}
	tr, err := s.Publish(r.ctx, "mic")
	if err != nil {
		s.Close()
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer s.Close()
		if err := rtptone.Send(ctx, tr, tone); err != nil && ctx.Err() == nil {
			r.errs <- err
		}
	}()
	return s, cancel
}

func (r *liveRoom) recordArgs(dir string, extra ...string) []string {
	return append([]string{"record", r.srv.URL, "--room", r.room, "--api-key", r.srv.APIKey, "--api-secret", r.srv.APISecret,
		"--loopback", "-o", dir, "--json"}, extra...)
}

// recorder is a `spacecast record` process whose JSON events the test reads.
type recorder struct {
	cmd    *exec.Cmd
	events chan map[string]any
	stderr strings.Builder
	done   chan error
}

func startRecorder(t *testing.T, args ...string) *recorder {
	t.Helper()
	return startRecorderEnv(t, nil, args...)
}

// startRecorderEnv is startRecorder with the environment env (nil: the test's).
func startRecorderEnv(t *testing.T, env []string, args ...string) *recorder {
	t.Helper()
	cmd := exec.Command(spacecastBinary(t), args...)
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	rc := &recorder{cmd: cmd, events: make(chan map[string]any, 256), done: make(chan error, 1)}
	cmd.Stderr = &rc.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e map[string]any
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				rc.events <- e
			}
		}
		err := cmd.Wait() // before events close: stderr is complete when a reader sees the end
		close(rc.events)
		rc.done <- err
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return rc
}

// waitEvent reads events until one of type typ (returned) or the timeout.
func (rc *recorder) waitEvent(t *testing.T, typ string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	var seen []map[string]any
	for {
		select {
		case e, ok := <-rc.events:
			if !ok {
				t.Fatalf("recorder exited before %q (events: %v); stderr:\n%s", typ, seen, rc.stderr.String())
			}
			seen = append(seen, e)
			if e["type"] == typ {
				return e
			}
		case <-deadline:
			rc.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump, to see where it hangs
			time.Sleep(time.Second)
			t.Fatalf("no %q event within %v; stderr:\n%s", typ, timeout, rc.stderr.String())
		}
	}
}

// TestRecordLiveKitEndToEnd: a real livekit-server, two pion speakers (one joining late), the
// real spacecast binary recording with --json; `clip --last` while it runs; SIGINT finalizes. The
// tracks and the live mix are judged by ffmpeg/opusdec: the right tone in each place.
func TestRecordLiveKitEndToEnd(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		r := newLiveRoom(t, "e2e")
		r.speak("alice", rtptone.Tone{Freq: 440, Duration: 12 * time.Second})
		dir := filepath.Join(t.TempDir(), "session")
		rc := startRecorder(t, r.recordArgs(dir)...)
		rc.waitEvent(t, "joined", 15*time.Second)
		rc.waitEvent(t, "speaker-joined", 10*time.Second)
		time.Sleep(1500 * time.Millisecond)
		r.speak("bob", rtptone.Tone{Freq: 1000, Duration: 5 * time.Second})
		time.Sleep(3 * time.Second)

		// The "clip that" button, while the recording runs.
		clip := filepath.Join(t.TempDir(), "last.wav")
		mustRun(t, "clip", dir, "--last", "2s", "-o", clip)
		pcm := testutil.FFmpegDecode(t, clip, 48000, 1)
		if d := float64(len(pcm)) / 48000; math.Abs(d-2) > 0.03 {
			t.Errorf("clip --last 2s is %.3f s long", d)
		}
		if p := toneEnergy(pcm, 440); p < 0.05 {
			t.Errorf("clip --last holds no 440 Hz (RMS %.3f)", p)
		}

		time.Sleep(2 * time.Second)
		rc.cmd.Process.Signal(syscall.SIGINT)
		var summary map[string]any
		for e := range rc.events {
			if _, ok := e["session"]; ok {
				summary = e
			}
		}
		if err := <-rc.done; err != nil {
			t.Fatalf("record exited with %v; stderr:\n%s", err, rc.stderr.String())
		}
		if summary == nil || summary["reason"] != "interrupted" {
			t.Errorf("summary %v", summary)
		}
		s, err := session.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if !m.Finalized || m.Room.Protocol != "livekit" || len(m.Tracks) != 2 {
			t.Fatalf("manifest: finalized %v, protocol %q, %d tracks", m.Finalized, m.Room.Protocol, len(m.Tracks))
		}
		freq := map[string]float64{"alice": 440, "bob": 1000}
		for _, tr := range m.Tracks {
			x := testutil.Mono(testutil.OpusdecDecode(t, s.Path(tr.File)), tr.Channels)
			if p := toneEnergy(x, freq[tr.Participant]); p < 0.1 {
				t.Errorf("%s's track: RMS %.3f at %.0f Hz", tr.Participant, p, freq[tr.Participant])
			}
		}
		// The live mix: alice alone at first, both once bob speaks.
		mix := testutil.FFmpegDecode(t, s.Path(m.Mix.File), 48000, 1)
		if d, want := float64(len(mix))/48000, session.Duration(m.DurationTicks).Seconds(); math.Abs(d-want) > 0.1 {
			t.Errorf("mix is %.2f s, session %.2f s", d, want)
		}
		var bob session.Track
		for _, tr := range m.Tracks {
			if tr.Participant == "bob" {
				bob = tr
			}
		}
		bobAt := session.Duration(bob.Timeline[0].SessionTicks).Seconds()
		early := mix[int((bobAt-1.5)*48000):int((bobAt-0.5)*48000)]
		both := mix[int((bobAt+0.5)*48000):int((bobAt+2)*48000)]
		if toneEnergy(early, 440) < 0.05 || toneEnergy(early, 1000) > 0.02 {
			t.Errorf("mix before bob: 440 Hz %.3f, 1000 Hz %.3f", toneEnergy(early, 440), toneEnergy(early, 1000))
		}
		if toneEnergy(both, 440) < 0.05 || toneEnergy(both, 1000) < 0.05 {
			t.Errorf("mix with bob: 440 Hz %.3f, 1000 Hz %.3f", toneEnergy(both, 440), toneEnergy(both, 1000))
		}
		out := mustRun(t, "inspect", dir)
		if !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
			t.Errorf("inspect:\n%s", out)
		}
	})
}

// TestRecordKilledThenRecovered: kill -9 mid-recording; inspect and mix still read the session
// and say it is not finalized; recover finalizes it, losing at most the last 2 s.
func TestRecordKilledThenRecovered(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		r := newLiveRoom(t, "crash")
		r.speak("carol", rtptone.Tone{Freq: 660, Duration: 20 * time.Second})
		dir := filepath.Join(t.TempDir(), "session")
		rc := startRecorder(t, r.recordArgs(dir)...)
		rc.waitEvent(t, "speaker-joined", 20*time.Second)
		joined := time.Now()
		time.Sleep(5 * time.Second)
		// While the recorder runs, recover refuses to touch its session.
		if _, stderr, code := run(t, "recover", dir); code != ExitBadInput || !strings.Contains(stderr, "being recorded right now") {
			t.Errorf("recover while recording: exit %d, stderr %q", code, stderr)
		}
		killedAfter := time.Since(joined)
		rc.cmd.Process.Kill()
		<-rc.done
		if _, err := os.Stat(filepath.Join(dir, control.FileName)); err != nil {
			t.Errorf("the killed recorder left no control file to clean up (%v): the test no longer checks recover's cleanup", err)
		}

		_, stderr, code := run(t, "inspect", dir)
		if code != 0 {
			t.Fatalf("inspect of an unrecovered session: exit %d: %s", code, stderr)
		}
		out, _, _ := run(t, "inspect", dir)
		if !strings.Contains(out, "NOT finalized") {
			t.Errorf("inspect does not say the session is unfinished:\n%s", out)
		}
		wav := filepath.Join(t.TempDir(), "m.wav")
		if _, stderr, code := run(t, "mix", dir, "-o", wav); code != 0 || !strings.Contains(stderr, "not finalized") {
			t.Errorf("mix of an unrecovered session: exit %d, stderr %q", code, stderr)
		}
		mustRun(t, "recover", dir)
		if _, err := os.Stat(filepath.Join(dir, control.FileName)); !os.IsNotExist(err) {
			t.Errorf("recover left the dead recorder's control file: %v", err)
		}
		s, err := session.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Manifest.Finalized || len(s.Manifest.Tracks) != 1 {
			t.Fatalf("after recover: finalized %v, %d tracks", s.Manifest.Finalized, len(s.Manifest.Tracks))
		}
		got := session.Duration(s.Manifest.Tracks[0].Samples)
		if got < killedAfter-2*time.Second {
			t.Errorf("recovered %v of carol, killed %v after she joined: lost more than 2 s", got, killedAfter)
		}
		x := testutil.OpusdecDecode(t, s.Path(s.Manifest.Tracks[0].File))
		if float64(len(x))/48000 < got.Seconds()-0.05 {
			t.Errorf("opusdec decodes %.2f s, manifest says %v", float64(len(x))/48000, got)
		}
	})
}

// TestRecordBadRooms: every way of not getting into a room is a clear error within seconds, a
// meaningful exit status, and no session folder left behind.
func TestRecordBadRooms(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		r := newLiveRoom(t, "exists")
		r.speak("dave", rtptone.Tone{Freq: 500, Duration: 30 * time.Second})
		bin := spacecastBinary(t)
		for _, c := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"not a URL", []string{"record", "ftp://x", "-o", "%s"}, 2, "not a room URL"},
			{"wrong secret", []string{"record", r.srv.URL, "--room", "exists", "--api-key", r.srv.APIKey, "--api-secret", "wrong-secret-wrong-secret-wrong-secret", "--loopback", "-o", "%s"}, 4, "credentials"},
			{"wrong token", []string{"record", r.srv.URL, "--room", "exists", "--token", "not.a.jwt", "--loopback", "-o", "%s"}, 4, "credentials"},
			{"unreachable", []string{"record", "ws://127.0.0.1:9", "--room", "exists", "--api-key", "k", "--api-secret", "s", "--loopback", "-o", "%s"}, 4, "cannot be reached"},
			{"no such room", []string{"record", r.srv.URL, "--room", "nope", "--api-key", r.srv.APIKey, "--api-secret", r.srv.APISecret, "--loopback", "-o", "%s"}, 4, "no such room"},
			{"whep needs consent assume", []string{"record", "http://127.0.0.1:9/whep", "-o", "%s"}, 2, "--consent assume"},
		} {
			t.Run(c.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "session")
				args := append([]string(nil), c.args...)
				for i, a := range args {
					if a == "%s" {
						args[i] = dir
					}
				}
				start := time.Now()
				cmd := exec.Command(bin, args...)
				out, err := cmd.CombinedOutput()
				code := cmd.ProcessState.ExitCode()
				if err != nil && code < 0 {
					t.Fatal(err)
				}
				if code != c.code || !strings.Contains(string(out), c.want) {
					t.Errorf("exit %d, want %d; output:\n%s", code, c.code, out)
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

// toneEnergy is the RMS amplitude of x at freq (a single-bin DFT).
func toneEnergy(x []float32, freq float64) float64 {
	var re, im float64
	for i, s := range x {
		ph := 2 * math.Pi * freq * float64(i) / 48000
		re += float64(s) * math.Cos(ph)
		im += float64(s) * math.Sin(ph)
	}
	return 2 * math.Hypot(re, im) / float64(max(1, len(x))) / math.Sqrt2
}

// TestRecordStops: each way a recording ends on its own — --duration, --stop-when-empty after the
// last speaker leaves, the room deleted by its admin, SIGTERM — finalizes the session and exits 0.
func TestRecordStops(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		r := newLiveRoom(t, "stops")
		finish := func(t *testing.T, rc *recorder, dir, reason string, within time.Duration) {
			t.Helper()
			var summary map[string]any
			deadline := time.After(within)
		read:
			for {
				select {
				case e, ok := <-rc.events:
					if !ok {
						break read
					}
					if _, ok := e["session"]; ok {
						summary = e
					}
				case <-deadline:
					t.Fatalf("still recording after %v; stderr:\n%s", within, rc.stderr.String())
				}
			}
			if err := <-rc.done; err != nil {
				t.Fatalf("exit: %v; stderr:\n%s", err, rc.stderr.String())
			}
			if summary == nil || !strings.Contains(fmt.Sprint(summary["reason"]), reason) {
				t.Errorf("summary %v, want reason %q", summary, reason)
			}
			s, err := session.Open(dir)
			if err != nil || !s.Manifest.Finalized {
				t.Fatalf("session %v finalized? %v", err, s != nil && s.Manifest.Finalized)
			}
		}

		t.Run("stop-when-empty", func(t *testing.T) {
			// Fay is publishing before the recorder joins (it must find her in the room it
			// joins) and leaves only once it has reported her: her time in the room depends on
			// nothing the test does not wait for.
			leave := r.speak("fay", rtptone.Tone{Freq: 700, Duration: time.Minute})
			dir := filepath.Join(t.TempDir(), "s")
			rc := startRecorder(t, r.recordArgs(dir, "--stop-when-empty", "1500ms", "--wait", "10s")...)
			rc.waitEvent(t, "speaker-joined", 15*time.Second)
			leave()
			rc.waitEvent(t, "speaker-left", 15*time.Second)
			left := time.Now()
			finish(t, rc, dir, "no speaker", 10*time.Second)
			if d := time.Since(left); d < time.Second || d > 5*time.Second {
				t.Errorf("stopped %v after the last speaker left, want about 1.5 s", d)
			}
		})
		t.Run("duration", func(t *testing.T) {
			r.speak("eve", rtptone.Tone{Freq: 600, Duration: time.Minute}) // --duration ends it, not her
			dir := filepath.Join(t.TempDir(), "s")
			start := time.Now()
			rc := startRecorder(t, r.recordArgs(dir, "--duration", "2s")...)
			finish(t, rc, dir, "duration", 15*time.Second)
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("--duration 2s took %v", d)
			}
		})
		t.Run("room-deleted", func(t *testing.T) {
			r.speak("gus", rtptone.Tone{Freq: 800, Duration: 30 * time.Second})
			dir := filepath.Join(t.TempDir(), "s")
			rc := startRecorder(t, r.recordArgs(dir)...)
			rc.waitEvent(t, "speaker-joined", 15*time.Second)
			deleteRoom(t, r)
			finish(t, rc, dir, "room closed", 15*time.Second)
		})
		t.Run("SIGTERM", func(t *testing.T) {
			r.speak("hal", rtptone.Tone{Freq: 900, Duration: 30 * time.Second})
			dir := filepath.Join(t.TempDir(), "s")
			rc := startRecorder(t, r.recordArgs(dir)...)
			rc.waitEvent(t, "speaker-joined", 15*time.Second)
			rc.cmd.Process.Signal(syscall.SIGTERM)
			finish(t, rc, dir, "interrupted", 15*time.Second)
		})
	})
}

// deleteRoom deletes the room through LiveKit's RoomService, as its admin would.
func deleteRoom(t *testing.T, r *liveRoom) {
	t.Helper()
	g := &auth.VideoGrant{RoomCreate: true}
	tok, err := auth.NewAccessToken(r.srv.APIKey, r.srv.APISecret).SetVideoGrant(g).SetValidFor(time.Minute).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	body := strings.NewReader(fmt.Sprintf(`{"room":%q}`, r.room))
	req, _ := http.NewRequest(http.MethodPost, strings.Replace(r.srv.URL, "ws://", "http://", 1)+"/twirp/livekit.RoomService/DeleteRoom", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DeleteRoom: HTTP %d", resp.StatusCode)
	}
}
