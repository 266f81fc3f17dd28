package whep

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// MediaLine is what spacecast needs to know of one audio m-line of an SDP (RFC 8866 §5.14).
type MediaLine struct {
	Mid       string
	Direction string // sendonly, recvonly, sendrecv or inactive (RFC 8866 §6.7; default sendrecv)
	Rejected  bool   // port 0 (RFC 3264 §6)
	StreamID  string // msid stream id (RFC 8830 §2), "" when none is given
	TrackID   string
	Opus      bool // an rtpmap names opus/48000
}

// Sends reports whether the line carries media from the answerer to the offerer (a WHEP server to
// its player).
func (m MediaLine) Sends() bool {
	return !m.Rejected && (m.Direction == "sendonly" || m.Direction == "sendrecv")
}

// AudioLines parses an SDP and returns its audio m-lines in order. Other media are skipped.
func AudioLines(b []byte) ([]MediaLine, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("not a valid SDP: %v", err)
	}
	def := "sendrecv"
	for _, a := range sd.Attributes {
		if isDirection(a.Key) {
			def = a.Key
		}
	}
	var out []MediaLine
	for _, md := range sd.MediaDescriptions {
		if md == nil || md.MediaName.Media != "audio" {
			continue
		}
		m := MediaLine{Direction: def, Rejected: md.MediaName.Port.Value == 0}
		for _, a := range md.Attributes {
			switch {
			case isDirection(a.Key):
				m.Direction = a.Key
			case a.Key == "mid":
				m.Mid = strings.TrimSpace(a.Value)
			case a.Key == "msid" && m.StreamID == "":
				m.StreamID, m.TrackID = splitMsid(a.Value)
			case a.Key == "ssrc" && m.StreamID == "":
				// Legacy form: a=ssrc:1234 msid:stream track (RFC 5576 §4.1 with RFC 8830 §2).
				if _, rest, ok := strings.Cut(a.Value, " "); ok && strings.HasPrefix(rest, "msid:") {
					m.StreamID, m.TrackID = splitMsid(strings.TrimPrefix(rest, "msid:"))
				}
			case a.Key == "rtpmap":
				if _, enc, ok := strings.Cut(a.Value, " "); ok && strings.HasPrefix(strings.ToLower(enc), "opus/48000") {
					m.Opus = true
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func isDirection(k string) bool {
	return k == "sendonly" || k == "recvonly" || k == "sendrecv" || k == "inactive"
}

func splitMsid(v string) (stream, track string) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return "", ""
	}
	if len(f) > 1 {
		track = f[1]
	}
	return f[0], track
}

// validIdentity reports whether a stream id can serve as a participant identity: an msid-id
// (RFC 8830 §2: 1 to 64 token characters) that names something ("-" means no stream).
func validIdentity(s string) bool {
	if s == "" || s == "-" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// identities names the speakers of the lines that send: the msid stream id where it names one
// track alone, else "whep-<mid>". byMid holds the names earlier sessions of the same Conn gave
// each mid, known the names they used: a reconnect whose server made up new stream ids keeps the
// names (and so the files) of before. It returns mid → identity and updates byMid and known.
func identities(lines []MediaLine, byMid map[string]string, known map[string]bool) map[string]string {
	count := map[string]int{}
	for _, l := range lines {
		if l.Sends() {
			count[l.StreamID]++
		}
	}
	out := map[string]string{}
	used := map[string]bool{}
	for i, l := range lines {
		if !l.Sends() {
			continue
		}
		mid := l.Mid
		if mid == "" {
			mid = fmt.Sprint(i)
		}
		name := "whep-" + mid
		if validIdentity(l.StreamID) && count[l.StreamID] == 1 {
			name = l.StreamID
		}
		if !known[name] {
			if old := byMid[mid]; old != "" && !used[old] && !streamIn(lines, old) {
				name = old
			}
		}
		if used[name] {
			name = "whep-" + mid
		}
		used[name] = true
		out[mid] = name
	}
	for mid, name := range out {
		byMid[mid] = name
		known[name] = true
	}
	return out
}

// streamIn reports whether a line of this answer uses stream id s: then s is taken.
func streamIn(lines []MediaLine, s string) bool {
	for _, l := range lines {
		if l.Sends() && l.StreamID == s {
			return true
		}
	}
	return false
}
