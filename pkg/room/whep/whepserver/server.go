// Package whepserver is a WHEP endpoint (draft-ietf-wish-whep-02) that serves local audio tracks to
// every viewer: the embedded demo room's server, and the one the tests record from. It is not the
// recorder's WHEP client (package whep); it shares only the audio-tracks link relation with it.
package whepserver

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/room/whep"
)

// Options configures a Server.
type Options struct {
	// Tracks are served to every viewer, in order: the first audio m-line of an offer gets
	// Tracks[0], and so on. Their stream ids (msid) name the speakers. A viewer offering fewer
	// m-lines gets the first ones; the audio-tracks link tells it how many there are.
	Tracks []webrtc.TrackLocal
	// BearerToken, when set, is required on every request (401 otherwise, §4.9.1).
	BearerToken string
	RTC         rtc.Options
	// OnConnect is called, on its own goroutine, when a viewer's media connection is up.
	OnConnect func(session string)
}

// Server is a WHEP endpoint (draft-ietf-wish-whep-02) serving a fixed set of local audio tracks.
// Mount it at the endpoint's path; sessions live below it, at PATH/sessions/ID.
//
//	POST    PATH               application/sdp offer → 201, SDP answer, Location, audio-tracks Link
//	GET     PATH/sessions/ID   204 while the session exists, else 404 (§4.1)
//	DELETE  PATH/sessions/ID   ends the session → 200
//	PATCH   PATH/sessions/ID   405: the answer carries every candidate; no trickle, no ICE restart
//	OPTIONS any                204 with Accept-Post and CORS headers (§4.3)
type Server struct {
	opts Options
	api  *webrtc.API

	mu       sync.Mutex
	sessions map[string]*serverSession
	closed   bool
}

type serverSession struct {
	id      string
	pc      *webrtc.PeerConnection
	senders []*webrtc.RTPSender
	once    sync.Once
}

var _ http.Handler = (*Server)(nil)

// New makes an endpoint serving o.Tracks.
func New(o Options) (*Server, error) {
	for i, t := range o.Tracks {
		if t == nil || t.Kind() != webrtc.RTPCodecTypeAudio {
			return nil, fmt.Errorf("whepserver: track %d is not an audio track", i)
		}
	}
	api, err := rtc.NewAPI(o.RTC)
	if err != nil {
		return nil, err
	}
	return &Server{opts: o, api: api, sessions: map[string]*serverSession{}}, nil
}

// Sessions is how many viewers are connected or connecting.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// ServeHTTP implements the endpoint and its sessions.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Location, Link")
	if r.Method == http.MethodOptions { // CORS preflight: no authentication (§4.9.1)
		h.Set("Access-Control-Allow-Methods", "POST, GET, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Accept-Post", "application/sdp")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !s.authorized(r) {
		h.Set("WWW-Authenticate", `Bearer realm="whep"`)
		http.Error(w, "a valid bearer token is required (Authorization: Bearer TOKEN)", http.StatusUnauthorized)
		return
	}
	base, id, isSession := strings.Cut(r.URL.Path, "/sessions/")
	if isSession {
		s.serveSession(w, r, id)
		return
	}
	switch r.Method {
	case http.MethodPost:
		s.create(w, r, strings.TrimSuffix(base, "/"))
	case http.MethodGet, http.MethodHead:
		w.WriteHeader(http.StatusNoContent) // §4.1: no representation
	default:
		h.Set("Allow", "POST, GET, HEAD, OPTIONS")
		http.Error(w, r.Method+" is not used on a WHEP endpoint: POST an SDP offer", http.StatusMethodNotAllowed)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if s.opts.BearerToken == "" {
		return true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.BearerToken)) == 1
}

func (s *Server) serveSession(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	if sess == nil {
		http.Error(w, "no such WHEP session (it ended, or was never created)", http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.end(sess, false)
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Allow", "GET, HEAD, DELETE, OPTIONS")
		http.Error(w, "this WHEP session supports neither trickle ICE nor ICE restarts: its answer lists every candidate", http.StatusMethodNotAllowed)
	}
}

// create answers an offer (§4.2).
func (s *Server) create(w http.ResponseWriter, r *http.Request, base string) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/sdp" {
		w.Header().Set("Accept-Post", "application/sdp")
		http.Error(w, fmt.Sprintf("the offer must be application/sdp, not %q", r.Header.Get("Content-Type")), http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, whep.MaxSDP+1))
	if err != nil {
		http.Error(w, "reading the offer: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > whep.MaxSDP {
		http.Error(w, fmt.Sprintf("the offer is larger than %d bytes", whep.MaxSDP), http.StatusRequestEntityTooLarge)
		return
	}
	lines, err := whep.AudioLines(body)
	if err != nil {
		http.Error(w, "malformed offer: "+err.Error(), http.StatusBadRequest)
		return
	}
	wanted := 0
	for _, l := range lines {
		switch {
		case l.Rejected:
		case l.Direction == "sendonly" || l.Direction == "inactive":
			http.Error(w, fmt.Sprintf("audio m-line %q is %s: a WHEP offer receives (recvonly) (§4.2)", l.Mid, l.Direction), http.StatusBadRequest)
			return
		default:
			wanted++
		}
	}
	if wanted == 0 {
		http.Error(w, "this endpoint serves audio only: offer at least one recvonly audio m-line with Opus", http.StatusNotAcceptable)
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "the room has ended", http.StatusNotFound)
		return
	}

	sess, answer, err := s.answer(string(body), wanted)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sess.pc.Close()
		http.Error(w, "the room has ended", http.StatusNotFound)
		return
	}
	s.sessions[sess.id] = sess
	s.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/sdp")
	h.Set("Location", base+"/sessions/"+sess.id)
	h.Add("Link", fmt.Sprintf(`<%s>; rel="%s"; count=%d`, base, whep.AudioTracksRel, len(s.opts.Tracks)))
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer)
}

// answer makes the peer connection for an offer and returns its answer with every candidate.
func (s *Server) answer(offer string, wanted int) (*serverSession, string, error) {
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{SDPSemantics: webrtc.SDPSemanticsUnifiedPlan})
	if err != nil {
		return nil, "", fmt.Errorf("whep: %w", err)
	}
	sess := &serverSession{id: newSessionID(), pc: pc}
	fail := func(format string, args ...any) (*serverSession, string, error) {
		pc.Close()
		return nil, "", fmt.Errorf(format, args...)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail("the offer cannot be used: %v", err)
	}
	for _, t := range s.opts.Tracks[:min(wanted, len(s.opts.Tracks))] {
		snd, err := pc.AddTrack(t)
		if err != nil {
			return fail("whep: adding track %s: %v", t.ID(), err)
		}
		sess.senders = append(sess.senders, snd)
		go drainRTCP(snd)
	}
	// The m-lines left without a track answer inactive (pion would say sendonly and send nothing).
	for _, tr := range pc.GetTransceivers() {
		if tr.Sender() == nil {
			if err := tr.Stop(); err != nil {
				return fail("whep: %v", err)
			}
		}
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail("no answer to this offer (does it offer Opus?): %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return fail("whep: %v", err)
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		return fail("whep: gathering the server's ICE candidates took longer than 5 s")
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			if s.opts.OnConnect != nil {
				s.opts.OnConnect(sess.id)
			}
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			s.end(sess, false)
		}
	})
	return sess, pc.LocalDescription().SDP, nil
}

// drainRTCP reads a sender's RTCP so pion's interceptors see it; it ends with the connection.
func drainRTCP(snd *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := snd.Read(buf); err != nil {
			return
		}
	}
}

// end forgets the session and closes its connection; bye first says goodbye for every source
// (RFC 3550 §6.6), so viewers know the server ended it.
func (s *Server) end(sess *serverSession, bye bool) {
	s.mu.Lock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
	}
	s.mu.Unlock()
	sess.once.Do(func() {
		if bye {
			var ssrcs []uint32
			for _, snd := range sess.senders {
				for _, e := range snd.GetParameters().Encodings {
					ssrcs = append(ssrcs, uint32(e.SSRC))
				}
			}
			if len(ssrcs) > 0 {
				sess.pc.WriteRTCP([]rtcp.Packet{&rtcp.Goodbye{Sources: ssrcs, Reason: "room ended"}})
				time.Sleep(50 * time.Millisecond) // let it leave before the transport closes
			}
		}
		sess.pc.Close()
	})
}

// Close ends the room: every session gets an RTCP BYE and is closed, and new offers get 404.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var all []*serverSession
	for _, sess := range s.sessions {
		all = append(all, sess)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, sess := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.end(sess, true)
		}()
	}
	wg.Wait()
	return nil
}

func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
