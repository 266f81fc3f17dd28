// Package livekit joins LiveKit rooms as spacecast's recorder: its own client of LiveKit's
// signalling protocol (protobuf over WebSocket, github.com/livekit/protocol) on pion/webrtc v3.
//
// spacecast does not use server-sdk-go: its last release on pion v3 (v2.3.1) takes no pion
// SettingEngine, so it cannot be kept to loopback or a test's interfaces, and it negotiates RED,
// video and simulcast a recorder does not want. The recorder answers with Opus only (so the file
// holds the Opus packets the speaker sent), asks for NACK retransmission, reads the sender reports
// that put every track on one clock, and on a lost connection joins again from scratch, so a
// restarted server is survived the same way as a dead network.
package livekit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	lkp "github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

var errRoomClosed = room.ErrRoomClosed

// Options configures Dial.
type Options struct {
	room.Options
	// Room is the room's name. Required with APIKey/APISecret; with a Token the token names it.
	Room string
	// Token is a join token; without one, APIKey and APISecret mint a recorder token.
	Token             string
	APIKey, APISecret string
	RTC               rtc.Options
	// DialTimeout bounds each connection attempt (default 10 s).
	DialTimeout time.Duration
}

// Conn is a LiveKit room joined by the recorder. Its attempts (one joined connection each) run
// under a room.Supervisor, which reconnects.
type Conn struct {
	opts  Options
	base  *url.URL
	token string
	api   *webrtc.API
	sup   *room.Supervisor

	changed chan struct{} // pinged when the set of speakers may have changed
}

// Dial joins the room. Without Wait, a room the server does not have (checked when API
// credentials are given) is room.ErrNoRoom and a room without a speaker is room.ErrEmptyRoom;
// with Wait, it waits up to that long for both.
func Dial(ctx context.Context, rawURL string, o Options) (*Conn, error) {
	base, err := normalizeURL(rawURL)
	if err != nil {
		return nil, err
	}
	if o.Identity.Identity == "" {
		o.Identity = room.DefaultIdentity
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	token := o.Token
	if token == "" {
		if o.APIKey == "" || o.APISecret == "" {
			return nil, fmt.Errorf("%w: LiveKit needs a join token, or an API key and secret to mint one", room.ErrAuth)
		}
		if o.Room == "" {
			return nil, fmt.Errorf("%w: %w: LiveKit mints a token for one room", room.ErrURL, room.ErrNoRoomName)
		}
		if token, err = RecorderToken(o.APIKey, o.APISecret, o.Room, o.Identity, 24*time.Hour); err != nil {
			return nil, err
		}
	}
	api, err := rtc.NewAPI(o.RTC)
	if err != nil {
		return nil, err
	}
	c := &Conn{opts: o, base: base, token: token, api: api, changed: make(chan struct{}, 1)}
	name := o.Room
	if name == "" {
		name = room.ShowURL(rawURL)
	}
	c.sup = room.NewSupervisor(name, room.ConnectWith(c.connect), o.Options)
	deadline := time.Now().Add(o.Wait)
	if o.APIKey != "" && o.APISecret != "" && o.Room != "" {
		if err := c.waitRoom(ctx, deadline); err != nil {
			return nil, err
		}
	}
	a, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	// A track published a moment ago may reach the recorder in an update just after the join
	// response: give the room a short grace before calling it empty.
	if grace := time.Now().Add(2 * time.Second); deadline.Before(grace) {
		deadline = grace
	}
	for a.speakers() == 0 {
		left := time.Until(deadline)
		if left <= 0 {
			a.close(true)
			err := fmt.Errorf("%w: nobody publishes audio in %q yet", room.ErrEmptyRoom, roomName(a))
			if o.Wait > 0 {
				return nil, &room.WaitError{Room: roomName(a), Waited: o.Wait, Err: err}
			}
			return nil, err
		}
		select {
		case <-c.changed:
		case err := <-a.fail:
			a.close(false)
			return nil, fmt.Errorf("livekit: while waiting for a speaker: %w", err)
		case <-time.After(min(left, time.Second)):
		case <-ctx.Done():
			a.close(true)
			return nil, ctx.Err()
		}
	}
	c.sup.Begin(a)
	return c, nil
}

func roomName(a *attempt) string {
	if r := a.join.GetRoom(); r != nil {
		return r.Name
	}
	return ""
}

// waitRoom asks RoomService whether the room exists, until the deadline.
func (c *Conn) waitRoom(ctx context.Context, deadline time.Time) error {
	admin, err := adminToken(c.opts.APIKey, c.opts.APISecret)
	if err != nil {
		return err
	}
	for {
		ok, err := c.roomExists(ctx, admin)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			err := fmt.Errorf("%w: the server has no room %q", room.ErrNoRoom, c.opts.Room)
			if c.opts.Wait > 0 {
				return &room.WaitError{Room: c.opts.Room, Waited: c.opts.Wait, Err: err}
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (c *Conn) roomExists(ctx context.Context, admin string) (bool, error) {
	body, _ := json.Marshal(map[string]any{"names": []string{c.opts.Room}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, httpBase(c.base)+"/twirp/livekit.RoomService/ListRooms", bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("%w: %v", room.ErrURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	hc := room.SameOriginRedirects(&http.Client{Timeout: c.opts.DialTimeout}, func(*http.Request) bool { return true })
	resp, err := hc.Do(req)
	if err != nil {
		return false, fmt.Errorf("%w: %s: %v", room.ErrUnreachable, c.base.Host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return false, fmt.Errorf("%w (HTTP %d to RoomService.ListRooms with the API key and secret)", room.ErrAuth, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("%w: %s answered HTTP %d to RoomService.ListRooms: %s", room.ErrUnreachable, c.base.Host, resp.StatusCode, room.Excerpt(b, 200))
	}
	var list struct {
		Rooms []struct {
			Name string `json:"name"`
		} `json:"rooms"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return false, fmt.Errorf("livekit: RoomService.ListRooms: %w", err)
	}
	for _, r := range list.Rooms {
		if r.Name == c.opts.Room {
			return true, nil
		}
	}
	return false, nil
}

func (c *Conn) speakersChanged() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// deliver calls f with the sink, or queues it until Run has one.
func (c *Conn) deliver(f func(room.Sink)) { c.sup.Deliver(f) }

// Run delivers the room to sink until ctx ends, the room closes, or the connection stays lost
// longer than the reconnect timeout (room.Supervisor.Run).
func (c *Conn) Run(ctx context.Context, sink room.Sink) error { return c.sup.Run(ctx, sink) }

// current is the attempt being served.
func (c *Conn) current() *attempt {
	a, _ := c.sup.Current().(*attempt)
	return a
}

// Announcement is the JSON spacecast sends on the data topic AnnounceTopic.
type Announcement struct {
	Type     string `json:"type"` // "recording-started", "recording-stopped", "recording-paused", "recording-resumed"
	Message  string `json:"message"`
	Recorder string `json:"recorder"`
}

// AnnounceTopic is the data topic of machine-readable announcements; ChatTopic carries the same
// text as a chat message for apps built on LiveKit's components.
const (
	AnnounceTopic = "spacecast.recording"
	ChatTopic     = "lk-chat-topic"
)

// Announce sends text to everyone in the room, as a chat message and as a spacecast announcement.
func (c *Conn) Announce(ctx context.Context, text string) error {
	a := c.current()
	typ := "recording-started"
	for _, w := range []string{"stopped", "paused", "resumed"} {
		if bytes.Contains([]byte(text), []byte(w)) {
			typ = "recording-" + w
		}
	}
	ann, _ := json.Marshal(Announcement{Type: typ, Message: text, Recorder: c.opts.Identity.Identity})
	chat, _ := json.Marshal(map[string]any{"id": fmt.Sprint(time.Now().UnixNano()), "timestamp": time.Now().UnixMilli(), "message": text})
	for _, m := range []struct {
		topic string
		b     []byte
	}{{AnnounceTopic, ann}, {ChatTopic, chat}} {
		topic := m.topic
		pkt := &lkp.DataPacket{Kind: lkp.DataPacket_RELIABLE, Value: &lkp.DataPacket_User{User: &lkp.UserPacket{Payload: m.b, Topic: &topic}}}
		if err := a.sendData(ctx, pkt); err != nil {
			return fmt.Errorf("livekit: announce: %w", err)
		}
	}
	return nil
}

// Close leaves the room.
func (c *Conn) Close() error { return c.sup.Close() }

var _ room.Conn = (*Conn)(nil)
