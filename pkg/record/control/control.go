// Package control is the control socket of a running recording: `spacecast record --pause DIR`
// reaches the recorder writing DIR through it.
//
// The socket lives under $XDG_RUNTIME_DIR (or the temp folder, or /tmp when that path is too long
// for a unix socket: 108 bytes with the terminating NUL), named by the session's id; its path is
// written to DIR/control while the recorder runs. A client sends one line ("pause" or "resume")
// and reads one line of JSON back (Reply).
package control

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

// FileName is the name of the file in the session folder that holds the socket's path.
const FileName = "control"

// MaxSocketPath is the longest unix socket path Linux takes (sun_path is 108 bytes, NUL included).
const MaxSocketPath = 107

// Op is what a client asks of the recorder.
type Op string

// The operations a recorder answers.
const (
	Pause  Op = "pause"
	Resume Op = "resume"
)

// Reply is the recorder's answer.
type Reply struct {
	OK      bool   `json:"ok"`
	Paused  bool   `json:"paused"`
	Message string `json:"message"`
}

// Handler carries out an operation for the server; reason says where it came from.
type Handler func(op Op, reason string) Reply

// Reason is the reason a Handler is given for a request that came through the socket.
const Reason = "control socket"

// timeouts: a client that connects and says nothing is dropped after serverTimeout; a client
// waits clientTimeout for the answer.
const (
	serverTimeout = 5 * time.Second
	clientTimeout = 6 * time.Second
	dialTimeout   = 2 * time.Second
)

// Server listens on a recording's socket and hands requests to its Handler.
type Server struct {
	ln      net.Listener
	sock    string
	pointer string
	handle  Handler
	wg      sync.WaitGroup
	once    sync.Once
}

// SocketPath picks where the socket of session id goes.
func SocketPath(id string) string {
	name := "spacecast-" + id + ".sock"
	for _, dir := range []string{os.Getenv("XDG_RUNTIME_DIR"), os.TempDir(), "/tmp"} {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, name); len(p) <= MaxSocketPath {
			return p
		}
	}
	return filepath.Join("/tmp", name)
}

// Listen opens the socket of session id, whose folder is dir, and serves requests with h until Close.
func Listen(dir, id string, h Handler) (*Server, error) {
	sock := SocketPath(id)
	os.Remove(sock) // a stale socket of a killed recorder of this very session
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, &ListenError{Socket: sock, Err: err}
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return nil, &ListenError{Socket: sock, Err: err}
	}
	pointer := filepath.Join(dir, FileName)
	if err := os.WriteFile(pointer, []byte(sock+"\n"), 0o644); err != nil {
		ln.Close()
		return nil, &ListenError{Socket: sock, Err: err}
	}
	s := &Server{ln: ln, sock: sock, pointer: pointer, handle: h}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Socket is the socket's path.
func (s *Server) Socket() string { return s.sock }

func (s *Server) serve() {
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
			c.SetDeadline(time.Now().Add(serverTimeout))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil && line == "" {
				return
			}
			op := Op(strings.TrimSpace(line))
			var rep Reply
			if op != Pause && op != Resume {
				rep = Reply{Message: fmt.Sprintf("unknown command %q (want pause or resume)", op)}
			} else {
				rep = s.handle(op, Reason)
			}
			b, _ := json.Marshal(rep)
			c.Write(append(b, '\n'))
		}()
	}
}

// Close stops listening, waits for the requests being answered, and removes the socket and the
// pointer file. It may be called more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.ln.Close()
		s.wg.Wait()
		os.Remove(s.sock)
		os.Remove(s.pointer)
	})
	return nil
}

// Send asks the recorder writing session folder dir to carry out op. A failure is a *SendError.
func Send(dir string, op Op) (Reply, error) {
	rep, err := send(dir, op)
	if err != nil {
		return Reply{}, &SendError{Op: op, Dir: dir, Err: err}
	}
	return rep, nil
}

func send(dir string, op Op) (Reply, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return Reply{}, ErrNoRecorder
	} else if err != nil {
		return Reply{}, err
	}
	sock := strings.TrimSpace(string(b))
	c, err := net.DialTimeout("unix", sock, dialTimeout)
	if err != nil {
		return Reply{}, &DialError{Socket: sock, Err: err}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(clientTimeout))
	if _, err := fmt.Fprintf(c, "%s\n", op); err != nil {
		return Reply{}, err
	}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		return Reply{}, &ReplyError{Err: err}
	}
	var rep Reply
	if err := json.Unmarshal(line, &rep); err != nil {
		return Reply{}, &ReplyError{Answer: strings.TrimSpace(string(line)), Err: err}
	}
	return rep, nil
}

// Alive reports whether a recorder still answers on the control socket of session dir. It
// changes nothing: a dead recorder's leftovers go with RemoveStale.
func Alive(dir string) bool {
	sock, ok := socketOf(dir)
	if !ok {
		return false
	}
	if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		c.Close()
		return true
	}
	return false
}

// socketOf reads the socket path from the control file of session dir: a regular file (not a
// link), naming a socket the way SocketPath does.
func socketOf(dir string) (string, bool) {
	pointer := filepath.Join(dir, FileName)
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

// RemoveStale removes the control file a killed recorder left in session dir, and the socket it
// names when that is a socket (never anything else: the path comes from a file in the session,
// which is input like any other).
func RemoveStale(dir string) {
	pointer := filepath.Join(dir, FileName)
	if sock, ok := socketOf(dir); ok {
		if st, err := os.Lstat(sock); err == nil && st.Mode()&os.ModeSocket != 0 {
			os.Remove(sock)
		}
	}
	if st, err := os.Lstat(pointer); err == nil && st.Mode().IsRegular() {
		os.Remove(pointer)
	}
}
