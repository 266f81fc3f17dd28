// Package natsserver starts a real NATS server with JetStream for tests: nats-server on a free
// port of 127.0.0.1, its JetStream store in the test's temporary folder. It is a separate process,
// as NATS is to spacecast; its log goes to a file in the test's temporary folder, and its tail is
// shown when the test fails. Stop and Restart bring it down and up again on the same port over the
// same store, as an outage would.
//
// When nats-server is missing the test is skipped, or fails when the CI environment variable is
// set; scripts/test-setup.sh installs it.
package natsserver

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spacecast/spacecast/internal/testutil"
)

// The server the tests run, and how to get it.
const (
	Version = "v2.15.3"
	Install = "go install github.com/nats-io/nats-server/v2@" + Version
)

// Server is a running nats-server with JetStream.
type Server struct {
	URL      string // nats://127.0.0.1:PORT
	StoreDir string // JetStream's store
	LogPath  string

	cmd  *exec.Cmd
	done chan struct{}
	args []string // nats-server's command line, for Restart
}

// Start starts nats-server with JetStream on a free port of 127.0.0.1. It is stopped when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	tmp := t.TempDir()
	s := &Server{StoreDir: filepath.Join(tmp, "jetstream"), LogPath: filepath.Join(tmp, "nats-server.log")}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		s.URL = "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.args = []string{bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", s.StoreDir,
			"-n", "spacecast-test", "-l", s.LogPath}
		if err := s.exec(); err != nil {
			t.Fatalf("natsserver: start %s: %v", bin, err)
		}
		if lastErr = s.waitReady(10 * time.Second); lastErr == nil {
			break
		}
		s.Stop()
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("nats-server log %s, last lines:\n%s", s.LogPath, testutil.TailFile(s.LogPath, 30))
		}
	})
	if lastErr != nil {
		t.Fatalf("natsserver: nats-server did not start: %v\n%s", lastErr, testutil.TailFile(s.LogPath, 30))
	}
	return s
}

// exec starts nats-server with s.args; it writes its own log (-l), appending.
func (s *Server) exec() error {
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	// Dies with the test binary, even when it is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	return nil
}

// Restart starts the server again after Stop (or stops it first), on the same port over the same
// store: JetStream comes back with its streams, consumers and key-value buckets.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.exec(); err != nil {
		t.Fatalf("natsserver: restart: %v", err)
	}
	if err := s.waitReady(10 * time.Second); err != nil {
		t.Fatalf("natsserver: nats-server did not restart: %v\n%s", err, testutil.TailFile(s.LogPath, 30))
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s); it is safe to call twice.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Connect is a client connection to the server that retries for ever while it is down (so a
// Restart does not close it); it is closed when the test ends.
func (s *Server) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.URL, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("natsserver: connect %s: %v", s.URL, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// waitReady waits until the server answers a JetStream request.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("nats-server exited")
		default:
		}
		err := ping(s.URL)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ping(url string) error {
	nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.NoReconnect())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary finds nats-server ($NATS_SERVER, PATH, $(go env GOPATH)/bin) and checks that it is
// Version (Debian 12's nats-server is 2.9.10). When it is missing the test is skipped, or fails
// when CI is set.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() { binPath, binErr = findBinary() })
	if binErr != nil {
		if os.Getenv("CI") != "" || os.Getenv("NATS_SERVER") != "" {
			t.Fatalf("%v (required when CI is set: see scripts/test-setup.sh)", binErr)
		}
		t.Skip(binErr)
	}
	return binPath
}

func findBinary() (string, error) {
	var candidates []string
	if p := os.Getenv("NATS_SERVER"); p != "" {
		candidates = append(candidates, p)
	} else {
		if p, err := exec.LookPath("nats-server"); err == nil {
			candidates = append(candidates, p)
		}
		for _, bin := range testutil.GoBinDirs() {
			candidates = append(candidates, filepath.Join(bin, "nats-server"))
		}
	}
	var wrong error
	for _, p := range candidates {
		bi, err := buildinfo.ReadFile(p)
		if err != nil {
			continue
		}
		if bi.Main.Path != "github.com/nats-io/nats-server/v2" || bi.Main.Version != Version {
			// Debian's build carries no module version: try the next candidate before refusing.
			wrong = fmt.Errorf("natsserver: %s is %s %s, the tests need nats-server %s: %s", p, bi.Main.Path, bi.Main.Version, Version, Install)
			continue
		}
		return p, nil
	}
	if wrong != nil {
		return "", wrong
	}
	return "", fmt.Errorf("natsserver: nats-server not found ($NATS_SERVER, PATH, $GOPATH/bin): install it with %s", Install)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("natsserver: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
