package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The control socket lets `spacecast record --pause DIR` / `--resume DIR` talk to the recorder
// writing DIR. The socket lives under $XDG_RUNTIME_DIR (or the temp folder, or /tmp when that
// path is too long for a unix socket: 108 bytes with the terminating NUL), named by the
// session's id; its path is written to DIR/control. A client sends one line ("pause" or
// "resume") and reads one line of JSON back (controlReply).

// controlFile is the name of the file in the session folder that holds the socket's path.
const controlFile = "control"

// maxSocketPath is the longest unix socket path Linux takes (sun_path is 108 bytes, NUL included).
const maxSocketPath = 107

// controlReply is the recorder's answer.
type controlReply struct {
	OK      bool   `json:"ok"`
	Paused  bool   `json:"paused"`
	Message string `json:"message"`
}

// controlRequest is one command from a client (or a signal) for the record loop.
type controlRequest struct {
	op     string // "pause" or "resume"
	reason string
	reply  chan controlReply
}

// controlServer listens on the socket and hands requests to the record loop.
type controlServer struct {
	ln       net.Listener
	sock     string
	pointer  string
	requests chan controlRequest
	wg       sync.WaitGroup
}

// socketPath picks where the socket of session id goes.
func socketPath(id string) string {
	name := "spacecast-" + id + ".sock"
	for _, dir := range []string{os.Getenv("XDG_RUNTIME_DIR"), os.TempDir(), "/tmp"} {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, name); len(p) <= maxSocketPath {
			return p
		}
	}
	return filepath.Join("/tmp", name)
}

// startControl listens for the recorder of session id writing dir.
func startControl(dir, id string) (*controlServer, error) {
	sock := socketPath(id)
	os.Remove(sock) // a stale socket of a killed recorder of this very session
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("record: control socket %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("record: control socket %s: %w", sock, err)
	}
	pointer := filepath.Join(dir, controlFile)
	if err := os.WriteFile(pointer, []byte(sock+"\n"), 0o644); err != nil {
		ln.Close()
		return nil, fmt.Errorf("record: %w", err)
	}
	s := &controlServer{ln: ln, sock: sock, pointer: pointer, requests: make(chan controlRequest)}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *controlServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil && line == "" {
				return
			}
			op := strings.TrimSpace(line)
			var rep controlReply
			if op != "pause" && op != "resume" {
				rep = controlReply{Message: fmt.Sprintf("unknown command %q (want pause or resume)", op)}
			} else {
				req := controlRequest{op: op, reason: "control socket", reply: make(chan controlReply, 1)}
				select {
				case s.requests <- req:
					rep = <-req.reply
				case <-time.After(4 * time.Second):
					rep = controlReply{Message: "the recorder is busy stopping"}
				}
			}
			b, _ := json.Marshal(rep)
			c.Write(append(b, '\n'))
		}()
	}
}

// close stops listening and removes the socket and the pointer file.
func (s *controlServer) close() {
	s.ln.Close()
	s.wg.Wait()
	os.Remove(s.sock)
	os.Remove(s.pointer)
}

// runRecordControl is `spacecast record --pause DIR` / `--resume DIR`.
func runRecordControl(op, dir string, g *globalOptions) error {
	b, err := os.ReadFile(filepath.Join(dir, controlFile))
	if errors.Is(err, fs.ErrNotExist) {
		return inputErr(fmt.Errorf("record --%s: no recorder is running for %s (it has no %s file): "+
			"give the session folder a running 'spacecast record' writes", op, dir, controlFile))
	} else if err != nil {
		return inputErr(fmt.Errorf("record --%s: %w", op, err))
	}
	sock := strings.TrimSpace(string(b))
	c, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		return inputErr(fmt.Errorf("record --%s: the recorder of %s does not answer on %s (%v): is it still running?", op, dir, sock, err))
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(6 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\n", op); err != nil {
		return fmt.Errorf("record --%s: %w", op, err)
	}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("record --%s: no answer from the recorder of %s: %w", op, dir, err)
	}
	var rep controlReply
	if err := json.Unmarshal(line, &rep); err != nil {
		return fmt.Errorf("record --%s: the recorder of %s answered %q: %w", op, dir, strings.TrimSpace(string(line)), err)
	}
	if g.json {
		writeJSONLine(g.stdout, rep)
	} else if !g.quiet {
		fmt.Fprintf(g.stdout, "%s: %s\n", dir, term(rep.Message))
	}
	if !rep.OK {
		return &exitError{code: ExitFailure, err: fmt.Errorf("record --%s: %s: %s", op, dir, rep.Message)}
	}
	return nil
}

// recorderAlive reports whether a recorder still answers on the control socket of session dir.
// It changes nothing: a dead recorder's leftovers go with removeStaleControl, once recover has
// finished.
func recorderAlive(dir string) bool {
	sock, ok := controlSocket(dir)
	if !ok {
		return false
	}
	if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		c.Close()
		return true
	}
	return false
}

// controlSocket reads the socket path from the control file of session dir: a regular file (not
// a link), naming a socket the way socketPath does.
func controlSocket(dir string) (string, bool) {
	pointer := filepath.Join(dir, controlFile)
	if st, err := os.Lstat(pointer); err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	b, err := os.ReadFile(pointer)
	if err != nil {
		return "", false
	}
	sock := strings.TrimSpace(string(b))
	base := filepath.Base(sock)
	if !filepath.IsAbs(sock) || !strings.HasPrefix(base, "spacecast-") || !strings.HasSuffix(base, ".sock") {
		return "", false
	}
	return sock, true
}

// removeStaleControl removes the control file a killed recorder left in session dir, and the
// socket it names when that is a socket (never anything else: the path comes from a file in the
// session, which is input like any other).
func removeStaleControl(dir string) {
	pointer := filepath.Join(dir, controlFile)
	if sock, ok := controlSocket(dir); ok {
		if st, err := os.Lstat(sock); err == nil && st.Mode()&os.ModeSocket != 0 {
			os.Remove(sock)
		}
	}
	if st, err := os.Lstat(pointer); err == nil && st.Mode().IsRegular() {
		os.Remove(pointer)
	}
}
