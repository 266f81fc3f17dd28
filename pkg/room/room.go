// Package room holds what every room protocol adapter shares: the sink adapters deliver to (the
// capture engine), the Supervisor that runs their connections and reconnects, the errors a user
// must be able to tell apart, the capabilities a Conn may have (Announcer, ServerMixer), and the
// recorder's identity. Adapters live in subpackages (livekit, janus, whep), and keep only their
// protocol; package protocols picks one from a URL and dials it. None of them writes a file.
//
// # Reconnects
//
// One connection to the room is an Attempt: joined, subscribed, feeding the Sink until it drops.
// The Supervisor serves the current attempt; when its connection drops it marks a gap in the
// recording (cause "reconnecting") from when the room was last heard, emits a "reconnecting"
// event with the cause, and joins again, the first try at once and then with backoff (0.25 s
// doubling to 5 s, each wait drawn from the upper half of its step), each try cut off at the
// reconnect timeout. When an attempt is up again the gap ends and "reconnected" carries the
// outage's duration. After Options.ReconnectTimeout (default 2 min) without one, Run returns a
// *LostError (ErrLost) naming the room, the timeout, the cause and the last try's error.
//
// The room gone means one thing for every protocol. At the first join (Dial) a room the server
// does not have is ErrNoRoom (after Options.Wait, a *WaitError). While serving, a room the server
// ends (LiveKit ROOM_DELETED, a Janus "destroyed" event, a WHEP session the server no longer
// has), or that removes the recorder, is ErrRoomClosed. During a reconnect, a room the server no
// longer has (LiveKit 404, Janus "no such room", WHEP 404) ended while the recorder was away:
// ErrRoomClosed too, not a failure. Refused credentials on a reconnect (ErrAuth) end Run.
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
	// (ErrRoomClosed) or the connection is lost for longer than the reconnect timeout (ErrLost).
	Run(ctx context.Context, sink Sink) error
	// Announcer: every adapter has Announce today; a caller that wants to know whether messages
	// reach the room asserts Announcer on a protocol's Conn instead (see Announcer).
	Announcer
	// Close leaves the room; sources handed to the sink end.
	Close() error
}

// Announcer is a Conn that can tell the room something ("recording started").
type Announcer interface {
	// Announce sends text to everyone in the room; it returns ErrNoMessages where the protocol (or
	// the room's plugin) carries no messages.
	Announce(ctx context.Context, text string) error
}

// ServerMixer is a Conn whose server may mix the room into one track (Janus AudioBridge): the
// recorder then cannot tell speakers apart, so per-speaker consent (opt-in, exclusions) cannot be
// honoured. Known once Dial has returned.
type ServerMixer interface {
	ServerMixes() bool
}

// ServerMixes reports whether c's server mixes the room into one track.
func ServerMixes(c Conn) bool {
	m, ok := c.(ServerMixer)
	return ok && m.ServerMixes()
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
