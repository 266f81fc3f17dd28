package browser

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/lkserver"
	"github.com/spacecast/spacecast/internal/testutil/netns"
)

// mintJWT signs claims with HS256 (RFC 7519 §3, RFC 7515 §3.1), the way LiveKit's access tokens
// are signed, with nothing but the standard library.
func mintJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now()
	claims["iss"] = lkserver.APIKey
	claims["nbf"] = now.Add(-time.Minute).Unix()
	claims["exp"] = now.Add(time.Hour).Unix()
	signing := enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + enc(claims)
	return signing + "." + sign(signing, lkserver.APISecret)
}

func sign(s, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func joinToken(t testing.TB, room, identity string) string {
	return mintJWT(t, map[string]any{
		"sub":  identity,
		"name": identity + " (browser)",
		"video": map[string]any{
			"room": room, "roomJoin": true, "canPublish": true, "canSubscribe": true,
		},
	})
}

// startLiveKit runs livekit-server on the server side of ns (10.77.0.1, candidates on the veth
// only) and returns it.
func startLiveKit(t *testing.T, ns *netns.NS) *lkserver.Server {
	t.Helper()
	return lkserver.Start(t, lkserver.Config{BindIP: ns.ServerIP, Interfaces: []string{ns.ServerIface}})
}

// participant is the part of LiveKit's ParticipantInfo the tests look at.
type participant struct {
	Identity string `json:"identity"`
	Tracks   []struct {
		SID      string `json:"sid"`
		Type     string `json:"type"`
		Muted    bool   `json:"muted"`
		MimeType string `json:"mime_type"`
	} `json:"tracks"`
}

// listParticipants asks the server, not the browser, who is in the room (Twirp JSON:
// POST /twirp/livekit.RoomService/ListParticipants with a roomAdmin token).
func listParticipants(t *testing.T, base, room string) map[string]participant {
	t.Helper()
	tok := mintJWT(t, map[string]any{"video": map[string]any{"room": room, "roomAdmin": true}})
	req, err := http.NewRequest("POST", base+"/twirp/livekit.RoomService/ListParticipants",
		strings.NewReader(fmt.Sprintf(`{"room":%q}`, room)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ListParticipants: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("ListParticipants: %s (%v): %s", resp.Status, err, body)
	}
	var out struct {
		Participants []participant `json:"participants"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("ListParticipants answered %s: %v", body, err)
	}
	m := map[string]participant{}
	for _, p := range out.Participants {
		m[p.Identity] = p
	}
	return m
}

// waitServer polls the server's participant list until ok accepts it, and fails the test with
// the last list after 10 s.
func waitServer(t *testing.T, base, room, what string, ok func(map[string]participant) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps := listParticipants(t, base, room)
		if ok(ps) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server: %s: not within 10 s; participants: %+v", what, ps)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// publishes reports whether the server lists identity with exactly one audio track, sid, muted or not.
func publishes(ps map[string]participant, identity, sid string, muted bool) bool {
	p, ok := ps[identity]
	return ok && len(p.Tracks) == 1 && p.Tracks[0].Type == "AUDIO" && p.Tracks[0].SID == sid && p.Tracks[0].Muted == muted
}

func toneFile(t *testing.T, freqHz, amp float64) string {
	path := filepath.Join(t.TempDir(), fmt.Sprintf("tone-%.0f.wav", freqHz))
	// 2 s holds a whole number of periods of either tone, so Chromium's loop has no click.
	testutil.WriteWAV16(t, path, testutil.Sine(96000, 48000, 1, freqHz, amp), 48000, 1)
	return path
}

// TestSpeakerLiveKit publishes a 440 Hz WAV from headless Chromium into a real LiveKit server
// across a veth pair and checks, from the server's side, every state change the speaker offers:
// publish, mute, republish, leave, rejoin, stop. A second browser publishes without RED.
func TestSpeakerLiveKit(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		srv := startLiveKit(t, ns)
		base, url := srv.HTTPURL, srv.URL
		const room = "browser"
		inClient := func(name string, args ...string) *exec.Cmd {
			return ns.ClientCommand(context.Background(), name, args...)
		}
		began := time.Now()
		alice := Speaker(t, Options{URL: url, Token: joinToken(t, room, "alice"), WAV: toneFile(t, 440, 0.5), Command: inClient})
		t.Logf("alice published %+v after %v", alice.Published(), time.Since(began).Round(time.Millisecond))
		pub := alice.Published()
		if pub.Identity != "alice" || !strings.HasPrefix(pub.TrackSID, "TR_") || pub.PacketsSent <= 0 {
			t.Fatalf("publication %+v: want identity alice, a TR_ track SID, packets sent", pub)
		}
		if pub.MimeType != "audio/red" {
			t.Errorf("alice sends %q, want audio/red (the browser default)", pub.MimeType)
		}
		waitServer(t, base, room, "alice publishes "+pub.TrackSID, func(ps map[string]participant) bool {
			return publishes(ps, "alice", pub.TrackSID, false)
		})

		// The page hears the file it was given, at the level it was given: a 0.5 sine is
		// -9.03 dBFS RMS. Audio processing left on would pull it down; the fake device's
		// default beep would sit elsewhere.
		pr, err := alice.Probe(300 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("probe: %+v", pr)
		if math.Abs(pr.PeakHz-440) > 5 {
			t.Errorf("the microphone's strongest frequency is %.1f Hz, want 440", pr.PeakHz)
		}
		if math.Abs(pr.RMSDBFS-(-9.03)) > 1.5 {
			t.Errorf("the microphone's level is %.2f dBFS RMS, want -9.03 ± 1.5", pr.RMSDBFS)
		}

		if err := alice.Mute(true); err != nil {
			t.Fatal(err)
		}
		waitServer(t, base, room, "alice's track muted", func(ps map[string]participant) bool {
			return publishes(ps, "alice", pub.TrackSID, true)
		})
		if err := alice.Mute(false); err != nil {
			t.Fatal(err)
		}
		waitServer(t, base, room, "alice's track unmuted", func(ps map[string]participant) bool {
			return publishes(ps, "alice", pub.TrackSID, false)
		})

		re, err := alice.Republish()
		if err != nil {
			t.Fatal(err)
		}
		if re.TrackSID == pub.TrackSID || re.PacketsSent <= 0 {
			t.Fatalf("republished %+v: want a new track SID (not %s) with packets sent", re, pub.TrackSID)
		}
		waitServer(t, base, room, "alice's republished track "+re.TrackSID+" replaces "+pub.TrackSID, func(ps map[string]participant) bool {
			return publishes(ps, "alice", re.TrackSID, false)
		})

		began = time.Now()
		if err := alice.Leave(); err != nil {
			t.Fatal(err)
		}
		waitServer(t, base, room, "alice gone after Leave", func(ps map[string]participant) bool {
			_, ok := ps["alice"]
			return !ok
		})
		back, err := alice.Rejoin()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("leave and rejoin took %v", time.Since(began).Round(time.Millisecond))
		waitServer(t, base, room, "alice back with "+back.TrackSID, func(ps map[string]participant) bool {
			return publishes(ps, "alice", back.TrackSID, false)
		})

		// A second browser at the same time, publishing plain Opus.
		bob := Speaker(t, Options{URL: url, Token: joinToken(t, room, "bob"), WAV: toneFile(t, 880, 0.25), Command: inClient, NoRED: true})
		if got := bob.Published().MimeType; got != "audio/opus" {
			t.Errorf("bob (NoRED) sends %q, want audio/opus", got)
		}
		waitServer(t, base, room, "alice and bob both publish", func(ps map[string]participant) bool {
			return publishes(ps, "alice", back.TrackSID, false) && publishes(ps, "bob", bob.Published().TrackSID, false)
		})
		if pr, err := bob.Probe(0); err != nil || math.Abs(pr.PeakHz-880) > 5 {
			t.Errorf("bob's microphone: %+v, %v; want 880 Hz", pr, err)
		}

		alice.Stop()
		alice.Stop() // idempotent
		waitServer(t, base, room, "alice gone after Stop, bob still there", func(ps map[string]participant) bool {
			_, ok := ps["alice"]
			return !ok && publishes(ps, "bob", bob.Published().TrackSID, false)
		})
		if _, err := alice.Stats(); err == nil {
			t.Error("Stats after Stop: no error")
		}

		// Crash leaves no goodbye: the server holds bob for a reconnect instead of dropping him.
		bob.Crash()
		time.Sleep(time.Second)
		if ps := listParticipants(t, base, room); !publishes(ps, "bob", bob.Published().TrackSID, false) {
			t.Errorf("1 s after Crash the server no longer lists bob's track; participants: %+v", ps)
		}
	})
}

// TestSpeakerErrors: a speaker that cannot join says why, quickly, with the page's console.
func TestSpeakerErrors(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		srv := startLiveKit(t, ns)
		base, url := srv.HTTPURL, srv.URL
		inClient := func(name string, args ...string) *exec.Cmd {
			return ns.ClientCommand(context.Background(), name, args...)
		}
		wav := toneFile(t, 440, 0.5)

		// Signed with the wrong secret: the server refuses the join.
		good := joinToken(t, "errors", "mallory")
		forged := good[:strings.LastIndexByte(good, '.')+1] + sign(good[:strings.LastIndexByte(good, '.')], "not-the-secret")
		mallory, err := launch(t, Options{URL: url, Token: forged, WAV: wav, Command: inClient, Timeout: 15 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		_, err = mallory.join()
		took := time.Since(began)
		mallory.Stop()
		if err == nil {
			t.Fatal("a forged token joined")
		}
		t.Logf("forged token, after %v: %v", took.Round(time.Millisecond), firstLines(err.Error(), 3))
		if !strings.Contains(err.Error(), "join "+url) || !strings.Contains(err.Error(), "console") {
			t.Errorf("the error does not name the URL and show the console: %v", err)
		}
		if strings.Contains(err.Error(), forged) {
			t.Errorf("the error shows the token: %v", err)
		}
		if took > 10*time.Second {
			t.Errorf("refusal took %v, want well under the 15 s timeout", took)
		}
		if ps := listParticipants(t, base, "errors"); len(ps) != 0 {
			t.Errorf("participants after a refused join: %+v", ps)
		}

		// A server that takes the connection and never answers: the join gives up after the
		// timeout, saying so.
		ln, err := net.Listen("tcp4", ns.ServerIP+":0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close() // held open, unanswered, until the test ends
			}
		}()
		// The join is what is timed: Chromium's own start is not under test (and has taken
		// over 3 s on a loaded machine).
		silent, err := launch(t, Options{URL: "ws://" + ln.Addr().String(), Token: good, WAV: wav, Command: inClient, Timeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		began = time.Now()
		_, err = silent.join()
		took = time.Since(began)
		silent.Stop()
		t.Logf("silent server, after %v: %v", took.Round(time.Millisecond), firstLines(fmt.Sprint(err), 3))
		if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Errorf("a silent server: %v; want an error naming %s", err, ln.Addr())
		}
		if took > 12*time.Second {
			t.Errorf("a silent server held the join for %v with a 3 s timeout", took)
		}

		// Not a WAV: refused before any browser starts, naming the file.
		notWAV := filepath.Join(t.TempDir(), "speech.mp3")
		if err := os.WriteFile(notWAV, []byte("ID3\x04\x00\x00\x00\x00\x00\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = start(t, Options{URL: url, Token: good, WAV: notWAV, Command: inClient})
		if err == nil || !strings.Contains(err.Error(), notWAV) || !strings.Contains(err.Error(), "not a WAV") {
			t.Errorf("an MP3 as microphone: %v; want an error naming %s", err, notWAV)
		}
	})
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// TestSpeakerLoopback: the loopback variant (livekit-server on 127.0.0.1 with loopback
// candidates, Chromium with --allow-loopback-in-peer-connection), as the pion-based LiveKit tests
// run. Still inside a namespace of its own, so Chromium sees no interface of the machine.
func TestSpeakerLoopback(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		srv := lkserver.Start(t, lkserver.Config{})
		s := Speaker(t, Options{URL: srv.URL, Token: joinToken(t, "lo", "carol"), WAV: toneFile(t, 440, 0.5)})
		pub := s.Published()
		waitServer(t, srv.HTTPURL, "lo", "carol publishes over loopback", func(ps map[string]participant) bool {
			return publishes(ps, "carol", pub.TrackSID, false)
		})
		// RTP keeps flowing: the sender's count grows.
		time.Sleep(200 * time.Millisecond)
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.PacketsSent <= pub.PacketsSent {
			t.Errorf("packets sent: %d at publish, %d 200 ms later", pub.PacketsSent, st.PacketsSent)
		}
	})
}
