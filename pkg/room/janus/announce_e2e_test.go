package janus

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil/janusserver"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/session"
)

// A pion participant subscribes to the recorder's feed in a VideoRoom and receives each
// announcement as a text line and a JSON message on its data channel; one who subscribes later
// gets the latest announcement's JSON when it is repeated. The recorder's data-only feed is never
// recorded, as a track or as a participant.
func TestVideoRoomAnnounces(t *testing.T) {
	t.Parallel()
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		const announceRepeat = 700 * time.Millisecond
		j := startJanus(t, ns)
		alice := newSpeaker(t, ns, j.URL, VideoRoom, vrRoom, "Alice", 440)
		alice.Publish()

		rec := newRecording(t, j.URL)
		conn, err := Dial(context.Background(), j.URL, Options{
			Options: room.Options{Identity: room.Identity{Identity: "rec-test", Name: recName}, Events: rec.add},
			Room:    vrRoom, Plugin: VideoRoom, RTC: testRTC(ns), iv: intervals{announceRepeat: announceRepeat},
		})
		if err != nil {
			t.Fatal(err)
		}
		dialed := time.Now()
		stop := runConn(t, conn, rec)
		// record announces right after Run starts: Announce waits for the recorder's channel to open.
		c := asConn(conn)
		c.mu.Lock()
		f := c.data
		c.mu.Unlock()
		select {
		case <-f.open:
			t.Logf("the recorder's data channel opened %v after Dial returned", time.Since(dialed).Round(time.Millisecond))
		case <-f.ended:
			t.Fatalf("the recorder's data feed: %v", f.err)
		case <-time.After(5 * time.Second):
			t.Fatal("the recorder's data channel did not open within 5 s of Dial")
		}
		rec.speakerJoined("Alice", 1)

		listener := janusserver.NewListener(t, ns, j.URL, vrRoom, recName)
		for _, c := range []struct{ text, typ string }{
			{"⏺ recording started by spacecast", "recording-started"},
			{"⏸ recording paused", "recording-paused"},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			sent := time.Now()
			err := conn.Announce(ctx, c.text)
			cancel()
			if err != nil {
				t.Fatalf("Announce(%q): %v", c.text, err)
			}
			// The text line, then its JSON; repeats of the previous announcement's JSON may come first.
			next := func() string {
				select {
				case m := <-listener.Messages:
					return m
				case <-time.After(5 * time.Second):
					t.Fatalf("after Announce(%q) the listener got nothing more within 5 s", c.text)
					return ""
				}
			}
			m := next()
			for ; m != c.text; m = next() {
				var a Announcement
				if json.Unmarshal([]byte(m), &a) != nil || a.Type == c.typ {
					t.Fatalf("before %q the listener got %q, want only repeats of the previous JSON", c.text, m)
				}
			}
			got := []string{m, next()}
			t.Logf("%q: received %v after Announce was called", c.text, time.Since(sent).Round(time.Millisecond))
			var a Announcement
			if err := json.Unmarshal([]byte(got[1]), &a); err != nil {
				t.Errorf("second message %q is not JSON: %v", got[1], err)
			} else if want := (Announcement{Type: c.typ, Message: c.text, Recorder: "rec-test"}); a != want {
				t.Errorf("JSON %+v, want %+v", a, want)
			}
		}
		for len(listener.Labels) > 0 {
			t.Logf("listener's data channel %q", <-listener.Labels)
		}

		// Someone who subscribes now learns the recording's state from the repeated JSON (no text line).
		late := janusserver.NewListener(t, ns, j.URL, vrRoom, recName)
		select {
		case m := <-late.Messages:
			var a Announcement
			if json.Unmarshal([]byte(m), &a) != nil || a.Type != "recording-paused" {
				t.Errorf("a late listener got %q, want the JSON of recording-paused", m)
			}
		case <-time.After(3 * announceRepeat):
			t.Errorf("a late listener got nothing within %v (the JSON is repeated every %v)", 3*announceRepeat, announceRepeat)
		}

		// The room lists the recorder under its name, as a publisher (of data only).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ev, err := ask(ctx, alice, map[string]any{"request": "listparticipants", "room": parseRoomID(vrRoom)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		seen := false
		for _, p := range ev.Participants {
			seen = seen || (p.Display == recName && p.Publisher)
		}
		if !seen {
			t.Errorf("the room's participants %+v do not show the recorder as %q", ev.Participants, recName)
		}

		// With Alice gone, the recorder's data-only feed does not make the room one with a speaker
		// for another recorder.
		aliceID := rec.identity("Alice")
		alice.Leave()
		rec.left(func() string { return aliceID }, 1)
		if c2, err := Dial(context.Background(), j.URL, Options{Options: room.Options{Identity: room.Identity{Name: recName}},
			Room: vrRoom, Plugin: VideoRoom, RTC: testRTC(ns)}); !errors.Is(err, room.ErrEmptyRoom) {
			t.Errorf("a second recorder's Dial: %v, want room.ErrEmptyRoom (only a recorder publishes)", err)
			if c2 != nil {
				c2.Close()
			}
		}

		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		for _, e := range rec.snapshot() {
			if e.Type == "error" || e.Name == recName {
				t.Errorf("unexpected event %+v", e)
			}
		}
		s, err := session.Open(rec.Dir())
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if len(m.Participants) != 1 || m.Participants[0].Name != "Alice" || len(m.Tracks) != 1 {
			t.Errorf("participants %s and %d tracks, want Alice alone with one track", names(m), len(m.Tracks))
		}
	})
}
