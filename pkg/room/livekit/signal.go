package livekit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	lkp "github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v3"
	"google.golang.org/protobuf/proto"

	"github.com/spacecast/spacecast/pkg/room"
)

// protocolVersion is the LiveKit signalling protocol spacecast speaks (as server-sdk-go v2.3.1).
const protocolVersion = 12

// signal is one WebSocket signalling connection: protobuf SignalRequest out, SignalResponse in.
type signal struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	in   chan *lkp.SignalResponse
	done chan struct{}
	err  error
}

// normalizeURL accepts ws, wss, http and https URLs (LiveKit Cloud's https:// form included) and
// returns the WebSocket base, without a trailing slash.
func normalizeURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: %s: want ws://HOST:PORT or wss://HOST", room.ErrURL, room.ShowURL(raw))
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("%w: %s: scheme %q (LiveKit URLs start with ws://, wss://, http:// or https://)", room.ErrURL, room.ShowURL(raw), u.Scheme)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func httpBase(u *url.URL) string {
	h := *u
	if h.Scheme == "wss" {
		h.Scheme = "https"
	} else {
		h.Scheme = "http"
	}
	return h.String()
}

// dialSignal opens /rtc with the token and waits for the server's join response.
func dialSignal(ctx context.Context, base *url.URL, token string, timeout time.Duration) (*signal, *lkp.JoinResponse, error) {
	u := *base
	u.Path += "/rtc"
	q := url.Values{}
	q.Set("protocol", fmt.Sprint(protocolVersion))
	q.Set("sdk", "go")
	q.Set("version", "2.3.1")
	q.Set("auto_subscribe", "1")
	q.Set("adaptive_stream", "0")
	u.RawQuery = q.Encode()
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	d := websocket.Dialer{HandshakeTimeout: timeout, Proxy: nil}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ws, resp, err := d.DialContext(dctx, u.String(), h)
	if err != nil {
		return nil, nil, dialError(ctx, base, h, resp, err)
	}
	s := &signal{ws: ws, in: make(chan *lkp.SignalResponse, 64), done: make(chan struct{})}
	go s.readLoop()
	select {
	case res, ok := <-s.in:
		if !ok {
			return nil, nil, fmt.Errorf("%w: the server closed the connection before joining: %v", room.ErrUnreachable, s.err)
		}
		switch m := res.Message.(type) {
		case *lkp.SignalResponse_Join:
			return s, m.Join, nil
		case *lkp.SignalResponse_Leave:
			s.close()
			return nil, nil, fmt.Errorf("%w: the server refused the join (%s)", room.ErrAuth, m.Leave.GetReason())
		default:
			s.close()
			return nil, nil, fmt.Errorf("livekit: expected a join response, got %T", res.Message)
		}
	case <-time.After(timeout):
		s.close()
		return nil, nil, fmt.Errorf("%w: no join response within %s", room.ErrUnreachable, timeout)
	case <-ctx.Done():
		s.close()
		return nil, nil, ctx.Err()
	}
}

// dialError turns a failed WebSocket dial into an error a user can act on, asking the server's
// validate endpoint for the reason when the upgrade was refused.
func dialError(ctx context.Context, base *url.URL, h http.Header, resp *http.Response, err error) error {
	if resp == nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("%w: %s: no answer within the timeout", room.ErrUnreachable, base.Host)
		}
		return fmt.Errorf("%w: %s: %v", room.ErrUnreachable, base.Host, err)
	}
	reason := ""
	req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, httpBase(base)+"/rtc/validate", nil)
	if rerr == nil {
		req.Header = h
		// The request carries the token: no redirect may take it to another origin.
		c := room.SameOriginRedirects(&http.Client{Timeout: 5 * time.Second}, func(*http.Request) bool { return true })
		if vr, verr := c.Do(req); verr == nil {
			b, _ := io.ReadAll(io.LimitReader(vr.Body, 512))
			vr.Body.Close()
			reason = room.Excerpt(b, 200)
			resp = vr
		}
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w (HTTP %d: %s)", room.ErrAuth, resp.StatusCode, reason)
	case http.StatusNotFound:
		return fmt.Errorf("%w (HTTP 404: %s)", room.ErrNoRoom, reason)
	default:
		return fmt.Errorf("%w: %s answered HTTP %d: %s", room.ErrUnreachable, base.Host, resp.StatusCode, reason)
	}
}

func (s *signal) readLoop() {
	defer close(s.in)
	for {
		_, b, err := s.ws.ReadMessage()
		if err != nil {
			s.err = err
			return
		}
		res := &lkp.SignalResponse{}
		if err := proto.Unmarshal(b, res); err != nil {
			continue // a message this version does not know
		}
		select {
		case s.in <- res:
		case <-s.done:
			return
		}
	}
}

func (s *signal) send(req *lkp.SignalRequest) error {
	b, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return s.ws.WriteMessage(websocket.BinaryMessage, b)
}

func (s *signal) sendSDP(offer bool, sd webrtc.SessionDescription) error {
	d := &lkp.SessionDescription{Type: sd.Type.String(), Sdp: sd.SDP}
	if offer {
		return s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Offer{Offer: d}})
	}
	return s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Answer{Answer: d}})
}

func (s *signal) sendCandidate(c webrtc.ICECandidateInit, target lkp.SignalTarget) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Trickle{Trickle: &lkp.TrickleRequest{CandidateInit: string(b), Target: target}}})
}

func (s *signal) leave() {
	s.send(&lkp.SignalRequest{Message: &lkp.SignalRequest_Leave{Leave: &lkp.LeaveRequest{Reason: lkp.DisconnectReason_CLIENT_INITIATED}}})
}

func (s *signal) close() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.ws.Close()
}

func fromSDP(d *lkp.SessionDescription) webrtc.SessionDescription {
	return webrtc.SessionDescription{Type: webrtc.NewSDPType(d.Type), SDP: d.Sdp}
}

func candidate(t *lkp.TrickleRequest) (webrtc.ICECandidateInit, error) {
	var c webrtc.ICECandidateInit
	err := json.Unmarshal([]byte(t.CandidateInit), &c)
	return c, err
}

// unpackStreamID splits LiveKit's "PA_participant|TR_track" stream IDs.
func unpackStreamID(s string) (participant, track string) {
	p, t, ok := strings.Cut(s, "|")
	if !ok {
		return s, ""
	}
	return p, t
}
