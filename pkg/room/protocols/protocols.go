// Package protocols is the list of room protocols spacecast records: it picks the protocol of a
// room URL (Detect) and dials the room with that protocol's adapter (Dial), so a caller imports
// one package instead of three. Package room cannot hold it: the adapters import room.
//
//	proto, err := protocols.Detect(rawURL, forced) // forced: "" to detect, or "livekit", "janus", "whep"
//	conn, err := protocols.Dial(ctx, proto, rawURL, protocols.DialOptions{Options: ro, Room: name, …})
//	defer conn.Close()
//	err = conn.Run(ctx, recorder)
//
// Detection: a ws:// or wss:// URL is LiveKit; an http(s) URL whose path contains "janus" is the
// Janus HTTP API; any other http(s) URL is a WHEP endpoint. A forced protocol is taken as it is.
//
// DialOptions carries what a caller has; each protocol takes its part:
//
//	LiveKit  Room (required without Token), Token (a join token), APIKey and APISecret (mint one)
//	Janus    Room (the room id), JanusPlugin, JanusAPISecret (the server's api_secret), Token (a
//	         stored token), PIN
//	WHEP     Token (the bearer token)
//
// and all take Options (identity, wait, reconnect timeout, events) and RTC. Janus's api_secret is
// its own field: spacecast's command line reads one API secret option that defaults to LiveKit's
// LIVEKIT_API_SECRET, and a secret that came from that environment variable is LiveKit's, never
// sent to a Janus server. Which value came from where only the caller knows (this package reads
// no environment): it leaves JanusAPISecret empty then.
//
// The list is explicit (Names, Detect, Dial): no adapter registers itself at init time. A new
// protocol is a subpackage of pkg/room implementing room.Attempt under a room.Supervisor, a
// constant here, a case in Detect if its URLs can be told apart, and a case in Dial.
//
// Errors wrap room's (room.ErrURL, room.ErrNotSupported, and what the adapters return) and name
// no command-line flag: ErrBadURL, ErrLiveKitRoom, *SchemeError, *UnknownError.
package protocols

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/janus"
	"github.com/spacecast/spacecast/pkg/room/livekit"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/room/whep"
)

// Protocol names a room protocol, as the session manifest records it (session.Room.Protocol).
type Protocol string

// The protocols spacecast records.
const (
	LiveKit Protocol = "livekit"
	Janus   Protocol = "janus"
	WHEP    Protocol = "whep"
)

// Names lists the protocols, in the order Detect considers them.
func Names() []Protocol { return []Protocol{LiveKit, Janus, WHEP} }

// DialOptions is what Dial passes on to the protocol's adapter (see the package doc for who takes
// what).
type DialOptions struct {
	room.Options
	// Room is LiveKit's room name or Janus's room id.
	Room string
	// Token is LiveKit's join token, Janus's stored token, or WHEP's bearer token.
	Token string
	// APIKey and APISecret are LiveKit's, to mint a recorder token.
	APIKey, APISecret string
	// JanusAPISecret is the Janus server's api_secret, if it has one.
	JanusAPISecret string
	// JanusPlugin is janus.AudioBridge, janus.VideoRoom, or "" to find the room's plugin.
	JanusPlugin string
	// PIN is the Janus room's pin, if it has one.
	PIN string
	RTC rtc.Options
}

// Detect returns forced when it names a protocol, else the protocol of rawURL (see the package
// doc).
func Detect(rawURL, forced string) (Protocol, error) {
	if forced != "" {
		for _, p := range Names() {
			if Protocol(forced) == p {
				return p, nil
			}
		}
		return "", &UnknownError{Name: forced}
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", ErrBadURL
	}
	switch {
	case u.Scheme == "ws" || u.Scheme == "wss":
		return LiveKit, nil
	case (u.Scheme == "http" || u.Scheme == "https") && strings.Contains(strings.ToLower(u.Path), "janus"):
		return Janus, nil
	case u.Scheme == "http" || u.Scheme == "https":
		return WHEP, nil
	}
	return "", &SchemeError{URL: room.ShowURL(rawURL), Scheme: u.Scheme}
}

// Dial joins the room at rawURL with proto's adapter. The Conn may have capabilities beyond
// room.Conn: room.ServerMixer (Janus), and Announce returns room.ErrNoMessages where the protocol
// carries no messages (WHEP, Janus AudioBridge).
func Dial(ctx context.Context, proto Protocol, rawURL string, o DialOptions) (room.Conn, error) {
	switch proto {
	case LiveKit:
		if o.Token == "" && o.Room == "" {
			return nil, ErrLiveKitRoom
		}
		c, err := livekit.Dial(ctx, rawURL, livekit.Options{
			Options: o.Options, Room: o.Room, Token: o.Token, APIKey: o.APIKey, APISecret: o.APISecret, RTC: o.RTC,
		})
		if err != nil {
			return nil, err
		}
		return c, nil
	case Janus:
		return janus.Dial(ctx, rawURL, janus.Options{
			Options: o.Options, Room: o.Room, Plugin: o.JanusPlugin, APISecret: o.JanusAPISecret, Token: o.Token, PIN: o.PIN, RTC: o.RTC,
		})
	case WHEP:
		c, err := whep.Dial(ctx, rawURL, whep.Options{Options: o.Options, BearerToken: o.Token, RTC: o.RTC})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, fmt.Errorf("%w: %w %q", room.ErrNotSupported, ErrUnknown, proto)
}
