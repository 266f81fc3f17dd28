package livekit

import (
	"context"
	"fmt"
	"maps"

	lkp "github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v3"
	"google.golang.org/protobuf/proto"
)

// ConsentAttribute is the participant attribute by which a person consents to being recorded
// under the opt-in consent policy: the value ConsentYes gives consent, any other value (or removing the
// attribute) withdraws it.
const (
	ConsentAttribute = "spacecast.consent"
	ConsentYes       = "yes"
)

// consentChange compares a participant's consent attribute before (prev, nil at first sight)
// and now. At first sight the current state is always delivered (the recorder ignores a repeat),
// so a reconnect that missed a change still ends in the right state.
func consentChange(prev, cur *lkp.ParticipantInfo) (given bool, reason string, changed bool) {
	v, ok := cur.GetAttributes()[ConsentAttribute]
	given = ok && v == ConsentYes
	switch {
	case !ok:
		reason = "attribute " + ConsentAttribute + " removed"
		if prev == nil {
			reason = "no attribute " + ConsentAttribute
		}
	default:
		reason = fmt.Sprintf("attribute %s=%s", ConsentAttribute, v)
	}
	if prev == nil {
		return given, reason, true
	}
	pv, pok := prev.GetAttributes()[ConsentAttribute]
	return given, reason, pok != ok || pv != v
}

// SetAttributes sets (or, with an empty value, removes) the speaker's participant attributes;
// the token must allow it (SpeakerToken does). The server tells everyone in the room.
func (s *Speaker) SetAttributes(ctx context.Context, attrs map[string]string) error {
	err := s.a.sig.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_UpdateMetadata{
		UpdateMetadata: &lkp.UpdateParticipantMetadata{Attributes: maps.Clone(attrs)},
	}})
	if err != nil {
		return fmt.Errorf("livekit: set attributes: %w", err)
	}
	return ctx.Err()
}

// DataMessage is a user data packet someone sent to the room.
type DataMessage struct {
	From    string // the sender's identity
	Topic   string
	Payload []byte
}

// onData takes one data channel message: a LiveKit DataPacket.
func (a *attempt) onData(msg webrtc.DataChannelMessage) {
	a.c.mu.Lock()
	f := a.c.data
	a.c.mu.Unlock()
	if f == nil {
		return
	}
	var pkt lkp.DataPacket
	if proto.Unmarshal(msg.Data, &pkt) != nil {
		return
	}
	u := pkt.GetUser()
	if u == nil {
		return
	}
	from := pkt.GetParticipantIdentity()
	if from == "" {
		from = u.GetParticipantIdentity()
	}
	f(DataMessage{From: from, Topic: u.GetTopic(), Payload: append([]byte(nil), u.GetPayload()...)})
}

// Messages returns the user data packets the room sends this speaker from now on (the
// recorder's announcements among them). It holds 64 unread messages; while it is full, new ones
// are dropped.
func (s *Speaker) Messages() <-chan DataMessage {
	ch := make(chan DataMessage, 64)
	s.c.mu.Lock()
	s.c.data = func(m DataMessage) {
		select {
		case ch <- m:
		default:
		}
	}
	s.c.mu.Unlock()
	return ch
}
