package lkserver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil/netns"
)

// The test binary doubles as an HTTP probe run in a client namespace (LKSERVER_GET=URL).
func TestMain(m *testing.M) {
	if u := os.Getenv("LKSERVER_GET"); u != "" {
		timeout, err := time.ParseDuration(os.Getenv("LKSERVER_TIMEOUT"))
		if err != nil {
			timeout = 10 * time.Second
		}
		fmt.Println(getTimeout(u, "", timeout))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// get returns "STATUS BODY" for a GET (with a WebSocket upgrade when token is not empty; "-" for
// none), or "error ..." when the request fails within 10 s.
func get(url, token string) string { return getTimeout(url, token, 10*time.Second) }

func getTimeout(url, token string, timeout time.Duration) string {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return "error " + err.Error()
	}
	if token != "" {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "c3BhY2VjYXN0LXRlc3Qta2V5")
		if token != "-" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	}
	resp, err := httpClient(timeout).Do(req)
	if err != nil {
		return "error " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	return strconv.Itoa(resp.StatusCode) + " " + strings.TrimSpace(string(b))
}

// token mints an HS256 access token for joining room (the team's client has its own; this one
// only proves the server uses the secret Start reports).
func token(t *testing.T, key, secret, identity, room string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	msg := enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + enc(map[string]any{
		"iss": key, "sub": identity, "nbf": now - 10, "exp": now + 600,
		"video": map[string]any{"room": room, "roomJoin": true},
	})
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(msg))
	return msg + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// checkAuth: /rtc refuses a connection without a token or with a forged one, and accepts a token
// signed with the server's secret.
func checkAuth(t *testing.T, s *Server) {
	t.Helper()
	cases := []struct {
		what, path, token, want string
	}{
		{"a WebSocket to /rtc without a token is refused", "/rtc?room=r", "-", "401 "},
		{"validation without a token is refused", "/rtc/validate", "", "401 "},
		{"a token signed with another secret is refused", "/rtc/validate?access_token=" + token(t, s.APIKey, strings.Repeat("x", 40), "who", "r"), "", "401 "},
		{"a token for an unknown key is refused", "/rtc/validate?access_token=" + token(t, "otherkey", s.APISecret, "who", "r"), "", "401 "},
		{"a token signed with the reported secret is accepted", "/rtc/validate?access_token=" + token(t, s.APIKey, s.APISecret, "who", "r"), "", "200 "},
	}
	for _, c := range cases {
		if got := get(s.HTTPURL+c.path, c.token); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q...", c.what, got, c.want)
		}
	}
}

// TestLoopback starts the loopback variant and restarts it on the same URL.
func TestLoopback(t *testing.T) {
	s := Start(t, Config{})
	if !strings.HasPrefix(s.URL, "ws://127.0.0.1:") || s.APIKey != "devkey" || len(s.APISecret) < 32 {
		t.Errorf("URL %s, key %q, secret of %d characters", s.URL, s.APIKey, len(s.APISecret))
	}
	if got := get(s.HTTPURL+"/", ""); got != "200 OK" {
		t.Errorf("GET / = %q, want 200 OK", got)
	}
	checkAuth(t, s)
	checkBound(t, s)

	pid := s.PID()
	s.Restart()
	if s.PID() == pid || syscall.Kill(pid, 0) == nil {
		t.Errorf("Restart kept process %d alive", pid)
	}
	if got := get(s.HTTPURL+"/", ""); got != "200 OK" {
		t.Errorf("after Restart, GET / = %q", got)
	}
	checkAuth(t, s)

	s.Kill()
	if s.Running() {
		t.Error("running after Kill")
	}
	if got := get(s.HTTPURL+"/", ""); !strings.HasPrefix(got, "error ") {
		t.Errorf("after Kill, GET / = %q", got)
	}
	s.Restart()
	if got := get(s.HTTPURL+"/", ""); got != "200 OK" {
		t.Errorf("Restart after Kill: GET / = %q", got)
	}
	s.Stop()
	s.Stop()
	if s.Running() {
		t.Error("running after Stop")
	}
}

// checkBound reads the kernel's socket tables: the server's ports must be bound to BindIP only,
// never to the wildcard address (the machine's interfaces).
func checkBound(t *testing.T, s *Server) {
	t.Helper()
	for _, tab := range []struct {
		file string
		port int
	}{{"/proc/net/tcp", s.Config.Port}, {"/proc/net/udp", s.Config.UDPPort}} {
		b, err := os.ReadFile(tab.file)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 4 {
				continue
			}
			hexIP, hexPort, _ := strings.Cut(f[1], ":")
			if p, _ := strconv.ParseUint(hexPort, 16, 16); int(p) != tab.port || (tab.file == "/proc/net/tcp" && f[3] != "0A") {
				continue // another port, or not a listener
			}
			raw, _ := hex.DecodeString(hexIP)
			if len(raw) != 4 {
				continue
			}
			ip := net.IPv4(raw[3], raw[2], raw[1], raw[0]) // little-endian
			if ip.String() != s.Config.BindIP {
				t.Errorf("%s: port %d bound to %s, want %s only", tab.file, tab.port, ip, s.Config.BindIP)
			}
			found++
		}
		if found == 0 {
			t.Errorf("%s: nothing bound to port %d", tab.file, tab.port)
		}
	}
}

// TestVeth starts the veth variant inside a network namespace: reachable from the client side
// over the veth, not after the link is cut.
func TestVeth(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		s := Start(t, Config{BindIP: ns.ServerIP, Interfaces: []string{ns.ServerIface}})
		if want := fmt.Sprintf("ws://%s:%d", ns.ServerIP, s.Config.Port); s.URL != want {
			t.Errorf("URL %s, want %s", s.URL, want)
		}
		checkAuth(t, s)
		checkBound(t, s)
		fromClient := func(timeout time.Duration) string {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := ns.ClientCommand(ctx, os.Args[0])
			cmd.Env = append(os.Environ(), "LKSERVER_GET="+s.HTTPURL+"/", "LKSERVER_TIMEOUT="+timeout.String())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("client probe: %v\n%s", err, out)
			}
			return strings.TrimSpace(string(out))
		}
		if got := fromClient(10 * time.Second); got != "200 OK" {
			t.Errorf("from the client side, GET / = %q, want 200 OK", got)
		}
		if err := ns.LinkDown(); err != nil {
			t.Fatal(err)
		}
		if got := fromClient(time.Second); !strings.HasPrefix(got, "error ") {
			t.Errorf("with the link down, the client side got %q", got)
		}
		if err := ns.LinkUp(); err != nil {
			t.Fatal(err)
		}
		if got := fromClient(10 * time.Second); got != "200 OK" {
			t.Errorf("with the link back, GET / = %q", got)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		what string
		c    Config
		want string
	}{
		{"a non-loopback address needs an interface list", Config{BindIP: "10.77.0.1"}, "Config.Interfaces is empty"},
		{"a host name is not an address", Config{BindIP: "localhost"}, `Config.BindIP "localhost"`},
		{"the wildcard address is refused", Config{BindIP: "0.0.0.0", Interfaces: []string{"lo"}}, `Config.BindIP "0.0.0.0"`},
	}
	Binary(t) // Start checks the binary first: the cases need it to reach the config checks
	for _, c := range cases {
		ft := &fatalT{TB: t}
		func() {
			defer func() { recover() }()
			Start(ft, c.c)
		}()
		if !strings.Contains(ft.msg, c.want) {
			t.Errorf("%s: Start failed with %q, want %q", c.what, ft.msg, c.want)
		}
	}
}

// fatalT records Fatalf instead of ending the test.
type fatalT struct {
	testing.TB
	msg string
}

func (f *fatalT) Helper() {}
func (f *fatalT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f.msg)
}

// TestWebhook: with Config.Webhook the server POSTs its events, signed, to the URL; RoomService
// creates and deletes rooms as their admin.
func TestWebhook(t *testing.T) {
	type delivery struct {
		ctype, auth string
		event       struct {
			Event string `json:"event"`
			Room  struct {
				Name string `json:"name"`
			} `json:"room"`
		}
	}
	got := make(chan delivery, 16)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d delivery
		d.ctype, d.auth = r.Header.Get("Content-Type"), r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &d.event); err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		got <- d
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	s := Start(t, Config{Webhook: &Webhook{URLs: []string{"http://" + l.Addr().String() + "/livekit"}}})
	ctx := context.Background()
	if err := s.RoomService(ctx, "CreateRoom", map[string]any{"name": "hooked"}, nil); err != nil {
		t.Fatal(err)
	}
	want := func(event string) {
		t.Helper()
		for {
			select {
			case d := <-got:
				if d.event.Event != event {
					continue // participant or track events do not concern this test
				}
				if d.event.Room.Name != "hooked" || d.ctype != "application/webhook+json" || strings.Count(d.auth, ".") != 2 {
					t.Fatalf("%s: room %q, content type %q, Authorization %q", event, d.event.Room.Name, d.ctype, d.auth)
				}
				return
			case <-time.After(10 * time.Second):
				t.Fatalf("no %s webhook in 10 s", event)
			}
		}
	}
	want("room_started")
	var rooms struct {
		Rooms []struct {
			Name string `json:"name"`
		} `json:"rooms"`
	}
	if err := s.RoomService(ctx, "ListRooms", map[string]any{}, &rooms); err != nil || len(rooms.Rooms) != 1 || rooms.Rooms[0].Name != "hooked" {
		t.Fatalf("ListRooms: %+v, %v", rooms, err)
	}
	if err := s.RoomService(ctx, "DeleteRoom", map[string]any{"room": "hooked"}, nil); err != nil {
		t.Fatal(err)
	}
	want("room_finished")
	if err := s.RoomService(ctx, "NoSuchMethod", map[string]any{}, nil); err == nil {
		t.Error("RoomService.NoSuchMethod succeeded")
	}
}
