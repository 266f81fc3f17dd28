// Package janus joins a room on a Janus WebRTC server (its AudioBridge or VideoRoom plugin) through
// the Janus HTTP API, as a participant that sends nothing, and hands the room's Opus audio to a
// room.Sink: one track per VideoRoom publisher, or AudioBridge's server-side mix.
//
// The recorder is visible in the room under its display name. In a VideoRoom it announces the
// recording on a data channel of its own (a feed with no audio); AudioBridge carries no text, so
// Announce returns room.ErrNoMessages there.
package janus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// Plugins Options.Plugin names.
const (
	AudioBridge = "audiobridge"
	VideoRoom   = "videoroom"
)

// MixIdentity and MixName are the participant AudioBridge's mixed track is recorded as.
const (
	MixIdentity = "audiobridge-mix"
	MixName     = "Room mix (server-side)"
)

// Options configures Dial.
type Options struct {
	room.Options
	// Room is the room id: digits for a numeric id, anything else for a string id (Janus
	// string_ids).
	Room string
	// Plugin is AudioBridge, VideoRoom or "": ask both plugins for the room and take the one that
	// has it (if both do, the one with a speaker; VideoRoom when that does not decide).
	Plugin string
	// APISecret is the server's api_secret, Token a stored token (token_auth), if it needs one.
	APISecret, Token string
	// PIN is the room's pin, if it has one.
	PIN string
	RTC rtc.Options

	iv intervals // zero: the defaults; this package's tests shorten them
}

// pollEvery is how often Dial asks again while it waits for the room or a speaker.
const pollEvery = 500 * time.Millisecond

// conn is a joined Janus room.
type conn struct {
	opts   Options
	cl     *client
	rawURL string
	api    *webrtc.API
	plugin string // AudioBridge or VideoRoom, once known
	room   jid

	tasks  *queue[task] // work for Run's goroutine from pion callbacks and subscribers
	roster *roster      // Run's goroutine only

	mu       sync.Mutex // guards the fields below
	sess     *apiSession
	handle   uint64 // the recorder's own plugin handle
	gen      int    // counts sessions: work for an older one is dropped
	selfID   jid
	privID   uint64
	pc       *webrtc.PeerConnection // AudioBridge's mix
	data     *dataFeed              // VideoRoom: the recorder's data-only feed (announcements)
	lastAnn  []byte                 // the latest announcement's JSON
	subs     map[string]*subscriber // VideoRoom: by feed/mid
	byHandle map[uint64]*subscriber
	closed   bool
	done     chan struct{}

	sup       *room.Supervisor
	leaveOnce sync.Once
}

// task is work Run's goroutine does for another goroutine; an error ends Run.
type task func(ctx context.Context, sink room.Sink) error

var (
	_ room.Conn        = (*conn)(nil)
	_ room.ServerMixer = (*conn)(nil)
)

// Dial joins the room. A URL that is not a Janus HTTP API endpoint is room.ErrURL, a server that
// cannot be reached room.ErrUnreachable, refused credentials room.ErrAuth. Without Wait, a room
// neither plugin has is room.ErrNoRoom and a room without a speaker room.ErrEmptyRoom; with Wait,
// Dial waits up to that long for both.
func Dial(ctx context.Context, httpURL string, opts Options) (room.Conn, error) {
	base, err := endpoint(httpURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(opts.Room) == "" {
		return nil, fmt.Errorf("janus: %s: %w (a Janus room is named by the id the server configures)", base, room.ErrNoRoomName)
	}
	switch opts.Plugin {
	case "", AudioBridge, VideoRoom:
	default:
		return nil, fmt.Errorf("janus: plugin %q is not supported (use %q, %q, or leave it empty to detect)", opts.Plugin, AudioBridge, VideoRoom)
	}
	if opts.Identity.Identity == "" {
		opts.Identity.Identity = room.DefaultIdentity.Identity
	}
	if opts.Identity.Name == "" {
		opts.Identity.Name = room.DefaultIdentity.Name
	}
	api, err := rtc.NewAPI(opts.RTC)
	if err != nil {
		return nil, fmt.Errorf("janus: %w", err)
	}
	c := &conn{
		opts:     opts,
		cl:       newClient(base, opts.APISecret, opts.Token, opts.iv),
		rawURL:   base,
		api:      api,
		plugin:   opts.Plugin,
		room:     parseRoomID(strings.TrimSpace(opts.Room)),
		tasks:    newQueue[task](),
		roster:   newRoster(),
		subs:     map[string]*subscriber{},
		byHandle: map[uint64]*subscriber{},
		done:     make(chan struct{}),
	}
	c.sup = room.NewSupervisor(fmt.Sprintf("%s: room %s", base, c.room), c.again, opts.Options)
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	sess, err := c.cl.createSession(rctx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("janus: %w", err)
	}
	c.sess = sess
	fail := func(err error) (room.Conn, error) {
		c.Close()
		return nil, fmt.Errorf("janus: %w", err)
	}
	handle, err := c.findRoom(ctx, sess)
	if err != nil {
		return fail(err)
	}
	c.mu.Lock()
	c.handle = handle
	c.mu.Unlock()
	rctx, cancel = context.WithTimeout(ctx, requestTimeout)
	initial, err := c.join(rctx, sess, handle)
	cancel()
	if err != nil {
		return fail(err)
	}
	c.sup.Begin(&attempt{c: c, sess: sess, initial: initial})
	return c, nil
}

// endpoint checks the user's URL and returns the Janus API endpoint (path /janus when none is given).
func endpoint(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, which may carry a secret
		}
		return "", fmt.Errorf("janus: the URL does not parse: %w: %v (expected http://HOST:8088/janus)", room.ErrURL, err)
	}
	shown := *u // for the errors below: without credentials
	shown.User, shown.RawQuery, shown.ForceQuery, shown.Fragment, shown.RawFragment = nil, "", false, "", ""
	raw = shown.String()
	switch u.Scheme {
	case "http", "https":
	case "ws", "wss":
		return "", fmt.Errorf("janus: %q: %w: spacecast speaks Janus's HTTP API, not its WebSocket one (use http://HOST:8088/janus)", raw, room.ErrURL)
	default:
		return "", fmt.Errorf("janus: %q: %w: the scheme must be http or https (expected http://HOST:8088/janus)", raw, room.ErrURL)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("janus: %q: %w: no host (expected http://HOST:8088/janus)", raw, room.ErrURL)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/janus"
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment, u.User = "", "", "", nil
	return u.String(), nil
}

func pluginName(p string) string { return "janus.plugin." + p }

// findRoom finds the plugin that has the room (asking both when none was given) and waits, up to
// Wait, for the room to exist and have a speaker. It returns a handle attached to that plugin.
func (c *conn) findRoom(ctx context.Context, sess *apiSession) (uint64, error) {
	plugins := []string{VideoRoom, AudioBridge}
	if c.plugin != "" {
		plugins = []string{c.plugin}
	}
	handles := map[string]uint64{}
	var attachErr error
	for _, p := range plugins {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		h, err := sess.attach(rctx, pluginName(p))
		cancel()
		var ae *apiError
		switch {
		case err == nil:
			handles[p] = h
		case errors.As(err, &ae) && ae.Code == codePluginNotFound:
			attachErr = fmt.Errorf("%s: the server has no %s plugin (%w)", c.rawURL, p, err)
		default:
			return 0, err
		}
	}
	if len(handles) == 0 {
		return 0, attachErr
	}
	// The room's id as each plugin takes it: a plugin with string_ids wants digits as a string.
	ids := map[string]jid{}
	for p := range handles {
		ids[p] = c.room
	}
	deadline := time.Now().Add(c.opts.Wait)
	for {
		var withRoom, withSpeaker []string
		for _, p := range plugins {
			h, ok := handles[p]
			if !ok {
				continue
			}
			id, exists, speakers, err := c.probe(ctx, sess, p, h, ids[p])
			if err != nil {
				return 0, err
			}
			ids[p] = id
			if exists {
				withRoom = append(withRoom, p)
			}
			if speakers {
				withSpeaker = append(withSpeaker, p)
			}
		}
		chosen := ""
		if len(withSpeaker) > 0 {
			chosen = withSpeaker[0]
		} else if len(withRoom) > 0 && time.Now().After(deadline) {
			return 0, c.waited(fmt.Errorf("%s: room %s (%s): %w", c.rawURL, c.room, strings.Join(withRoom, ", "), room.ErrEmptyRoom))
		} else if time.Now().After(deadline) {
			where := "neither the VideoRoom nor the AudioBridge plugin has it"
			if len(handles) == 1 {
				for p := range handles {
					where = "the " + p + " plugin does not have it"
				}
			}
			return 0, c.waited(fmt.Errorf("%s: room %s: %w: %s", c.rawURL, c.room, room.ErrNoRoom, where))
		}
		if chosen != "" {
			c.plugin, c.room = chosen, ids[chosen]
			for p, h := range handles {
				if p != chosen {
					rctx, cancel := context.WithTimeout(ctx, requestTimeout)
					sess.detach(rctx, h)
					cancel()
				}
			}
			return handles[chosen], nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-sess.lost:
			return 0, fmt.Errorf("%s: %w", c.rawURL, sess.lostErr())
		case <-time.After(pollEvery):
		}
	}
}

// waited is err after waiting for the room (a *room.WaitError), or err itself without a wait.
func (c *conn) waited(err error) error {
	if c.opts.Wait > 0 {
		return &room.WaitError{Room: c.room.String(), Waited: c.opts.Wait, Err: err}
	}
	return err
}

// probe asks a plugin whether it has the room and whether anyone speaks in it (a VideoRoom
// publisher, any AudioBridge participant). It returns the room's id in the form the plugin takes.
func (c *conn) probe(ctx context.Context, sess *apiSession, plugin string, h uint64, id jid) (_ jid, exists, speakers bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	ev, _, err := sess.request(rctx, h, map[string]any{"request": "exists", "room": id}, nil)
	var pe *pluginError
	if errors.As(err, &pe) && (pe.Code == vrInvalidElement || pe.Code == abInvalidElement) && !id.str {
		// The plugin uses string ids (string_ids = true): ask again with the digits as a string.
		id = stringID(id.s)
		ev, _, err = sess.request(rctx, h, map[string]any{"request": "exists", "room": id}, nil)
	}
	if err != nil {
		return id, false, false, fmt.Errorf("%s: asking %s for room %s: %w", c.rawURL, plugin, id, err)
	}
	if ev.Exists == nil || !*ev.Exists {
		return id, false, false, nil
	}
	ev, _, err = sess.request(rctx, h, map[string]any{"request": "listparticipants", "room": id}, nil)
	if err != nil {
		// The list is not ours to see (a private room): let the join tell.
		return id, true, true, nil
	}
	for _, p := range ev.Participants {
		// A publisher under the recorder's own display name is a recorder (its data-only feed of
		// announcements), not a speaker.
		if plugin == AudioBridge || (p.Publisher && p.Display != c.opts.Identity.Name) {
			return id, true, true, nil
		}
	}
	return id, true, false, nil
}

// join joins the room on handle (Dial, and again after a reconnect) and returns the answer.
func (c *conn) join(ctx context.Context, sess *apiSession, handle uint64) (*pluginEvent, error) {
	if c.plugin == AudioBridge {
		return c.joinAudioBridge(ctx, sess, handle)
	}
	return c.joinVideoRoom(ctx, sess, handle)
}

// joinError turns a plugin's refusal to let the recorder in into the error a user can act on.
func (c *conn) joinError(err error) error {
	var pe *pluginError
	if errors.As(err, &pe) {
		switch pe.Code {
		case vrNoSuchRoom, abNoSuchRoom:
			return fmt.Errorf("%s: room %s: %w (%v)", c.rawURL, c.room, room.ErrNoRoom, err)
		case vrUnauthorized, abUnauthorized:
			return fmt.Errorf("%s: room %s: %w: %w: %v", c.rawURL, c.room, room.ErrAuth, room.ErrPIN, err)
		}
	}
	return fmt.Errorf("%s: joining room %s (%s): %w", c.rawURL, c.room, c.plugin, err)
}

func (c *conn) joinBody(body map[string]any) map[string]any {
	body["room"] = c.room
	body["display"] = c.opts.Identity.Name
	if c.opts.PIN != "" {
		body["pin"] = c.opts.PIN
	}
	return body
}

// Run applies the room's events to sink until ctx ends, the room closes or the connection is lost
// for longer than ReconnectTimeout (room.Supervisor).
func (c *conn) Run(ctx context.Context, sink room.Sink) error { return c.sup.Run(ctx, sink) }

func (c *conn) event(e capture.Event) {
	if c.opts.Events != nil {
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		c.opts.Events(e)
	}
}

// Close leaves the room: every source ends, and the session is destroyed on the server.
func (c *conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	c.mu.Unlock()
	c.sup.Close()
	c.leave() // Dial failed before its attempt began
	return nil
}

// leave drops every PeerConnection and destroys the current session, once.
func (c *conn) leave() {
	c.leaveOnce.Do(func() {
		c.teardown()
		c.mu.Lock()
		sess := c.sess
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		sess.close(ctx, true)
	})
}

// answer answers an offer on pc once its candidates are gathered (the recorder does not trickle).
func answer(ctx context.Context, pc *webrtc.PeerConnection, offer *jsep) (*jsep, error) {
	if offer == nil || offer.Type != "offer" {
		return nil, errors.New("the server sent no offer")
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		return nil, fmt.Errorf("the server's offer: %w", err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, fmt.Errorf("gathering ICE candidates: %w", ctx.Err())
	}
	return &jsep{Type: "answer", SDP: pc.LocalDescription().SDP}, nil
}

// ServerMixes reports whether the server mixes the room into one track (AudioBridge): the
// recorder then cannot tell speakers apart, so per-speaker consent (opt-in, exclusions) cannot
// be honoured. Known once Dial has returned.
func (c *conn) ServerMixes() bool { return c.plugin == AudioBridge }
