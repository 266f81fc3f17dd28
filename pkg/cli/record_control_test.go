package cli

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSocketPath: the control socket goes under $XDG_RUNTIME_DIR when its path fits a unix
// socket's 107 bytes, and elsewhere when it does not.
func TestSocketPath(t *testing.T) {
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	cases := []struct {
		name, runtime, wantDir string
	}{
		{"a short runtime dir holds it", "/run/user/1000", "/run/user/1000"},
		{"a runtime dir too long for sun_path is passed over", "/" + strings.Repeat("x", 80), os.TempDir()},
		{"no runtime dir: the temp folder", "", os.TempDir()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("XDG_RUNTIME_DIR", c.runtime)
			p := socketPath(id)
			if filepath.Dir(p) != c.wantDir || len(p) > maxSocketPath || !strings.Contains(p, id) {
				t.Errorf("socket path %q (%d bytes), want under %s, at most %d bytes, naming the session", p, len(p), c.wantDir, maxSocketPath)
			}
		})
	}
}

// TestControlSocket: a client's pause reaches the record loop and its answer comes back; an
// unknown command is answered as such; closing removes the socket and DIR/control, after which
// the client says no recorder runs.
func TestControlSocket(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := t.TempDir()
	srv, err := startControl(dir, "test-session")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(srv.sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %s: %v, mode %v, want 0600", srv.sock, err, fi.Mode().Perm())
	}
	loop := make(chan string, 4)
	go func() {
		for req := range srv.requests {
			loop <- req.op + " by " + req.reason
			req.reply <- controlReply{OK: true, Paused: req.op == "pause", Message: "recording paused"}
		}
	}()
	var out bytes.Buffer
	g := &globalOptions{stdout: &out, stderr: &out}
	if err := runRecordControl("pause", dir, g); err != nil {
		t.Fatalf("pause: %v", err)
	}
	if got := <-loop; got != "pause by control socket" {
		t.Errorf("the loop got %q", got)
	}
	if !strings.Contains(out.String(), "recording paused") {
		t.Errorf("the client printed %q", out.String())
	}

	c, err := net.Dial("unix", srv.sock)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("rewind\n"))
	b := make([]byte, 512)
	n, _ := c.Read(b)
	c.Close()
	if !strings.Contains(string(b[:n]), `"ok":false`) || !strings.Contains(string(b[:n]), "unknown command") {
		t.Errorf("an unknown command was answered %q", b[:n])
	}

	srv.close()
	for _, p := range []string{srv.sock, filepath.Join(dir, controlFile)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
	if err := runRecordControl("resume", dir, g); ExitCode(err) != ExitBadInput || !strings.Contains(err.Error(), "no recorder is running") {
		t.Errorf("resume after the recorder stopped: %v (exit %d), want exit %d", err, ExitCode(err), ExitBadInput)
	}
}
