package record

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

// The room protocols a recording can dial.
const (
	LiveKit = "livekit"
	Janus   = "janus"
	WHEP    = "whep"
)

// DialOptions are the settings of the adapters beyond room.Options; each takes what it knows.
type DialOptions struct {
	Room      string // LiveKit room name, Janus room ID
	Token     string // LiveKit join token, Janus token, WHEP bearer token
	APIKey    string // LiveKit: mint a token with the key and secret
	APISecret string // LiveKit API secret, Janus admin secret
	Plugin    string // Janus: audiobridge or videoroom ("" finds the room)
	PIN       string // Janus room PIN
	Network   rtc.Options
}

// ProtocolOf is the protocol to dial rawURL with: name when given, else from the URL. WebSocket
// URLs are LiveKit, an http(s) path naming janus is Janus, and any other http(s) URL is WHEP.
func ProtocolOf(rawURL, name string) (string, error) {
	if name != "" {
		switch name {
		case LiveKit, Janus, WHEP:
			return name, nil
		}
		return "", &ProtocolError{Name: name}
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		// The URL is not kept: it may carry a key, and it did not parse, so it cannot be redacted.
		return "", ErrURLNoHost
	}
	switch {
	case u.Scheme == "ws" || u.Scheme == "wss":
		return LiveKit, nil
	case (u.Scheme == "http" || u.Scheme == "https") && strings.Contains(strings.ToLower(u.Path), "janus"):
		return Janus, nil
	case u.Scheme == "http" || u.Scheme == "https":
		return WHEP, nil
	}
	return "", &SchemeError{URL: rawURL, Scheme: u.Scheme}
}

// Dial joins the room at rawURL with the protocol's adapter.
func Dial(ctx context.Context, proto, rawURL string, o DialOptions, ro room.Options) (room.Conn, error) {
	switch proto {
	case LiveKit:
		if o.Token == "" && o.Room == "" {
			return nil, ErrNoRoomName
		}
		return livekit.Dial(ctx, rawURL, livekit.Options{
			Options: ro, Room: o.Room, Token: o.Token, APIKey: o.APIKey, APISecret: o.APISecret, RTC: o.Network,
		})
	case Janus:
		return janus.Dial(ctx, rawURL, janus.Options{
			Options: ro, Room: o.Room, Plugin: o.Plugin, APISecret: o.APISecret, Token: o.Token, PIN: o.PIN, RTC: o.Network,
		})
	case WHEP:
		return whep.Dial(ctx, rawURL, whep.Options{Options: ro, BearerToken: o.Token, RTC: o.Network})
	}
	return nil, fmt.Errorf("record: %w: protocol %s", room.ErrNotSupported, proto)
}
