package janus

import (
	"context"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// AudioBridge: the server decodes everyone, mixes, and sends each participant one Opus stream.
// The recorder joins muted (so nothing of it is mixed in, and the room lists it under its display
// name), offers a receive-only audio transceiver (AudioBridge answers the client's offer) and
// records the mix as one track. The participant list and its join/leave notifications say who
// was in the room; who spoke when is not recoverable from a mix.

func (c *conn) joinAudioBridge(ctx context.Context, sess *apiSession, handle uint64) (*pluginEvent, error) {
	ev, _, err := sess.request(ctx, handle, c.joinBody(map[string]any{"request": "join", "muted": true}), nil)
	if err != nil {
		return nil, c.joinError(err)
	}
	if ev.AudioBridge != "joined" {
		return nil, fmt.Errorf("%s: joining room %s: unexpected answer %q", c.rawURL, c.room, ev.AudioBridge)
	}
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.selfID = ev.ID
	if c.closed {
		c.mu.Unlock()
		pc.Close()
		return nil, errors.New("closed")
	}
	c.pc = pc
	gen := c.gen
	c.mu.Unlock()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return nil, err
	}
	id := "audiobridge/" + c.room.String()
	pc.OnTrack(func(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
		if !rtc.IsOpus(tr) {
			return
		}
		src := rtc.Source(MixIdentity, id, tr, rc)
		c.tasks.push(func(_ context.Context, sink room.Sink) error {
			if !c.current(gen) {
				return nil
			}
			sink.Join(capture.Participant{Identity: MixIdentity, Name: MixName})
			if err := sink.AddTrack(src); err != nil {
				return fmt.Errorf("janus: recording the mix of room %s: %w", c.room, err)
			}
			return nil
		})
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateDisconnected {
			sess.checkNow()
		}
		if st == webrtc.PeerConnectionStateFailed {
			c.tasks.push(func(context.Context, room.Sink) error {
				if !c.current(gen) {
					return nil
				}
				return room.Dropped(errors.New("the mix's ICE/DTLS connection failed"))
			})
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, fmt.Errorf("gathering ICE candidates: %w", ctx.Err())
	}
	_, ans, err := sess.request(ctx, handle, map[string]any{"request": "configure", "muted": true},
		&jsep{Type: "offer", SDP: pc.LocalDescription().SDP})
	if err != nil {
		return nil, fmt.Errorf("%s: room %s: sending the offer: %w", c.rawURL, c.room, err)
	}
	if ans == nil || ans.Type != "answer" {
		return nil, fmt.Errorf("%s: room %s: AudioBridge sent no answer to the recorder's offer", c.rawURL, c.room)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		return nil, fmt.Errorf("%s: room %s: AudioBridge's answer (is the room's codec Opus?): %w", c.rawURL, c.room, err)
	}
	return ev, nil
}

// onAudioBridge applies one AudioBridge event: who is in the room.
func (c *conn) onAudioBridge(sink room.Sink, ev *pluginEvent) error {
	c.mu.Lock()
	self := c.selfID
	c.mu.Unlock()
	switch ev.AudioBridge {
	case "destroyed":
		return fmt.Errorf("janus: room %s: %w (the server destroyed it)", c.room, room.ErrRoomClosed)
	case "joined", "event":
	default:
		return nil // talking, stopped-talking, …
	}
	for _, p := range ev.Participants {
		if p.ID == self {
			continue
		}
		person, _ := c.roster.up(p.ID.String(), p.Display)
		sink.Join(capture.Participant{Identity: person.identity, Name: person.name})
	}
	if ev.Leaving == stringID("ok") {
		// The recorder never leaves by request (Close destroys the session): it was kicked.
		return fmt.Errorf("janus: room %s: %w (the recorder was removed from it)", c.room, room.ErrRoomClosed)
	}
	for _, id := range []jid{ev.Leaving, ev.Kicked} {
		if id.IsZero() || id == stringID("ok") {
			continue
		}
		if id == self {
			return fmt.Errorf("janus: room %s: %w (the recorder was removed from it)", c.room, room.ErrRoomClosed)
		}
		if p := c.roster.down(id.String()); p != nil {
			sink.Leave(p.identity)
		}
	}
	return nil
}
