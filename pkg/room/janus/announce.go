package janus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/room"
)

// Announcements (VideoRoom only): after joining, the recorder publishes a feed with a data channel
// and nothing else (no audio, no video), so participants who subscribe to that feed's data stream
// receive what the recorder says. Janus relays each message of a publisher's data channel to the
// subscribers of its data stream (janus_videoroom.c, "incoming_data"). AudioBridge carries no
// text: Announce returns room.ErrNoMessages there.

// Announcement is the JSON message sent after each announcement's text line: the same fields as
// the LiveKit adapter's message on its spacecast.recording topic.
type Announcement struct {
	Type     string `json:"type"` // "recording-started", "recording-stopped", "recording-paused", "recording-resumed"
	Message  string `json:"message"`
	Recorder string `json:"recorder"`
}

// DataChannelLabel is the label of the recorder's data channel towards Janus.
const DataChannelLabel = "spacecast"

// announceWait bounds how long Announce waits for the data channel to open.
const announceWait = 10 * time.Second

// dataFeed is the recorder's data-only publication on one session.
type dataFeed struct {
	mu     sync.Mutex // guards pc
	pc     *webrtc.PeerConnection
	dc     *webrtc.DataChannel
	open   chan struct{} // closed when dc opens
	ended  chan struct{} // closed when publishing failed or the feed closed
	once   sync.Once
	err    error      // why, once ended is closed
	sendMu sync.Mutex // one announcement's messages go out together
}

// publishData publishes the recorder's data-only feed on handle; Announce waits for it. A
// failure does not end the recording: the next Announce returns it.
func (c *conn) publishData(sess *apiSession, handle uint64, gen int) {
	f := &dataFeed{open: make(chan struct{}), ended: make(chan struct{})}
	c.mu.Lock()
	if c.closed || c.gen != gen {
		c.mu.Unlock()
		return
	}
	old := c.data
	c.data = f
	c.mu.Unlock()
	if old != nil {
		old.close(errors.New("replaced"))
	}
	go func() {
		if err := f.publish(c, sess, handle); err != nil {
			f.close(err)
		}
	}()
}

func (f *dataFeed) publish(c *conn, sess *apiSession, handle uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.pc = pc
	f.mu.Unlock()
	select {
	case <-f.ended: // closed meanwhile
		pc.Close()
		return nil
	default:
	}
	dc, err := pc.CreateDataChannel(DataChannelLabel, nil)
	if err != nil {
		return err
	}
	f.dc = dc
	dc.OnOpen(func() {
		close(f.open)
		go f.repeat(c)
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed {
			f.close(errors.New("the data channel's ICE/DTLS connection failed"))
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("gathering ICE candidates: %w", ctx.Err())
	}
	_, ans, err := sess.request(ctx, handle, map[string]any{"request": "publish"}, &jsep{Type: "offer", SDP: pc.LocalDescription().SDP})
	if err != nil {
		return fmt.Errorf("publishing the recorder's data channel: %w", err)
	}
	if ans == nil || ans.Type != "answer" {
		return errors.New("publishing the recorder's data channel: the server sent no answer")
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		return fmt.Errorf("the server's answer to the data channel: %w", err)
	}
	return nil
}

// dataEnded ends the current data feed (the server hung it up or unpublished it): Announce then
// says why. The recording goes on.
func (c *conn) dataEnded(why error) {
	c.mu.Lock()
	f := c.data
	c.mu.Unlock()
	if f != nil {
		f.close(why)
	}
}

// close ends the feed, once: Announce then returns why.
func (f *dataFeed) close(why error) {
	f.once.Do(func() {
		f.err = why
		close(f.ended)
	})
	if pc := f.peer(); pc != nil {
		pc.Close()
	}
}

func (f *dataFeed) peer() *webrtc.PeerConnection {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pc
}

// repeat sends the JSON of the latest announcement again every announceRepeat (intervals) while
// the feed lasts (also on the feed published after a rejoin), so that a participant who
// subscribes to the recorder's feed later learns whether it is recording. The text line is sent
// once, by Announce.
func (f *dataFeed) repeat(c *conn) {
	t := time.NewTicker(c.cl.iv.announceRepeat)
	defer t.Stop()
	for {
		select {
		case <-f.ended:
			return
		case <-t.C:
		}
		c.mu.Lock()
		ann := c.lastAnn
		c.mu.Unlock()
		if ann != nil {
			f.sendMu.Lock()
			err := f.dc.SendText(string(ann))
			f.sendMu.Unlock()
			if err != nil {
				return
			}
		}
	}
}

// announcementType names text in Announcement.Type.
func announcementType(text string) string {
	typ := "recording-started"
	for _, w := range []string{"stopped", "paused", "resumed"} {
		if strings.Contains(text, w) {
			typ = "recording-" + w
		}
	}
	return typ
}

// Announce sends text into a VideoRoom on the recorder's data channel: first text itself, then an
// Announcement as JSON, each a text message. Those subscribed to the recorder's data stream
// receive them; the JSON is repeated every 5 s for those who subscribe later. It waits up to 10 s
// for the data channel to open. An AudioBridge room carries no
// text: room.ErrNoMessages (the room sees the recorder by its display name instead).
func (c *conn) Announce(ctx context.Context, text string) error {
	if c.plugin != VideoRoom {
		return fmt.Errorf("janus: %w (the %s plugin carries no text; the room shows the recorder as %q)", room.ErrNoMessages, c.plugin, c.opts.Identity.Name)
	}
	ann, err := json.Marshal(Announcement{Type: announcementType(text), Message: text, Recorder: c.opts.Identity.Identity})
	if err != nil {
		return fmt.Errorf("janus: announce: %w", err)
	}
	c.mu.Lock()
	f := c.data
	c.lastAnn = ann // repeated, also on a feed published after a rejoin
	c.mu.Unlock()
	if f == nil {
		return errors.New("janus: announce: the recorder is not in the room")
	}
	t := time.NewTimer(announceWait)
	defer t.Stop()
	select {
	case <-f.open:
	case <-f.ended:
		return fmt.Errorf("janus: announce: %w", f.err)
	case <-ctx.Done():
		return fmt.Errorf("janus: announce: %w", ctx.Err())
	case <-t.C:
		return fmt.Errorf("janus: announce: the recorder's data channel did not open within %s", announceWait)
	}
	f.sendMu.Lock()
	defer f.sendMu.Unlock()
	for _, m := range []string{text, string(ann)} {
		if err := f.dc.SendText(m); err != nil {
			return fmt.Errorf("janus: announce: %w", err)
		}
	}
	// Return once the messages have left the recorder (its SCTP send buffer is empty): "recording
	// stopped" is followed by the hangup, which must not overtake it.
	for deadline := time.Now().Add(announceFlush); f.dc.BufferedAmount() > 0 && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return nil
		case <-f.ended:
			return nil
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// announceFlush is how long Announce waits for its messages to leave the recorder.
const announceFlush = time.Second
