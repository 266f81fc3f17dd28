package whep_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/whep"
	"github.com/spacecast/spacecast/pkg/room/whep/whepserver"
)

// witness is an HTTP server on another origin that notes every request and the Authorization
// header it came with.
type witness struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD auth"
}

func newWitness(t *testing.T) *witness {
	w := &witness{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.seen = append(w.seen, r.Method+" "+r.Header.Get("Authorization"))
		w.mu.Unlock()
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *witness) requests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

// TestLocationOnAnotherOriginGetsNoToken: a WHEP server whose Location names a session URL on
// another origin (another port of 127.0.0.1) is played, and the session ended with DELETE there;
// that origin never sees the bearer token.
func TestLocationOnAnotherOriginGetsNoToken(t *testing.T) {
	t.Parallel()
	const token = "s3cret-token"
	tr := opusTrack(t, "erin")
	srv, err := whepserver.New(whepserver.Options{Tracks: []webrtc.TrackLocal{tr}, BearerToken: token, RTC: loopback})
	if err != nil {
		t.Fatal(err)
	}
	other := newWitness(t)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		if loc := rec.Header().Get("Location"); loc != "" {
			w.Header().Set("Location", other.URL+"/sessions/stolen")
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(func() {
		srv.Close()
		front.Close()
	})
	conn, err := whep.Dial(context.Background(), front.URL+"/whep", whep.Options{BearerToken: token, RTC: loopback})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	conn.Close()
	got := other.requests()
	if len(got) == 0 {
		t.Fatal("the session URL on the other origin got no DELETE: the test proves nothing")
	}
	for _, r := range got {
		if strings.Contains(r, token) {
			t.Errorf("the other origin got %q", r)
		}
	}
}

// TestRedirectToAnotherOriginRefused: an endpoint that redirects the offer (307) to another port
// of the same host is refused as a bad URL when a bearer token is set, and the other origin never
// sees a request with it; without a token the redirect is followed as WHEP allows.
func TestRedirectToAnotherOriginRefused(t *testing.T) {
	t.Parallel()
	other := newWitness(t)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/whep", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(front.Close)
	_, err := whep.Dial(context.Background(), front.URL+"/whep", whep.Options{BearerToken: "s3cret-token", RTC: loopback})
	if !errors.Is(err, room.ErrURL) {
		t.Errorf("Dial through a cross-origin redirect: %v, want room.ErrURL", err)
	}
	t.Logf("%v", err)
	for _, r := range other.requests() {
		if strings.Contains(r, "s3cret-token") {
			t.Errorf("the other origin got %q", r)
		}
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the other origin got %d request(s) with a token set, want none", n)
	}
	whep.Dial(context.Background(), front.URL+"/whep", whep.Options{RTC: loopback}) // fails: the witness is no WHEP server
	if n := len(other.requests()); n != 1 {
		t.Errorf("without a token the redirect was not followed (%d requests)", n)
	}
}
