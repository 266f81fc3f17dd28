package livekit_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/livekit"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// consentSink records the consent signals a Conn delivers.
type consentSink struct {
	mu  sync.Mutex
	got []string
	ch  chan struct{}
}

func (s *consentSink) Join(capture.Participant)                {}
func (s *consentSink) Leave(string)                            {}
func (s *consentSink) AddTrack(capture.Source) error           { return nil }
func (s *consentSink) BeginGap(string, time.Time) (end func()) { return func() {} }
func (s *consentSink) SetConsent(id string, given bool, _ string) {
	s.mu.Lock()
	s.got = append(s.got, id+map[bool]string{true: "+", false: "-"}[given])
	s.mu.Unlock()
	s.ch <- struct{}{}
}

// TestConsentAttribute: through a real livekit-server, a speaker setting spacecast.consent=yes,
// then removing it, reaches the recorder's sink as consent given, then withdrawn; and another
// speaker reads the recorder's "recording paused" announcement as a data message.
func TestConsentAttribute(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		url := startLoopbackServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		const roomName = "consent"
		alice := speaker(t, ctx, url, roomName, "alice")
		if _, err := alice.Publish(ctx, "mic"); err != nil {
			t.Fatal(err)
		}
		msgs := alice.Messages()
		conn, err := livekit.Dial(ctx, url, livekit.Options{Room: roomName, APIKey: apiKey, APISecret: apiSecret,
			RTC: rtc.Options{Loopback: true}, Options: room.Options{Wait: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		sink := &consentSink{ch: make(chan struct{}, 16)}
		runCtx, stop := context.WithCancel(ctx)
		runErr := make(chan error, 1)
		go func() { runErr <- conn.Run(runCtx, sink) }()
		wait := func(n int) {
			t.Helper()
			for {
				sink.mu.Lock()
				got := len(sink.got)
				sink.mu.Unlock()
				if got >= n {
					return
				}
				select {
				case <-sink.ch:
				case <-time.After(5 * time.Second):
					t.Fatalf("%d consent signals after 5 s, want %d: %v", got, n, sink.got)
				}
			}
		}
		wait(1) // alice as first seen: no attribute
		if err := alice.SetAttributes(ctx, map[string]string{livekit.ConsentAttribute: "yes"}); err != nil {
			t.Fatal(err)
		}
		wait(2)
		if err := alice.SetAttributes(ctx, map[string]string{livekit.ConsentAttribute: ""}); err != nil {
			t.Fatal(err)
		}
		wait(3)
		sink.mu.Lock()
		if got := sink.got; len(got) != 3 || got[0] != "alice-" || got[1] != "alice+" || got[2] != "alice-" {
			t.Errorf("consent signals %v, want [alice- alice+ alice-]", got)
		}
		sink.mu.Unlock()

		if err := conn.Announce(ctx, "recording paused"); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(5 * time.Second)
		for found := false; !found; {
			select {
			case m := <-msgs:
				var a livekit.Announcement
				if m.Topic == livekit.AnnounceTopic && json.Unmarshal(m.Payload, &a) == nil {
					if a.Type != "recording-paused" || a.Message != "recording paused" {
						t.Errorf("announcement %+v, want recording-paused", a)
					}
					found = true
				}
			case <-deadline:
				t.Fatal("the speaker got no announcement within 5 s")
			}
		}
		stop()
		if err := <-runErr; err != nil {
			t.Fatal(err)
		}
	})
}
