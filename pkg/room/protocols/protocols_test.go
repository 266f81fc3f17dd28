package protocols

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// TestDetect: which protocol each kind of URL is, and what a forced protocol does.
func TestDetect(t *testing.T) {
	for _, c := range []struct {
		name, url, forced string
		want              Protocol
		err               error
	}{
		{"a ws:// URL is LiveKit", "ws://127.0.0.1:7880", "", LiveKit, nil},
		{"a wss:// URL is LiveKit", "wss://example.livekit.cloud", "", LiveKit, nil},
		{"an http URL with janus in its path is Janus", "http://10.0.0.1:8088/janus", "", Janus, nil},
		{"janus in the path is found in any case", "https://example.org/Janus/api", "", Janus, nil},
		{"any other http(s) URL is a WHEP endpoint", "https://example.org/whep/live", "", WHEP, nil},
		{"janus in the host name only is still WHEP", "http://janus.example.org/whep", "", WHEP, nil},
		{"a forced protocol wins over the URL", "ws://127.0.0.1:7880", "whep", WHEP, nil},
		{"a forced protocol is taken without looking at the URL", "::", "janus", Janus, nil},
		{"a forced protocol spacecast does not have is ErrUnknown", "ws://h", "webex", "", ErrUnknown},
		{"protocol names are lower case", "ws://h", "LiveKit", "", ErrUnknown},
		{"a URL without a host is a bad URL", "/just/a/path", "", "", room.ErrURL},
		{"a URL that does not parse is a bad URL", "http://[::1", "", "", ErrBadURL},
		{"an ftp URL names no room protocol", "ftp://example.org/room", "", "", room.ErrURL},
	} {
		got, err := Detect(c.url, c.forced)
		if got != c.want || (c.err == nil) != (err == nil) || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("%s: Detect(%q, %q) = %q, %v; want %q, %v", c.name, c.url, c.forced, got, err, c.want, c.err)
		}
	}
}

// TestErrorsHideCredentials: a URL quoted in an error has no password in it.
func TestErrorsHideCredentials(t *testing.T) {
	_, err := Detect("ftp://user:hunter2@example.org/room", "")
	var se *SchemeError
	if !errors.As(err, &se) || se.Scheme != "ftp" || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Detect: %v", err)
	}
}

// TestNoFlagNames: the errors state facts; only the command line names its flags.
func TestNoFlagNames(t *testing.T) {
	for _, err := range []error{ErrBadURL, ErrLiveKitRoom, &SchemeError{URL: "x", Scheme: "ftp"}, &UnknownError{Name: "x"}} {
		if strings.Contains(err.Error(), "--") {
			t.Errorf("%q names a flag", err)
		}
	}
}

// heard is what a fake server saw of one request.
type heard struct {
	mu   sync.Mutex
	auth string
	body map[string]any
}

// TestDialPassesCredentials: each protocol gets its own credentials and no other's. The fake
// servers refuse them all (401, or Janus's "unauthorized"), so Dial fails with room.ErrAuth after
// one request.
func TestDialPassesCredentials(t *testing.T) {
	h := &heard{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.auth = r.Header.Get("Authorization")
		h.body = nil
		json.Unmarshal(b, &h.body)
		h.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/janus") {
			w.Write([]byte(`{"janus":"error","transaction":"` + str(h.body["transaction"]) + `","error":{"code":403,"reason":"Unauthorized request (wrong or missing secret/token)"}}`))
			return
		}
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer srv.Close()
	ws := "ws" + strings.TrimPrefix(srv.URL, "http")
	lk := DialOptions{APIKey: "lk-key", APISecret: "lk-secret", Room: "daily", RTC: rtc.Options{Loopback: true}}
	for _, c := range []struct {
		name   string
		proto  Protocol
		url    string
		o      DialOptions
		auth   string // the Authorization header the server saw
		secret any    // Janus: the apisecret in the request body (nil: none)
		token  any    // Janus: the token in the request body
	}{
		{"LiveKit presents its join token", LiveKit, ws, DialOptions{Token: "join-token", RTC: lk.RTC}, "Bearer join-token", nil, nil},
		{"Janus is not given LiveKit's key and secret", Janus, srv.URL + "/janus", withRoom(lk, "1234"), "", nil, nil},
		{"Janus gets its own api_secret and stored token", Janus, srv.URL + "/janus", DialOptions{Room: "1234", JanusAPISecret: "janus-secret", Token: "stored", RTC: lk.RTC}, "", "janus-secret", "stored"},
		{"WHEP presents the token as a bearer token", WHEP, srv.URL + "/whep", DialOptions{Token: "bearer", RTC: lk.RTC}, "Bearer bearer", nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := Dial(context.Background(), c.proto, c.url, c.o)
			if err == nil {
				conn.Close()
				t.Fatal("Dial succeeded against a server that refuses everyone")
			}
			if !errors.Is(err, room.ErrAuth) {
				t.Errorf("Dial: %v, want room.ErrAuth", err)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.auth != c.auth {
				t.Errorf("Authorization %q, want %q", h.auth, c.auth)
			}
			if c.proto == Janus && (h.body["apisecret"] != c.secret || h.body["token"] != c.token) {
				t.Errorf("Janus request %v: apisecret %v, token %v; want %v, %v", h.body, h.body["apisecret"], h.body["token"], c.secret, c.token)
			}
		})
	}
}

func withRoom(o DialOptions, r string) DialOptions {
	o.Room = r
	return o
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// TestDialRefuses: what Dial refuses before it reaches a server.
func TestDialRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		proto Protocol
		url   string
		o     DialOptions
		want  error
	}{
		{"LiveKit without a room name or a token", LiveKit, "ws://127.0.0.1:9", DialOptions{APIKey: "k", APISecret: "s"}, ErrLiveKitRoom},
		{"a protocol with no adapter", Protocol("sip"), "sip:room@example.org", DialOptions{}, room.ErrNotSupported},
		{"a WHEP URL that is not http(s)", WHEP, "ws://127.0.0.1:9/whep", DialOptions{}, room.ErrURL},
	} {
		conn, err := Dial(context.Background(), c.proto, c.url, c.o)
		if conn != nil || !errors.Is(err, c.want) {
			t.Errorf("%s: Dial = %v, %v; want %v", c.name, conn, err, c.want)
		}
	}
}
