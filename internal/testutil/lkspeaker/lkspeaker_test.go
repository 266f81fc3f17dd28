package lkspeaker

import (
	"testing"

	lkp "github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/proto"
)

// FuzzMessage: whatever a data channel delivers is read without panicking, a user packet as one
// message whose payload is a copy, anything else as none.
func FuzzMessage(f *testing.F) {
	topic := "spacecast.recording"
	good, _ := proto.Marshal(&lkp.DataPacket{ParticipantIdentity: "alice", Value: &lkp.DataPacket_User{User: &lkp.UserPacket{Payload: []byte("hi"), Topic: &topic}}})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append([]byte(nil), b...)
		m, ok := message(in)
		if !ok {
			if m.From != "" || m.Topic != "" || m.Payload != nil {
				t.Fatalf("no message, but %+v", m)
			}
			return
		}
		if len(m.Payload) > 0 && len(in) > 0 && &m.Payload[0] == &in[0] {
			t.Fatal("the payload aliases the channel's buffer")
		}
	})
}

// TestMessage: a user packet names its sender (the packet's identity, or the user part's in
// older servers), topic and payload; other packets are not messages.
func TestMessage(t *testing.T) {
	topic := "t"
	cases := []struct {
		name string
		pkt  *lkp.DataPacket
		want Message
		ok   bool
	}{
		{"a user packet from alice is her message", &lkp.DataPacket{ParticipantIdentity: "alice",
			Value: &lkp.DataPacket_User{User: &lkp.UserPacket{Payload: []byte("hi"), Topic: &topic}}}, Message{From: "alice", Topic: "t", Payload: []byte("hi")}, true},
		{"an older server names the sender in the user part", &lkp.DataPacket{
			Value: &lkp.DataPacket_User{User: &lkp.UserPacket{ParticipantIdentity: "bob", Payload: []byte("x")}}}, Message{From: "bob", Payload: []byte("x")}, true},
		{"a DTMF tone from a phone line is not a message", &lkp.DataPacket{Value: &lkp.DataPacket_SipDtmf{SipDtmf: &lkp.SipDTMF{Digit: "1"}}}, Message{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := proto.Marshal(c.pkt)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := message(b)
			if ok != c.ok || got.From != c.want.From || got.Topic != c.want.Topic || string(got.Payload) != string(c.want.Payload) {
				t.Errorf("message = %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}
