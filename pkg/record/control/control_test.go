package control

import (
	"errors"
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
			p := SocketPath(id)
			if filepath.Dir(p) != c.wantDir || len(p) > MaxSocketPath || !strings.Contains(p, id) {
				t.Errorf("socket path %q (%d bytes), want under %s, at most %d bytes, naming the session", p, len(p), c.wantDir, MaxSocketPath)
			}
		})
	}
}

// TestServer: the socket is private (0600) and named in DIR/control; Send gets the handler's
// reply; Alive sees the server; Close removes socket and pointer, and may be called twice; Send
// then says no recorder runs, and Alive says no.
func TestServer(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := t.TempDir()
	srv, err := Listen(dir, "test-session", func(op Op, reason string) Reply {
		return Reply{OK: op == Pause && reason == Reason, Paused: true, Message: "recording paused"}
	})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(srv.Socket()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %s: %v, want mode 0600", srv.Socket(), err)
	}
	rep, err := Send(dir, Pause)
	if err != nil || !rep.OK || !rep.Paused || rep.Message != "recording paused" {
		t.Errorf("Send(pause) = %+v, %v", rep, err)
	}
	if !Alive(dir) {
		t.Error("Alive says no recorder answers while the server runs")
	}
	srv.Close()
	srv.Close()
	for _, p := range []string{srv.Socket(), filepath.Join(dir, FileName)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
	if _, err := Send(dir, Resume); !errors.Is(err, ErrNoRecorder) {
		t.Errorf("Send after Close: %v, want ErrNoRecorder", err)
	}
	if Alive(dir) {
		t.Error("Alive after Close")
	}
}

// TestRemoveStale: a killed recorder's pointer file and socket go; a pointer naming something
// that is not a socket removes only the pointer.
func TestRemoveStale(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "spacecast-x.sock")
	if err := os.WriteFile(victim, []byte("not a socket"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(victim+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if Alive(dir) {
		t.Error("Alive with no socket behind the pointer")
	}
	RemoveStale(dir)
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("RemoveStale removed a file that is not a socket: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		t.Error("RemoveStale left the pointer")
	}
}
