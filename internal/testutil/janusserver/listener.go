package janusserver

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// Listener is a pion participant that subscribes to every stream of one VideoRoom publisher's
// feed and keeps the text messages that arrive on its data channels.
type Listener struct {
	// Messages receives each text message, in order (it holds 64).
	Messages chan string
	// Labels receives the label of each data channel: the listener's own, then each Janus opens
	// (VideoRoom labels a publisher's relayed data with the publisher's id).
	Labels chan string

	sess *apiSession
	pc   *webrtc.PeerConnection
	once sync.Once
}

// NewListener finds the publisher named display in the VideoRoom roomID (waiting up to 10 s for
// them to publish) and subscribes to their whole feed. It leaves when the test ends.
func NewListener(t testing.TB, ns *netns.NS, url, roomID, display string) *Listener {
	t.Helper()
	api, err := rtc.NewAPI(RTC(ns))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	l := &Listener{Messages: make(chan string, 64), Labels: make(chan string, 8)}
	if l.sess, err = createSession(ctx, url); err != nil {
		t.Fatalf("listener: %v", err)
	}
	t.Cleanup(l.Close)
	h, err := l.sess.attach(ctx, VideoRoom)
	if err != nil {
		t.Fatalf("listener: %v", err)
	}
	n, err := strconv.ParseUint(roomID, 10, 64)
	if err != nil {
		t.Fatalf("listener: VideoRoom ids are numbers here, not %q", roomID)
	}
	var feed uint64
	for feed == 0 {
		data, _, err := l.sess.request(ctx, h, map[string]any{"request": "listparticipants", "room": n}, nil)
		if err != nil {
			t.Fatalf("listener: %v", err)
		}
		var list struct {
			Participants []struct {
				ID        uint64 `json:"id"`
				Display   string `json:"display"`
				Publisher bool   `json:"publisher"`
			} `json:"participants"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			t.Fatalf("listener: listparticipants: %v", err)
		}
		for _, p := range list.Participants {
			if p.Display == display && p.Publisher {
				feed = p.ID
			}
		}
		if feed == 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("listener: no publisher %q in room %s within 10 s (participants %+v)", display, roomID, list.Participants)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	// A stream without a mid subscribes to every stream of the feed (VideoRoom, "join" as subscriber).
	_, offer, err := l.sess.request(ctx, h, map[string]any{"request": "join", "ptype": "subscriber", "room": n,
		"streams": []any{map[string]any{"feed": feed}}}, nil)
	if err != nil || offer == nil {
		t.Fatalf("listener: subscribing to %q (feed %d): %v (offer %v)", display, feed, err, offer)
	}
	if l.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	keep := func(dc *webrtc.DataChannel) {
		select {
		case l.Labels <- dc.Label():
		default:
		}
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			if m.IsString {
				select {
				case l.Messages <- string(m.Data):
				default:
				}
			}
		})
	}
	l.pc.OnDataChannel(keep)
	if err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		t.Fatalf("listener: Janus's offer: %v", err)
	}
	// Janus relays a publisher's data to a subscriber once the subscriber's own end has a data
	// channel open, as janus.js opens one when it answers an offer with data.
	dc, err := l.pc.CreateDataChannel("JanusDataChannel", nil)
	if err != nil {
		t.Fatal(err)
	}
	keep(dc)
	opened := make(chan struct{})
	dc.OnOpen(func() { close(opened) })
	ans, err := l.pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if _, _, err := l.sess.request(ctx, h, map[string]any{"request": "start"}, &jsep{Type: "answer", SDP: l.pc.LocalDescription().SDP}); err != nil {
		t.Fatalf("listener: start: %v", err)
	}
	// Janus relays nothing to the listener before its data channel is open.
	select {
	case <-opened:
	case <-ctx.Done():
		t.Fatalf("listener: its data channel to Janus did not open")
	}
	// Janus's core acknowledges the channel before it tells the VideoRoom plugin the subscriber's
	// data is ready ("Data channel available" in its log), and sends no event for it: data the
	// publisher sends in between is not relayed. Give the plugin that moment.
	time.Sleep(time.Second) // 250 ms sufficed on an idle machine; a loaded CI machine gets slack
	return l
}

// Close closes the PeerConnection and destroys the listener's session. Idempotent.
func (l *Listener) Close() {
	l.once.Do(func() {
		if l.pc != nil {
			l.pc.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		l.sess.close(ctx)
	})
}
