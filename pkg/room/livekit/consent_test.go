package livekit

import (
	"testing"

	lkp "github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v3"
	"google.golang.org/protobuf/proto"
)

// TestConsentChange: which attribute updates deliver a consent signal, and which.
func TestConsentChange(t *testing.T) {
	info := func(attrs map[string]string) *lkp.ParticipantInfo { return &lkp.ParticipantInfo{Attributes: attrs} }
	yes := map[string]string{ConsentAttribute: "yes"}
	cases := []struct {
		name      string
		prev, cur *lkp.ParticipantInfo
		given     bool
		changed   bool
	}{
		{"a newcomer saying yes consents", nil, info(yes), true, true},
		{"a newcomer without the attribute is delivered as not consenting (a no-op for the recorder)", nil, info(nil), false, true},
		{"yes set later gives consent", info(nil), info(yes), true, true},
		{"yes repeated changes nothing", info(yes), info(yes), true, false},
		{"another attribute changing changes nothing", info(yes), info(map[string]string{ConsentAttribute: "yes", "x": "1"}), true, false},
		{"removing the attribute withdraws", info(yes), info(nil), false, true},
		{"any other value withdraws", info(yes), info(map[string]string{ConsentAttribute: "no"}), false, true},
		{"Yes in capitals is not yes", info(nil), info(map[string]string{ConsentAttribute: "Yes"}), false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			given, reason, changed := consentChange(c.prev, c.cur)
			if given != c.given || changed != c.changed {
				t.Errorf("given %v changed %v (%s), want %v %v", given, changed, reason, c.given, c.changed)
			}
			if reason == "" {
				t.Error("no reason")
			}
		})
	}
}

// FuzzOnData: whatever a data channel delivers is parsed without panicking, and a user packet's
// payload reaches the handler as a copy.
func FuzzOnData(f *testing.F) {
	topic := AnnounceTopic
	good, _ := proto.Marshal(&lkp.DataPacket{ParticipantIdentity: "alice", Value: &lkp.DataPacket_User{User: &lkp.UserPacket{Payload: []byte("hi"), Topic: &topic}}})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []DataMessage
		c := &Conn{data: func(m DataMessage) { got = append(got, m) }}
		a := &attempt{c: c}
		in := append([]byte(nil), b...)
		a.onData(webrtc.DataChannelMessage{Data: in})
		if len(got) > 1 {
			t.Fatalf("%d messages from one packet", len(got))
		}
		if len(got) == 1 && len(got[0].Payload) > 0 && len(in) > 0 && &got[0].Payload[0] == &in[0] {
			t.Fatal("the payload aliases the channel's buffer")
		}
	})
}
