package janusserver

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	hopus "gopkg.in/hraban/opus.v2"

	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// Speaker is a pion participant that publishes Opus: silence, with its tone when asked (Say).
type Speaker struct {
	Display string
	t       testing.TB
	plugin  string
	freq    float64
	sess    *apiSession
	handle  uint64
	api     *webrtc.API

	mu    sync.Mutex
	pc    *webrtc.PeerConnection
	stop  context.CancelFunc
	wg    sync.WaitGroup
	tone  int // frames of tone still to send
	onset chan time.Time
}

// NewSpeaker joins the room roomID of plugin (VideoRoom as a publisher, AudioBridge unmuted) on
// the Janus at url under display; its tone is freq Hz at amplitude 0.3. Publish starts sending.
// It leaves when the test ends.
func NewSpeaker(t testing.TB, ns *netns.NS, url, plugin, roomID, display string, freq float64) *Speaker {
	t.Helper()
	api, err := rtc.NewAPI(RTC(ns))
	if err != nil {
		t.Fatal(err)
	}
	s := &Speaker{t: t, plugin: plugin, Display: display, freq: freq, api: api}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.sess, err = createSession(ctx, url); err != nil {
		t.Fatalf("speaker %s: %v", display, err)
	}
	if s.handle, err = s.sess.attach(ctx, plugin); err != nil {
		s.sess.close(ctx)
		t.Fatalf("speaker %s: %v", display, err)
	}
	var id any = roomID // the test server's AudioBridge has string ids
	if n, err := strconv.ParseUint(roomID, 10, 64); err == nil && plugin == VideoRoom {
		id = n
	}
	body := map[string]any{"request": "join", "room": id, "display": display}
	if roomID == PINRoomID {
		body["pin"] = PIN
	}
	if plugin == VideoRoom {
		body["ptype"] = "publisher"
	} else {
		body["muted"] = false
	}
	if _, _, err := s.sess.request(ctx, s.handle, body, nil); err != nil {
		s.sess.close(ctx)
		t.Fatalf("speaker %s joins: %v", display, err)
	}
	t.Cleanup(s.Close)
	return s
}

// Request sends a plugin request (listparticipants, kick, …) on the speaker's handle and returns
// the plugin's answer data.
func (s *Speaker) Request(ctx context.Context, body map[string]any) (json.RawMessage, error) {
	data, _, err := s.sess.request(ctx, s.handle, body, nil)
	return data, err
}

// Publish negotiates a new PeerConnection (a new SSRC) and starts sending silence.
func (s *Speaker) Publish() {
	s.t.Helper()
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		s.t.Fatal(err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		"audio", s.Display)
	if err != nil {
		s.t.Fatal(err)
	}
	dir := webrtc.RTPTransceiverDirectionSendonly
	if s.plugin == AudioBridge {
		dir = webrtc.RTPTransceiverDirectionSendrecv // AudioBridge sends the mix back
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: dir})
	if err != nil {
		s.t.Fatal(err)
	}
	go func() { // read RTCP so the interceptors run
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Sender().Read(buf); err != nil {
				return
			}
		}
	}()
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		s.t.Fatal(err)
	}
	<-gathered
	body := map[string]any{"request": "publish"}
	if s.plugin == AudioBridge {
		body = map[string]any{"request": "configure", "muted": false}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, ans, err := s.sess.request(ctx, s.handle, body, &jsep{Type: "offer", SDP: pc.LocalDescription().SDP})
	if err != nil || ans == nil {
		pc.Close()
		s.t.Fatalf("speaker %s publishes: %v (answer %v)", s.Display, err, ans)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		pc.Close()
		s.t.Fatal(err)
	}
	select {
	case <-connected:
	case <-ctx.Done():
		pc.Close()
		s.t.Fatalf("speaker %s: PeerConnection to Janus did not connect", s.Display)
	}
	sctx, stop := context.WithCancel(context.Background())
	s.mu.Lock()
	s.pc, s.stop = pc, stop
	s.mu.Unlock()
	s.wg.Add(1)
	go s.send(sctx, track)
}

// send paces 20 ms Opus frames: silence, or the speaker's tone while tone > 0.
func (s *Speaker) send(ctx context.Context, track *webrtc.TrackLocalStaticRTP) {
	defer s.wg.Done()
	enc, err := hopus.NewEncoder(48000, 1, hopus.AppAudio)
	if err != nil {
		s.t.Error(err)
		return
	}
	pcm := make([]float32, 960)
	buf := make([]byte, 1500)
	var seq uint16 = 1000
	var ts uint32 = 90000
	phase := 0.0
	start := time.Now()
	for i := 0; ; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * 20 * time.Millisecond)); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		} else if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		on := s.tone > 0
		first := on && s.onset != nil
		if on {
			s.tone--
		}
		onset := s.onset
		if first {
			s.onset = nil
		}
		s.mu.Unlock()
		for j := range pcm {
			pcm[j] = 0
			if on {
				pcm[j] = float32(0.3 * math.Sin(phase))
				phase += 2 * math.Pi * s.freq / 48000
			}
		}
		n, err := enc.EncodeFloat32(pcm, buf)
		if err != nil {
			s.t.Error(err)
			return
		}
		if first {
			onset <- start.Add(time.Duration(i) * 20 * time.Millisecond)
		}
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: rtc.OpusPayloadType, SequenceNumber: seq, Timestamp: ts}, Payload: buf[:n]}
		if err := track.WriteRTP(p); err != nil {
			return
		}
		seq++
		ts += 960
	}
}

// Say sends the tone for d (rounded down to 20 ms frames) and returns the wall-clock time its
// first frame was due: where the media clock puts it. Frames are paced from the stream's start
// and their RTP timestamps follow that schedule, so a sender held up by a busy machine sends the
// late frames in a burst that a recorder still places at their due times; the time a late frame
// actually left would put the tone later than the stream says it is.
func (s *Speaker) Say(d time.Duration) time.Time {
	s.t.Helper()
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	s.tone = int(d / (20 * time.Millisecond))
	s.onset = ch
	s.mu.Unlock()
	select {
	case at := <-ch:
		return at
	case <-time.After(2 * time.Second):
		s.t.Fatalf("speaker %s: the tone did not start", s.Display)
		return time.Time{}
	}
}

// hangup stops sending and closes the PeerConnection.
func (s *Speaker) hangup() {
	s.mu.Lock()
	pc, stop := s.pc, s.stop
	s.pc, s.stop = nil, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
		s.wg.Wait()
	}
	if pc != nil {
		pc.Close()
	}
}

// Unpublish stops publishing (VideoRoom) but stays in the room.
func (s *Speaker) Unpublish() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := s.sess.request(ctx, s.handle, map[string]any{"request": "unpublish"}, nil); err != nil {
		s.t.Fatalf("speaker %s unpublishes: %v", s.Display, err)
	}
	s.hangup()
}

// Leave leaves the room and ends the speaker's session.
func (s *Speaker) Leave() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := s.sess.request(ctx, s.handle, map[string]any{"request": "leave"}, nil); err != nil {
		s.t.Fatalf("speaker %s leaves: %v", s.Display, err)
	}
	s.Close()
}

// Close stops sending and destroys the speaker's session (the room sees them go). Idempotent.
func (s *Speaker) Close() {
	s.hangup()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.sess.close(ctx)
}
