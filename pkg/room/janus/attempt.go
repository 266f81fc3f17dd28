package janus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
)

// attempt is one Janus session in the room: created, attached to the plugin, joined. Run's
// goroutine serves it; the conn holds its state (its generation, PeerConnections, subscribers).
type attempt struct {
	c       *conn
	sess    *apiSession
	initial *pluginEvent // the join answer, applied when Serve starts
	again   bool         // a reconnect: those the new join does not list have left
}

var _ room.Attempt = (*attempt)(nil)

// Serve applies the session's events to sink until the session is lost or the recorder's handle
// hung up (a drop), the room closes, or ctx ends or the conn is closed (room.Attempt).
func (a *attempt) Serve(ctx context.Context, sink room.Sink) error {
	c := a.c
	if err := c.apply(ctx, sink, a.initial); err != nil {
		return err
	}
	if a.again {
		for _, p := range c.roster.sweep() {
			sink.Leave(p.identity)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.done:
			return nil
		case <-a.sess.events.ready:
			for _, m := range a.sess.events.pop() {
				if err := c.onMessage(ctx, sink, m); err != nil {
					return err
				}
			}
		case <-c.tasks.ready:
			for _, t := range c.tasks.pop() {
				if err := t(ctx, sink); err != nil {
					return err
				}
			}
		case <-a.sess.lost:
			return room.Dropped(a.sess.lostErr())
		}
	}
}

// LastHeard is zero: the gap starts when the loss is noticed (room.Attempt).
func (a *attempt) LastHeard() time.Time { return time.Time{} }

// Close leaves the room (leave), or drops the lost session's PeerConnections and forgets who was
// there until the next join says (room.Attempt). The lost session itself is destroyed when the
// next one is made (connect): on a dead network that request would only wait.
func (a *attempt) Close(leave bool) error {
	if leave {
		a.c.leave()
		return nil
	}
	a.c.teardown()
	a.c.roster.forget()
	return nil
}

// again joins again after a drop (room.ConnectFunc).
func (c *conn) again(ctx context.Context) (room.Attempt, error) {
	initial, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	return &attempt{c: c, sess: sess, initial: initial, again: true}, nil
}

// apply reports the people a join answer lists and subscribes to their audio.
func (c *conn) apply(ctx context.Context, sink room.Sink, ev *pluginEvent) error {
	if ev == nil {
		return nil
	}
	if c.plugin == AudioBridge {
		return c.onAudioBridge(sink, ev)
	}
	return c.onVideoRoom(sink, ev)
}

// onMessage handles one event from the long poll.
func (c *conn) onMessage(ctx context.Context, sink room.Sink, m *message) error {
	c.mu.Lock()
	own := m.Sender == c.handle
	sub := c.byHandle[m.Sender]
	c.mu.Unlock()
	switch {
	case own:
		switch m.Janus {
		case "event":
			ev, err := m.event()
			if err != nil {
				c.event(capture.Event{Type: capture.EventError, Message: fmt.Sprintf("janus: %v", err)})
				return nil
			}
			if c.plugin == AudioBridge {
				return c.onAudioBridge(sink, ev)
			}
			return c.onVideoRoom(sink, ev)
		case "hangup", "detached":
			if c.plugin == AudioBridge || m.Janus == "detached" {
				return room.Dropped(fmt.Errorf("the server ended the recorder's %s (%s)", m.Janus, m.Reason))
			}
			// VideoRoom: the recorder's data channel is gone; it still records.
			c.dataEnded(fmt.Errorf("the server hung up the recorder's data channel (%s)", m.Reason))
		}
	case sub != nil:
		switch m.Janus {
		case "event":
			if m.JSEP != nil && m.JSEP.Type == "offer" {
				go sub.renegotiate(m.JSEP)
			}
		case "hangup", "detached":
			c.subscriptionFailed(sub, fmt.Errorf("the server hung up (%s)", m.Reason))
		}
	}
	return nil
}

// connect opens a new session, attaches to the plugin and joins the room.
func (c *conn) connect(ctx context.Context) (*pluginEvent, error) {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	sess, err := c.cl.createSession(rctx)
	if err != nil {
		return nil, err
	}
	handle, err := sess.attach(rctx, pluginName(c.plugin))
	if err != nil {
		sess.close(rctx, true)
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		sess.close(rctx, true)
		return nil, errors.New("closed")
	}
	old := c.sess
	c.sess, c.handle = sess, handle
	c.gen++
	c.mu.Unlock()
	old.close(rctx, true) // a session lost on a dead network leaves the room; one the server forgot is not asked
	initial, err := c.join(rctx, sess, handle)
	if err != nil {
		// Keep sess as the current one: the next try replaces (and destroys) it, Close destroys
		// the last.
		return nil, err
	}
	return initial, nil
}

// teardown drops every PeerConnection of the current session: their sources end.
func (c *conn) teardown() {
	c.mu.Lock()
	subs := c.subs
	c.subs = map[string]*subscriber{}
	c.byHandle = map[uint64]*subscriber{}
	pc := c.pc
	c.pc = nil
	data := c.data
	c.data = nil
	c.gen++
	c.mu.Unlock()
	for _, s := range subs {
		s.close(false)
	}
	if data != nil {
		data.close(errors.New("the recorder left the room"))
	}
	if pc != nil {
		pc.Close()
	}
}

// current reports whether gen is still the current session's.
func (c *conn) current(gen int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return gen == c.gen && !c.closed
}
