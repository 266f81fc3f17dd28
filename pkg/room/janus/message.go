package janus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/spacecast/spacecast/pkg/room"
)

// message is one Janus API message (the "janus" field names its kind: success, ack, error,
// event, webrtcup, media, hangup, detached, timeout, keepalive, …). Janus API §"The Janus API".
type message struct {
	Janus       string      `json:"janus"`
	Transaction string      `json:"transaction,omitempty"`
	SessionID   uint64      `json:"session_id,omitempty"`
	Sender      uint64      `json:"sender,omitempty"`
	Data        *idData     `json:"data,omitempty"`
	Error       *apiError   `json:"error,omitempty"`
	PluginData  *pluginData `json:"plugindata,omitempty"`
	JSEP        *jsep       `json:"jsep,omitempty"`
	Reason      string      `json:"reason,omitempty"` // hangup
}

type idData struct {
	ID uint64 `json:"id"`
}

type pluginData struct {
	Plugin string          `json:"plugin"`
	Data   json.RawMessage `json:"data"`
}

// jsep is a session description as Janus carries it.
type jsep struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// apiError is an error of the Janus core (the "error" object of a janus:"error" message).
type apiError struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// Error quotes the server's reason, cut to one line of at most 200 bytes (room.Excerpt).
func (e *apiError) Error() string {
	return fmt.Sprintf("janus error %d: %s", e.Code, room.Excerpt([]byte(e.Reason), 200))
}

// Janus core error codes (janus/apierror.h) that change what the recorder does.
const (
	codeUnauthorized       = 403
	codeUnauthorizedPlugin = 405
	codeSessionNotFound    = 458
	codeHandleNotFound     = 459
	codePluginNotFound     = 460
)

// pluginError is an error a plugin answered with (error_code and error in its data).
type pluginError struct {
	Plugin string
	Code   int
	Reason string
}

func (e *pluginError) Error() string {
	return fmt.Sprintf("%s error %d: %s", room.Excerpt([]byte(e.Plugin), 60), e.Code, room.Excerpt([]byte(e.Reason), 200))
}

// Plugin error codes (janus_videoroom.c and janus_audiobridge.c, "Error codes").
const (
	vrNoSuchRoom     = 426
	vrNoSuchFeed     = 428
	vrInvalidElement = 430
	vrUnauthorized   = 433
	abInvalidElement = 484
	abNoSuchRoom     = 485
	abUnauthorized   = 489
)

// jid is a Janus identifier of a room or participant: a number, or a string where the plugin is
// configured with string_ids. It keeps the form it arrived in so that it goes back the same way.
type jid struct {
	s   string
	str bool
}

func numericID(s string) jid { return jid{s: s} }
func stringID(s string) jid  { return jid{s: s, str: true} }

// parseRoomID reads a room as the user typed it: digits are a numeric id, anything else a string id.
func parseRoomID(s string) jid {
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return numericID(s)
	}
	return stringID(s)
}

func (i jid) String() string { return i.s }
func (i jid) IsZero() bool   { return i.s == "" && !i.str }

func (i jid) MarshalJSON() ([]byte, error) {
	if i.str {
		return json.Marshal(i.s)
	}
	if i.s == "" {
		return []byte("null"), nil
	}
	return []byte(i.s), nil
}

func (i *jid) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*i = jid{}
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*i = stringID(s)
		return nil
	}
	// Janus ids are unsigned integers below 2^53; accept any uint64 written as plain digits.
	if _, err := strconv.ParseUint(string(b), 10, 64); err != nil {
		return fmt.Errorf("id %.40s is neither an unsigned integer nor a string", b)
	}
	*i = numericID(string(b))
	return nil
}

// pluginEvent is the data of a VideoRoom or AudioBridge message: one struct for both, since they
// share most fields. Only what the recorder reads is declared.
type pluginEvent struct {
	VideoRoom   string `json:"videoroom,omitempty"`
	AudioBridge string `json:"audiobridge,omitempty"`
	Room        jid    `json:"room"`
	// ID is the recorder's own id in a "joined" answer; AudioBridge's "joined" notifications about
	// others carry none.
	ID        jid    `json:"id"`
	PrivateID uint64 `json:"private_id,omitempty"`
	Exists    *bool  `json:"exists,omitempty"`
	// Publishers are VideoRoom publishers (joined answer, or an event announcing new ones).
	Publishers []publisher `json:"publishers,omitempty"`
	// Participants are AudioBridge participants, or VideoRoom's listparticipants answer.
	Participants []participant `json:"participants,omitempty"`
	Unpublished  jid           `json:"unpublished"`
	Leaving      jid           `json:"leaving"`
	Kicked       jid           `json:"kicked"`
	Started      string        `json:"started,omitempty"`
	ErrorCode    int           `json:"error_code,omitempty"`
	Error        string        `json:"error,omitempty"`
}

type publisher struct {
	ID      jid      `json:"id"`
	Display string   `json:"display,omitempty"`
	Streams []stream `json:"streams,omitempty"`
	// AudioCodec is set by VideoRoom versions before multistream (0.x), which had no streams.
	AudioCodec string `json:"audio_codec,omitempty"`
}

type stream struct {
	Type     string `json:"type"`
	Mid      string `json:"mid"`
	Codec    string `json:"codec,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
}

// audioMids are the mids of the publisher's Opus audio streams.
func (p *publisher) audioMids() []string {
	var mids []string
	for _, s := range p.Streams {
		if s.Type == "audio" && !s.Disabled && (s.Codec == "" || s.Codec == "opus") {
			mids = append(mids, s.Mid)
		}
	}
	if len(p.Streams) == 0 && p.AudioCodec == "opus" {
		mids = append(mids, "") // 0.x: one audio stream, no mids
	}
	return mids
}

// dataOnly reports whether the publisher publishes data channels and nothing else (a spacecast
// recorder's announcements): not a speaker.
func (p *publisher) dataOnly() bool {
	for _, s := range p.Streams {
		if s.Type != "data" {
			return false
		}
	}
	return len(p.Streams) > 0
}

type participant struct {
	ID        jid    `json:"id"`
	Display   string `json:"display,omitempty"`
	Publisher bool   `json:"publisher,omitempty"` // VideoRoom listparticipants
	Muted     bool   `json:"muted,omitempty"`     // AudioBridge
	Setup     bool   `json:"setup,omitempty"`     // AudioBridge: has a PeerConnection
}

var errNotJanus = errors.New("not a Janus API message")

// parseMessages reads what the Janus HTTP API answers: one message, or an array of them (a long
// poll with maxev). Every message must name its kind.
func parseMessages(b []byte) ([]message, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty body", errNotJanus)
	}
	var msgs []message
	if b[0] == '[' {
		if err := json.Unmarshal(b, &msgs); err != nil {
			return nil, fmt.Errorf("%w: %v", errNotJanus, err)
		}
	} else {
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%w: %v", errNotJanus, err)
		}
		msgs = []message{m}
	}
	for i := range msgs {
		if msgs[i].Janus == "" {
			return nil, fmt.Errorf("%w: message %d has no \"janus\" field", errNotJanus, i)
		}
	}
	return msgs, nil
}

// event decodes a message's plugin data. A plugin error (error_code) is returned as *pluginError.
func (m *message) event() (*pluginEvent, error) {
	if m.PluginData == nil || len(m.PluginData.Data) == 0 {
		return nil, fmt.Errorf("%s message without plugin data", m.Janus)
	}
	var e pluginEvent
	if err := json.Unmarshal(m.PluginData.Data, &e); err != nil {
		return nil, fmt.Errorf("%s data: %w", m.PluginData.Plugin, err)
	}
	if e.ErrorCode != 0 || e.Error != "" {
		return &e, &pluginError{Plugin: m.PluginData.Plugin, Code: e.ErrorCode, Reason: e.Error}
	}
	return &e, nil
}
