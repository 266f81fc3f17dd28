package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/janus"
	"github.com/spacecast/spacecast/pkg/room/livekit"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/room/whep"
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
	case "janus":
		secret := o.apiSecret
		if secret == os.Getenv("LIVEKIT_API_SECRET") {
			secret = "" // LiveKit's secret from the environment is not Janus's
		}
		return janus.Dial(ctx, rawURL, janus.Options{
			Options: ro, Room: o.room, Plugin: o.plugin, APISecret: secret, Token: o.token, PIN: o.pin, RTC: network,
		})
	case "whep":
		return whep.Dial(ctx, rawURL, whep.Options{Options: ro, BearerToken: o.token, RTC: network})
	}
	return nil, fmt.Errorf("%w: %s", room.ErrNotSupported, proto)
}
