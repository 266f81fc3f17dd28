package cli

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/pkg/record/control"
)

// TestControlSocket: 'record --pause DIR' reaches the recorder's handler and prints its answer;
// an unknown command is answered as such; once the server is closed, the client says no
// recorder runs (exit 3).
func TestControlSocket(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := t.TempDir()
	loop := make(chan string, 4)
	srv, err := control.Listen(dir, "test-session", func(op control.Op, reason string) control.Reply {
		loop <- string(op) + " by " + reason
		return control.Reply{OK: true, Paused: op == control.Pause, Message: "recording paused"}
	})
	if err != nil {
		t.Fatal(err)
	}
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

	c, err := net.Dial("unix", srv.Socket())
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

	srv.Close()
	for _, p := range []string{srv.Socket(), filepath.Join(dir, control.FileName)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
	// As the user gets it: Run explains a command's error through the error table.
	if err := explain("record", runRecordControl("resume", dir, g)); ExitCode(err) != ExitBadInput || !strings.Contains(err.Error(), "no recorder is running") {
		t.Errorf("resume after the recorder stopped: %v (exit %d), want exit %d", err, ExitCode(err), ExitBadInput)
	}
}
