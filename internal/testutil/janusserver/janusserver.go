// Package janusserver starts a real Janus (Debian's janus 1.1.2) for end-to-end tests and puts pion
// publishers in its rooms. Janus runs in the client namespace of internal/testutil/netns (10.77.0.2
// on sc1, its ICE held to sc1); the test process, with its speakers (and a recorder it starts), is
// on the other end of the veth (10.77.0.1 on sc0). Nothing reaches the machine's own interfaces.
//
// The speakers talk to Janus through a small HTTP API client of their own, so that the tests of
// spacecast's Janus adapter do not judge it with its own code.
package janusserver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// The plugins a speaker joins (the names spacecast's --janus-plugin takes).
const (
	AudioBridge = "audiobridge"
	VideoRoom   = "videoroom"
)

// Rooms of the test server: each plugin's own, one both have (for detection), one with a PIN.
// AudioBridge's ids are strings (string_ids), VideoRoom's numbers.
const (
	VideoRoomID   = "2001"
	AudioBridgeID = "3001"
	BothID        = "4001"
	PINRoomID     = "5001"
	PIN           = "8642"
	Port          = 8088
)

// Server is a running (or stopped) Janus.
type Server struct {
	URL string // the HTTP API, http://10.77.0.2:8088/janus
	Dir string // its configuration
	Log string // its stdout and stderr

	t    testing.TB
	ns   *netns.NS
	cmd  *exec.Cmd
	done chan struct{}
}

// Start writes a minimal configuration (HTTP transport on the client address, ICE held to the
// client interface, AudioBridge and VideoRoom with the test rooms) and starts Janus in the client
// namespace; it is killed when the test ends, and the end of its log is shown if the test failed.
// Without janus the test is skipped (it fails when CI is set).
func Start(t testing.TB, ns *netns.NS) *Server {
	t.Helper()
	bin := testutil.Require(t, "janus")
	libdir := "/usr/lib/x86_64-linux-gnu/janus"
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err == nil && !bytes.Contains(out, []byte("1.1.")) {
		t.Logf("janus --version: %s (the tests were written against 1.1.2)", bytes.TrimSpace(out))
	}
	if m, _ := filepath.Glob("/usr/lib/*/janus/plugins/libjanus_videoroom.so"); len(m) > 0 {
		libdir = filepath.Dir(filepath.Dir(m[0]))
	}
	dir := t.TempDir()
	files := map[string]string{
		"janus.jcfg": fmt.Sprintf(`general: {
	configs_folder = "%[1]s"
	plugins_folder = "%[2]s/plugins"
	transports_folder = "%[2]s/transports"
	events_folder = "%[2]s/events"
	loggers_folder = "%[2]s/loggers"
	debug_level = 4
	admin_secret = "not-used"
	session_timeout = 60
}
certificates: {}
media: { rtp_port_range = "20000-20999" }
nat: {
	ice_enforce_list = "%[3]s"
	ignore_mdns = true
}
plugins: { disable = "libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so" }
transports: { disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so,libjanus_websockets.so" }
loggers: { disable = "libjanus_jsonlog.so" }
events: { broadcast = false }
`, dir, libdir, ns.ClientIface),
		"janus.transport.http.jcfg": fmt.Sprintf(`general: { json = "plain" base_path = "/janus" http = true port = %d interface = "%s" https = false }
admin: { admin_http = false admin_https = false }
cors: {}
`, Port, ns.ClientIface),
		"janus.plugin.videoroom.jcfg": fmt.Sprintf(`general: {}
room-%s: { description = "VideoRoom test room" publishers = 6 audiocodec = "opus" videocodec = "vp8" }
room-%s: { description = "In both plugins" publishers = 6 audiocodec = "opus" }
room-%s: { description = "With a PIN" publishers = 6 audiocodec = "opus" pin = "%s" }
`, VideoRoomID, BothID, PINRoomID, PIN),
		// AudioBridge takes string ids here: a recorder given digits must find that out.
		"janus.plugin.audiobridge.jcfg": fmt.Sprintf(`general: { string_ids = true }
room-%s: { description = "AudioBridge test room" sampling_rate = 48000 }
room-%s: { description = "In both plugins" sampling_rate = 48000 }
`, AudioBridgeID, BothID),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitClientCarrier(t, ns)
	j := &Server{t: t, ns: ns, Dir: dir, Log: filepath.Join(dir, "janus.log"),
		URL: fmt.Sprintf("http://%s:%d/janus", ns.ClientIP, Port)}
	t.Cleanup(func() {
		j.Stop()
		if t.Failed() {
			b, _ := os.ReadFile(j.Log)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("janus log (end):\n%s", b)
		}
	})
	j.start()
	return j
}

// RTC keeps pion on the test process's end of the veth (the server side of ns).
func RTC(ns *netns.NS) rtc.Options { return rtc.Options{Interfaces: []string{ns.ServerIface}} }

// waitClientCarrier waits until the client end of the veth is operationally up: the kernel
// reports a veth's carrier up to a second late (linkwatch), and Janus ignores an interface that is
// not running (its ICE enforce list and HTTP bind find no address).
func waitClientCarrier(t testing.TB, ns *netns.NS) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := ns.ClientCommand(context.Background(), "ip", "-o", "link", "show", "dev", ns.ClientIface).CombinedOutput()
		if err != nil {
			t.Fatalf("ip link show %s in the client namespace: %v: %s", ns.ClientIface, err, out)
		}
		if bytes.Contains(out, []byte("state UP")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up within 5 s: %s", ns.ClientIface, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (j *Server) start() {
	j.t.Helper()
	logf, err := os.OpenFile(j.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		j.t.Fatal(err)
	}
	cmd := j.ns.ClientCommand(context.Background(), "janus", "-C", filepath.Join(j.Dir, "janus.jcfg"), "-F", j.Dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := netns.StartTied(cmd); err != nil {
		logf.Close()
		j.t.Fatalf("start janus: %v", err)
	}
	j.cmd, j.done = cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(j.done)
	}()
	deadline := time.Now().Add(15 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(j.URL + "/info")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-j.done:
			j.t.Fatalf("janus exited at start; see %s", j.Log)
		default:
		}
		if time.Now().After(deadline) {
			j.t.Fatalf("janus did not answer on %s within 15 s: %v", j.URL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills Janus at once (a crash, as far as its clients can tell). It is idempotent.
func (j *Server) Stop() {
	if j.cmd == nil {
		return
	}
	j.cmd.Process.Kill()
	<-j.done
	j.cmd = nil
}

// Restart kills Janus and starts it again: every session, handle and PeerConnection is gone.
func (j *Server) Restart() {
	j.Stop()
	j.start()
}
