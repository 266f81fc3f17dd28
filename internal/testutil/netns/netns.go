// Package netns runs a test inside private network namespaces: a server side (the test's own
// process) and a client side joined by a veth pair, so that every server, recorder and pion peer
// the test starts can reach only the others and never the machine's interfaces. The test can cut
// the link (LinkDown), add client sides with links of their own to cut one alone (NewClient), and
// get a nearly full disk (DiskFull).
//
// It needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN), ip (iproute2) and nsenter (util-linux). When one
// is missing the test is skipped, except when the CI environment variable is set: there it fails.
package netns

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/spacecast/spacecast/internal/testutil"
)

// The fixed addresses of the topology. Every test has its own namespaces, so parallel tests do not
// collide.
const (
	ServerIP    = "10.77.0.1"
	ClientIP    = "10.77.0.2"
	ServerIface = "sc0"
	ClientIface = "sc1"
	prefixLen   = 24
)

// entered is set in the process running a test inside its namespace.
var entered bool

// envTest names the test a re-executed test binary is to run inside its namespace.
const envTest = "SPACECAST_NETNS_TEST"

// NS is the topology a test runs in. The calling process is the server side.
type NS struct {
	ServerIP, ClientIP       string // 10.77.0.1 on ServerIface, 10.77.0.2 on ClientIface
	ServerIface, ClientIface string // sc0 (server side), sc1 (client side)
	// ClientNetNS is the path of the client namespace (/proc/PID/ns/net of a holder process), for
	// tools that take one (nsenter --net=PATH).
	ClientNetNS string

	t       testing.TB
	ip      string
	nsenter string

	mu      sync.Mutex
	clients int // made by NewClient
}

// Run runs fn inside a fresh pair of network namespaces. The test binary is executed again for
// this test alone (-test.run matching t.Name()) in a new network and mount namespace; there Run
// sets the namespaces up and calls fn, and here the test passes, fails or is skipped as the test
// did there, with its output logged. Everything the test does belongs inside fn: code before and
// after Run runs in both processes.
//
// Inside, lo is up, the process has ServerIP on ServerIface, and processes started with
// ClientCommand have ClientIP on ClientIface. There is no default route: nothing can leave.
func Run(t *testing.T, fn func(t *testing.T, ns *NS)) {
	t.Helper()
	if os.Getenv(envTest) == t.Name() {
		// Inside. Nothing this process starts is a namespace child of its own test.
		os.Unsetenv(envTest)
		entered = true
		fn(t, setup(t))
		return
	}
	runOutside(t)
}

// Missing handles a prerequisite the environment lacks: it skips the test, or fails it when the
// CI environment variable is set (the same rule as testutil.Require).
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (required when CI is set: see .ci/run)", msg)
	}
	t.Skip(msg)
}

// runOutside re-executes the test binary for t alone in new namespaces and reports its result.
func runOutside(t *testing.T) {
	t.Helper()
	testutil.Require(t, "ip")
	testutil.Require(t, "nsenter")
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("netns: find the test binary to run %s in a namespace: %v", t.Name(), err)
	}
	args := []string{"-test.run=" + runPattern(t.Name()), "-test.v=true", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short=true")
	}
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		// The child times out first and prints its goroutines; the kill is the backstop.
		left := time.Until(deadline)
		args = append(args, "-test.timeout="+max(left-5*time.Second, time.Second).String())
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-2*time.Second))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), envTest+"="+t.Name())
	if _, ok := os.LookupEnv("GORACE"); !ok {
		// A race-enabled binary otherwise sleeps 1 s at exit: in the child and in every helper it runs.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = StartTied(cmd)
	if errors.Is(err, syscall.EPERM) {
		Missing(t, "netns: cannot create a network namespace for %s (%v): run the tests as root (CAP_SYS_ADMIN)", t.Name(), err)
	}
	if err != nil {
		t.Fatalf("netns: start %s in a namespace: %v", t.Name(), err)
	}
	err = cmd.Wait()
	took := time.Since(start).Round(time.Millisecond)
	shown := quote(out.Bytes())
	switch outcome(out.Bytes(), t.Name()) {
	case "FAIL":
		// Server logs printed on failure can bury the test's own messages: repeat them last.
		t.Fatalf("%s failed inside its network namespace (%v):\n%s\n%s failed; its messages again:\n%s",
			t.Name(), took, shown, t.Name(), quote(testMessages(out.Bytes())))
	case "SKIP":
		t.Skipf("%s was skipped inside its network namespace:\n%s", t.Name(), shown)
	case "PASS":
		if err != nil {
			t.Fatalf("%s passed inside its network namespace but the process failed (%v):\n%s", t.Name(), err, shown)
		}
		t.Logf("passed inside its network namespace (%v):\n%s", took, shown)
	default:
		t.Fatalf("netns: the process in the namespace did not report %s (exit: %v, pattern %s):\n%s",
			t.Name(), err, runPattern(t.Name()), shown)
	}
}

// runPattern is the -test.run pattern matching exactly the test (or subtest) named name.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// outcome finds the verdict line ("--- PASS: name (1.00s)") of the named test in -test.v output.
func outcome(out []byte, name string) string {
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := strings.TrimLeft(s.Text(), " ")
		for _, v := range []string{"PASS", "FAIL", "SKIP"} {
			if strings.HasPrefix(line, "--- "+v+": "+name+" (") {
				return v
			}
		}
	}
	return ""
}

// testMessage is the first line of a t.Log or t.Error message in -test.v output.
var testMessage = regexp.MustCompile(`^\s+[\w.-]+_test\.go:\d+: `)

// testMessages is the first line of every message the tests logged, each cut to 400 bytes.
func testMessages(out []byte) []byte {
	var b bytes.Buffer
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		if l := s.Text(); testMessage.MatchString(l) {
			if len(l) > 400 {
				l = l[:400] + "…"
			}
			b.WriteString(l + "\n")
		}
	}
	return b.Bytes()
}

// quote marks the child's output so tools that read test output (test2json) do not take its
// "--- PASS" lines for the parent's.
func quote(out []byte) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	for i, l := range lines {
		lines[i] = "│ " + l
	}
	return strings.Join(lines, "\n")
}

// setup builds the topology inside the fresh namespaces this process was started in.
func setup(t *testing.T) *NS {
	t.Helper()
	// Mounts made here (DiskFull) must not reach the machine's mount namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Fatalf("netns: make the mount namespace private: %v", err)
	}
	ns := &NS{
		ServerIP: ServerIP, ClientIP: ClientIP, ServerIface: ServerIface, ClientIface: ClientIface,
		t: t, ip: testutil.Require(t, "ip"), nsenter: testutil.Require(t, "nsenter"),
	}
	// A fresh namespace holds lo and nothing else; anything more means we are on a real network.
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatalf("netns: list interfaces: %v", err)
	}
	for _, i := range ifs {
		if i.Name != "lo" {
			t.Fatalf("netns: %s is not in a fresh network namespace (it sees interface %s); refusing to touch it", t.Name(), i.Name)
		}
	}
	ns.mustIP(t, nil, "link", "set", "lo", "up")

	// The client side lives as long as a holder process in its own network namespace.
	holder := ns.holder(t)
	ns.ClientNetNS = fmt.Sprintf("/proc/%d/ns/net", holder)
	ns.veth(t, holder, ServerIface, ClientIface, ServerIP, ClientIP)
	if err := waitLink(ServerIface, ns.ClientNetNS, true); err != nil {
		t.Fatal(err)
	}
	return ns
}

// holder starts a process in a network namespace of its own, killed when t ends, and returns its
// pid: the namespace lives as long as it does.
func (ns *NS) holder(t testing.TB) int {
	t.Helper()
	holder := exec.Command(testutil.Require(t, "sleep"), "infinity")
	holder.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if err := StartTied(holder); err != nil {
		t.Fatalf("netns: start a client namespace: %v", err)
	}
	t.Cleanup(func() {
		holder.Process.Kill()
		holder.Wait()
	})
	return holder.Process.Pid
}

// veth joins this namespace (serverIface, serverIP) and the holder's (clientIface, clientIP) with
// a veth pair, both ends up, lo up on the client side.
func (ns *NS) veth(t testing.TB, holder int, serverIface, clientIface, serverIP, clientIP string) {
	t.Helper()
	client := []string{fmt.Sprintf("--net=/proc/%d/ns/net", holder), "--"}
	if out, err := ns.ipCmd(nil, "link", "add", serverIface, "type", "veth", "peer", "name", clientIface, "netns", fmt.Sprint(holder)); err != nil {
		if bytes.Contains(out, []byte("Unknown device type")) || bytes.Contains(out, []byte("not supported")) {
			Missing(t, "netns: the kernel cannot make a veth pair (%s): load the veth module", strings.TrimSpace(string(out)))
		}
		t.Fatalf("netns: ip link add %s type veth peer name %s: %v: %s", serverIface, clientIface, err, out)
	}
	ns.mustIP(t, nil, "addr", "add", fmt.Sprintf("%s/%d", serverIP, prefixLen), "dev", serverIface)
	ns.mustIP(t, nil, "link", "set", serverIface, "up")
	ns.mustIP(t, client, "link", "set", "lo", "up")
	ns.mustIP(t, client, "addr", "add", fmt.Sprintf("%s/%d", clientIP, prefixLen), "dev", clientIface)
	ns.mustIP(t, client, "link", "set", clientIface, "up")
}

// ipCmd runs ip, in the client namespace when prefix holds nsenter's arguments.
func (ns *NS) ipCmd(prefix []string, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if prefix != nil {
		cmd = exec.Command(ns.nsenter, append(append(slices.Clone(prefix), ns.ip), args...)...)
	} else {
		cmd = exec.Command(ns.ip, args...)
	}
	return cmd.CombinedOutput()
}

func (ns *NS) mustIP(t testing.TB, prefix []string, args ...string) {
	t.Helper()
	if out, err := ns.ipCmd(prefix, args...); err != nil {
		t.Fatalf("netns: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// waitLink waits until both ends of a veth pair are operationally up or both down: the server end
// iface here and ClientIface in the namespace netNS, whose state the kernel updates a moment later.
func waitLink(iface, netNS string, up bool) error {
	if err := waitRunning(iface, up); err != nil {
		return err
	}
	return inNetNS(netNS, func() error { return waitRunning(ClientIface, up) })
}

// waitRunning waits until the interface is operationally up (carrier) or not.
func waitRunning(name string, up bool) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		i, err := net.InterfaceByName(name)
		if err != nil {
			return fmt.Errorf("netns: %s: %w", name, err)
		}
		if (i.Flags&net.FlagRunning != 0) == up {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netns: %s did not come %s within 5 s", name, map[bool]string{true: "up", false: "down"}[up])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ClientCommand returns a command that runs name with args in the client namespace (through
// nsenter, which then becomes the program: the command's process is the program's). The program
// sees ClientIP on ClientIface and its own lo; it shares the test's files and mounts.
func (ns *NS) ClientCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, ns.nsenter, append([]string{"--net=" + ns.ClientNetNS, "--", name}, args...)...)
}

var linkMu sync.Mutex

// LinkDown takes the server end of the veth down: the client side keeps its address but loses
// carrier, so its packets to the server vanish (as on a dead network), and the server side has no
// route to the client. It may be called from any goroutine; a failure is reported to the test and
// returned.
func (ns *NS) LinkDown() error { return ns.setLink(ns.t, ServerIface, ns.ClientNetNS, "down") }

// LinkUp restores the link after LinkDown and waits for carrier at both ends; connected routes come
// back with it. It clears both ends' neighbour entries (see setLink).
func (ns *NS) LinkUp() error { return ns.setLink(ns.t, ServerIface, ns.ClientNetNS, "up") }

// setLink takes the server end iface of a veth pair up or down and waits for both ends' carrier to
// follow (the client end in netNS); up, it also clears both ends' neighbour entries.
func (ns *NS) setLink(t testing.TB, iface, netNS, state string) error {
	linkMu.Lock()
	defer linkMu.Unlock()
	if out, err := ns.ipCmd(nil, "link", "set", iface, state); err != nil {
		err = fmt.Errorf("netns: ip link set %s %s: %w: %s", iface, state, err, out)
		t.Error(err)
		return err
	}
	if err := waitLink(iface, netNS, state == "up"); err != nil {
		t.Error(err)
		return err
	}
	if state == "up" {
		// Neighbour entries left failed or mid-probe while the link was down would hold the first
		// packets back for up to a second; without them the ends resolve each other at once.
		for _, end := range []struct {
			prefix []string
			dev    string
		}{{nil, iface}, {[]string{"--net=" + netNS, "--"}, ClientIface}} {
			if out, err := ns.ipCmd(end.prefix, "neigh", "flush", "dev", end.dev); err != nil {
				err = fmt.Errorf("netns: ip neigh flush dev %s: %w: %s", end.dev, err, out)
				t.Error(err)
				return err
			}
		}
	}
	return nil
}

// Client is a further client side of a test (NewClient): a network namespace of its own, joined
// to the server side by a veth pair of its own, so that the test can cut one client off and let the
// others go on.
type Client struct {
	ip, serverIP string // ClientIface's address here; the server end's
	iface        string // the server end, in the test's namespace
	netNS        string
	ns           *NS
	t            testing.TB
}

// NewClient makes another client side, torn down when t ends. Client n (from 1) has 10.77.n.2/24
// on ClientIface (sc1) and lo; the server end of its veth pair is sc0-n with 10.77.n.1/24 in the
// test's namespace, and its one route is to ServerIP through it. So a server the clients are to
// reach listens on ServerIP (or on 0.0.0.0); one on 127.0.0.1 is out of their reach.
func (ns *NS) NewClient(t testing.TB) *Client {
	t.Helper()
	ns.mu.Lock()
	ns.clients++
	n := ns.clients
	ns.mu.Unlock()
	if n > 254 {
		t.Fatalf("netns: %d clients: at most 254 (10.77.1.0/24 to 10.77.254.0/24)", n)
	}
	c := &Client{ip: fmt.Sprintf("10.77.%d.2", n), serverIP: fmt.Sprintf("10.77.%d.1", n), iface: fmt.Sprintf("%s-%d", ServerIface, n), ns: ns, t: t}
	holder := ns.holder(t)
	c.netNS = fmt.Sprintf("/proc/%d/ns/net", holder)
	// Deleting the server end deletes the pair, before the holder's end goes (cleanups run last first).
	t.Cleanup(func() {
		if _, err := net.InterfaceByName(c.iface); err != nil {
			return // never made
		}
		if out, err := ns.ipCmd(nil, "link", "del", c.iface); err != nil {
			t.Errorf("netns: ip link del %s: %v: %s", c.iface, err, out)
		}
	})
	ns.veth(t, holder, c.iface, ClientIface, c.serverIP, c.ip)
	ns.mustIP(t, []string{"--net=" + c.netNS, "--"}, "route", "add", ServerIP+"/32", "via", c.serverIP)
	if err := waitLink(c.iface, c.netNS, true); err != nil {
		t.Fatal(err)
	}
	return c
}

// IP is the client's address (10.77.n.2), where the server side reaches it.
func (c *Client) IP() string { return c.ip }

// Iface is the server end of the client's veth pair (sc0-n), in the test's namespace.
func (c *Client) Iface() string { return c.iface }

// NetNS is the path of the client's namespace, for tools that take one (nsenter --net=PATH).
func (c *Client) NetNS() string { return c.netNS }

// Command returns a command that runs name with args in the client's namespace, as
// NS.ClientCommand does in the first client's.
func (c *Client) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, c.ns.nsenter, append([]string{"--net=" + c.netNS, "--", name}, args...)...)
}

// InClient calls fn on an OS thread that has entered the client's namespace, as NS.InClient does
// in the first client's: sockets fn creates belong to this client for their whole life.
func (c *Client) InClient(fn func() error) error { return inNetNS(c.netNS, fn) }

// LinkDown takes the server end of the client's veth pair down, as NS.LinkDown does the first
// client's: this client's packets vanish and the server side has no route to it; the server side
// and the other clients go on as before.
func (c *Client) LinkDown() error { return c.ns.setLink(c.t, c.iface, c.netNS, "down") }

// LinkUp restores the client's link after LinkDown and waits for carrier.
func (c *Client) LinkUp() error { return c.ns.setLink(c.t, c.iface, c.netNS, "up") }

// InClient calls fn on an OS thread that has entered the client namespace: sockets fn creates
// (net.ListenUDP, net.Dial) belong to the client side for their whole life, though the test's
// other goroutines use them. Goroutines fn starts run in the server side.
func (ns *NS) InClient(fn func() error) error { return inNetNS(ns.ClientNetNS, fn) }

// inNetNS calls fn on an OS thread that has entered the network namespace at path.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- fmt.Errorf("netns: open this thread's namespace: %w", err)
			return // the thread stays locked and ends with the goroutine
		}
		defer self.Close()
		client, err := os.Open(path)
		if err != nil {
			errc <- fmt.Errorf("netns: open the client namespace: %w", err)
			return
		}
		defer client.Close()
		if err := unix.Setns(int(client.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netns: enter the client namespace %s: %w", path, err)
			return
		}
		err = fn()
		// Back to the server side; if that fails the thread stays locked and the runtime ends it.
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

var spawner struct {
	once sync.Once
	reqs chan *exec.Cmd
	errs chan error
}

// StartTied starts cmd so that the kernel kills it (SIGKILL) when the test binary dies, however it
// dies. It sets SysProcAttr.Pdeathsig and starts the command from one OS thread that lives as long
// as the process: Pdeathsig fires when the thread that started the child ends, and Go ends any
// thread whose goroutine exits while locked to it, which would kill the child early.
func StartTied(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs, spawner.errs = make(chan *exec.Cmd), make(chan error)
		go func() {
			runtime.LockOSThread() // never unlocked; the goroutine never returns
			for c := range spawner.reqs {
				spawner.errs <- c.Start()
			}
		}()
	})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	spawner.reqs <- cmd
	return <-spawner.errs
}
