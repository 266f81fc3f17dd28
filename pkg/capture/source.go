package capture

import "time"

// Source is one remote audio track as a room adapter hands it to the Recorder. It carries no
// protocol: the adapter reads its transport and the Recorder reads bytes.
type Source struct {
	// Participant is the identity of the person speaking on this track.
	Participant string
	// ID names the track in the adapter's terms (LiveKit track SID, Janus feed/mid, WHEP mid), for
	// events and logs.
	ID string
	// Channels is 2 when the sender negotiated stereo Opus (fmtp stereo=1), else 1.
	Channels int
	// PayloadType is the negotiated Opus payload type; packets of any other type are dropped.
	// Zero accepts every payload type.
	PayloadType uint8
	// ReadRTP reads one RTP packet into b. It returns an error once the track has ended.
	ReadRTP func(b []byte) (int, error)
	// ReadRTCP reads one compound RTCP packet into b (sender reports place the track on the session
	// clock). Nil when the transport delivers no RTCP; the track is then placed by arrival time.
	ReadRTCP func(b []byte) (int, error)
}

// Participant is a person in the room as the adapter knows them.
type Participant struct {
	Identity string
	Name     string
}

// Event is something scripts may want to know while a room is recorded; `spacecast record --json`
// prints one per line.
type Event struct {
	Time time.Time `json:"time"`
	// Type is one of joined, participant-joined, participant-left, speaker-joined, speaker-left,
	// reconnecting, reconnected, gap, error, stopped.
	Type     string `json:"type"`
	Identity string `json:"identity,omitempty"`
	Name     string `json:"name,omitempty"`
	Track    string `json:"track,omitempty"`
	// At is the session time of the event in seconds.
	At float64 `json:"at"`
	// Duration of a gap, in seconds.
	Duration float64 `json:"duration,omitempty"`
	Cause    string  `json:"cause,omitempty"`
	Message  string  `json:"message,omitempty"`
}
