package whep

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// errLost says one session's media connection failed; the supervisor opens another.
var errLost = errors.New("media connection lost")

// attempt is one WHEP session: one offer, one answer, one peer connection.
type attempt struct {
	c       *Conn
	g       gaps
	pc      *webrtc.PeerConnection
	session *url.URL
	ids     map[string]string // mid → speaker identity

	fail     chan error
	failOnce sync.Once
	bye      chan struct{}
	closed   chan struct{}
	closeMu  sync.Once
	closeErr error

	heard atomic.Int64 // when a packet (RTP or RTCP) last came, in Unix nanoseconds; 0: none yet
	gone  atomic.Bool  // the server ended the session: nothing to delete
}

// gaps is what an attempt tells about its connection (room.Supervisor; a test's fake).
type gaps interface {
	Quiet(a room.Attempt, since time.Time)
	Heard(a room.Attempt)
}

// connect opens one session. With Tracks 0 it follows the audio-tracks link: a second offer with
// as many m-lines as the endpoint advertises.
func (c *Conn) connect(ctx context.Context) (*attempt, error) {
	for range 2 {
		n := c.tracks
		a, cr, err := c.open(ctx, n)
		if errors.Is(err, errTooManyTracks) && n > 1 {
			c.tracks = 1
			c.event(capture.Event{Type: capture.EventWarning, Message: fmt.Sprintf("whep: %s refused %d audio tracks (406): recording one", shown(c.endpoint), n)})
			continue
		}
		if err != nil {
			return nil, err
		}
		if want := advertisedTracks(cr.links); c.opts.Tracks == 0 && want > n {
			a.close(true)
			c.tracks = want
			continue
		}
		if err := a.waitConnected(ctx); err != nil {
			a.close(true)
			return nil, err
		}
		return a, nil
	}
	return nil, fmt.Errorf("whep: %s: the endpoint keeps changing how many audio tracks it serves", shown(c.endpoint))
}

// open posts an offer of n recvonly audio m-lines and applies the answer.
func (c *Conn) open(ctx context.Context, n int) (*attempt, *created, error) {
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{SDPSemantics: webrtc.SDPSemanticsUnifiedPlan})
	if err != nil {
		return nil, nil, fmt.Errorf("whep: %w", err)
	}
	a := &attempt{c: c, g: c.sup, pc: pc, fail: make(chan error, 1), bye: make(chan struct{}, 1), closed: make(chan struct{})}
	for range n {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			a.close(false)
			return nil, nil, fmt.Errorf("whep: %w", err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		a.close(false)
		return nil, nil, fmt.Errorf("whep: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		a.close(false)
		return nil, nil, fmt.Errorf("whep: %w", err)
	}
	// All candidates go in the offer (§4.4.1 allows it): no trickle PATCH needed.
	select {
	case <-gathered:
	case <-time.After(c.opts.DialTimeout):
		a.close(false)
		return nil, nil, fmt.Errorf("%w: %w: gathering local ICE candidates took longer than %s", room.ErrUnreachable, room.ErrLocalNetwork, c.opts.DialTimeout)
	case <-ctx.Done():
		a.close(false)
		return nil, nil, ctx.Err()
	}
	if !strings.Contains(pc.LocalDescription().SDP, "a=candidate:") {
		a.close(false)
		return nil, nil, fmt.Errorf("%w: %w", room.ErrUnreachable, room.ErrLocalNetwork)
	}
	cr, err := c.post(ctx, pc.LocalDescription().SDP, n)
	if err != nil {
		a.close(false)
		return nil, nil, err
	}
	a.session = cr.session
	if cr.warn != "" {
		c.event(capture.Event{Type: capture.EventWarning, Message: "whep: " + cr.warn})
	}
	lines, err := AudioLines(cr.answer)
	if err != nil {
		a.close(true)
		return nil, nil, fmt.Errorf("whep: the answer of %s: %w", shown(c.endpoint), err)
	}
	active := 0
	for _, l := range lines {
		if l.Sends() && l.Opus {
			active++
		}
	}
	if active == 0 {
		a.close(true)
		return nil, nil, fmt.Errorf("%w: %s answered without an Opus audio track to receive (%d audio m-line(s))", room.ErrEmptyRoom, shown(c.endpoint), len(lines))
	}
	c.mu.Lock()
	a.ids = identities(lines, c.byMid, c.known)
	c.mu.Unlock()
	pc.OnTrack(a.onTrack)
	pc.OnConnectionStateChange(a.watch)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(cr.answer)}); err != nil {
		a.close(true)
		return nil, nil, fmt.Errorf("whep: %s sent an answer spacecast cannot use: %v", shown(c.endpoint), err)
	}
	go a.serve()
	return a, cr, nil
}

// waitConnected waits for ICE and DTLS to come up.
func (a *attempt) waitConnected(ctx context.Context) error {
	timer := time.NewTimer(a.c.opts.DialTimeout)
	defer timer.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		switch a.pc.ConnectionState() {
		case webrtc.PeerConnectionStateConnected:
			return nil
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			return fmt.Errorf("%w: the media connection to %s failed: none of its candidates (%s) answered", room.ErrUnreachable, a.c.endpoint.Host, a.remoteCandidates())
		}
		select {
		case <-tick.C:
		case <-timer.C:
			return fmt.Errorf("%w: no media connection to %s within %s: none of its candidates (%s) answered", room.ErrUnreachable, a.c.endpoint.Host, a.c.opts.DialTimeout, a.remoteCandidates())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// remoteCandidates lists the addresses the answer offered, for error messages.
func (a *attempt) remoteCandidates() string {
	rd := a.pc.RemoteDescription()
	if rd == nil {
		return "none"
	}
	var out []string
	for _, line := range strings.Split(rd.SDP, "\n") {
		if f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "a=candidate:")); len(f) >= 6 && strings.HasPrefix(strings.TrimSpace(line), "a=candidate:") {
			out = append(out, f[2]+" "+f[4]+":"+f[5])
		}
	}
	if len(out) == 0 {
		return "the answer listed none"
	}
	return strings.Join(out, ", ")
}

// iceQuiet is how long pion's ICE agent hears nothing before it calls a connection disconnected
// (its default disconnected timeout; pkg/room/rtc does not change it), and iceCheck how often it
// looks (its default keepalive interval): it says so iceQuiet to iceQuiet+iceCheck after the last
// packet, later on a loaded machine.
const (
	iceQuiet = 5 * time.Second
	iceCheck = 2 * time.Second
)

// hear notes that a packet came.
func (a *attempt) hear() { a.heard.Store(time.Now().UnixNano()) }

// lastHeard is when the recorder last heard this connection, seen at now after ICE called it
// disconnected or failed: its last RTP or RTCP packet, which the server's sender reports refresh
// every few seconds even through silence; without one since (a silent stream), the earliest
// moment ICE can still have heard something.
func (a *attempt) lastHeard(now time.Time) time.Time {
	t := now.Add(-iceQuiet - iceCheck)
	if h := a.heard.Load(); h != 0 && time.Unix(0, h).After(t) {
		t = time.Unix(0, h)
	}
	return t
}

// watch turns a media connection that failed, or stayed disconnected for 3 s, into a failure.
func (a *attempt) watch(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateConnected:
		a.g.Heard(a)
	case webrtc.PeerConnectionStateFailed:
		go a.lost("the media connection failed")
	case webrtc.PeerConnectionStateDisconnected:
		// ICE calls a connection disconnected iceQuiet to iceQuiet+iceCheck (or, loaded, more)
		// after its last packet: the gap starts where the recorder last heard the room.
		a.g.Quiet(a, a.lastHeard(time.Now()))
		go func() {
			select {
			case <-time.After(3 * time.Second):
				if a.pc.ConnectionState() == webrtc.PeerConnectionStateDisconnected {
					a.lost("no media for 3 s")
				}
			case <-a.closed:
			}
		}()
	}
}

// lost reports a failure: the room closed when the server no longer has the session, else a
// network problem to reconnect through.
func (a *attempt) lost(why string) {
	select {
	case <-a.closed:
		return
	default:
	}
	if a.c.sessionGone(a.session) {
		a.gone.Store(true)
		a.failWith(fmt.Errorf("%w: the server ended the WHEP session (%s)", room.ErrRoomClosed, why))
		return
	}
	a.failWith(fmt.Errorf("%w: %s", errLost, why))
}

// serve handles RTCP BYE (RFC 3550 §6.6): a server ending the session says goodbye, and the
// session URL answers 404 from then on. A BYE alone (one source leaving) changes nothing.
func (a *attempt) serve() {
	for {
		select {
		case <-a.closed:
			return
		case <-a.bye:
			if a.c.sessionGone(a.session) {
				a.gone.Store(true)
				a.failWith(fmt.Errorf("%w: the server ended the WHEP session (RTCP BYE)", room.ErrRoomClosed))
				return
			}
		}
	}
}

func (a *attempt) failWith(err error) {
	a.failOnce.Do(func() { a.fail <- err })
}

func (a *attempt) onTrack(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
	if tr.Kind() != webrtc.RTPCodecTypeAudio || !rtc.IsOpus(tr) {
		return
	}
	mid := ""
	for _, t := range a.pc.GetTransceivers() {
		if t.Receiver() == rc {
			mid = t.Mid()
		}
	}
	identity := a.ids[mid]
	if identity == "" {
		identity = "whep-" + mid
	}
	src := rtc.Heard(rtc.Source(identity, mid, tr, rc), a.hear)
	read := src.ReadRTCP
	var drain sync.Once
	src.ReadRTCP = func(b []byte) (int, error) {
		drain.Do(func() { dropQueuedRTCP(rc) })
		n, err := read(b)
		if err == nil && hasBye(b[:n]) {
			select {
			case a.bye <- struct{}{}:
			default:
			}
		}
		return n, err
	}
	a.c.deliver(func(s room.Sink) { s.AddTrack(src) })
}

// dropQueuedRTCP drops the RTCP that queued before the recorder read the track: it describes no media
// yet (pion's sender reports carry a made-up RTP time until a stream's first packet), and a report
// read seconds late would tell the recorder's clock the wrong story. The next one comes within a
// few seconds (RFC 3550 §6.2).
func dropQueuedRTCP(rc *webrtc.RTPReceiver) {
	// A deadline already passed reads nothing at all: give the queue 10 ms.
	if rc.SetReadDeadline(time.Now().Add(10*time.Millisecond)) != nil {
		return
	}
	buf := make([]byte, 1500)
	for range 1000 {
		if _, _, err := rc.Read(buf); err != nil {
			break
		}
	}
	rc.SetReadDeadline(time.Time{})
}

// hasBye reports whether a compound RTCP packet holds a BYE.
func hasBye(b []byte) bool {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return false
	}
	for _, p := range pkts {
		if _, ok := p.(*rtcp.Goodbye); ok {
			return true
		}
	}
	return false
}

// Serve waits for the media connection to drop (the tracks reach the sink through the
// supervisor) or the server to end the session (room.Attempt).
func (a *attempt) Serve(ctx context.Context, _ room.Sink) error {
	return room.AwaitDrop(ctx, a.closed, a.fail)
}

// LastHeard is when the recorder last heard this connection (room.Attempt).
func (a *attempt) LastHeard() time.Time { return a.lastHeard(time.Now()) }

// Close tears the session down and deletes it on the server, unless the server ended it
// (room.Attempt): a dropped session may still be held there.
func (a *attempt) Close(bool) error { return a.close(!a.gone.Load()) }

var _ room.Attempt = (*attempt)(nil)

// close tears the session down; polite also deletes it on the server. The tracks it delivered end.
func (a *attempt) close(polite bool) error {
	a.closeMu.Do(func() {
		close(a.closed)
		err := a.pc.Close()
		if polite {
			err = errors.Join(err, a.c.deleteSession(a.session))
		}
		a.closeErr = err
	})
	return a.closeErr
}
