// Package browser runs a real browser speaker for end-to-end tests: headless Chromium, driven by
// playwright-core under node (testdata/browser), publishes a WAV file as its microphone into a
// LiveKit room with livekit-client, as a user's browser would (audio/red by default, DTX, the
// browser's own Opus encoder and congestion control).
//
// Script runs a test's own playwright program (a web page's check, say) with the same browser
// and packages.
//
// It needs node, Chromium (Debian package chromium) and the npm packages pinned in
// testdata/browser (npm ci --prefix testdata/browser). When one is missing the test is skipped,
// except when the CI environment variable is set: there it fails (testutil.Require's rule).
package browser

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
)

// Options say where the speaker goes and what it says.
type Options struct {
	// URL is the LiveKit signalling URL, e.g. ws://10.77.0.1:7880.
	URL string
	// Token is a LiveKit join token for the room that allows publishing.
	Token string
	// WAV is the microphone: a PCM WAV file that Chromium plays in a loop from the moment the
	// microphone opens (shortly before the track is published).
	WAV string
	// Command makes the node process; it lets the caller run the browser in a network namespace
	// (netns.NS.ClientCommand). Default exec.Command. The returned command's Stdin, Stdout and
	// Stderr must be unset; its Env, if set, is kept and extended.
	Command func(name string, args ...string) *exec.Cmd
	// Timeout bounds the join (signalling, publication, first RTP packet) and every later call.
	// Default 30 s.
	Timeout time.Duration
	// LaunchTimeout bounds starting Chromium and loading the page, before any join. It is a
	// backstop for a browser that hangs, not a measure of anything under test: a loaded 2-core
	// machine has taken over 3 s to start Chromium. Default 60 s.
	LaunchTimeout time.Duration
	// NoRED publishes plain Opus instead of audio/red (RFC 2198), the browser default.
	NoRED bool
	// NoDTX turns discontinuous transmission off (on by default for a mono microphone).
	NoDTX bool
	// Chromium is the browser binary. Default $SPACECAST_CHROMIUM, else Debian's
	// /usr/lib/chromium/chromium, else chromium on the PATH.
	Chromium string
	// Dir holds speaker.mjs, speaker.html and node_modules. Default testdata/browser at the
	// module root.
	Dir string
}

// Published describes the speaker's current publication, as the browser sees it once the first
// RTP packet has left.
type Published struct {
	Identity    string  `json:"identity"`
	TrackSID    string  `json:"trackSid"`
	MimeType    string  `json:"mimeType"` // negotiated codec: audio/red or audio/opus
	PacketsSent int     `json:"packetsSent"`
	AudioLevel  float64 `json:"audioLevel"` // WebRTC media-source level, 0..1 linear
}

// Probe is what the page hears from its microphone: the median of three windows of 8192 samples
// each, read one after another, so one rendering glitch on a busy machine does not decide it.
type Probe struct {
	RMSDBFS    float64 `json:"rmsDBFS"`    // RMS of a window; a full-scale sine reads -3.01
	PeakHz     float64 `json:"peakHz"`     // frequency of a window's strongest FFT bin, interpolated
	SampleRate float64 `json:"sampleRate"` // of the page's AudioContext
}

// Page is a running browser speaker. Its methods may be called from any goroutine; they run one
// at a time.
type Page struct {
	t       testing.TB
	url     string
	token   string // kept out of error messages
	timeout time.Duration
	began   time.Time // when node was started
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	exited  chan struct{} // closed when node has exited and its output is read
	exitErr error         // node's exit status, set before exited closes
	answers chan answer

	mu      sync.Mutex // one command at a time
	nextID  int
	writeMu sync.Mutex // guards stdin

	logMu sync.Mutex
	log   []string
	pub   Published

	stopOnce sync.Once
}

type answer struct {
	ID    int             `json:"id"`
	OK    json.RawMessage `json:"ok"`
	Error string          `json:"error"`
}

// maxLogLines and maxLogLine bound the console output kept for error messages.
const (
	maxLogLines = 400
	maxLogLine  = 300 // bytes; livekit-client logs whole join requests
)

// Speaker starts a browser speaker and returns once its microphone track is published and RTP
// is flowing. It fails the test, with the browser's console output, if that does not happen
// within Options.Timeout. The browser is stopped when the test ends.
func Speaker(t testing.TB, o Options) *Page {
	t.Helper()
	p, err := start(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// start does Speaker's work and returns its error, so tests can check the failures.
func start(t testing.TB, o Options) (*Page, error) {
	t.Helper()
	p, err := launch(t, o)
	if err != nil {
		return nil, err
	}
	if _, err := p.join(); err != nil {
		p.Stop()
		return nil, err
	}
	p.addLog(fmt.Sprintf("published after %v", time.Since(p.began).Round(time.Millisecond)))
	return p, nil
}

// launch starts node and Chromium and returns once the page is ready to join.
func launch(t testing.TB, o Options) (*Page, error) {
	t.Helper()
	node := testutil.Require(t, "node")
	var err error
	if o.Chromium, err = findChromium(t, o.Chromium); err != nil {
		return nil, err
	}
	if o.Dir, err = findDir(t, o.Dir); err != nil {
		return nil, err
	}
	if o.URL == "" || o.Token == "" {
		return nil, errors.New("browser: Options.URL and Options.Token are required (a LiveKit ws:// URL and a join token)")
	}
	if o.WAV, err = filepath.Abs(o.WAV); err != nil {
		return nil, fmt.Errorf("browser: WAV %q: %w", o.WAV, err)
	}
	b, err := os.ReadFile(o.WAV)
	if err != nil {
		return nil, fmt.Errorf("browser: read the microphone file: %w", err)
	}
	if _, err := parseWAV(b); err != nil {
		return nil, fmt.Errorf("browser: %s cannot be Chromium's fake microphone: %w", o.WAV, err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.LaunchTimeout <= 0 {
		o.LaunchTimeout = 60 * time.Second
	}
	if o.Command == nil {
		o.Command = exec.Command
	}

	cfg, err := json.Marshal(map[string]any{
		"chromium": o.Chromium, "wav": o.WAV, "url": o.URL, "token": o.Token,
		"red": !o.NoRED, "dtx": !o.NoDTX, "timeoutMs": o.Timeout.Milliseconds(),
		"launchTimeoutMs": o.LaunchTimeout.Milliseconds(),
	})
	if err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	cmd := o.Command(node, filepath.Join(o.Dir, "speaker.mjs"))
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "SPACECAST_SPEAKER="+string(cfg))
	cmd.Dir = o.Dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	p := &Page{
		t: t, url: o.URL, token: o.Token, timeout: o.Timeout, cmd: cmd, stdin: stdin,
		exited: make(chan struct{}), answers: make(chan answer, 16),
	}
	p.began = time.Now()
	// Tied: node dies with the test binary, however it dies, and takes Chromium with it
	// (Chromium exits when its DevTools pipe closes).
	if err := netns.StartTied(cmd); err != nil {
		return nil, fmt.Errorf("browser: start %s: %w", cmd.Path, err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("browser speaker output:\n%s", p.Log())
		}
	})
	ready := make(chan string, 1)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); p.readStderr(stderr) }()
	go func() { defer readers.Done(); p.readStdout(stdout, ready) }()
	go func() {
		// Wait closes the pipes: only once both readers are done with them.
		readers.Wait()
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()

	timer := time.NewTimer(o.LaunchTimeout)
	defer timer.Stop()
	select {
	case v := <-ready:
		p.addLog(fmt.Sprintf("ready: Chromium %s after %v", v, time.Since(p.began).Round(time.Millisecond)))
	case <-p.exited:
		p.Stop()
		return nil, fmt.Errorf("browser: the speaker exited before its page was ready (%v):\n%s", p.waitErr(), p.Log())
	case <-timer.C:
		p.Stop()
		return nil, fmt.Errorf("browser: Chromium and the page were not ready within %v:\n%s", o.LaunchTimeout, p.Log())
	}
	return p, nil
}

// findChromium resolves Options.Chromium.
func findChromium(t testing.TB, path string) (string, error) {
	t.Helper()
	if path == "" {
		path = os.Getenv("SPACECAST_CHROMIUM")
	}
	if path == "" {
		// Debian's /usr/bin/chromium is a shell wrapper that adds flags from /etc/chromium.d;
		// the browser itself is here.
		if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
			return "/usr/lib/chromium/chromium", nil
		}
		return testutil.Require(t, "chromium"), nil
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("browser: Chromium %s: %w (set SPACECAST_CHROMIUM or Options.Chromium to the browser binary)", path, err)
	}
	return path, nil
}

// findDir resolves Options.Dir and checks that npm ci has installed the pinned packages.
func findDir(t testing.TB, dir string) (string, error) {
	t.Helper()
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "testdata", "browser")
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if err != nil {
		return "", fmt.Errorf("browser: the speaker's package.json: %w", err)
	}
	for name, want := range pkg.Dependencies {
		var got struct {
			Version string `json:"version"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
		if err == nil {
			err = json.Unmarshal(b, &got)
		}
		switch {
		case err != nil:
			missing(t, "browser: npm package %s is not installed in %s (%v): run npm ci --prefix %s", name, dir, err, dir)
		case got.Version != want:
			missing(t, "browser: npm package %s is %s in %s, package.json pins %s: run npm ci --prefix %s", name, got.Version, dir, want, dir)
		}
	}
	return dir, nil
}

// moduleRoot finds the directory holding go.mod, upwards from the working directory.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("browser: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("browser: no go.mod above %s: set Options.Dir to testdata/browser", wd)
		}
	}
}

// missing skips the test, or fails it when CI is set (testutil.Require's rule).
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (required when CI is set: see .ci/run)", msg)
	}
	t.Skip(msg)
}

// readStdout dispatches node's JSON lines: answers, log lines, the ready signal.
func (p *Page) readStdout(r io.Reader, ready chan<- string) {
	s := bufio.NewScanner(r)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		var m struct {
			answer
			Ready   bool   `json:"ready"`
			Browser string `json:"browser"`
			Log     string `json:"log"`
			Fatal   string `json:"fatal"`
		}
		if err := json.Unmarshal(s.Bytes(), &m); err != nil {
			p.addLog("node: " + s.Text())
			continue
		}
		switch {
		case m.Ready:
			select {
			case ready <- m.Browser:
			default:
			}
		case m.Fatal != "":
			p.addLog("fatal: " + m.Fatal)
		case m.Log != "":
			p.addLog(m.Log)
		case m.ID > 0:
			select {
			case p.answers <- m.answer:
			default: // answers to calls that timed out, nobody waiting
				p.addLog(fmt.Sprintf("dropped an answer to call %d", m.ID))
			}
		}
	}
}

func (p *Page) readStderr(r io.Reader) {
	s := bufio.NewScanner(r)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		p.addLog("node stderr: " + s.Text())
	}
}

func (p *Page) addLog(line string) {
	if len(line) > maxLogLine {
		line = line[:maxLogLine] + "…"
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	p.log = append(p.log, line)
	if len(p.log) > maxLogLines {
		p.log = append(p.log[:0], p.log[len(p.log)-maxLogLines:]...)
	}
}

// Log returns the page's console output and the browser's events so far (the last 400 lines).
func (p *Page) Log() string {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return strings.Join(p.log, "\n")
}

// call runs one command in the page and decodes its answer into out.
func (p *Page) call(cmd string, arg any, out any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	id := p.nextID
	line, err := json.Marshal(map[string]any{"id": id, "cmd": cmd, "arg": arg})
	if err != nil {
		return fmt.Errorf("browser: %s: %w", cmd, err)
	}
	if cmd == "join" {
		cmd = "join " + p.url
	}
	select {
	case <-p.exited:
		return fmt.Errorf("browser: %s: the speaker has exited (%v):\n%s", cmd, p.waitErr(), p.Log())
	default:
	}
	p.writeMu.Lock()
	_, err = p.stdin.Write(append(line, '\n'))
	p.writeMu.Unlock()
	if err != nil {
		return fmt.Errorf("browser: %s: send to node: %w:\n%s", cmd, err, p.Log())
	}
	// The page bounds each of its own waits by the timeout; this one covers node and Chromium.
	timer := time.NewTimer(p.timeout + 5*time.Second)
	defer timer.Stop()
	for {
		select {
		case a := <-p.answers:
			if a.ID != id {
				continue // the late answer to a call that timed out
			}
			if a.Error != "" {
				msg := strings.ReplaceAll(a.Error, p.token, "<token>")
				return fmt.Errorf("browser: %s: %s\npage console:\n%s", cmd, msg, p.Log())
			}
			if out != nil {
				if err := json.Unmarshal(a.OK, out); err != nil {
					return fmt.Errorf("browser: %s: the page answered %s: %w", cmd, a.OK, err)
				}
			}
			return nil
		case <-p.exited:
			return fmt.Errorf("browser: %s: the speaker exited (%v):\n%s", cmd, p.waitErr(), p.Log())
		case <-timer.C:
			return fmt.Errorf("browser: %s: no answer from the page within %v:\n%s", cmd, p.timeout+5*time.Second, p.Log())
		}
	}
}

func (p *Page) join() (Published, error) {
	var pub Published
	if err := p.call("join", nil, &pub); err != nil {
		return Published{}, err
	}
	p.setPub(pub)
	return pub, nil
}

func (p *Page) setPub(pub Published) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	p.pub = pub
}

// Published returns the current publication (the zero value after Leave).
func (p *Page) Published() Published {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return p.pub
}

// Leave disconnects from the room; the browser and its microphone keep running, so Rejoin is
// quick.
func (p *Page) Leave() error {
	if err := p.call("leave", nil, nil); err != nil {
		return err
	}
	p.setPub(Published{})
	return nil
}

// Rejoin connects again with the same token (same identity) after Leave and publishes a new
// microphone track; it returns once RTP flows.
func (p *Page) Rejoin() (Published, error) { return p.join() }

// Republish unpublishes the microphone track and publishes a fresh one (a new track SID and a
// new SSRC) without leaving the room; it returns once RTP flows.
func (p *Page) Republish() (Published, error) {
	var pub Published
	if err := p.call("republish", nil, &pub); err != nil {
		return Published{}, err
	}
	p.setPub(pub)
	return pub, nil
}

// Mute mutes or unmutes the published track (LiveKit mute: the browser stops sending audio and
// the server marks the track muted).
func (p *Page) Mute(muted bool) error { return p.call("mute", muted, nil) }

// Stats reads the sender's counters now.
func (p *Page) Stats() (Published, error) {
	var pub Published
	err := p.call("stats", nil, &pub)
	return pub, err
}

// Probe listens to the microphone inside the page for at least d and a window (0.24 s), reads
// three windows 0.24 s apart, and reports their median level and dominant frequency.
func (p *Page) Probe(d time.Duration) (Probe, error) {
	var pr Probe
	err := p.call("probe", d.Milliseconds(), &pr)
	return pr, err
}

// Stop leaves the room and closes the browser (the server drops the participant at once), then
// ends node: gracefully within 5 s, else by killing it (Chromium exits with it). It is
// idempotent, returns once node has exited, and also runs when the test ends.
func (p *Page) Stop() { p.end("quit") }

// Crash closes the browser without leaving the room, as a crashed tab or a lost network would:
// the server keeps the participant until its reconnect window runs out. Stop after Crash does
// nothing.
func (p *Page) Crash() { p.end("crash") }

func (p *Page) end(cmd string) {
	p.stopOnce.Do(func() {
		// Written without waiting for a command in flight: node closes the page under it.
		p.writeMu.Lock()
		p.stdin.Write([]byte(`{"id":-1,"cmd":"` + cmd + `"}` + "\n"))
		p.stdin.Close()
		p.writeMu.Unlock()
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			p.addLog("node did not exit within 5 s of " + cmd + ": killed")
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

// waitErr is node's exit status once it has exited.
func (p *Page) waitErr() error {
	select {
	case <-p.exited:
		if p.exitErr == nil {
			return errors.New("exit status 0")
		}
		return p.exitErr
	case <-time.After(2 * time.Second):
		return errors.New("node still running")
	}
}
