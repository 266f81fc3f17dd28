package capture

import (
	"time"

	"github.com/spacecast/spacecast/pkg/session"
)

// Event is something scripts may want to know while a room is recorded; `spacecast record --json`
// prints one per line.
type Event struct {
	Time time.Time `json:"time"`
	// Type says what happened (the EventKind constants, which say who emits each and what it carries).
	Type     EventKind `json:"type"`
	Identity string    `json:"identity,omitempty"`
	Name     string    `json:"name,omitempty"`
	Track    string    `json:"track,omitempty"`
	// At is the session time of the event in seconds.
	At float64 `json:"at"`
	// Duration of a gap, in seconds.
	Duration float64 `json:"duration,omitempty"`
	Cause    string  `json:"cause,omitempty"`
	Message  string  `json:"message,omitempty"`
}

// EventKind is an Event's type, as `record --json` prints it. Observers must accept kinds they
// do not know.
type EventKind string

// Events of the room and the recording.
const (
	// EventJoined: the recorder is in the room and writing; Message is the session folder.
	// Emitted by the command that runs the recording, not by the Recorder.
	EventJoined EventKind = "joined"
	// EventParticipantJoined: someone came into the room (Recorder.Join); Identity, Name.
	EventParticipantJoined EventKind = "participant-joined"
	// EventParticipantLeft: someone left the room (Recorder.Leave); Identity.
	EventParticipantLeft EventKind = "participant-left"
	// EventSpeakerJoined: a source of someone's audio began (Recorder.AddTrack); Identity, Name,
	// and Track, the track file's id, empty when they are not recorded.
	EventSpeakerJoined EventKind = "speaker-joined"
	// EventSpeakerLeft: that source ended and what it sent is written (the Recorder's loop, or
	// AddTrack when a new source of theirs came first); Identity, Track.
	EventSpeakerLeft EventKind = "speaker-left"
	// EventReconnecting: the room adapter lost its connection and tries again; Cause.
	EventReconnecting EventKind = "reconnecting"
	// EventReconnected: the adapter is back; Duration of the outage in seconds (0 when the
	// adapter does not measure it).
	EventReconnected EventKind = "reconnected"
	// EventGap: a stretch the recorder heard nothing (Recorder.BeginGap's end: a reconnect, a
	// pause); Time is its start, Duration its length in seconds, Cause the gap's cause.
	EventGap EventKind = "gap"
	// EventWarning: something the adapter works around (a server that refused part of the
	// offer); Message.
	EventWarning EventKind = "warning"
	// EventError: something failed (the Recorder: a write, and it stops; an adapter: one track or
	// one request); Message.
	EventError EventKind = "error"
	// EventStopped: Recorder.Close finished; Message is the error when it did not finalize.
	EventStopped EventKind = "stopped"
)

// Events of the consent ledger, emitted by the Recorder as it writes each ledger entry: the kind
// is the entry's type (session.Consent*), Identity its person (empty for paused and resumed), and
// Cause its reason, a session.Reason* code or the free text the caller gave.
const (
	EventRecording        EventKind = session.ConsentRecording
	EventNotRecording     EventKind = session.ConsentNotRecording
	EventExcluded         EventKind = session.ConsentExcluded
	EventConsentGiven     EventKind = session.ConsentGiven
	EventConsentWithdrawn EventKind = session.ConsentWithdrawn
	EventPaused           EventKind = session.ConsentPaused
	EventResumed          EventKind = session.ConsentResumed
)
