package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

// TestRecoverJoinsParts: one LiveKit room, alice's tone all along, recorded in three parts as a
// fleet's takeovers leave it: part 1 at NAME killed with kill -9 (its spool gone: left live),
// part 2 at NAME-part2 recorded and stopped with SIGINT (finished), part 3 at NAME-part3 killed
// again (left live), a few seconds of outage between them. Once the dead recorders' live
// manifests are quiet, 'spacecast recover NAME' recovers part 1 and part 3 from their pieces and
// joins the three: the aws CLI sees no part object left, 'spacecast verify s3://…' passes, the
// manifest has a failover gap where each outage was (by the test's own clock), and both
// 'spacecast mix s3://… -o out.mp3' and the joined live mix, decoded by ffmpeg, hold the tone in
// each part and silence in each gap.
func TestRecoverJoinsParts(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		b := newBucketPlace(t, "panel")
		r := newLiveRoom(t, "panel")
		r.speak("alice", rtptone.Tone{Freq: 440, Duration: 110 * time.Second})
		partURL := func(n int) string {
			if n == 1 {
				return b.url
			}
			return fmt.Sprintf("%s-part%d", b.url, n)
		}
		spoolOf := func(u string) string {
			return filepath.Join(b.cache, "spacecast", "spool", filepath.FromSlash(strings.TrimPrefix(u, "s3://")))
		}
		type span struct{ launched, joined, ended time.Time }
		var spans []span
		record := func(n int, lasting time.Duration, kill bool) {
			launched := time.Now()
			rc := startRecorderEnv(t, b.env, r.recordArgs(partURL(n))...)
			rc.waitEvent(t, "speaker-joined", 20*time.Second)
			joined := time.Now()
			time.Sleep(lasting)
			if kill {
				rc.cmd.Process.Kill()
				<-rc.done
				if err := os.RemoveAll(spoolOf(partURL(n))); err != nil { // the machine is gone
					t.Fatal(err)
				}
			} else {
				rc.cmd.Process.Signal(syscall.SIGINT)
				if _, code := eventsUntilExit(t, rc, time.Minute); code != 0 {
					t.Fatalf("part %d: record exited %d; stderr:\n%s", n, code, rc.stderr.String())
				}
			}
			spans = append(spans, span{launched, joined, time.Now()})
		}
		record(1, 14*time.Second, true)
		time.Sleep(3 * time.Second) // the takeover
		record(2, 10*time.Second, false)
		time.Sleep(4 * time.Second)
		record(3, 12*time.Second, true)

		b.srv.Setenv(t)
		t.Setenv("XDG_CACHE_HOME", b.cache)
		time.Sleep(sessionstore.DefaultQuiet) // the dead recorders' live manifests go quiet
		out := mustRun(t, "recover", b.url, "--json")
		var got struct {
			From string                   `json:"from"`
			Join *sessionstore.JoinReport `json:"join"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("recover --json: %v\n%s", err, out)
		}
		j := got.Join
		if got.From != "pieces" || j == nil || !j.Joined || len(j.Parts) != 3 || len(j.Gaps) != 2 ||
			j.Parts[0].Recovered != nil || j.Parts[1].Recovered != nil || j.Parts[2].Recovered == nil {
			t.Fatalf("recover --json: part 1 from pieces, 3 parts joined (part 3 recovered), 2 gaps; got\n%s", out)
		}
		if again := mustRun(t, "recover", b.url); !strings.Contains(again, "already finished") || strings.Contains(again, "joined") {
			t.Errorf("a second recover:\n%s", again)
		}

		// No part is left in the bucket, as the aws CLI sees it.
		listing := awsCLI(t, b.srv, "s3", "ls", "--recursive", "s3://"+b.srv.Bucket+"/shows/")
		if strings.Contains(listing, "panel-part") || strings.Contains(listing, "/.live/") {
			t.Errorf("parts or pieces left in the bucket:\n%s", listing)
		}
		mustRun(t, "verify", b.url)
		s := b.judge(t)
		m := s.Manifest
		if len(m.Parts) != 3 || len(m.Tracks) != 3 || m.Mix == nil || m.Mix.File != session.JoinedMixName {
			t.Fatalf("joined manifest: %d parts, %d tracks, mix %+v", len(m.Parts), len(m.Tracks), m.Mix)
		}
		var gaps []session.Gap
		for _, g := range m.Gaps {
			if g.Cause == session.GapFailover {
				gaps = append(gaps, g)
			}
		}
		if len(gaps) != 2 {
			t.Fatalf("failover gaps %+v, want 2", m.Gaps)
		}
		// Each part started when its recorder did, by the test's clock; each gap begins at most
		// 10 s (what a kill loses) before the recorder before it was killed and ends where the
		// next part begins.
		for i, p := range m.Parts {
			if p.StartedAt.Before(spans[i].launched.Add(-time.Second)) || p.StartedAt.After(spans[i].joined) {
				t.Errorf("part %d started at %v, its recorder ran from %v (speaker at %v)", i+1, p.StartedAt, spans[i].launched, spans[i].joined)
			}
		}
		for i, g := range gaps {
			killed := session.Ticks(spans[i].ended.Sub(m.StartedAt))
			start, end := g.StartTicks, g.StartTicks+g.DurationTicks
			t.Logf("gap %d: %.2f s to %.2f s; recorder %d ended at %.2f s, part %d began at %.2f s", i+1,
				tickSecs(start), tickSecs(end), i+1, tickSecs(killed), i+2, tickSecs(m.Parts[i+1].OffsetTicks))
			if start > killed+session.ClockRate || start < killed-10*session.ClockRate || end != m.Parts[i+1].OffsetTicks {
				t.Errorf("gap %d from %.2f s to %.2f s: recorder %d ended at %.2f s, part %d began at %.2f s", i+1,
					tickSecs(start), tickSecs(end), i+1, tickSecs(killed), i+2, tickSecs(m.Parts[i+1].OffsetTicks))
			}
		}

		mp3 := filepath.Join(t.TempDir(), "panel.mp3")
		mustRun(t, "mix", b.url, "-o", mp3)
		for _, c := range []struct {
			what string
			x    []float32
		}{
			{"spacecast mix s3://… -o out.mp3", testutil.FFmpegDecode(t, mp3, 48000, 1)},
			{"the joined live mix", testutil.FFmpegDecode(t, s.Path(m.Mix.File), 48000, 1)},
		} {
			if d := float64(len(c.x)) / 48000; d < tickSecs(m.DurationTicks)-1.5 {
				t.Errorf("%s: %.2f s long, the session is %.2f s", c.what, d, tickSecs(m.DurationTicks))
			}
			const margin = 800 * time.Millisecond
			for i, p := range m.Parts {
				tr := m.Tracks[i]
				from := max(session.Duration(p.OffsetTicks), session.Duration(tr.Timeline[0].SessionTicks)) + margin
				to := session.Duration(p.OffsetTicks+p.DurationTicks) - margin
				if q := quietWindows(c.x, from, to, 500*time.Millisecond, 440, 0.05); len(q) > 0 {
					t.Errorf("%s: part %d (%.2f s to %.2f s): the tone is missing in %v", c.what, i+1, from.Seconds(), to.Seconds(), q)
				}
			}
			for i, g := range gaps {
				from, to := session.Duration(g.StartTicks)+margin, session.Duration(g.StartTicks+g.DurationTicks)-margin
				if rms := toneIn(c.x, from, to, 440); rms > 0.005 {
					t.Errorf("%s: gap %d (%.2f s to %.2f s) is not silent: RMS %.4f at 440 Hz", c.what, i+1, from.Seconds(), to.Seconds(), rms)
				}
			}
		}
	})
}

// TestRecoverJoinsPushedParts: two sessions pushed as the parts of one (the demo, and the demo
// again 2:30 later as NAME-part2), part 2 overlapping nothing: 'spacecast recover s3://…/NAME
// --sign-key' says in words that it joined them, where the failover gap is, and that the parts
// are gone; the joined session verifies with the signer's public key and publishes as an episode
// of its whole length; a part whose place holds
// files without a manifest (a push that stopped) is refused, naming it, and nothing changes.
func TestRecoverJoinsPushedParts(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	one, key := sealedDemo(t)
	two, _ := sealedDemo(t)
	s, err := session.Open(two)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.ID, s.Manifest.StartedAt, s.Manifest.Files = "second-part", s.Manifest.StartedAt.Add(150*time.Second), nil
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if err := session.Seal(two, nil); err != nil {
		t.Fatal(err)
	}
	url := "s3://" + srv.Bucket + "/shows/town-hall"
	mustRun(t, "push", one, url)
	mustRun(t, "push", two, url+"-part2")

	awsCLI(t, srv, "s3api", "put-object", "--bucket", srv.Bucket, "--key", "shows/town-hall-part3/tracks/x.opus")
	_, errOut, code := run(t, "recover", url)
	if code != ExitBadInput || !strings.Contains(errOut, "part 3") || !strings.Contains(errOut, "town-hall-part3") {
		t.Errorf("recover with a half-pushed part 3: exit %d, %s", code, errOut)
	}
	awsCLI(t, srv, "s3", "rm", "s3://"+srv.Bucket+"/shows/town-hall-part3/tracks/x.opus")

	out := mustRun(t, "recover", url, "--sign-key", key)
	for _, want := range []string{
		"is already finished",
		"joined 2 parts into one session of 4:19.904:",
		"part 1 " + url + ": from 0:00.000 for 1:49.904, 4 tracks, finished",
		"part 2 " + url + "-part2: from 2:30.000 for 1:49.904, 4 tracks, finished",
		"gap (cause failover) from 1:49.904 to 2:30.000",
		"the manifest last",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("recover's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(awsCLI(t, srv, "s3", "ls", "--recursive", "s3://"+srv.Bucket+"/shows/"), "town-hall-part") {
		t.Error("part 2's objects are still in the bucket")
	}
	if v := mustRun(t, "verify", url, "--key", key+".pub"); !strings.Contains(v, "valid") {
		t.Errorf("verify of the joined session:\n%s", v)
	}
	// publish reads it as any session: one episode as long as the joined clock.
	pulled := filepath.Join(t.TempDir(), "town-hall")
	mustRun(t, "pull", url, pulled)
	var ep struct {
		DurationSeconds float64 `json:"duration_seconds"`
	}
	js := mustRun(t, "publish", newTestSite(t), pulled, "--title", "Town hall in two parts", "--json")
	if err := json.Unmarshal([]byte(js), &ep); err != nil {
		t.Fatalf("publish --json: %v\n%s", err, js)
	}
	if ep.DurationSeconds < 255 || ep.DurationSeconds > 261 {
		t.Errorf("the published episode is %.2f s long; the joined session is 259.9 s", ep.DurationSeconds)
	}
}
