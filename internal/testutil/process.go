package testutil

import (
	"debug/buildinfo"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DeadPID is the process ID of a process that has exited: a lock's holder that died.
func DeadPID(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// Process is a server a test runs as a separate process: it dies with the test binary, even
// when that is killed, and Stop ends it.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// StartProcess starts args[0] with args[1:], its output to out (nil: discarded) and env as its
// environment (nil: the test's).
func StartProcess(args []string, out io.Writer, env []string) (*Process, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Env = out, out, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends sig and waits for the process to exit, killing it after grace; it does nothing to a
// process that has exited, and is safe on a nil Process.
func (p *Process) Stop(sig os.Signal, grace time.Duration) {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// FreePort is a TCP port of 127.0.0.1 free at the moment (a server started on it may still lose
// it to another process: callers retry).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// GoBinary is a server the tests install with 'go install MODULE@VERSION': found in $Env, PATH
// or $(go env GOPATH)/bin, and checked to be that module at that version by its build info.
type GoBinary struct {
	Name    string // the command: "nats-server"
	Env     string // the variable that may name it: "NATS_SERVER"
	Module  string // its main module: "github.com/nats-io/nats-server/v2"
	Version string // "v2.15.3"
	Package string // what go install takes, when not Module itself

	once sync.Once
	path string
	err  error
}

// Install is the command that installs it.
func (b *GoBinary) Install() string {
	pkg := b.Package
	if pkg == "" {
		pkg = b.Module
	}
	return "go install " + pkg + "@" + b.Version
}

// Require returns its path. When it is missing or another version, the test is skipped, or fails
// when the CI variable (or b.Env) is set; the message names the install command.
func (b *GoBinary) Require(t testing.TB) string {
	t.Helper()
	b.once.Do(func() { b.path, b.err = b.find() })
	if b.err != nil {
		if os.Getenv("CI") != "" || os.Getenv(b.Env) != "" {
			t.Fatalf("%v (required when CI is set: see scripts/test-setup.sh)", b.err)
		}
		t.Skip(b.err)
	}
	return b.path
}

func (b *GoBinary) find() (string, error) {
	var candidates []string
	if p := os.Getenv(b.Env); p != "" {
		candidates = append(candidates, p)
	} else {
		if p, err := exec.LookPath(b.Name); err == nil {
			candidates = append(candidates, p)
		}
		for _, bin := range GoBinDirs() {
			candidates = append(candidates, filepath.Join(bin, b.Name))
		}
	}
	var wrong error
	for _, p := range candidates {
		bi, err := buildinfo.ReadFile(p)
		if err != nil {
			continue
		}
		if bi.Main.Path != b.Module || bi.Main.Version != b.Version {
			// A distribution's build carries no module version: try the next candidate first.
			wrong = fmt.Errorf("%s is %s %s, the tests need %s %s: %s", p, bi.Main.Path, bi.Main.Version, b.Name, b.Version, b.Install())
			continue
		}
		return p, nil
	}
	if wrong != nil {
		return "", wrong
	}
	return "", fmt.Errorf("%s not found ($%s, PATH, $GOPATH/bin): install it with %s", b.Name, b.Env, b.Install())
}

// StartOnFreePort starts a server of the test: start(port) on a free port of 127.0.0.1, then
// ready; a port taken meanwhile by another process makes it try another, three times at most.
// stop runs when the test ends, and when the test failed the last lines of the server's log
// (logPath) are shown.
func StartOnFreePort(t testing.TB, name, logPath string, start func(port int) error, ready func() error, stop func()) {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if err := start(FreePort(t)); err != nil {
			t.Fatalf("%s: start: %v", name, err)
		}
		if lastErr = ready(); lastErr == nil {
			break
		}
		stop()
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("%s log %s, last lines:\n%s", name, logPath, TailFile(logPath, 30))
		}
	})
	if lastErr != nil {
		t.Fatalf("%s did not start: %v\n%s", name, lastErr, TailFile(logPath, 30))
	}
}
