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
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spacecast/spacecast/internal/testutil"
)

// Version is the nats-server the tests run (Debian 12's is 2.9.10: too old, see docs/fleet.md).
const Version = "v2.15.3"

// binary finds it ($NATS_SERVER, PATH, $(go env GOPATH)/bin).
var binary = &testutil.GoBinary{Name: "nats-server", Env: "NATS_SERVER", Module: "github.com/nats-io/nats-server/v2", Version: Version}

// Install is the command that installs it.
var Install = binary.Install()

// Server is a running nats-server with JetStream.
type Server struct {
	URL      string // nats://127.0.0.1:PORT
	StoreDir string // JetStream's store
	LogPath  string

	proc *testutil.Process
	args []string // nats-server's command line, for Restart
}

// Start starts nats-server with JetStream on a free port of 127.0.0.1. It is stopped when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	tmp := t.TempDir()
	s := &Server{StoreDir: filepath.Join(tmp, "jetstream"), LogPath: filepath.Join(tmp, "nats-server.log")}
	testutil.StartOnFreePort(t, "nats-server", s.LogPath, func(port int) error {
		s.URL = "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.args = []string{bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", s.StoreDir,
			"-n", "spacecast-test", "-l", s.LogPath}
		return s.exec()
	}, func() error { return s.waitReady(10 * time.Second) }, s.Stop)
	return s
}

// exec starts nats-server with s.args; it writes its own log (-l), appending.
func (s *Server) exec() (err error) {
	s.proc, err = testutil.StartProcess(s.args, nil, nil)
	return err
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
func (s *Server) Stop() { s.proc.Stop(syscall.SIGTERM, 5*time.Second) }

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
		case <-s.proc.Done():
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

// Binary finds nats-server and checks that it is Version. When it is missing the test is
// skipped, or fails when CI is set.
func Binary(t testing.TB) string { return binary.Require(t) }
