package netns

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the program the tests run in the client namespace (NETNS_HELPER).
func TestMain(m *testing.M) {
	switch os.Getenv("NETNS_HELPER") {
	case "":
		os.Exit(m.Run())
	case "echo":
		helperEcho()
	case "probe":
		helperProbe()
	case "tied":
		cmd := exec.Command("sleep", "30")
		if err := StartTied(cmd); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
		select {}
	default:
		fmt.Fprintln(os.Stderr, "unknown NETNS_HELPER", os.Getenv("NETNS_HELPER"))
		os.Exit(2)
	}
}

// helperEcho echoes UDP and TCP on NETNS_ADDR (ip:0) and prints the two addresses.
func helperEcho() {
	u, tc, err := startEcho(os.Getenv("NETNS_ADDR"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Printf("udp %s\ntcp %s\n", u, tc)
	select {}
}

// helperProbe prints the interfaces it sees, then probes the UDP and TCP echo servers.
func helperProbe() {
	var names []string
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	fmt.Println("ifaces", strings.Join(names, ","))
	udpErr, tcpErr := probe(os.Getenv("NETNS_UDP"), os.Getenv("NETNS_TCP"))
	fmt.Println("udp", errText(udpErr))
	fmt.Println("tcp", errText(tcpErr))
}

func errText(err error) string {
	if err != nil {
		return "error " + err.Error()
	}
	return "ok"
}

// startEcho serves UDP and TCP echo on host:0 of ip and returns their addresses.
func startEcho(ip string) (udpAddr, tcpAddr string, err error) {
	pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		return "", "", err
	}
	ln, err := net.Listen("tcp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		return "", "", errors.Join(err, pc.Close())
	}
	go func() {
		b := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			pc.WriteTo(b[:n], from)
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return pc.LocalAddr().String(), ln.Addr().String(), nil
}

const probeTimeout = 500 * time.Millisecond

// probe sends a message to each echo server and expects it back within probeTimeout.
func probe(udpAddr, tcpAddr string) (udpErr, tcpErr error) {
	exchange := func(c net.Conn) error {
		defer c.Close()
		c.SetDeadline(time.Now().Add(probeTimeout))
		msg := []byte("ping " + c.LocalAddr().String())
		if _, err := c.Write(msg); err != nil {
			return err
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			return err
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("echo %q, sent %q", got, msg)
		}
		return nil
	}
	dial := func(network, addr string, err *error, done chan<- struct{}) {
		if c, e := net.DialTimeout(network, addr, probeTimeout); e != nil {
			*err = e
		} else {
			*err = exchange(c)
		}
		done <- struct{}{}
	}
	done := make(chan struct{})
	go dial("udp4", udpAddr, &udpErr, done)
	go dial("tcp4", tcpAddr, &tcpErr, done)
	<-done
	<-done
	return udpErr, tcpErr
}

// command makes a command that runs in one client namespace (NS.ClientCommand, Client.Command).
type command func(ctx context.Context, name string, args ...string) *exec.Cmd

// clientProbe runs the probe helper in a client namespace and returns its report lines by key.
func clientProbe(t *testing.T, in command, udpAddr, tcpAddr string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := in(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), "NETNS_HELPER=probe", "NETNS_UDP="+udpAddr, "NETNS_TCP="+tcpAddr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe helper: %v\n%s", err, out)
	}
	res := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(l, " ")
		res[k] = v
	}
	return res
}

// clientEcho starts the echo helper on ip in a client namespace, stopped when the test ends, and
// returns the addresses of its UDP and TCP echo servers.
func clientEcho(t *testing.T, in command, ip string) (udpAddr, tcpAddr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	echo := in(ctx, os.Args[0])
	echo.Env = append(os.Environ(), "NETNS_HELPER=echo", "NETNS_ADDR="+ip)
	stdout, err := echo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := echo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); echo.Wait() })
	sc := bufio.NewScanner(stdout)
	for udpAddr == "" || tcpAddr == "" {
		if !sc.Scan() {
			t.Fatalf("client echo helper ended early: %v", sc.Err())
		}
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "udp":
			udpAddr = v
		case "tcp":
			tcpAddr = v
		default:
			t.Fatalf("client echo helper: %s", sc.Text())
		}
	}
	if !strings.HasPrefix(udpAddr, ip+":") {
		t.Fatalf("client echo listens on %s, want %s", udpAddr, ip)
	}
	return udpAddr, tcpAddr
}

// TestReachability proves the two sides reach each other over the veth with UDP and TCP, that
// after LinkDown neither reaches the other, that LinkUp restores both, and that the client side
// does not share the server side's loopback.
func TestReachability(t *testing.T) {
	Run(t, func(t *testing.T, ns *NS) {
		srvUDP, srvTCP, err := startEcho(ns.ServerIP)
		if err != nil {
			t.Fatal(err)
		}
		_, loTCP, err := startEcho("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cliUDP, cliTCP := clientEcho(t, ns.ClientCommand, ns.ClientIP)

		bothWays := func(want bool) {
			t.Helper()
			res := clientProbe(t, ns.ClientCommand, srvUDP, srvTCP)
			if res["ifaces"] != "lo,"+ns.ClientIface {
				t.Errorf("client side sees interfaces %q, want lo,%s", res["ifaces"], ns.ClientIface)
			}
			for _, p := range []string{"udp", "tcp"} {
				if ok := res[p] == "ok"; ok != want {
					t.Errorf("client → server %s (link up %v): %s", p, want, res[p])
				}
			}
			udpErr, tcpErr := probe(cliUDP, cliTCP)
			for p, err := range map[string]error{"udp": udpErr, "tcp": tcpErr} {
				if (err == nil) != want {
					t.Errorf("server → client %s (link up %v): %v", p, want, errText(err))
				}
			}
		}
		bothWays(true)
		if err := ns.LinkDown(); err != nil {
			t.Fatal(err)
		}
		bothWays(false)
		if err := ns.LinkUp(); err != nil {
			t.Fatal(err)
		}
		bothWays(true)

		// 127.0.0.1 on the client side is the client's own loopback, not the server's.
		res := clientProbe(t, ns.ClientCommand, srvUDP, loTCP)
		if res["tcp"] == "ok" {
			t.Errorf("client side reached the server side's loopback listener %s", loTCP)
		}
	})
}

// TestClients: clients made with NewClient reach the server side and are reached by it over links
// of their own, each with its own address; taking one client's link down cuts that client alone,
// both ways, while the others (the first client among them) go on, and LinkUp brings it back. A
// client's link is gone, its pair and namespace with it, when the test that made it ends.
func TestClients(t *testing.T) {
	Run(t, func(t *testing.T, ns *NS) {
		srvUDP, srvTCP, err := startEcho(ns.ServerIP)
		if err != nil {
			t.Fatal(err)
		}
		a, b := ns.NewClient(t), ns.NewClient(t)
		if ips := []string{ns.ClientIP, a.IP(), b.IP()}; ips[1] == ips[0] || ips[2] == ips[0] || ips[1] == ips[2] {
			t.Fatalf("clients' addresses %v are not distinct", ips)
		}
		type peer struct {
			name     string
			in       command
			udp, tcp string // its echo servers
		}
		peers := []*peer{{name: "first", in: ns.ClientCommand}, {name: "a", in: a.Command}, {name: "b", in: b.Command}}
		for i, ip := range []string{ns.ClientIP, a.IP(), b.IP()} {
			peers[i].udp, peers[i].tcp = clientEcho(t, peers[i].in, ip)
		}
		// reach checks every client both ways; the one named down is to be cut off, the others not.
		reach := func(when, down string) {
			t.Helper()
			for _, p := range peers {
				want := p.name != down
				res := clientProbe(t, p.in, srvUDP, srvTCP)
				if res["ifaces"] != "lo,"+ClientIface {
					t.Errorf("client %s sees interfaces %q, want lo,%s", p.name, res["ifaces"], ClientIface)
				}
				udpErr, tcpErr := probe(p.udp, p.tcp)
				for _, c := range []struct {
					way string
					ok  bool
					msg string
				}{
					{"client → server udp", res["udp"] == "ok", res["udp"]},
					{"client → server tcp", res["tcp"] == "ok", res["tcp"]},
					{"server → client udp", udpErr == nil, errText(udpErr)},
					{"server → client tcp", tcpErr == nil, errText(tcpErr)},
				} {
					if c.ok != want {
						t.Errorf("%s: %s, client %s: %s", when, c.way, p.name, c.msg)
					}
				}
			}
		}
		reach("at first", "")
		// A socket made in a client's InClient is that client's: it binds the client's address, which
		// the server side does not have, and is reached from the server side over the client's link.
		var ln net.Listener
		if err := a.InClient(func() (err error) { ln, err = net.Listen("tcp4", net.JoinHostPort(a.IP(), "0")); return err }); err != nil {
			t.Fatalf("listen on %s in client a: %v", a.IP(), err)
		}
		go func() {
			if c, err := ln.Accept(); err == nil {
				c.Close()
			}
		}()
		if c, err := net.DialTimeout("tcp4", ln.Addr().String(), probeTimeout); err != nil {
			t.Errorf("server → a listener made in client a's InClient: %v", err)
		} else {
			c.Close()
		}
		ln.Close()
		for _, cut := range []struct {
			name     string
			down, up func() error
		}{
			{"a", a.LinkDown, a.LinkUp},
			{"b", b.LinkDown, b.LinkUp},
			{"first", ns.LinkDown, ns.LinkUp},
		} {
			if err := cut.down(); err != nil {
				t.Fatal(err)
			}
			reach(cut.name+"'s link down", cut.name)
			if err := cut.up(); err != nil {
				t.Fatal(err)
			}
			reach(cut.name+"'s link up again", "")
		}

		// A client of a subtest goes with it: its link and its namespace's holder.
		var iface string
		var holders []string
		t.Run("gone", func(t *testing.T) {
			before := sleepers(t)
			c := ns.NewClient(t)
			iface = c.Iface()
			holders = slices.DeleteFunc(sleepers(t), func(pid string) bool { return slices.Contains(before, pid) })
			if len(holders) != 1 || c.NetNS() != "/proc/"+holders[0]+"/ns/net" {
				t.Errorf("new holder processes %v for a client in %s", holders, c.NetNS())
			}
			if _, err := net.InterfaceByName(iface); err != nil {
				t.Errorf("the client's link: %v", err)
			}
		})
		if _, err := net.InterfaceByName(iface); err == nil {
			t.Errorf("%s is left after the subtest that made it ended", iface)
		}
		if left := slices.DeleteFunc(sleepers(t), func(pid string) bool { return !slices.Contains(holders, pid) }); len(left) > 0 {
			t.Errorf("holder %v is left after the subtest that made it ended", left)
		}
	})
}

// sleepers are the pids of this process's children running sleep (namespace holders), whichever
// thread started them.
func sleepers(t *testing.T) []string {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("list this process's threads: %v", err)
	}
	var pids []string
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		for _, pid := range strings.Fields(string(b)) {
			if comm, err := os.ReadFile("/proc/" + pid + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "sleep" {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// TestFreshNamespace checks what a test sees inside: lo and the veth end only, no route out, the
// marker variable gone. NETNS_FORCE makes it fail or skip on purpose (driven by TestOutcomes).
func TestFreshNamespace(t *testing.T) {
	Run(t, func(t *testing.T, ns *NS) {
		ifs, err := net.Interfaces()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, i := range ifs {
			names = append(names, i.Name)
			if i.Flags&net.FlagUp == 0 {
				t.Errorf("%s is down", i.Name)
			}
		}
		if !slices.Equal(names, []string{"lo", ns.ServerIface}) {
			t.Errorf("interfaces %v, want [lo %s]", names, ns.ServerIface)
		}
		// 192.0.2.1 (TEST-NET-1, never routed): connect fails at once because there is no route.
		if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
			c.Close()
			t.Errorf("a route out of the namespace exists (dial 192.0.2.1 from %s)", c.LocalAddr())
		} else if !errors.Is(err, syscall.ENETUNREACH) {
			t.Errorf("dial 192.0.2.1: %v, want network unreachable", err)
		}
		if v, ok := os.LookupEnv(envTest); ok {
			t.Errorf("%s=%q still set inside", envTest, v)
		}
		switch os.Getenv("NETNS_FORCE") {
		case "fail":
			t.Error("forced failure")
		case "skip":
			t.Skip("forced skip")
		}
	})
	if entered {
		return
	}
	if _, err := net.InterfaceByName(ServerIface); err == nil {
		t.Errorf("%s exists outside the namespace", ServerIface)
	}
}

// TestOutcomes runs TestFreshNamespace in a separate test process three ways and checks that the
// process reports what happened inside the namespace: pass, failure (with the inner message) and skip.
func TestOutcomes(t *testing.T) {
	requireNamespaces(t)
	cases := []struct {
		force    string
		exitCode int
		want     []string
	}{
		{"", 0, []string{"--- PASS: TestFreshNamespace"}},
		{"fail", 1, []string{"--- FAIL: TestFreshNamespace", "failed inside its network namespace", "forced failure", "its messages again:"}},
		{"skip", 0, []string{"--- SKIP: TestFreshNamespace", "skipped inside its network namespace", "forced skip"}},
	}
	for _, c := range cases {
		t.Run("force="+c.force, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFreshNamespace$", "-test.v=true", "-test.count=1")
			cmd.Env = append(os.Environ(), "NETNS_FORCE="+c.force)
			out, err := cmd.CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.exitCode {
				t.Errorf("exit code %d, want %d", code, c.exitCode)
			}
			for _, w := range c.want {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("output lacks %q", w)
				}
			}
			// A failure's messages are repeated after the child's output (server logs may bury them).
			if c.force == "fail" && bytes.Count(out, []byte("forced failure")) != 2 {
				t.Errorf("the inner failure message appears %d times, want 2 (in the output and repeated last)", bytes.Count(out, []byte("forced failure")))
			}
			// The inner verdict is quoted, so only the outer one starts a line.
			if n := bytes.Count(out, []byte("\n--- ")); n != 1 {
				t.Errorf("%d unquoted verdict lines, want 1", n)
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// requireNamespaces skips (fails under CI) when this process cannot create namespaces.
func requireNamespaces(t *testing.T) {
	t.Helper()
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS}
	if err := cmd.Run(); err != nil {
		Missing(t, "cannot create namespaces: %v (run as root)", err)
	}
}

// TestSubtests runs two subtests, names with spaces and regexp characters, each in its own namespaces.
func TestSubtests(t *testing.T) {
	for _, name := range []string{"first case", "second (a+b)"} {
		t.Run(name, func(t *testing.T) {
			Run(t, func(t *testing.T, ns *NS) {
				c, err := net.ListenPacket("udp4", net.JoinHostPort(ns.ServerIP, "0"))
				if err != nil {
					t.Fatalf("%s: bind %s: %v", t.Name(), ns.ServerIP, err)
				}
				c.Close()
			})
		})
	}
}

func TestRunPattern(t *testing.T) {
	cases := []struct{ name, want string }{
		{"TestA", "^TestA$"},
		{"TestA/case_one", "^TestA$/^case_one$"},
		{"TestA/second_(a+b)", `^TestA$/^second_\(a\+b\)$`},
	}
	for _, c := range cases {
		if got := runPattern(c.name); got != c.want {
			t.Errorf("runPattern(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestOutcomeParse(t *testing.T) {
	out := "=== RUN   TestA\n=== RUN   TestA/b\n    --- SKIP: TestA/b (0.00s)\n--- FAIL: TestA (0.01s)\n--- PASS: TestAB (0.00s)\n"
	cases := []struct{ name, want string }{
		{"TestA", "FAIL"},      // the top-level verdict
		{"TestA/b", "SKIP"},    // an indented subtest verdict
		{"TestAB", "PASS"},     // a name that extends another is not confused with it
		{"TestC", ""},          // never ran
		{"TestA/b/c", ""},      // a deeper subtest that never ran
		{"Test", ""},           // a prefix of a real name
		{"TestA/", ""},         // nothing after the slash
		{"TestAB (0.00s)", ""}, // not a name
	}
	for _, c := range cases {
		if got := outcome([]byte(out), c.name); got != c.want {
			t.Errorf("outcome(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestDiskFull proves writes past the size fail with ENOSPC and smaller ones succeed.
func TestDiskFull(t *testing.T) {
	dir := DiskFull(t, 64)
	checkFull(t, dir, 64)
}

// TestDiskFullInNamespace proves the tmpfs inside Run is private: the parent test process does not see it.
func TestDiskFullInNamespace(t *testing.T) {
	Run(t, func(t *testing.T, ns *NS) {
		dir := DiskFull(t, 32)
		checkFull(t, dir, 32)
		own, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		parent, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", os.Getppid()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(own, []byte(" "+dir+" ")) {
			t.Errorf("%s is not in this process's mount table", dir)
		}
		if bytes.Contains(parent, []byte(" "+dir+" ")) {
			t.Errorf("%s leaked into the parent's mount namespace", dir)
		}
	})
}

func checkFull(t *testing.T, dir string, sizeKB int) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if total := int(st.Blocks) * int(st.Bsize); total != sizeKB*1024 {
		t.Errorf("filesystem at %s holds %d bytes, want %d", dir, total, sizeKB*1024)
	}
	small := make([]byte, sizeKB*1024/4)
	if err := os.WriteFile(filepath.Join(dir, "small"), small, 0o644); err != nil {
		t.Fatalf("a write of %d bytes failed: %v", len(small), err)
	}
	f, err := os.Create(filepath.Join(dir, "big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := f.Write(make([]byte, sizeKB*1024))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("writing %d bytes more into a %d KiB filesystem: wrote %d, error %v, want ENOSPC", sizeKB*1024, sizeKB, n, err)
	}
}

// TestInClient: sockets made in InClient belong to the client side (its address, its loopback),
// and the process's other threads stay on the server side.
func TestInClient(t *testing.T) {
	Run(t, func(t *testing.T, ns *NS) {
		if c, err := net.ListenPacket("udp4", net.JoinHostPort(ns.ClientIP, "0")); err == nil {
			c.Close()
			t.Fatalf("bound %s on the server side", ns.ClientIP)
		}
		var loUDP, loTCP string
		for range 10 {
			err := ns.InClient(func() error {
				c, err := net.ListenPacket("udp4", net.JoinHostPort(ns.ClientIP, "0"))
				if err != nil {
					return err
				}
				c.Close()
				loUDP, loTCP, err = startEcho("127.0.0.1")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// A client process reaches the echo servers on its own loopback; the server side does not.
		res := clientProbe(t, ns.ClientCommand, loUDP, loTCP)
		if res["udp"] != "ok" || res["tcp"] != "ok" {
			t.Errorf("client side → sockets made in InClient on its loopback: udp %s, tcp %s", res["udp"], res["tcp"])
		}
		if udpErr, tcpErr := probe(loUDP, loTCP); udpErr == nil || tcpErr == nil {
			t.Errorf("server side reached the client side's loopback: udp %v, tcp %v", errText(udpErr), errText(tcpErr))
		}
		// Every thread the runtime hands work to still sees the server side.
		errs := make(chan error, 50)
		for range 50 {
			go func() {
				ifs, err := net.Interfaces()
				if err == nil && (len(ifs) != 2 || ifs[1].Name != ns.ServerIface) {
					err = fmt.Errorf("a thread sees %v", ifs)
				}
				errs <- err
			}()
		}
		for range 50 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})
}

// TestStartTied: a tied process survives threads ending in its parent and dies with its parent.
func TestStartTied(t *testing.T) {
	// Each started from a goroutine that exits locked to its thread: the runtime ends that thread
	// (except the main thread, which it parks: hence several).
	var sleeps []*exec.Cmd
	for range 5 {
		sleep := exec.Command("sleep", "30")
		errc := make(chan error)
		go func() {
			runtime.LockOSThread()
			errc <- StartTied(sleep)
		}()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		defer func() { sleep.Process.Kill(); sleep.Wait() }()
		sleeps = append(sleeps, sleep)
	}
	time.Sleep(100 * time.Millisecond)
	for _, sleep := range sleeps {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", sleep.Process.Pid))
		if err != nil || strings.Contains(string(b), ") Z ") {
			t.Errorf("tied process %d died when the thread that asked for it ended", sleep.Process.Pid)
		}
	}

	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), "NETNS_HELPER=tied")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("helper: %q", line)
	}
	helper.Process.Kill()
	helper.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for {
		// The orphan is reaped by init once killed; until then it shows as a zombie or not at all.
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(b), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d outlived its killed parent by 2 s", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
