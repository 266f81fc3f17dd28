package whep

import (
	"fmt"

	"github.com/spacecast/spacecast/pkg/room"
)

// ErrURLCredentials is an endpoint URL with credentials in it (user:password@): WHEP takes a bearer
// token (Options.BearerToken, §4.9.1) instead, and a URL is shown in logs. It wraps room.ErrURL.
var ErrURLCredentials = fmt.Errorf("%w: the URL carries credentials: WHEP takes a bearer token instead", room.ErrURL)
