package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/pkg/cli/ui"
)

// openPTY opens a pseudo-terminal of cols×rows: the master end, where the test reads what is
// drawn, and the slave end, a real terminal for a child's stderr.
func openPTY(t *testing.T, cols, rows uint16) (master, slave *os.File) {
	t.Helper()
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	master = os.NewFile(uintptr(mfd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	name := "/dev/pts/" + strconv.Itoa(n)
	sfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	slave = os.NewFile(uintptr(sfd), name)
	if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		t.Fatalf("set the size of %s: %v", name, err)
	}
	return master, slave
}

// drawn is one thing written to the terminal between two "erase the line" sequences (\r ESC[K):
// a status line (no newline), or an event line.
type drawn struct {
	at   time.Time // when the test read it
	text string
}

// ttyRecorder is `spacecast record` with its stderr on a pseudo-terminal.
type ttyRecorder struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	raw    []byte
	segs   []drawn
	done   chan struct{}
}

// eraseLine is what the recorder writes before each status line and event line.
const eraseLine = "\r\033[K"

func startTTYRecorder(t *testing.T, cols uint16, args ...string) *ttyRecorder {
	t.Helper()
	master, slave := openPTY(t, cols, 24)
	rc := &ttyRecorder{cmd: exec.Command(spacecastBinary(t), args...), done: make(chan struct{})}
	rc.cmd.Stderr = slave
	rc.cmd.Stdout = &rc.stdout
	if err := rc.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close() // the child holds it: reads end (EIO) when the child is gone
	t.Cleanup(func() { rc.cmd.Process.Kill() })
	go func() {
		defer close(rc.done)
		buf := make([]byte, 4096)
		var pending []byte
		for {
			n, err := master.Read(buf)
			now := time.Now()
			rc.mu.Lock()
			rc.raw = append(rc.raw, buf[:n]...)
			pending = append(pending, buf[:n]...)
			// Every complete segment: the text before the next erase-line sequence.
			for len(pending) > 1 {
				i := bytes.Index(pending[1:], []byte(eraseLine))
				if i < 0 {
					break
				}
				rc.segs = append(rc.segs, drawn{now, string(bytes.TrimPrefix(pending[:i+1], []byte(eraseLine)))})
				pending = pending[i+1:]
			}
			rc.mu.Unlock()
			if err != nil {
				rc.mu.Lock()
				if len(pending) > 0 {
					rc.segs = append(rc.segs, drawn{now, string(bytes.TrimPrefix(pending, []byte(eraseLine)))})
				}
				rc.mu.Unlock()
				return
			}
		}
	}()
	return rc
}

// stop sends SIGINT, waits for the exit and returns the exit status.
func (rc *ttyRecorder) stop(t *testing.T) int {
	t.Helper()
	rc.cmd.Process.Signal(syscall.SIGINT)
	errc := make(chan error, 1)
	go func() { errc <- rc.cmd.Wait() }()
	select {
	case err := <-errc:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		rc.cmd.Process.Kill()
		t.Fatalf("record did not stop within 20 s of SIGINT; the terminal:\n%q", rc.rawText())
	}
	<-rc.done
	return rc.cmd.ProcessState.ExitCode()
}

func (rc *ttyRecorder) rawText() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return string(rc.raw)
}

func (rc *ttyRecorder) segments() []drawn {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]drawn(nil), rc.segs...)
}

// statusLine is a status line read back: ⏺ REC [HH:MM:SS]  NAME METER …  [+N]  loss X%  SIZE.
type statusLine struct {
	drawn
	elapsed time.Duration
	meters  map[string]int // identity → lit blocks (of 5)
	order   []string
	more    int     // speakers left out for want of room ("+N")
	loss    float64 // -1: not shown (no packet yet)
	bytes   float64 // on disk, as shown
}

var (
	statusRE = regexp.MustCompile(`^⏺ REC \[(\d\d):(\d\d):(\d\d)\]((?:  \S+ [▮▯]{5})*)(?:  \+(\d+))?(?:  loss (\d+\.\d)%)?  (\d+(?:\.\d+)?) (B|KiB|MiB|GiB)$`)
	meterRE  = regexp.MustCompile(`  (\S+) ([▮▯]{5})`)
)

// parseStatus reads a status line, or says why it is not one.
func parseStatus(d drawn) (statusLine, error) {
	m := statusRE.FindStringSubmatch(d.text)
	if m == nil {
		return statusLine{}, fmt.Errorf("not a status line of the expected form")
	}
	s := statusLine{drawn: d, meters: map[string]int{}}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	se, _ := strconv.Atoi(m[3])
	s.elapsed = time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(se)*time.Second
	for _, sm := range meterRE.FindAllStringSubmatch(m[4], -1) {
		s.meters[sm[1]] = strings.Count(sm[2], "▮")
		s.order = append(s.order, sm[1])
	}
	if m[5] != "" {
		s.more, _ = strconv.Atoi(m[5])
	}
	s.loss = -1
	if m[6] != "" {
		s.loss, _ = strconv.ParseFloat(m[6], 64)
	}
	v, _ := strconv.ParseFloat(m[7], 64)
	s.bytes = v * map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[8]]
	return s, nil
}

// columns is how many terminal columns s takes: every rune must be printable ASCII or one of the
// status line's own symbols (each one column wide), so the count is exact.
func columns(s string) (int, error) {
	for _, r := range s {
		if (r < ' ' || r > '~') && r != '⏺' && r != '▮' && r != '▯' {
			return 0, fmt.Errorf("rune %q of unknown width", r)
		}
	}
	return utf8.RuneCountInString(s), nil
}

// TestRecordStatusLine: the binary, its stderr on an 80-column pseudo-terminal, records a real
// LiveKit room. Alice speaks throughout, Bob talks and pauses (nothing sent while he is quiet),
// Carol whispers, and a fourth speaker with a long identity joins later. Every status line fits in
// 80 columns and shows the elapsed time (rising), a level meter per speaker that follows what they
// do, the packet loss and the bytes on disk (rising, never more than the folder holds). With
// --json, or with stderr not a terminal, nothing of the sort is drawn.
func TestRecordStatusLine(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		const cols = 80
		bin := spacecastBinary(t) // built before anyone speaks
		r := newLiveRoom(t, "status")
		args := func(dir, identity string, extra ...string) []string {
			return append([]string{"record", r.srv.URL, "--room", r.room, "--api-key", r.srv.APIKey, "--api-secret", r.srv.APISecret,
				"--loopback", "--identity", identity, "-o", dir}, extra...)
		}
		r.speak("alice", rtptone.Tone{Freq: 440, Duration: 30 * time.Second})
		r.speak("carol", rtptone.Tone{Freq: 880, Amp: 0.0003, Duration: 30 * time.Second})

		dir := filepath.Join(t.TempDir(), "tty")
		tty := startTTYRecorder(t, cols, args(dir, "rec-tty")...)
		// Two other recorders at once: --json on the same kind of terminal, and stderr on a pipe.
		jsonDir := filepath.Join(t.TempDir(), "json")
		jsonRec := startTTYRecorder(t, cols, args(jsonDir, "rec-json", "--json")...)
		pipeDir := filepath.Join(t.TempDir(), "pipe")
		pipeRec := exec.Command(bin, args(pipeDir, "rec-pipe")...)
		var pipeErr, pipeOut bytes.Buffer
		pipeRec.Stderr, pipeRec.Stdout = &pipeErr, &pipeOut
		if err := pipeRec.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pipeRec.Process.Kill() })
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(tty.rawText(), "  alice "); {
			if time.Now().After(deadline) {
				t.Fatalf("no status line with alice within 20 s; the terminal:\n%q", tty.rawText())
			}
			time.Sleep(50 * time.Millisecond)
		}

		// Bob talks with pauses (nothing sent during them), in his tone's own time.
		bobMute := [][2]time.Duration{{2 * time.Second, 5 * time.Second}, {7 * time.Second, 10 * time.Second}}
		r.speak("bob", rtptone.Tone{Freq: 660, Duration: 30 * time.Second, Mute: bobMute})
		bobStart := time.Now()
		time.Sleep(3 * time.Second)
		r.speak("dave-from-the-accounts-department", rtptone.Tone{Freq: 550, Duration: 30 * time.Second})
		time.Sleep(time.Until(bobStart.Add(11 * time.Second)))

		if code := tty.stop(t); code != 0 {
			t.Fatalf("record on a terminal exited %d; the terminal:\n%q", code, tty.rawText())
		}
		if code := jsonRec.stop(t); code != 0 {
			t.Errorf("record --json exited %d; stderr:\n%q", code, jsonRec.rawText())
		}
		pipeRec.Process.Signal(syscall.SIGINT)
		if err := pipeRec.Wait(); err != nil {
			t.Errorf("record with stderr on a pipe: %v; stderr:\n%s", err, pipeErr.String())
		}

		// The terminal: status lines, and event lines that each end with a newline.
		var lines []statusLine
		bad := 0
		for _, d := range tty.segments() {
			if strings.HasSuffix(d.text, "\n") || d.text == "" {
				continue // an event line, or the final erase
			}
			n, err := columns(d.text)
			if err != nil || n > cols {
				t.Errorf("a status line %d columns wide on an %d-column terminal (%v): %q", n, cols, err, d.text)
			}
			s, err := parseStatus(d)
			if err != nil {
				if bad++; bad <= 3 {
					t.Errorf("%v: %q", err, d.text)
				}
				continue
			}
			lines = append(lines, s)
		}
		if len(lines) < 30 {
			t.Fatalf("%d status lines in 11 s or more (one is drawn every 250 ms); the terminal:\n%q", len(lines), tty.rawText())
		}
		t.Logf("%d status lines; first %q; last %q", len(lines), lines[0].text, lines[len(lines)-1].text)
		if strings.Contains(tty.stdout.String(), "⏺ REC") || strings.Contains(tty.stdout.String(), "\033[") {
			t.Errorf("the status line went to stdout:\n%q", tty.stdout.String())
		}

		// Elapsed time and bytes on disk rise; the bytes shown are never more than the folder holds at the end.
		final := float64(ui.DiskBytes(dir))
		for i, s := range lines[1:] {
			p := lines[i]
			if s.elapsed < p.elapsed || s.bytes < p.bytes {
				t.Errorf("went back: %q after %q", s.text, p.text)
			}
		}
		first, last := lines[0], lines[len(lines)-1]
		if last.elapsed < 11*time.Second || last.bytes <= first.bytes || last.bytes > final {
			t.Errorf("last status line %q: want 11 s or more elapsed, and more bytes than at first (%q) but not more than the %.0f on disk", last.text, first.text, final)
		}
		for _, s := range lines[4:] {
			if s.loss != 0 {
				t.Errorf("want loss 0.0%% on loopback once speakers are in: %q", s.text)
				break
			}
		}

		// Speakers and their meters.
		var all []statusLine // lines once everyone (four speakers) is in
		for _, s := range lines {
			if n := len(s.meters) + s.more; n > 4 {
				t.Errorf("%d speakers in %q, there are 4", n, s.text)
			} else if n == 4 {
				all = append(all, s)
			}
			for id, from := range map[string]time.Time{"alice": first.at, "carol": first.at, "bob": bobStart} {
				if _, ok := s.meters[id]; !ok && s.at.After(from.Add(2*time.Second)) {
					t.Errorf("%s is not on %q", id, s.text)
				}
			}
		}
		if len(all) < 4 {
			t.Errorf("the fourth speaker is in %d status lines, shown or counted (+N)", len(all))
		}
		// Alice (a 0.3 tone, -13.5 dBFS RMS) fills 4 of 5 blocks; Carol (-73.5 dBFS) none. Bob's
		// meter follows his pauses: judged only well inside his talking and quiet stretches (the
		// recorder hears him 0.2-0.5 s late, jitter buffer and meter window, and a meter shows
		// silence once no packet came for 0.75 s).
		var bobTalk, bobQuiet []int
		// Under load LiveKit may take a while to forward Bob's new track: his talking is judged
		// from half a second after the status line first shows him (his packets then pass the
		// 200 ms jitter buffer).
		bobSeen := time.Duration(-1)
		for _, s := range lines {
			if _, ok := s.meters["bob"]; ok {
				bobSeen = s.at.Sub(bobStart)
				break
			}
		}
		for _, s := range lines[4:] {
			if a, ok := s.meters["alice"]; ok && a != 4 {
				t.Errorf("alice's meter %d/5 on %q, want 4", a, s.text)
			}
			if c, ok := s.meters["carol"]; ok && c != 0 {
				t.Errorf("carol's meter %d/5 on %q, want 0", c, s.text)
			}
			b, ok := s.meters["bob"]
			if !ok {
				continue
			}
			at := s.at.Sub(bobStart)
			talking, quiet := at > max(time.Second, bobSeen+500*time.Millisecond), false
			for _, m := range bobMute {
				if at > m[0]-200*time.Millisecond && at < m[1]+time.Second {
					talking = false
				}
				if at > m[0]+1500*time.Millisecond && at < m[1] {
					quiet = true
				}
			}
			switch {
			case talking:
				bobTalk = append(bobTalk, b)
			case quiet:
				bobQuiet = append(bobQuiet, b)
			}
		}
		t.Logf("bob's meter while he talks %v, in his pauses %v", bobTalk, bobQuiet)
		if len(bobTalk) < 4 || len(bobQuiet) < 6 {
			t.Errorf("too few status lines to judge bob's meter: %d talking, %d quiet", len(bobTalk), len(bobQuiet))
		}
		for _, b := range bobTalk {
			if b != 4 {
				t.Errorf("bob's meter while he talks: %v, want 4 blocks", bobTalk)
				break
			}
		}
		for _, b := range bobQuiet {
			if b != 0 {
				t.Errorf("bob's meter in his pauses: %v, want 0 blocks", bobQuiet)
				break
			}
		}

		// --json on a terminal: JSON lines on stdout, nothing drawn on the terminal.
		if raw := jsonRec.rawText(); strings.Contains(raw, "⏺ REC") || strings.Contains(raw, "\033[") {
			t.Errorf("record --json drew on the terminal:\n%q", raw)
		}
		sc := bufio.NewScanner(strings.NewReader(jsonRec.stdout.String()))
		nJSON := 0
		for sc.Scan() {
			var v map[string]any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Errorf("record --json printed a line that is not JSON: %q", sc.Text())
			}
			nJSON++
		}
		if nJSON < 3 {
			t.Errorf("record --json printed %d JSON lines:\n%s", nJSON, jsonRec.stdout.String())
		}
		// Not a terminal: plain event lines, no status line, no control sequences.
		if e := pipeErr.String(); strings.Contains(e, "⏺ REC") || strings.ContainsAny(e, "\r\033") || !strings.Contains(e, "started speaking") {
			t.Errorf("record with stderr on a pipe wrote:\n%q", e)
		}
		if !strings.Contains(pipeOut.String(), "recorded ") {
			t.Errorf("record with stderr on a pipe printed no summary on stdout:\n%s", pipeOut.String())
		}
	})
}

// TestTermEscapes: names from the room keep no control characters on the terminal.
func TestTermEscapes(t *testing.T) {
	if got := term("eve\x1b]0;owned\x07"); got != `eve\x1b]0;owned\x07` {
		t.Errorf("term kept control characters: %q", got)
	}
}
