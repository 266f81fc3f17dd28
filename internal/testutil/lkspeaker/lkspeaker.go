// Package lkspeaker is a LiveKit participant for tests: it joins a room, publishes Opus tracks the
// test writes RTP to, sets its own attributes and reads the room's data messages. It is a client
// of LiveKit's signalling protocol (protobuf over WebSocket) of its own, on pion, and shares no
// code with the recorder's (package livekit), so a fault in the recorder's signalling cannot hide
// behind the same fault in the speakers it is tested with.
//
// It speaks only what a test speaker needs: no reconnect, no subscriptions (it joins with
// auto_subscribe off, so it hears nobody's audio), one publish at a time.
package lkspeaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/auth"
	lkp "github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v3"
	"google.golang.org/protobuf/proto"

	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// timeout bounds every wait: the join, an answer, the server accepting a track.
const timeout = 10 * time.Second

// Token mints a join token for a participant who publishes audio and may set their own
// attributes (spacecast.consent): a pion Speaker here, or a browser.
func Token(apiKey, apiSecret, room, identity, name string, validFor time.Duration) (string, error) {
	g := &auth.VideoGrant{RoomJoin: true, Room: room}
	g.SetCanPublish(true)
	g.SetCanSubscribe(true)
	g.SetCanPublishData(true)
	g.SetCanUpdateOwnMetadata(true)
	jwt, err := auth.NewAccessToken(apiKey, apiSecret).SetIdentity(identity).SetName(name).
		SetVideoGrant(g).SetValidFor(validFor).ToJWT()
	if err != nil {
		return "", fmt.Errorf("lkspeaker: mint token: %w", err)
	}
	return jwt, nil
}

// Message is a user data packet someone sent to the room.
type Message struct {
	From    string // the sender's identity
	Topic   string
	Payload []byte
}

// Speaker is a participant joined to a LiveKit room: a signalling WebSocket, a publisher peer
// connection (its tracks and a data channel) and a subscriber peer connection (the server's data
// channels).
type Speaker struct {
	ws       *websocket.Conn
	wmu      sync.Mutex // one writer at a time on ws
	pub, sub *webrtc.PeerConnection
	msgs     chan Message

	negotiating sync.Mutex               // one publisher offer at a time
	answered    chan error               // the publisher's answer was applied (or not)
	mu          sync.Mutex               // guards published
	published   map[string]chan struct{} // AddTrack requests waiting for TrackPublished, by client id
	done        chan struct{}            // closed when the signalling connection ends
	closeOnce   sync.Once
}

// Join joins the room its token names on the LiveKit server at rawURL (ws://, wss://, http:// or
// https://), gathering ICE candidates as o says. It returns once the publisher connection is
// negotiated, so Publish can follow at once.
func Join(ctx context.Context, rawURL, token string, o rtc.Options) (*Speaker, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("lkspeaker: %w", err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	u.Path += "/rtc"
	// Protocol 12, as the recorder and server-sdk-go v2.3.1 speak it.
	u.RawQuery = url.Values{"protocol": {"12"}, "sdk": {"go"}, "auto_subscribe": {"0"}, "adaptive_stream": {"0"}}.Encode()
	api, err := rtc.NewAPI(o)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ws, _, err := (&websocket.Dialer{HandshakeTimeout: timeout}).DialContext(dctx, u.String(), http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return nil, fmt.Errorf("lkspeaker: join %s: %w", rawURL, err)
	}
	s := &Speaker{ws: ws, msgs: make(chan Message, 64), answered: make(chan error, 1),
		published: map[string]chan struct{}{}, done: make(chan struct{})}
	ws.SetReadDeadline(time.Now().Add(timeout))
	res, err := s.read()
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("lkspeaker: join %s: %w", rawURL, err)
	}
	join := res.GetJoin()
	if join == nil {
		ws.Close()
		return nil, fmt.Errorf("lkspeaker: join %s: the server answered %T, not a join response", rawURL, res.GetMessage())
	}
	ws.SetReadDeadline(time.Time{})
	if err := s.connect(api, join); err != nil {
		s.Close()
		return nil, err
	}
	go s.serve(join)
	if err := s.negotiate(ctx); err != nil { // the data channel's offer
		s.Close()
		return nil, err
	}
	return s, nil
}

// connect makes the two peer connections; candidates trickle to the server as they are found.
func (s *Speaker) connect(api *webrtc.API, join *lkp.JoinResponse) error {
	cfg := webrtc.Configuration{SDPSemantics: webrtc.SDPSemanticsUnifiedPlan}
	for _, is := range join.GetIceServers() {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: is.Urls, Username: is.Username, Credential: is.Credential})
	}
	var err error
	if s.pub, err = api.NewPeerConnection(cfg); err != nil {
		return fmt.Errorf("lkspeaker: %w", err)
	}
	if s.sub, err = api.NewPeerConnection(cfg); err != nil {
		return fmt.Errorf("lkspeaker: %w", err)
	}
	trickle := func(target lkp.SignalTarget) func(*webrtc.ICECandidate) {
		return func(c *webrtc.ICECandidate) {
			if c == nil {
				return
			}
			if b, err := json.Marshal(c.ToJSON()); err == nil {
				s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Trickle{Trickle: &lkp.TrickleRequest{CandidateInit: string(b), Target: target}}})
			}
		}
	}
	s.pub.OnICECandidate(trickle(lkp.SignalTarget_PUBLISHER))
	s.sub.OnICECandidate(trickle(lkp.SignalTarget_SUBSCRIBER))
	// The server sends data on the publisher's data channel or on its own, on the subscriber
	// connection (which depends on the server's version and the participant's grants).
	dc, err := s.pub.CreateDataChannel("_reliable", nil)
	if err != nil {
		return fmt.Errorf("lkspeaker: %w", err)
	}
	dc.OnMessage(s.onData)
	s.sub.OnDataChannel(func(dc *webrtc.DataChannel) { dc.OnMessage(s.onData) })
	return nil
}

func (s *Speaker) onData(m webrtc.DataChannelMessage) {
	if msg, ok := message(m.Data); ok {
		select {
		case s.msgs <- msg:
		default: // nobody reads: dropped
		}
	}
}

// message reads a LiveKit DataPacket; ok is false unless it is a user packet. The payload is a copy.
func message(b []byte) (m Message, ok bool) {
	var pkt lkp.DataPacket
	if proto.Unmarshal(b, &pkt) != nil || pkt.GetUser() == nil {
		return Message{}, false
	}
	u := pkt.GetUser()
	m = Message{From: pkt.GetParticipantIdentity(), Topic: u.GetTopic(), Payload: append([]byte(nil), u.GetPayload()...)}
	if m.From == "" {
		m.From = u.GetParticipantIdentity()
	}
	return m, true
}

// read returns the server's next message; one this version does not know is empty.
func (s *Speaker) read() (*lkp.SignalResponse, error) {
	_, b, err := s.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	res := &lkp.SignalResponse{}
	if proto.Unmarshal(b, res) != nil {
		res.Reset()
	}
	return res, nil
}

func (s *Speaker) send(req *lkp.SignalRequest) error {
	b, err := proto.Marshal(req)
	if err != nil {
		return fmt.Errorf("lkspeaker: %w", err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := s.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return fmt.Errorf("lkspeaker: signalling: %w", err)
	}
	return nil
}

// serve reads the server's messages until the connection ends, and pings as the server asks.
// Candidates that come before their connection's remote description wait for it.
func (s *Speaker) serve(join *lkp.JoinResponse) {
	defer close(s.done)
	every := time.Duration(join.GetPingInterval()) * time.Second
	if every <= 0 {
		every = 5 * time.Second
	}
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
				s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Ping{Ping: time.Now().UnixMilli()}})
			}
		}
	}()
	early := map[*webrtc.PeerConnection][]webrtc.ICECandidateInit{}
	described := func(pc *webrtc.PeerConnection, err error) error {
		for _, c := range early[pc] {
			pc.AddICECandidate(c)
		}
		delete(early, pc)
		return err
	}
	for {
		res, err := s.read()
		if err != nil {
			return
		}
		switch m := res.GetMessage().(type) {
		case *lkp.SignalResponse_Offer: // the subscriber connection, the server's data channels
			err := s.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.Offer.GetSdp()})
			if described(s.sub, err) == nil {
				err = s.answer()
			}
			if err != nil {
				return
			}
		case *lkp.SignalResponse_Answer:
			err := s.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.Answer.GetSdp()})
			select {
			case s.answered <- described(s.pub, err):
			default:
			}
		case *lkp.SignalResponse_Trickle:
			var c webrtc.ICECandidateInit
			if json.Unmarshal([]byte(m.Trickle.GetCandidateInit()), &c) != nil {
				continue
			}
			pc := s.sub
			if m.Trickle.GetTarget() == lkp.SignalTarget_PUBLISHER {
				pc = s.pub
			}
			if pc.RemoteDescription() == nil {
				early[pc] = append(early[pc], c)
			} else {
				pc.AddICECandidate(c)
			}
		case *lkp.SignalResponse_TrackPublished:
			s.mu.Lock()
			if ch := s.published[m.TrackPublished.GetCid()]; ch != nil {
				close(ch)
				delete(s.published, m.TrackPublished.GetCid())
			}
			s.mu.Unlock()
		case *lkp.SignalResponse_Leave:
			return
		}
	}
}

func (s *Speaker) answer() error {
	ans, err := s.sub.CreateAnswer(nil)
	if err == nil {
		err = s.sub.SetLocalDescription(ans)
	}
	if err != nil {
		return fmt.Errorf("lkspeaker: subscriber answer: %w", err)
	}
	return s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Answer{Answer: &lkp.SessionDescription{Type: "answer", Sdp: ans.SDP}}})
}

// negotiate offers the publisher connection as it is now and waits for the server's answer.
func (s *Speaker) negotiate(ctx context.Context) error {
	s.negotiating.Lock()
	defer s.negotiating.Unlock()
	offer, err := s.pub.CreateOffer(nil)
	if err == nil {
		err = s.pub.SetLocalDescription(offer)
	}
	if err != nil {
		return fmt.Errorf("lkspeaker: publisher offer: %w", err)
	}
	if err := s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Offer{Offer: &lkp.SessionDescription{Type: "offer", Sdp: offer.SDP}}}); err != nil {
		return err
	}
	select {
	case err := <-s.answered:
		if err != nil {
			return fmt.Errorf("lkspeaker: publisher answer: %w", err)
		}
		return nil
	case <-s.done:
		return errors.New("lkspeaker: the signalling connection ended before the publisher's answer")
	case <-time.After(timeout):
		return fmt.Errorf("lkspeaker: no answer to the publisher's offer within %v", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Publish adds an Opus track named name and returns it; write RTP packets to it (pion rewrites
// their SSRC and payload type, and keeps their timestamps and sequence numbers).
func (s *Speaker) Publish(ctx context.Context, name string) (*webrtc.TrackLocalStaticRTP, error) {
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, name, "spacecast-"+name)
	if err != nil {
		return nil, fmt.Errorf("lkspeaker: %w", err)
	}
	accepted := make(chan struct{})
	s.mu.Lock()
	s.published[tr.ID()] = accepted
	s.mu.Unlock()
	err = s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_AddTrack{AddTrack: &lkp.AddTrackRequest{
		Cid: tr.ID(), Name: name, Type: lkp.TrackType_AUDIO, Source: lkp.TrackSource_MICROPHONE,
	}}})
	if err != nil {
		return nil, err
	}
	select {
	case <-accepted:
	case <-s.done:
		return nil, fmt.Errorf("lkspeaker: the signalling connection ended before track %q was accepted", name)
	case <-time.After(timeout):
		return nil, fmt.Errorf("lkspeaker: the server did not accept track %q within %v (does the token allow publishing?)", name, timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if _, err := s.pub.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		return nil, fmt.Errorf("lkspeaker: %w", err)
	}
	if err := s.negotiate(ctx); err != nil {
		return nil, err
	}
	return tr, nil
}

// SetAttributes sets (or, with an empty value, removes) the speaker's participant attributes;
// the server tells everyone in the room.
func (s *Speaker) SetAttributes(ctx context.Context, attrs map[string]string) error {
	err := s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_UpdateMetadata{
		UpdateMetadata: &lkp.UpdateParticipantMetadata{Attributes: maps.Clone(attrs)},
	}})
	if err != nil {
		return err
	}
	return ctx.Err()
}

// Messages is the user data packets the room sends this speaker (the recorder's announcements
// among them), from its join on. It holds 64 unread messages; while it is full, new ones are
// dropped.
func (s *Speaker) Messages() <-chan Message { return s.msgs }

// Close leaves the room and closes the connections; it may be called more than once.
func (s *Speaker) Close() {
	s.closeOnce.Do(func() {
		s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Leave{Leave: &lkp.LeaveRequest{Reason: lkp.DisconnectReason_CLIENT_INITIATED}}})
		s.ws.Close()
		for _, pc := range []*webrtc.PeerConnection{s.pub, s.sub} {
			if pc != nil {
				pc.Close()
			}
		}
	})
}
