package webhook

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// The events that matter here (livekit/protocol webhook/consts.go); the others are ignored.
const (
	EventRoomStarted  = "room_started"
	EventRoomFinished = "room_finished"
)

// Bounds on the fields of an event. LiveKit's own limits are lower or equal (its room names are
// short identifiers; its metadata limit defaults to 64 KiB).
const (
	MaxRoomName     = 256
	MaxRoomSID      = 64
	MaxEventID      = 128
	MaxEventName    = 64
	MaxRoomMetadata = 64 << 10
)

// Event is the part of a LiveKit WebhookEvent (livekit_webhook.proto, protojson: lowerCamelCase
// names, int64 as a string) the receiver acts on. Every field is checked by ParseEvent.
type Event struct {
	ID        string    // the event's unique id ("EV_…"), the same on every retry
	Name      string    // "room_started", "room_finished", "participant_joined", …
	CreatedAt time.Time // when LiveKit made the event (whole seconds); zero when absent
	Room      Room      // for room events
}

// Room is the room an event is about.
type Room struct {
	Name     string
	SID      string // LiveKit's id of this incarnation of the room ("RM_…")
	Metadata string // what the room's creator set; valid UTF-8, never acted on except by Rules
}

// wire is the JSON as LiveKit sends it.
type wire struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt json.RawMessage `json:"createdAt"`
	Room      *struct {
		Name     string `json:"name"`
		SID      string `json:"sid"`
		Metadata string `json:"metadata"`
	} `json:"room"`
}

// ParseEvent reads a webhook body. It refuses anything a LiveKit server does not send: not one
// JSON object, no event name or id, a room event without a room name, and any field too long, not
// UTF-8 or holding control characters. Metadata out of bounds (it may hold line breaks and tabs)
// is dropped, not refused.
func ParseEvent(body []byte) (Event, error) {
	var w wire
	if err := strictJSON(body, &w); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := field("event", w.Event, MaxEventName, false); err != nil {
		return Event{}, err
	}
	if err := field("id", w.ID, MaxEventID, false); err != nil {
		return Event{}, err
	}
	e := Event{ID: w.ID, Name: w.Event}
	if len(w.CreatedAt) > 0 {
		t, err := unixSeconds(w.CreatedAt)
		if err != nil {
			return Event{}, fmt.Errorf("%w: createdAt: %v", ErrMalformed, err)
		}
		e.CreatedAt = t
	}
	if w.Room != nil {
		e.Room = Room{Name: w.Room.Name, SID: w.Room.SID, Metadata: w.Room.Metadata}
	}
	if e.Name != EventRoomStarted && e.Name != EventRoomFinished {
		return e, nil
	}
	if w.Room == nil {
		return Event{}, fmt.Errorf("%w: %s without a room", ErrMalformed, e.Name)
	}
	if err := field("room name", e.Room.Name, MaxRoomName, false); err != nil {
		return Event{}, err
	}
	if e.Room.SID != "" {
		if err := field("room sid", e.Room.SID, MaxRoomSID, false); err != nil {
			return Event{}, err
		}
	}
	// Metadata is the application's, free-form: when it is out of bounds the room is still
	// reported, as a room without metadata (so it cannot ask for recording).
	if e.Room.Metadata != "" && field("room metadata", e.Room.Metadata, MaxRoomMetadata, true) != nil {
		e.Room.Metadata = ""
	}
	return e, nil
}

// field checks one string: present, at most max bytes, UTF-8, no control characters (but for
// line breaks and tab where text is allowed) and no bidi or other format characters.
func field(name, s string, max int, text bool) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: no %s", ErrMalformed, name)
	case len(s) > max:
		return fmt.Errorf("%w: %s of %d bytes (at most %d)", ErrMalformed, name, len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not UTF-8", ErrMalformed, name)
	}
	for _, r := range s {
		if text && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return fmt.Errorf("%w: %s holds control character %U", ErrMalformed, name, r)
		}
	}
	return nil
}

// unixSeconds reads protojson's int64: a decimal string, or (leniently) a bare number.
func unixSeconds(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return time.Time{}, fmt.Errorf("%.32q is not seconds since 1970", s)
	}
	return time.Unix(n, 0), nil
}
