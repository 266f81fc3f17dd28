package webhook

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil/lkserver"
	"github.com/spacecast/spacecast/internal/testutil/lkspeaker"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// TestLiveKit: a real livekit-server sends its webhooks to the Handler on 127.0.0.1. Rooms whose
// name matches the rule, or whose metadata asks, are started once each when a speaker joins (or
// the room is created), with LiveKit's room sid; a room no rule selects is not, nor one whose
// metadata refuses; an Enqueuer failing once gets LiveKit's
// retry and still starts its room once; every deleted room finishes once. It logs LiveKit's delay
// from the speaker's join (and from DeleteRoom) to the Enqueuer's call.
func TestLiveKit(t *testing.T) {
	rec := &recorder{calls: make(chan call, 64)}
	h, err := New(Config{
		Keys:     map[string]string{lkserver.APIKey: lkserver.APISecret},
		Rules:    Rules{Names: []string{"standup-*"}, Metadata: true},
		Enqueuer: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	hookURL := "http://" + l.Addr().String() + "/livekit"
	srv := lkserver.Start(t, lkserver.Config{Webhook: &lkserver.Webhook{URLs: []string{hookURL}}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var pending []call
	await := func(kind, room string) call {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			if i := slices.IndexFunc(pending, func(c call) bool { return c.kind == kind && c.room.Name == room }); i >= 0 {
				c := pending[i]
				pending = slices.Delete(pending, i, i+1)
				return c
			}
			select {
			case c := <-rec.calls:
				pending = append(pending, c)
			case <-deadline:
				t.Fatalf("no %s for room %q in 10 s (calls so far: %+v)", kind, room, pending)
			}
		}
	}
	join := func(room string) {
		t.Helper()
		tok, err := lkspeaker.Token(srv.APIKey, srv.APISecret, room, "speaker-"+room, "Speaker", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		s, err := lkspeaker.Join(ctx, srv.URL, tok, rtc.Options{Loopback: true})
		if err != nil {
			t.Fatalf("join %s: %v", room, err)
		}
		t.Cleanup(s.Close)
	}

	// A speaker opens each room: LiveKit creates it and sends room_started.
	const n = 5
	var startDelays, finishDelays []time.Duration
	sids := map[string]string{}
	for i := range n {
		room := "standup-" + string(rune('a'+i))
		t0 := time.Now()
		join(room)
		c := await(EventRoomStarted, room)
		startDelays = append(startDelays, c.at.Sub(t0))
		if !strings.HasPrefix(c.room.SID, "RM_") {
			t.Errorf("room %s started with sid %q", room, c.room.SID)
		}
		sids[room] = c.room.SID
	}
	join("lobby") // no rule selects it

	// The Enqueuer fails once: the handler answers 503, LiveKit retries, the room starts once.
	rec.mu.Lock()
	rec.failNext = 1
	rec.mu.Unlock()
	t0 := time.Now()
	join("standup-retried")
	retried := await(EventRoomStarted, "standup-retried").at.Sub(t0)
	// A room its creator asks to record, with no speaker yet.
	if err := srv.RoomService(ctx, "CreateRoom", map[string]any{"name": "asked", "metadata": `{"spacecast":{"record":true}}`}, nil); err != nil {
		t.Fatal(err)
	}
	await(EventRoomStarted, "asked")
	// A room whose name matches but whose creator refuses recording.
	if err := srv.RoomService(ctx, "CreateRoom", map[string]any{"name": "standup-private", "metadata": `{"spacecast":{"record":false}}`}, nil); err != nil {
		t.Fatal(err)
	}

	// Deleting a room (its admin closing it) sends room_finished, for recorded rooms and others.
	for i := range n {
		room := "standup-" + string(rune('a'+i))
		t0 := time.Now()
		if err := srv.RoomService(ctx, "DeleteRoom", map[string]any{"room": room}, nil); err != nil {
			t.Fatal(err)
		}
		c := await(EventRoomFinished, room)
		finishDelays = append(finishDelays, c.at.Sub(t0))
		if c.room.SID != sids[room] {
			t.Errorf("room %s finished with sid %q, started with %q", room, c.room.SID, sids[room])
		}
	}
	for _, room := range []string{"lobby", "asked", "standup-retried", "standup-private"} {
		if err := srv.RoomService(ctx, "DeleteRoom", map[string]any{"room": room}, nil); err != nil {
			t.Fatal(err)
		}
		await(EventRoomFinished, room)
	}

	// A forged delivery to the same endpoint is refused and enqueues nothing.
	forged := eventBody(t, EventRoomStarted, "EV_forged", "standup-z", "")
	req, _ := http.NewRequest(http.MethodPost, hookURL, strings.NewReader(string(forged)))
	req.Header.Set("Content-Type", lkType)
	req.Header.Set("Authorization", lkToken(t, lkserver.APIKey, "not-the-server-secret-0123456789abcdef", forged))
	direct := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}} // never a proxy from the environment
	resp, err := direct.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged webhook: HTTP %d, want 401", resp.StatusCode)
	}

	// Nothing else came: no room started twice, lobby never.
	time.Sleep(500 * time.Millisecond)
	for len(rec.calls) > 0 {
		pending = append(pending, <-rec.calls)
	}
	if len(pending) > 0 {
		t.Errorf("calls beyond one start and one finish per room: %+v", pending)
	}
	if s, f := rec.counts(); s != n+2 || f != n+4 {
		t.Errorf("%d RoomStarted, %d RoomFinished; want %d, %d", s, f, n+2, n+4)
	}
	t.Logf("speaker join → RoomStarted: median %s, max %s (%v)", median(startDelays), slices.Max(startDelays), startDelays)
	t.Logf("speaker join → RoomStarted after one 503 and LiveKit's retry: %s", retried)
	t.Logf("DeleteRoom → RoomFinished: median %s, max %s (%v)", median(finishDelays), slices.Max(finishDelays), finishDelays)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
