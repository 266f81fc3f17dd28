package janus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// VideoRoom: the recorder joins as a publisher that publishes a data channel only (its
// announcements, announce.go), so the room lists it under its display name and tells it who
// publishes ("publishers", "unpublished", "leaving"); each
// publisher's audio stream is received on a subscriber handle of its own, with its own
// PeerConnection answering Janus's offer.

// resubscribeAfter is how long the recorder waits before subscribing again to a publisher whose
// subscription failed (ICE failure, hangup); maxResubscribe bounds the attempts.
const (
	resubscribeAfter = time.Second
	maxResubscribe   = 5
)

func (c *conn) joinVideoRoom(ctx context.Context, sess *apiSession, handle uint64) (*pluginEvent, error) {
	ev, _, err := sess.request(ctx, handle, c.joinBody(map[string]any{"request": "join", "ptype": "publisher"}), nil)
	if err != nil {
		return nil, c.joinError(err)
	}
	if ev.VideoRoom != "joined" {
		return nil, fmt.Errorf("%s: joining room %s: unexpected answer %q", c.rawURL, c.room, ev.VideoRoom)
	}
	c.mu.Lock()
	c.selfID, c.privID = ev.ID, ev.PrivateID
	gen := c.gen
	c.mu.Unlock()
	c.publishData(sess, handle, gen)
	return ev, nil
}

// onVideoRoom applies one VideoRoom event on the recorder's publisher handle.
func (c *conn) onVideoRoom(sink room.Sink, ev *pluginEvent) error {
	c.mu.Lock()
	self := c.selfID
	c.mu.Unlock()
	switch ev.VideoRoom {
	case "destroyed":
		return fmt.Errorf("janus: room %s: %w (the server destroyed it)", c.room, room.ErrRoomClosed)
	case "joined", "event":
	default:
		return nil // talking, stopped-talking, slow_link, …
	}
	for i := range ev.Publishers {
		if ev.Publishers[i].ID != self && !ev.Publishers[i].dataOnly() {
			c.publisherUp(sink, &ev.Publishers[i])
		}
	}
	if ev.Leaving == stringID("ok") {
		// The recorder never leaves by request (Close destroys the session): it was kicked.
		return fmt.Errorf("janus: room %s: %w (the recorder was removed from it)", c.room, room.ErrRoomClosed)
	}
	for slot, id := range []jid{ev.Unpublished, ev.Leaving, ev.Kicked} {
		if id.IsZero() || id == stringID("ok") {
			continue
		}
		if id == self && slot == 0 { // unpublished: its data channel, not the recorder, is gone
			c.dataEnded(errors.New("the server unpublished the recorder's data channel"))
			continue
		}
		if id == self {
			return fmt.Errorf("janus: room %s: %w (the recorder was removed from it)", c.room, room.ErrRoomClosed)
		}
		c.publisherDown(sink, id)
	}
	return nil
}

// publisherUp reports a publisher and subscribes to each of their audio streams not yet received.
func (c *conn) publisherUp(sink room.Sink, pub *publisher) {
	p, _ := c.roster.up(pub.ID.String(), pub.Display)
	sink.Join(capture.Participant{Identity: p.identity, Name: p.name})
	for _, mid := range pub.audioMids() {
		key := pub.ID.String() + "/" + mid
		c.mu.Lock()
		have := c.subs[key] != nil
		c.mu.Unlock()
		if !have {
			c.subscribe(pub.ID, mid, p.identity, 0)
		}
	}
}

// publisherDown ends a publisher's subscriptions and reports them gone.
func (c *conn) publisherDown(sink room.Sink, id jid) {
	c.mu.Lock()
	var ended []*subscriber
	for key, s := range c.subs {
		if s.feed == id {
			ended = append(ended, s)
			delete(c.subs, key)
			delete(c.byHandle, s.handleID())
		}
	}
	c.mu.Unlock()
	for _, s := range ended {
		s.close(true)
	}
	if p := c.roster.down(id.String()); p != nil {
		sink.Leave(p.identity)
	}
}

// subscriber receives one publisher's audio stream on its own handle and PeerConnection.
type subscriber struct {
	c        *conn
	sess     *apiSession
	gen      int
	feed     jid
	mid      string
	identity string
	tries    int

	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	handle uint64
	pc     *webrtc.PeerConnection
	closed bool
}

func (c *conn) subscribe(feed jid, mid, identity string, tries int) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscriber{c: c, sess: c.sess, gen: c.gen, feed: feed, mid: mid, identity: identity, tries: tries, ctx: ctx, cancel: cancel}
	c.subs[feed.String()+"/"+mid] = s
	c.mu.Unlock()
	go func() {
		if err := s.negotiate(); err != nil && ctx.Err() == nil {
			c.tasks.push(func(context.Context, room.Sink) error {
				c.subscriptionFailed(s, err)
				return nil
			})
		}
	}()
}

func (s *subscriber) handleID() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handle
}

func (s *subscriber) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// negotiate attaches a handle, joins as the feed's subscriber and answers Janus's offer.
func (s *subscriber) negotiate() error {
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	h, err := s.sess.attach(ctx, pluginName(VideoRoom))
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.sess.detach(context.Background(), h)
		return nil
	}
	s.handle = h
	s.mu.Unlock()
	s.c.mu.Lock()
	if s.c.gen == s.gen {
		s.c.byHandle[h] = s
	}
	roomID, priv := s.c.room, s.c.privID
	s.c.mu.Unlock()

	body := map[string]any{"request": "join", "ptype": "subscriber", "room": roomID}
	if s.mid != "" {
		body["streams"] = []any{map[string]any{"feed": s.feed, "mid": s.mid}}
	} else {
		body["feed"] = s.feed // a VideoRoom before multistream (0.x): the whole feed
	}
	if priv != 0 {
		body["private_id"] = priv
	}
	if s.c.opts.PIN != "" {
		body["pin"] = s.c.opts.PIN
	}
	_, offer, err := s.sess.request(ctx, h, body, nil)
	if err != nil {
		return fmt.Errorf("subscribing to feed %s: %w", s.feed, err)
	}
	pc, err := s.c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		pc.Close()
		return nil
	}
	s.pc = pc
	s.mu.Unlock()
	id := s.feed.String() + "/" + s.mid
	pc.OnTrack(func(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
		if !rtc.IsOpus(tr) {
			return
		}
		src := rtc.Source(s.identity, id, tr, rc)
		s.c.tasks.push(func(_ context.Context, sink room.Sink) error {
			if s.isClosed() || !s.c.current(s.gen) {
				return nil
			}
			if err := sink.AddTrack(src); err != nil {
				return fmt.Errorf("janus: recording feed %s: %w", id, err)
			}
			return nil
		})
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateDisconnected {
			s.sess.checkNow()
		}
		if st == webrtc.PeerConnectionStateFailed {
			s.c.tasks.push(func(context.Context, room.Sink) error {
				s.c.subscriptionFailed(s, errors.New("ICE/DTLS connection failed"))
				return nil
			})
		}
	})
	ans, err := answer(ctx, pc, offer)
	if err != nil {
		return fmt.Errorf("feed %s: %w", s.feed, err)
	}
	if _, _, err := s.sess.request(ctx, h, map[string]any{"request": "start"}, ans); err != nil {
		return fmt.Errorf("starting feed %s: %w", s.feed, err)
	}
	return nil
}

// renegotiate answers an offer Janus sends when the subscription changes ("updated").
func (s *subscriber) renegotiate(offer *jsep) {
	s.mu.Lock()
	pc, h := s.pc, s.handle
	s.mu.Unlock()
	if pc == nil || s.isClosed() {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	ans, err := answer(ctx, pc, offer)
	if err == nil {
		_, _, err = s.sess.request(ctx, h, map[string]any{"request": "start"}, ans)
	}
	if err != nil && ctx.Err() == nil {
		s.c.tasks.push(func(context.Context, room.Sink) error {
			s.c.subscriptionFailed(s, fmt.Errorf("renegotiating: %w", err))
			return nil
		})
	}
}

// close ends the subscription: the PeerConnection closes (the source ends) and, with detach, the
// handle is released on the server.
func (s *subscriber) close(detach bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	pc, h := s.pc, s.handle
	s.mu.Unlock()
	s.cancel()
	if pc != nil {
		pc.Close()
	}
	if detach && h != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.sess.detach(ctx, h)
		cancel()
	}
}

// subscriptionFailed drops a failed subscription and, while the publisher is still there, tries
// again a little later. Run's goroutine only.
func (c *conn) subscriptionFailed(s *subscriber, err error) {
	if s.isClosed() || !c.current(s.gen) {
		return
	}
	key := s.feed.String() + "/" + s.mid
	c.mu.Lock()
	if c.subs[key] == s {
		delete(c.subs, key)
	}
	delete(c.byHandle, s.handleID())
	c.mu.Unlock()
	s.close(true)
	var pe *pluginError
	if errors.As(err, &pe) && pe.Code == vrNoSuchFeed {
		return // the publisher left meanwhile: their "unpublished" is on its way
	}
	c.event(capture.Event{Type: capture.EventError, Identity: s.identity, Message: fmt.Sprintf("janus: feed %s: %v", s.feed, err)})
	if s.tries+1 >= maxResubscribe {
		return
	}
	time.AfterFunc(resubscribeAfter, func() {
		c.tasks.push(func(context.Context, room.Sink) error {
			if !c.current(s.gen) || c.roster.lookup(s.feed.String()) == nil {
				return nil
			}
			c.mu.Lock()
			have := c.subs[key] != nil
			c.mu.Unlock()
			if !have {
				c.subscribe(s.feed, s.mid, s.identity, s.tries+1)
			}
			return nil
		})
	})
}
