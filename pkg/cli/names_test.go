package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/site"
	"github.com/spacecast/spacecast/pkg/studio"
)

// hostileName is a display name a room member could choose: it sets the window title (OSC 0),
// clears the screen (CSI 2J), writes the clipboard (OSC 52), reverses the text after it (U+202E),
// colours it with an 8-bit CSI (U+009B), and ends in a byte that is not UTF-8.
const hostileName = "Brook\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\u202eevil\u009b31m\x7f\xff"

// hostileSession copies the demo session and gives Brook the hostile name, the room a name with a
// clear-screen sequence. The manifest is written as a room would have it (the raw byte 0xff too).
func hostileSession(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "session")
	if err := os.CopyFS(dir, os.DirFS(demoSession)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, session.ManifestName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := json.Marshal(hostileName[:len(hostileName)-1])
	enc = append(enc[:len(enc)-1], 0xff, '"')
	b = bytes.Replace(b, []byte(`"name": "Brook"`), append([]byte(`"name": `), enc...), 1)
	b = bytes.Replace(b, []byte(`"name": "spacecast demo room"`), []byte(`"name": "demo\u001b[2J room"`), 1)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// terminalSafe fails unless out is UTF-8 and holds no C0 control but newline (and tab), no DEL,
// no C1 control, no line or paragraph separator and no bidi override or isolate: judged on the
// runes here, not with safetext's own rule.
func terminalSafe(t *testing.T, what string, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("%s is not UTF-8: %q", what, out)
		return
	}
	for i, r := range string(out) {
		bad := (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
		if bad {
			t.Errorf("%s has %U at byte %d: %q", what, r, i, out[max(0, i-20):min(len(out), i+20)])
			return
		}
	}
}

// TestHostileNamesReachNoTerminal runs inspect and mix, text and --json, on a session whose
// speaker and room names carry escape sequences: no control byte reaches stdout or stderr, the text
// shows the sequences as escapes, --json still gives the raw name back, and the manifest keeps it.
func TestHostileNamesReachNoTerminal(t *testing.T) {
	sess := hostileSession(t)
	mp3 := filepath.Join(t.TempDir(), "ep.mp3")
	for _, args := range [][]string{
		{"inspect", sess},
		{"inspect", sess, "--json"},
		{"mix", sess, "-o", mp3, "--min-chapter", "10s"},
		{"mix", sess, "-o", mp3, "--min-chapter", "10s", "--json"},
		{"inspect", mp3},
		{"inspect", mp3, "--json"},
	} {
		out, errOut, code := run(t, args...)
		name := strings.Join(args, " ")
		if code != 0 {
			t.Fatalf("spacecast %s: exit %d\n%s", name, code, errOut)
		}
		terminalSafe(t, name+": stdout", []byte(out))
		terminalSafe(t, name+": stderr", []byte(errOut))
		if strings.Contains(name, "--json") {
			if strings.Contains(name, "inspect "+sess) {
				var r studio.Report
				if err := json.Unmarshal([]byte(out), &r); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got := r.Session.Speakers[1].Name; got != strings.ToValidUTF8(hostileName, "\ufffd") {
					t.Errorf("%s: the name reads %q, want the room's %q", name, got, hostileName)
				}
			}
		} else if !strings.Contains(name, "inspect "+mp3) && !strings.Contains(out, `Brook\x1b]0;pwned\x07\x1b[2J`) {
			t.Errorf("%s does not show the name's escape sequences as escapes:\n%s", name, out)
		}
	}
	s, err := session.Open(sess)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Manifest.Participants[1].Name; got != strings.ToValidUTF8(hostileName, "\ufffd") {
		t.Errorf("the manifest's name is %q, want what the room said", got)
	}
}

// TestHostileEventLines prints record's events with names from the room, as text and as
// JSON lines: no control byte reaches the terminal.
func TestHostileEventLines(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		var o, e bytes.Buffer
		p := newRecordPrinter(&globalOptions{json: asJSON, stdout: &o, stderr: &e})
		p.Event(capture.Event{Type: capture.EventSpeakerJoined, Identity: "eve\u202e", Name: hostileName, Track: "t\x1b[2J"})
		p.Event(capture.Event{Type: capture.EventError, Message: "server said: \x1b]52;c;eA==\x07\u009b2J"})
		terminalSafe(t, "event stdout", o.Bytes())
		terminalSafe(t, "event stderr", e.Bytes())
		if o.Len()+e.Len() == 0 {
			t.Fatal("nothing printed")
		}
	}
}

// TestPublishHostileName publishes the session with the hostile name: it is published, with the
// name's printable part in the feed and the page and a warning on stderr; the terminal output is
// clean, and the feed checks clean.
func TestPublishHostileName(t *testing.T) {
	sess := hostileSession(t)
	dir := newTestSite(t)
	out, errOut, code := run(t, "publish", dir, sess, "--title", "Hostile names", "--json")
	if code != 0 {
		t.Fatalf("publish refused the session over a name from the room: exit %d\n%s", code, errOut)
	}
	terminalSafe(t, "publish stdout", []byte(out))
	terminalSafe(t, "publish stderr", []byte(errOut))
	var r publishReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	want := "Brookevil" // escape sequences dropped whole, and the 0xff byte (U+FFFD once JSON has read it)
	if got := safetext.Publish(strings.ToValidUTF8(hostileName, "\ufffd")); got != want {
		t.Fatalf("safetext.Publish(hostile) = %q, want %q", got, want)
	}
	found := false
	for _, p := range r.Persons {
		found = found || p.Name == want
	}
	if !found {
		t.Errorf("persons %+v: want %q", r.Persons, want)
	}
	if !strings.Contains(errOut, "warning: speaker name") {
		t.Errorf("no warning about the changed name on stderr:\n%s", errOut)
	}
	feedXML := feedClean(t, dir)
	page, err := os.ReadFile(filepath.Join(dir, site.PageName))
	if err != nil {
		t.Fatal(err)
	}
	for what, b := range map[string][]byte{"feed.xml": feedXML, "index.html": page} {
		terminalSafe(t, what, b)
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s does not name %q", what, want)
		}
	}
	// A title the user typed is still refused when it is not text.
	if _, errOut, code := run(t, "publish", dir, sess, "--title", "bad\x1b[2J", "--slug", "other"); code != ExitBadInput {
		t.Errorf("a typed title with an escape sequence: exit %d, want %d\n%s", code, ExitBadInput, errOut)
	}
}

// TestDemoHostNamedOnce publishes the demo's session as the demo does (its show has Ada as host;
// her display name in the room is "Ada (host)"): the page says "Ada (host)" once, never
// "(host) (host)", and the feed's podcast:person names her "Ada" with the role host.
func TestDemoHostNamedOnce(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	episode, clip := filepath.Join(tmp, "episode.mp3"), filepath.Join(tmp, "clip.mp3")
	mo := studio.DefaultMixOptions()
	mo.Inputs, mo.Output, mo.MinChapter = []string{demoSession}, episode, 20*time.Second
	mo.Tag.Title = "Keeping live rooms"
	if _, err := studio.Mix(ctx, mo, nil); err != nil {
		t.Fatal(err)
	}
	cr, err := studio.Clip(ctx, studio.ClipOptions{Input: episode, Output: clip, Start: 30 * time.Second, Duration: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "site")
	if _, err := publishDemo(ctx, dir, episode, clip, cr); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, site.PageName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(page, []byte("(host) (host)")) || !bytes.Contains(page, []byte("Ada (host)")) {
		t.Errorf("the page should name Ada (host) once:\n%s", grepLines(page, "host"))
	}
	feedXML, err := os.ReadFile(filepath.Join(dir, site.FeedName))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`<podcast:person[^>]*role="host"[^>]*>([^<]*)</podcast:person>`).FindAllSubmatch(feedXML, -1) {
		names = append(names, string(m[1]))
	}
	for _, n := range names {
		if n != "Ada" {
			t.Errorf("the feed's host reads %q, want Ada (the role attribute says host)", n)
		}
	}
	if len(names) == 0 {
		t.Errorf("the feed has no host:\n%s", grepLines(feedXML, "person"))
	}
}

func grepLines(b []byte, word string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestExportHasNoRoomCredentials exports a session the recorder made from a room URL with a key, a
// password, a presigned signature, userinfo and a fragment: no byte of the archive holds them.
func TestExportHasNoRoomCredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	rec, err := capture.Create(capture.Options{Dir: dir, Room: session.Room{Name: "weekly", Protocol: "whep",
		URL: "https://bob:PW0RD@w.example/whep?key=K3Y&X-Amz-Signature=S1GN&password=PASSW#FR4G"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(t.TempDir(), "s.tar")
	mustRun(t, "export", dir, "-o", tarPath)
	b, err := os.ReadFile(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"PW0RD", "bob", "K3Y", "S1GN", "PASSW", "FR4G"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the export holds %q", s)
		}
	}
	if !bytes.Contains(b, []byte(`https://w.example/whep?key=REDACTED\u0026X-Amz-Signature=REDACTED\u0026password=REDACTED`)) {
		t.Errorf("the export's manifest lacks the redacted URL:\n%s", grepLines(b, "url"))
	}
}

// TestServerErrorReachesNoTerminal: a WHEP server refuses the recorder with an error body full of
// escape sequences; record exits 4 and its stderr, as Execute prints it, holds no control byte and
// no credential of the room URL.
func TestServerErrorReachesNoTerminal(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte("denied \x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u202eevil\u009b31m\xff"))
	}))
	defer hs.Close()
	var o, e bytes.Buffer
	code := Execute(BuildInfo{Version: "test"}, []string{"record", hs.URL + "/whep?key=SECRETKEY", "-o", filepath.Join(t.TempDir(), "s"),
		"--consent", "assume", "--token", "t0ken"}, &o, &e)
	if code != ExitRoom {
		t.Fatalf("exit %d, want %d\n%s", code, ExitRoom, e.String())
	}
	terminalSafe(t, "stdout", o.Bytes())
	terminalSafe(t, "stderr", e.Bytes())
	t.Logf("%s", e.String())
	if !strings.Contains(e.String(), `denied \x1b]52;c;`) {
		t.Errorf("stderr does not show the server's words as escapes:\n%s", e.String())
	}
	if strings.Contains(o.String()+e.String(), "SECRETKEY") {
		t.Errorf("the room URL's key was printed:\n%s", e.String())
	}
}
