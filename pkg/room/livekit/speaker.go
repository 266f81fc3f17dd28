package livekit

import (
	"context"
	"fmt"
	"time"

	lkp "github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// Speaker is a participant that publishes Opus audio: the embedded demo's voices and the tests'
// pion publishers. It speaks the same signalling as the recorder.
type Speaker struct {
	c *Conn
	a *attempt
}

// JoinSpeaker joins a room with a token that may publish (SpeakerToken).
func JoinSpeaker(ctx context.Context, rawURL, token string, o rtc.Options) (*Speaker, error) {
	base, err := normalizeURL(rawURL)
	if err != nil {
		return nil, err
	}
	api, err := rtc.NewAPI(o)
	if err != nil {
		return nil, err
	}
	c := &Conn{opts: Options{DialTimeout: 10 * time.Second}, base: base, token: token, api: api, changed: make(chan struct{}, 1)}
	c.opts.Identity = room.Identity{Identity: "\x00none"} // the speaker sees everyone
	a, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	return &Speaker{c: c, a: a}, nil
}

// Identity is the speaker's identity as the server knows it.
func (s *Speaker) Identity() string { return s.a.join.GetParticipant().GetIdentity() }

// Publish adds an Opus track named name and returns it; write RTP packets to it (their SSRC and
// payload type are rewritten by pion, their timestamps and sequence numbers are kept).
func (s *Speaker) Publish(ctx context.Context, name string) (*webrtc.TrackLocalStaticRTP, error) {
	a := s.a
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, name, "spacecast-"+name)
	if err != nil {
		return nil, fmt.Errorf("livekit: %w", err)
	}
	ch := make(chan *lkp.TrackInfo, 1)
	a.mu.Lock()
	a.published[tr.ID()] = ch
	a.mu.Unlock()
	err = a.sig.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_AddTrack{AddTrack: &lkp.AddTrackRequest{
		Cid: tr.ID(), Name: name, Type: lkp.TrackType_AUDIO, Source: lkp.TrackSource_MICROPHONE,
	}}})
	if err != nil {
		return nil, fmt.Errorf("livekit: %w", err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("livekit: the server did not accept track %q (does the token allow publishing?)", name)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Renegotiate once the first offer (data channel) has its answer.
	for i := 0; ; i++ {
		a.mu.Lock()
		ready := a.pubRemote
		a.mu.Unlock()
		if ready {
			break
		}
		if i > 200 {
			return nil, fmt.Errorf("livekit: no answer to the publisher offer")
		}
		time.Sleep(25 * time.Millisecond)
	}
	if _, err := a.pub.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		return nil, fmt.Errorf("livekit: %w", err)
	}
	if err := a.negotiatePublisher(); err != nil {
		return nil, err
	}
	return tr, nil
}

// Unpublish removes every published track (the speaker stays in the room).
func (s *Speaker) Unpublish() error {
	for _, snd := range s.a.pub.GetSenders() {
		if snd.Track() != nil {
			if err := s.a.pub.RemoveTrack(snd); err != nil {
				return err
			}
		}
	}
	return s.a.negotiatePublisher()
}

// Close leaves the room.
func (s *Speaker) Close() { s.a.close(true) }
