// Package lkserver starts a real LiveKit server (livekit-server v1.13.5) for tests: on loopback,
// or on a test network namespace's veth, never on the machine's own interfaces. Its log goes to a
// file in the test's temporary directory, and its tail is shown when the test fails.
package lkserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
)

// The server the team tests against, and how to get it. v1.13.6 and later do not build with go
// install (replace directives).
const (
	Version = "1.13.5"
	Install = "go install github.com/livekit/livekit-server/cmd/server@v" + Version
)

// The credentials every server started here accepts. LiveKit warns about secrets shorter than 32
// characters.
const (
	APIKey    = "devkey"
	APISecret = "spacecast-test-secret-0123456789abcdef"
)

// Config says where the server listens. The zero value is the loopback variant on free ports.
type Config struct {
	// BindIP is the IPv4 address for signalling (HTTP/WebSocket) and media. Default 127.0.0.1.
	BindIP string
	// Interfaces limits where ICE gathers candidates. Default [lo] for a loopback BindIP; for any
	// other address it is required (the test's veth, e.g. netns.ServerIface), so the server never
	// gathers on the machine's interfaces.
	Interfaces []string
	// NodeIP is the address the server announces. Default BindIP.
	NodeIP string
	// UDPPort is the single UDP port for all media; Port the HTTP/WebSocket port. 0 picks a free one.
	UDPPort, Port int
	// LogLevel is livekit-server's (debug, info, warn, error). Default info.
	LogLevel string
	// Webhook, when not nil, makes the server POST its webhooks (signed with APIKey's secret) to
	// these URLs: livekit.yaml's webhook block.
	Webhook *Webhook
}

// Webhook is livekit.yaml's webhook block: where the server sends its events, and the key it signs
// them with (it must be one of the server's keys; empty means APIKey).
type Webhook struct {
	APIKey string
	URLs   []string
}

// Server is a running (or stopped) livekit-server.
type Server struct {
	URL       string // ws://BindIP:Port, for clients
	HTTPURL   string // http://BindIP:Port
	APIKey    string
	APISecret string
	Config    Config // with the defaults and the chosen ports filled in

	t       testing.TB
	bin     string
	dir     string
	mu      sync.Mutex
	starts  int
	logs    []string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// Start starts livekit-server and waits until it answers HTTP. It is stopped when the test ends.
// Without the binary the test is skipped, or fails when the CI environment variable is set.
func Start(t testing.TB, c Config) *Server {
	t.Helper()
	bin := Binary(t)
	if c.BindIP == "" {
		c.BindIP = "127.0.0.1"
	}
	ip := net.ParseIP(c.BindIP)
	if ip == nil || ip.To4() == nil || ip.IsUnspecified() {
		t.Fatalf("lkserver: Config.BindIP %q is not one IPv4 address (use 127.0.0.1 or the namespace's netns.ServerIP)", c.BindIP)
	}
	if len(c.Interfaces) == 0 {
		if !ip.IsLoopback() {
			t.Fatalf("lkserver: Config.Interfaces is empty for BindIP %s: name the test's veth (e.g. netns.ServerIface) so the server gathers nowhere else", c.BindIP)
		}
		c.Interfaces = []string{"lo"}
	}
	if c.NodeIP == "" {
		c.NodeIP = c.BindIP
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	s := &Server{APIKey: APIKey, APISecret: APISecret, t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			for _, l := range s.logs {
				t.Logf("livekit-server log %s, last lines:\n%s", l, testutil.TailFile(l, 40))
			}
		}
	})
	// Free ports are found by binding and letting go: another process may take one meanwhile.
	// Then the server fails to bind and is tried again with new ports.
	pickTCP, pickUDP := c.Port == 0, c.UDPPort == 0
	for attempt := 1; ; attempt++ {
		if pickTCP {
			c.Port = freePort(t, "tcp4", c.BindIP)
		}
		if pickUDP {
			c.UDPPort = freePort(t, "udp4", c.BindIP)
		}
		s.Config = c
		host := net.JoinHostPort(c.BindIP, strconv.Itoa(c.Port))
		s.URL, s.HTTPURL = "ws://"+host, "http://"+host
		err := s.start()
		if err == nil {
			return s
		}
		if errors.Is(err, errPortTaken) && (pickTCP || pickUDP) && attempt < 3 {
			t.Logf("%v; trying other ports", err)
			continue
		}
		t.Fatal(err)
	}
}

var errPortTaken = errors.New("a port is taken")

// start writes the config, starts the process and waits for readiness.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts++
	c := s.Config
	conf := filepath.Join(s.dir, fmt.Sprintf("livekit-%d.yaml", s.starts))
	yaml := fmt.Sprintf(`# written by internal/testutil/lkserver
port: %d
bind_addresses: [%s]
keys:
  %s: %s
logging:
  level: %s
rtc:
  udp_port: %d
  tcp_port: 0
  use_external_ip: false
  node_ip: %s
  enable_loopback_candidate: %t
  interfaces:
    includes: [%s]
turn:
  enabled: false
`, c.Port, c.BindIP, APIKey, APISecret, c.LogLevel, c.UDPPort, c.NodeIP,
		net.ParseIP(c.BindIP).IsLoopback(), strings.Join(c.Interfaces, ", "))
	if w := c.Webhook; w != nil {
		key := w.APIKey
		if key == "" {
			key = APIKey
		}
		urls := make([]string, len(w.URLs))
		for i, u := range w.URLs {
			urls[i] = strconv.Quote(u) // a YAML double-quoted scalar reads Go's escapes alike
		}
		yaml += fmt.Sprintf("webhook:\n  api_key: %s\n  urls: [%s]\n", strconv.Quote(key), strings.Join(urls, ", "))
	}
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		return fmt.Errorf("lkserver: %w", err)
	}
	logPath := filepath.Join(s.dir, fmt.Sprintf("livekit-%d.log", s.starts))
	log, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("lkserver: %w", err)
	}
	s.logs = append(s.logs, logPath)
	cmd := exec.Command(s.bin, "--config", conf, "--node-ip", c.NodeIP)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = s.dir
	// Dies with the test binary, even when it is killed.
	if err := netns.StartTied(cmd); err != nil {
		log.Close()
		return fmt.Errorf("lkserver: start %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	s.cmd, s.exited = cmd, exited
	go func() {
		err := cmd.Wait()
		log.Close()
		s.waitErr = err
		close(exited)
	}()

	client := httpClient(time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			if l := testutil.TailFile(logPath, 200); strings.Contains(l, "address already in use") {
				return fmt.Errorf("lkserver: %w (port %d or UDP %d): %s", errPortTaken, c.Port, c.UDPPort, lastLine(l))
			}
			return fmt.Errorf("lkserver: livekit-server exited at start (%v); log %s:\n%s", s.waitErr, logPath, testutil.TailFile(logPath, 40))
		default:
		}
		if err := ready(client, s.HTTPURL); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.stopLocked()
			return fmt.Errorf("lkserver: livekit-server not ready at %s after 20 s (%v); log %s:\n%s", s.HTTPURL, err, logPath, testutil.TailFile(logPath, 40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RoomService calls one method of LiveKit's RoomService (twirp JSON: CreateRoom, DeleteRoom,
// ListRooms, …) as the server's admin, decoding the answer into resp when it is not nil.
func (s *Server) RoomService(ctx context.Context, method string, req, resp any) error {
	g := &auth.VideoGrant{RoomCreate: true, RoomList: true}
	tok, err := auth.NewAccessToken(s.APIKey, s.APISecret).SetVideoGrant(g).SetValidFor(time.Minute).ToJWT()
	if err != nil {
		return fmt.Errorf("lkserver: RoomService.%s: token: %w", method, err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("lkserver: RoomService.%s: %w", method, err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.HTTPURL+"/twirp/livekit.RoomService/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("lkserver: RoomService.%s: %w", method, err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tok)
	res, err := httpClient(10 * time.Second).Do(r)
	if err != nil {
		return fmt.Errorf("lkserver: RoomService.%s: %w", method, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("lkserver: RoomService.%s: %w", method, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("lkserver: RoomService.%s answered %s: %s", method, res.Status, bytes.TrimSpace(b))
	}
	if resp != nil {
		if err := json.Unmarshal(b, resp); err != nil {
			return fmt.Errorf("lkserver: RoomService.%s: answer: %w", method, err)
		}
	}
	return nil
}

// ready checks that GET / answers 200 "OK".
func ready(client *http.Client, url string) error {
	resp, err := client.Get(url + "/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != "OK" {
		return fmt.Errorf("GET / answered %s %q", resp.Status, b)
	}
	return nil
}

// httpClient talks straight to the test server: never through a proxy from the environment.
func httpClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

// Stop shuts the server down the way an operator would: an interrupt, and a second one 200 ms
// later for LiveKit's forced shutdown (the first alone waits for every participant to leave), then
// a kill if it is still alive after 5 s. It takes about 1.2 s. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(200 * time.Millisecond):
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.cmd = nil
}

// Kill ends the server at once, as a crash would: no goodbye to its participants.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart stops the server if it runs and starts it again with the same config and ports (the
// same URL); rooms and participants are gone. A failure fails the test; call it from the test's
// goroutine.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// PID is the running server's process ID (0 when stopped).
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// LogPath is the log file of the latest start.
func (s *Server) LogPath() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs[len(s.logs)-1]
}

// freePort returns a port nothing on ip uses at the moment.
func freePort(t testing.TB, network, ip string) int {
	t.Helper()
	addr := net.JoinHostPort(ip, "0")
	if strings.HasPrefix(network, "udp") {
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			t.Fatalf("lkserver: find a free UDP port on %s: %v", ip, err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("lkserver: find a free TCP port on %s: %v", ip, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// tail returns the last n lines of a file.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary finds livekit-server: $LIVEKIT_SERVER, then livekit-server or server (checked to be
// LiveKit) in PATH, then in $(go env GOPATH)/bin. When it is missing the test is skipped, or fails
// when CI is set (or LIVEKIT_SERVER names something else); the message names the install command.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() { binPath, binErr = findBinary() })
	if binErr != nil {
		if os.Getenv("LIVEKIT_SERVER") != "" {
			t.Fatal(binErr)
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (required when CI is set: see .ci/run)", binErr)
		}
		t.Skip(binErr)
	}
	return binPath
}

func findBinary() (string, error) {
	if p := os.Getenv("LIVEKIT_SERVER"); p != "" {
		v, err := version(p)
		if err != nil {
			return "", fmt.Errorf("lkserver: LIVEKIT_SERVER=%s: %w (point it at livekit-server, or unset it)", p, err)
		}
		return p, checkVersion(p, v)
	}
	var candidates []string
	for _, name := range []string{"livekit-server", "server"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, bin := range testutil.GoBinDirs() {
		candidates = append(candidates, filepath.Join(bin, "server"), filepath.Join(bin, "livekit-server"))
	}
	for _, p := range candidates {
		if v, err := version(p); err == nil {
			return p, checkVersion(p, v)
		}
	}
	return "", fmt.Errorf("lkserver: livekit-server not found ($LIVEKIT_SERVER, PATH, $GOPATH/bin): install it with %s", Install)
}

// version runs bin --version and returns the version if bin is livekit-server.
func version(bin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "livekit-server version "); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s --version does not say livekit-server: %q", bin, bytes.TrimSpace(out))
}

func checkVersion(bin, v string) error {
	if v != Version {
		return fmt.Errorf("lkserver: %s is livekit-server %s, the tests need %s: %s", bin, v, Version, Install)
	}
	return nil
}
