package livekit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lkp "github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v3"
	"google.golang.org/protobuf/proto"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// errLost says one connection to the server failed; the supervisor reconnects.
var errLost = errors.New("connection lost")

// The recorder pings the server every livenessTick, more often than LiveKit asks (5 s), so that a
// dead network is noticed within quietAfter of the last thing heard, signalling or media, and the
// reconnecting gap starts there; the connection is only declared lost later (ICE, ping timeout).
const (
	livenessTick = 500 * time.Millisecond
	quietAfter   = 1500 * time.Millisecond
)

// attempt is one joined connection: the signalling socket and two peer connections (LiveKit
// sends media on the subscriber connection and takes data on the publisher connection).
type attempt struct {
	c    *Conn
	sig  *signal
	join *lkp.JoinResponse
	sub  *webrtc.PeerConnection
	pub  *webrtc.PeerConnection
	dc   *webrtc.DataChannel

	mu        sync.Mutex
	people    map[string]*lkp.ParticipantInfo // by participant SID
	subRemote bool
	pubRemote bool
	subCands  []webrtc.ICECandidateInit
	pubCands  []webrtc.ICECandidateInit

	born  time.Time    // when the attempt began (its monotonic reading times heard)
	heard atomic.Int64 // when the server was last heard (signalling or media), in nanoseconds since born
	lost  atomic.Bool  // failWith was called: the supervisor owns the gap from here

	dcOpen   chan struct{}
	fail     chan error
	failOnce sync.Once
	closed   chan struct{}
	closeMu  sync.Once
}

func (c *Conn) connect(ctx context.Context) (*attempt, error) {
	sig, join, err := dialSignal(ctx, c.base, c.token, c.opts.DialTimeout)
	if err != nil {
		return nil, err
	}
	a := &attempt{
		c: c, sig: sig, join: join,
		people: map[string]*lkp.ParticipantInfo{},
		dcOpen: make(chan struct{}),
		fail:   make(chan error, 1),
		closed: make(chan struct{}),
		born:   time.Now(),
	}
	if err := a.setup(); err != nil {
		a.close(false)
		return nil, err
	}
	a.update(join.OtherParticipants)
	go a.serve()
	if err := a.negotiatePublisher(); err != nil {
		a.close(false)
		return nil, err
	}
	return a, nil
}

func (a *attempt) setup() error {
	var servers []webrtc.ICEServer
	for _, s := range a.join.IceServers {
		servers = append(servers, webrtc.ICEServer{URLs: s.Urls, Username: s.Username, Credential: s.Credential})
	}
	cfg := webrtc.Configuration{ICEServers: servers, SDPSemantics: webrtc.SDPSemanticsUnifiedPlan}
	var err error
	if a.sub, err = a.c.api.NewPeerConnection(cfg); err != nil {
		return fmt.Errorf("livekit: %w", err)
	}
	if a.pub, err = a.c.api.NewPeerConnection(cfg); err != nil {
		return fmt.Errorf("livekit: %w", err)
	}
	for _, pc := range []struct {
		pc     *webrtc.PeerConnection
		target lkp.SignalTarget
	}{{a.sub, lkp.SignalTarget_SUBSCRIBER}, {a.pub, lkp.SignalTarget_PUBLISHER}} {
		target := pc.target
		pc.pc.OnICECandidate(func(ic *webrtc.ICECandidate) {
			if ic != nil {
				a.sig.sendCandidate(ic.ToJSON(), target)
			}
		})
	}
	a.sub.OnConnectionStateChange(a.watch)
	a.sub.OnTrack(a.onTrack)
	ordered := true
	if a.dc, err = a.pub.CreateDataChannel("_reliable", &webrtc.DataChannelInit{Ordered: &ordered}); err != nil {
		return fmt.Errorf("livekit: %w", err)
	}
	a.dc.OnOpen(func() { close(a.dcOpen) })
	return nil
}

// watch turns a subscriber connection that failed, or stayed disconnected for 3 s, into a reconnect.
func (a *attempt) watch(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateFailed:
		a.failWith(fmt.Errorf("%w: media connection failed", errLost))
	case webrtc.PeerConnectionStateDisconnected:
		go func() {
			select {
			case <-time.After(3 * time.Second):
				if a.sub.ConnectionState() == webrtc.PeerConnectionStateDisconnected {
					a.failWith(fmt.Errorf("%w: media connection interrupted", errLost))
				}
			case <-a.closed:
			}
		}()
	}
}

func (a *attempt) failWith(err error) {
	a.failOnce.Do(func() {
		a.lost.Store(true)
		a.fail <- err
	})
}

// hear notes that something came from the server; it allocates nothing (it runs per packet).
func (a *attempt) hear() { a.heard.Store(int64(time.Since(a.born))) }

// lastHeard is when the server was last heard.
func (a *attempt) lastHeard() time.Time { return a.born.Add(time.Duration(a.heard.Load())) }

// quiet is how long nothing has come from the server (monotonic: wall-clock steps do not count).
func (a *attempt) quiet() time.Duration { return time.Since(a.born) - time.Duration(a.heard.Load()) }

func (a *attempt) negotiatePublisher() error {
	offer, err := a.pub.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("livekit: %w", err)
	}
	if err := a.pub.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("livekit: %w", err)
	}
	return a.sig.sendSDP(true, offer)
}

// serve handles the server's messages until the connection fails or closes. It pings every
// livenessTick; when nothing at all has come from the server for quietAfter it opens the
// reconnecting gap (the recorder hears nothing from then on), and closes it again if the server is
// heard before the connection is declared lost.
func (a *attempt) serve() {
	timeout := time.Duration(a.join.PingTimeout) * time.Second
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ping := time.NewTicker(livenessTick)
	defer ping.Stop()
	last := time.Now()
	suspect := false
	for {
		select {
		case <-a.closed:
			return
		case <-ping.C:
			if time.Since(last) > timeout {
				a.failWith(fmt.Errorf("%w: the server stopped answering", errLost))
				return
			}
			switch q := a.quiet(); {
			case !suspect && q > quietAfter:
				suspect = true
				a.c.sup.Quiet(a, a.lastHeard())
			case suspect && q < quietAfter:
				suspect = false
				if !a.lost.Load() {
					a.c.sup.Heard(a)
				}
			}
			now := time.Now().UnixMilli()
			a.sig.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Ping{Ping: now}})
		case res, ok := <-a.sig.in:
			if !ok {
				a.failWith(fmt.Errorf("%w: signalling closed: %v", errLost, a.sig.err))
				return
			}
			last = time.Now()
			a.hear()
			if err := a.handle(res); err != nil {
				a.failWith(err)
				return
			}
		}
	}
}

func (a *attempt) handle(res *lkp.SignalResponse) error {
	switch m := res.Message.(type) {
	case *lkp.SignalResponse_Offer:
		return a.answer(fromSDP(m.Offer))
	case *lkp.SignalResponse_Answer:
		if err := a.pub.SetRemoteDescription(fromSDP(m.Answer)); err != nil {
			return fmt.Errorf("livekit: publisher answer: %w", err)
		}
		a.mu.Lock()
		a.pubRemote = true
		cands := a.pubCands
		a.pubCands = nil
		a.mu.Unlock()
		for _, c := range cands {
			a.pub.AddICECandidate(c)
		}
	case *lkp.SignalResponse_Trickle:
		c, err := candidate(m.Trickle)
		if err != nil {
			return nil
		}
		pc, ready, queue := a.sub, &a.subRemote, &a.subCands
		if m.Trickle.Target == lkp.SignalTarget_PUBLISHER {
			pc, ready, queue = a.pub, &a.pubRemote, &a.pubCands
		}
		a.mu.Lock()
		if !*ready {
			*queue = append(*queue, c)
			a.mu.Unlock()
			return nil
		}
		a.mu.Unlock()
		pc.AddICECandidate(c)
	case *lkp.SignalResponse_Update:
		a.update(m.Update.Participants)
	case *lkp.SignalResponse_Leave:
		switch m.Leave.Reason {
		case lkp.DisconnectReason_ROOM_DELETED, lkp.DisconnectReason_ROOM_CLOSED:
			return fmt.Errorf("%w (%s)", errRoomClosed, m.Leave.Reason)
		case lkp.DisconnectReason_PARTICIPANT_REMOVED:
			return fmt.Errorf("%w: a room admin removed the recorder", errRoomClosed)
		case lkp.DisconnectReason_DUPLICATE_IDENTITY:
			return fmt.Errorf("%w: %w %q", errRoomClosed, room.ErrIdentityTaken, a.c.opts.Identity.Identity)
		}
		return fmt.Errorf("%w: the server asked the recorder to leave (%s)", errLost, m.Leave.Reason)
	}
	return nil
}

func (a *attempt) answer(offer webrtc.SessionDescription) error {
	if err := a.sub.SetRemoteDescription(offer); err != nil {
		return fmt.Errorf("livekit: subscriber offer: %w", err)
	}
	ans, err := a.sub.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("livekit: %w", err)
	}
	if err := a.sub.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("livekit: %w", err)
	}
	a.mu.Lock()
	a.subRemote = true
	cands := a.subCands
	a.subCands = nil
	a.mu.Unlock()
	for _, c := range cands {
		a.sub.AddICECandidate(c)
	}
	return a.sig.sendSDP(false, ans)
}

// update takes participant infos (full or partial) and reports joins and leaves.
func (a *attempt) update(ps []*lkp.ParticipantInfo) {
	self := a.join.GetParticipant().GetSid()
	for _, p := range ps {
		if p.Sid == self || p.Identity == a.c.opts.Identity.Identity {
			continue
		}
		a.mu.Lock()
		prev := a.people[p.Sid]
		if prev != nil && prev.Version > p.Version {
			a.mu.Unlock()
			continue
		}
		a.people[p.Sid] = p
		a.mu.Unlock()
		if p.State == lkp.ParticipantInfo_DISCONNECTED {
			id := p.Identity
			a.c.deliver(func(s room.Sink) { s.Leave(id) })
			continue
		}
		if prev == nil || prev.Name != p.Name {
			part := capture.Participant{Identity: p.Identity, Name: p.Name}
			a.c.deliver(func(s room.Sink) { s.Join(part) })
		}
		if given, reason, changed := consentChange(prev, p); changed {
			id := p.Identity
			a.c.deliver(func(s room.Sink) { s.SetConsent(id, given, reason) })
		}
	}
	a.c.speakersChanged()
}

// speakers is how many participants publish audio now.
func (a *attempt) speakers() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, p := range a.people {
		if p.State == lkp.ParticipantInfo_DISCONNECTED {
			continue
		}
		for _, t := range p.Tracks {
			if t.Type == lkp.TrackType_AUDIO {
				n++
				break
			}
		}
	}
	return n
}

func (a *attempt) identityOf(sid string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p := a.people[sid]; p != nil {
		return p.Identity, true
	}
	return "", false
}

func (a *attempt) onTrack(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
	if tr.Kind() != webrtc.RTPCodecTypeAudio || !rtc.IsOpus(tr) {
		return
	}
	psid, tsid := unpackStreamID(tr.StreamID())
	if tsid == "" {
		tsid = tr.ID()
	}
	// The participant update usually comes first; give it a moment when it does not.
	identity, ok := a.identityOf(psid)
	for i := 0; !ok && i < 40; i++ {
		select {
		case <-a.closed:
			return
		case <-time.After(50 * time.Millisecond):
		}
		identity, ok = a.identityOf(psid)
	}
	if !ok {
		identity = psid
	}
	src := rtc.Heard(rtc.Source(identity, tsid, tr, rc), a.hear)
	a.c.deliver(func(s room.Sink) { s.AddTrack(src) })
}

// sendData sends a reliable data packet to everyone in the room.
func (a *attempt) sendData(ctx context.Context, pkt *lkp.DataPacket) error {
	select {
	case <-a.dcOpen:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(5 * time.Second):
		return fmt.Errorf("livekit: the data channel did not open within 5 s")
	}
	b, err := proto.Marshal(pkt)
	if err != nil {
		return err
	}
	return a.dc.Send(b)
}

// Serve waits for the connection to drop (its goroutines deliver the room through the
// supervisor) or the room to end (room.Attempt).
func (a *attempt) Serve(ctx context.Context, _ room.Sink) error {
	return room.AwaitDrop(ctx, a.closed, a.fail)
}

// LastHeard is when the server was last heard (room.Attempt).
func (a *attempt) LastHeard() time.Time { return a.lastHeard() }

// Close leaves (when leave) and tears the connection down (room.Attempt).
func (a *attempt) Close(leave bool) error {
	a.close(leave)
	return nil
}

var _ room.Attempt = (*attempt)(nil)

// close leaves (when polite) and tears the connection down; the sources it delivered end.
func (a *attempt) close(polite bool) {
	a.closeMu.Do(func() {
		close(a.closed)
		if polite {
			a.sig.leave()
		}
		a.sig.close()
		if a.sub != nil {
			a.sub.Close()
		}
		if a.pub != nil {
			a.pub.Close()
		}
	})
}
