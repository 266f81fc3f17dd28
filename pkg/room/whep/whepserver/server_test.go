package whepserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/room/whep"
)

// offer is a pion player's offer of n recvonly audio m-lines, with its candidates.
func offer(t *testing.T, n int) string {
	t.Helper()
	api, err := rtc.NewAPI(rtc.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	for range n {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-done
	return pc.LocalDescription().SDP
}

func testServer(t *testing.T, token string, speakers ...string) (*Server, *httptest.Server) {
	t.Helper()
	var tracks []webrtc.TrackLocal
	for _, s := range speakers {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, s+"-mic", s)
		if err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	srv, err := New(Options{Tracks: tracks, BearerToken: token, RTC: rtc.Options{Loopback: true}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/room", srv)
	mux.Handle("/room/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return srv, hs
}

func do(t *testing.T, method, url, ctype, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServerProtocol checks the endpoint against draft-ietf-wish-whep-02, one rule per case.
func TestServerProtocol(t *testing.T) {
	t.Parallel()
	srv, hs := testServer(t, "tok", "ann", "ben", "cat")
	ep := hs.URL + "/room"
	one := offer(t, 1)
	for _, c := range []struct {
		name, method, ctype, token, body string
		want                             int
	}{
		{"§4.2: an offer that is not application/sdp is refused with 415", "POST", "text/plain", "tok", one, 415},
		{"§4.2: a malformed SDP is refused with 400", "POST", "application/sdp", "tok", "hello", 400},
		{"§4.2: a sendonly offer is refused with 400", "POST", "application/sdp", "tok", strings.ReplaceAll(one, "a=recvonly", "a=sendonly"), 400},
		{"§4.2: an offer without audio is not acceptable", "POST", "application/sdp", "tok", strings.ReplaceAll(one, "m=audio", "m=video"), 406},
		{"§4.9.1: a wrong bearer token is refused with 401", "POST", "application/sdp", "nope", one, 401},
		{"§4.9.1: a missing bearer token is refused with 401", "POST", "application/sdp", "", one, 401},
		{"§4.1: GET on the endpoint answers 2xx without content", "GET", "", "tok", "", 204},
		{"PUT is not allowed on the endpoint", "PUT", "", "tok", "", 405},
		{"§4.3: OPTIONS needs no token (CORS preflight)", "OPTIONS", "", "", "", 204},
		{"DELETE of an unknown session is 404", "DELETE", "", "tok", "", 404},
	} {
		url := ep
		if strings.HasPrefix(c.name, "DELETE") {
			url = ep + "/sessions/0123"
		}
		resp, body := do(t, c.method, url, c.ctype, c.token, c.body)
		if resp.StatusCode != c.want {
			t.Errorf("%s: HTTP %d (%s), want %d", c.name, resp.StatusCode, strings.TrimSpace(body), c.want)
		}
		if c.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", c.name, resp.Header.Get("WWW-Authenticate"))
		}
		if c.method == "OPTIONS" && resp.Header.Get("Accept-Post") != "application/sdp" {
			t.Errorf("%s: Accept-Post %q", c.name, resp.Header.Get("Accept-Post"))
		}
	}
	if n := srv.Sessions(); n != 0 {
		t.Fatalf("refused offers left %d sessions", n)
	}

	// A good offer: 201, SDP answer, Location of the session, the audio-tracks link.
	resp, answer := do(t, "POST", ep, "application/sdp", "tok", one)
	if resp.StatusCode != 201 || resp.Header.Get("Content-Type") != "application/sdp" {
		t.Fatalf("offer: HTTP %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), answer)
	}
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.Path, "/room/sessions/") {
		t.Fatalf("Location %q: %v", resp.Header.Get("Location"), err)
	}
	links, err := whep.ParseLinks(resp.Header.Values("Link"))
	if count := audioTracks(links); err != nil || count != "3" {
		t.Errorf("Link %q: %q tracks advertised (%v), want 3", resp.Header.Values("Link"), count, err)
	}
	lines, err := whep.AudioLines([]byte(answer))
	if err != nil || len(lines) != 1 || !lines[0].Sends() || lines[0].Direction != "sendonly" || lines[0].StreamID != "ann" || !lines[0].Opus {
		t.Errorf("answer to one m-line: %+v (%v), want ann's track, sendonly Opus", lines, err)
	}
	if srv.Sessions() != 1 {
		t.Errorf("%d sessions after one offer", srv.Sessions())
	}
	if r, _ := do(t, "GET", loc.String(), "", "tok", ""); r.StatusCode != 204 {
		t.Errorf("§4.1: GET on the session: HTTP %d, want 204", r.StatusCode)
	}
	if r, _ := do(t, "PATCH", loc.String(), "application/trickle-ice-sdpfrag", "tok", "a=end-of-candidates\r\n"); r.StatusCode != 405 {
		t.Errorf("§4.4.1: PATCH (no trickle, no restart): HTTP %d, want 405", r.StatusCode)
	}
	if r, _ := do(t, "DELETE", loc.String(), "", "nope", ""); r.StatusCode != 401 {
		t.Errorf("§4.9.1: DELETE with a wrong token: HTTP %d, want 401", r.StatusCode)
	}
	if r, _ := do(t, "DELETE", loc.String(), "", "tok", ""); r.StatusCode != 200 {
		t.Errorf("§4.3: DELETE: HTTP %d, want 200", r.StatusCode)
	}
	if r, _ := do(t, "GET", loc.String(), "", "tok", ""); r.StatusCode != 404 {
		t.Errorf("GET after DELETE: HTTP %d, want 404", r.StatusCode)
	}
	if srv.Sessions() != 0 {
		t.Errorf("%d sessions after DELETE", srv.Sessions())
	}

	// More m-lines than tracks: each track once, in order; the rest send nothing.
	_, answer = do(t, "POST", ep, "application/sdp", "tok", offer(t, 5))
	lines, err = whep.AudioLines([]byte(answer))
	if err != nil || len(lines) != 5 {
		t.Fatalf("answer to five m-lines: %d lines (%v)", len(lines), err)
	}
	for i, l := range lines {
		want := []string{"ann", "ben", "cat", "", ""}[i]
		if l.Sends() != (want != "") || want != "" && l.StreamID != want {
			t.Errorf("m-line %d: %+v, want stream %q", i, l, want)
		}
	}

	// The offer of the draft's example (§4.2, audio and video, browser style): audio is served,
	// video is not.
	resp, answer = do(t, "POST", ep, "application/sdp", "tok", draftOffer(t))
	lines, err = whep.AudioLines([]byte(answer))
	if resp.StatusCode != 201 || err != nil || len(lines) != 1 || !lines[0].Sends() || lines[0].StreamID != "ann" {
		t.Errorf("the draft's example offer: HTTP %d, audio %+v (%v): %s", resp.StatusCode, lines, err, answer)
	}
	if strings.Contains(answer, "VP8") && !strings.Contains(answer, "m=video 0 ") && !strings.Contains(answer, "a=inactive") {
		t.Errorf("the answer offers to send video:\n%s", answer)
	}

	// After Close the room is gone.
	srv.Close()
	if r, _ := do(t, "POST", ep, "application/sdp", "tok", one); r.StatusCode != 404 {
		t.Errorf("offer after Close: HTTP %d, want 404", r.StatusCode)
	}
}

// draftOffer is the example offer of draft-ietf-wish-whep-02 §4.2 (CRLF line ends as on the wire).
func draftOffer(t *testing.T) string {
	b, err := os.ReadFile("../testdata/draft-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\n", "\r\n")
}

// audioTracks is the count of the audio-tracks link, or "".
func audioTracks(links []whep.Link) string {
	for _, l := range links {
		if l.HasRel(whep.AudioTracksRel) {
			return l.Params["count"]
		}
	}
	return ""
}
