// Package room holds what every room protocol adapter shares: the sink adapters deliver to (the
// capture engine), the errors a user must be able to tell apart, and the recorder's identity.
// Adapters live in subpackages (livekit, janus, whep); none of them writes a file.
package room

import (
	"context"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
)

// Sink receives a room: *capture.Recorder implements it.
type Sink interface {
	Join(p capture.Participant)
	Leave(identity string)
	AddTrack(src capture.Source) error
	// BeginGap marks a stretch the recorder cannot hear (reconnecting), from since (when the room
	// was last heard; zero for now); the returned function ends it.
	BeginGap(cause string, since time.Time) (end func())
	// SetConsent delivers a participant's own consent signal (LiveKit: the participant attribute
	// spacecast.consent): given from now on, or withdrawn. reason says where it came from.
	// Adapters whose protocol carries no such signal never call it.
	SetConsent(identity string, given bool, reason string)
}

// Conn is a joined room.
type Conn interface {
	// Run delivers participants and tracks to sink until ctx ends (nil error), the room closes
	// (ErrRoomClosed) or the connection is lost for longer than the reconnect timeout.
	Run(ctx context.Context, sink Sink) error
	// Announce tells the room something ("recording started") where the protocol carries messages;
	// it returns ErrNoMessages where it does not.
	Announce(ctx context.Context, text string) error
	// Close leaves the room; sources handed to the sink end.
	Close() error
}

// Identity is how the recorder shows itself in a room: never hidden.
type Identity struct {
	Identity string // default "spacecast-recorder"
	Name     string // default "⏺ REC spacecast"
}

// DefaultIdentity is the recorder's identity unless the user picks another.
var DefaultIdentity = Identity{Identity: "spacecast-recorder", Name: "⏺ REC spacecast recorder"}

// Options are what every adapter's Dial takes besides its own settings.
type Options struct {
	Identity Identity
	// Wait is how long to wait for the room to open and a first speaker to appear; 0 fails at once
	// on a missing or empty room.
	Wait time.Duration
	// ReconnectTimeout bounds how long Run tries to get back after the network failed (default 2 min).
	ReconnectTimeout time.Duration
	// Events receives reconnecting/reconnected events (may be nil).
	Events func(capture.Event)
}
