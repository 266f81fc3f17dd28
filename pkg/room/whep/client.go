// Package whep records rooms served over WHEP, the WebRTC-HTTP Egress Protocol
// (draft-ietf-wish-whep-02, built on RFC 9725 WHIP's HTTP rules): Dial is the recorder's WHEP
// player. The endpoint that serves local audio tracks (the embedded demo room's and the tests'
// server) is package whepserver.
//
// WHEP carries media only: no participant list and no messages. A speaker's identity is the msid
// stream id of its track. One session carries one audio track (draft §4.6.2); spacecast's server
// advertises more with the audio-tracks link (AudioTracksRel) and Dial then offers as many.
package whep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// MaxSDP bounds the SDP bodies read from the network (the player's answers, the server's offers).
const MaxSDP = 64 << 10

// Options configures Dial.
type Options struct {
	room.Options
	// BearerToken, when set, goes in an Authorization header on every request (§4.9.1).
	BearerToken string
	RTC         rtc.Options
	// Tracks is how many recvonly audio m-lines the offer carries. 0 offers one, as WHEP allows,
	// and as many as the endpoint advertises with the audio-tracks link (a second offer).
	Tracks int
	// DialTimeout bounds each HTTP request and the media connection's setup (default 10 s).
	DialTimeout time.Duration
	// HTTPClient sends the requests (default: a client that follows 307/308 redirects, §4.7).
	HTTPClient *http.Client
}

// Conn is a WHEP session the recorder plays, and the sessions it opens again after losing one
// (its attempts, run by a room.Supervisor).
type Conn struct {
	opts     Options
	endpoint *url.URL
	api      *webrtc.API
	hc       *http.Client
	tracks   int // audio m-lines to offer
	sup      *room.Supervisor

	mu    sync.Mutex
	byMid map[string]string
	known map[string]bool
}

var _ room.Conn = (*Conn)(nil)

// Dial plays the WHEP endpoint at rawURL: it offers recvonly Opus, sets up the media connection and
// returns once it is up. Errors wrap room.ErrURL (not an http(s) URL, not a WHEP endpoint),
// room.ErrAuth (401/403), room.ErrNoRoom (404), room.ErrEmptyRoom (409, or no audio in the answer),
// room.ErrUnreachable (no answer, or no media path). With Wait, a missing or empty stream is
// retried until Wait has passed.
func Dial(ctx context.Context, rawURL string, o Options) (*Conn, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.Tracks < 0 || o.Tracks > MaxTracks {
		return nil, fmt.Errorf("whep: %d tracks: offer between 1 and %d (0 asks the endpoint)", o.Tracks, MaxTracks)
	}
	api, err := rtc.NewAPI(o.RTC)
	if err != nil {
		return nil, err
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	c := &Conn{opts: o, endpoint: u, api: api, hc: room.SameOriginRedirects(hc, func(r *http.Request) bool { return r.Header.Get("Authorization") != "" }), tracks: max(o.Tracks, 1),
		byMid: map[string]string{}, known: map[string]bool{}}
	c.sup = room.NewSupervisor(shown(u), room.ConnectWith(c.connect), o.Options)
	deadline := time.Now().Add(o.Wait)
	for {
		a, err := c.connect(ctx)
		if err == nil {
			c.sup.Begin(a)
			return c, nil
		}
		if !errors.Is(err, room.ErrNoRoom) && !errors.Is(err, room.ErrEmptyRoom) || o.Wait <= 0 {
			return nil, err
		}
		wait := time.Second
		var ra *retryAfter
		if errors.As(err, &ra) && ra.after > 0 {
			wait = ra.after
		}
		if time.Now().Add(wait).After(deadline) {
			return nil, &room.WaitError{Room: shown(u), Waited: o.Wait, Err: err}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// ParseURL checks that rawURL can be a WHEP endpoint: an http or https URL with a host.
func ParseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, which may carry a key
		}
		return nil, fmt.Errorf("%w: the endpoint URL does not parse: %v (a WHEP endpoint is an http:// or https:// URL)", room.ErrURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %q: a WHEP endpoint is an http:// or https:// URL, not %q", room.ErrURL, shown(u), u.Scheme+":")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %q has no host (use http://HOST:PORT/PATH of the WHEP endpoint)", room.ErrURL, shown(u))
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: %q", ErrURLCredentials, shown(u))
	}
	u.Fragment = ""
	return u, nil
}

// shown is a URL for an error or a log: without credentials (session.RedactURL).
func shown(u *url.URL) string {
	return room.ShowURL(u.String())
}

// deliver calls f with the sink, or queues it until Run has one.
func (c *Conn) deliver(f func(room.Sink)) { c.sup.Deliver(f) }

// Run delivers the speakers' tracks to sink until ctx ends (nil), the server ends the session
// (room.ErrRoomClosed), or the media connection stays lost longer than ReconnectTimeout
// (room.ErrLost). A lost connection is opened again with a new offer (room.Supervisor).
func (c *Conn) Run(ctx context.Context, sink room.Sink) error { return c.sup.Run(ctx, sink) }

func (c *Conn) event(e capture.Event) {
	if c.opts.Events != nil {
		c.opts.Events(e)
	}
}

// Announce returns room.ErrNoMessages: WHEP carries media only, so nobody in the room can be told
// that a recording started.
func (c *Conn) Announce(ctx context.Context, text string) error {
	return fmt.Errorf("whep: %w: WHEP carries no messages or participant list, so the room cannot be told it is recorded", room.ErrNoMessages)
}

// Close ends the session (HTTP DELETE, §4.3); the sources handed to the sink end. It is safe to
// call more than once.
func (c *Conn) Close() error { return c.sup.Close() }
