package cli

import (
	"context"
	"fmt"

	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/livekit"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// dialRoom joins the room with the protocol's adapter.
func dialRoom(ctx context.Context, proto, rawURL string, o *recordOptions, ro room.Options, network rtc.Options) (room.Conn, error) {
	switch proto {
	case "livekit":
		if o.token == "" && o.room == "" {
			return nil, fmt.Errorf("%w: LiveKit needs --room (and --api-key/--api-secret, or --token)", room.ErrURL)
		}
		return livekit.Dial(ctx, rawURL, livekit.Options{
			Options: ro, Room: o.room, Token: o.token, APIKey: o.apiKey, APISecret: o.apiSecret, RTC: network,
		})
	}
	return nil, fmt.Errorf("%w: %s", room.ErrNotSupported, proto)
}
