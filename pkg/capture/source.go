package capture

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
