package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
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

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/site"
)

// These tests run the publishing commands as users do: in-process through the whole command tree,
// and as real processes where concurrency and kill -9 matter. The feed they write is judged by
// pkg/feed's checker, xmllint and ffmpeg.

// testArtwork writes a w×h PNG.
func testArtwork(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y += 2 {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x / 7), 90, uint8(y / 7), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// initArgs are the feed init flags of the test show.
func initArgs(dir, image string) []string {
	a := []string{"feed", "init", dir, "--title", "Town Hall", "--base-url", "https://podcast.example.com/town-hall",
		"--author", "Ada Lovelace", "--description", "Our monthly town hall, unedited.", "--category", "Government",
		"--category", "News > Politics", "--owner-email", "ada@example.com", "--owner-name", "Ada Lovelace"}
	if image != "" {
		a = append(a, "--image", image)
	}
	return a
}

// newTestSite makes a site with artwork.
func newTestSite(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	art := filepath.Join(t.TempDir(), "cover.png")
	testArtwork(t, art, 1400, 1400)
	mustRun(t, initArgs(dir, art)...)
	return dir
}

// toneMP3 encodes a tone of the given length with ffmpeg's LAME (a LAME tag included): an MP3
// no spacecast code made.
func toneMP3(t *testing.T, path string, seconds float64, freq int) {
	t.Helper()
	testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
		fmt.Sprintf("sine=f=%d:d=%s:sample_rate=44100", freq, strconv.FormatFloat(seconds, 'f', 3, 64)),
		"-c:a", "libmp3lame", "-b:a", "64k", path)
}

// siteTree hashes every file and folder under dir; staging folders are left out when skipStage.
func siteTree(t *testing.T, dir string, skipStage bool) map[string]string {
	return testutil.TreeHash(t, dir, func(rel string) bool {
		return skipStage && strings.HasPrefix(rel, ".spacecast-stage-")
	})
}

// feedClean fails the test unless pkg/feed's checker finds nothing and xmllint finds the feed
// well-formed; it returns the feed.
func feedClean(t *testing.T, dir string) []byte {
	t.Helper()
	path := filepath.Join(dir, "feed.xml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := feed.Check(b, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("feed check %d:%d %s: %s", p.Line, p.Col, p.Where, p.Msg)
	}
	testutil.Run(t, "xmllint", "--noout", path)
	return b
}

// xpath evaluates an XPath expression on a file with xmllint.
func xpath(t *testing.T, path, expr string) string {
	t.Helper()
	out, _ := testutil.Run(t, "xmllint", "--xpath", expr, path)
	return strings.TrimSpace(string(out))
}

func TestPublishHelp(t *testing.T) {
	for _, c := range [][]string{{"publish"}, {"unpublish"}, {"feed"}, {"feed", "init"}, {"feed", "check"}, {"feed", "build"}} {
		out := mustRun(t, append(c, "--help")...)
		if !strings.Contains(out, "Usage:") || !strings.Contains(out, "EXIT STATUS") || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help lacks usage, examples or exit status:\n%s", strings.Join(c, " "), out)
		}
	}
	out := mustRun(t, "publish", "--help")
	for _, want := range []string{"--update", "replaces the file's chapters", "--soundbite and --person add"} {
		if !strings.Contains(out, want) {
			t.Errorf("publish --help does not say %q", want)
		}
	}
}

// TestFeedInit: what init writes, and each way it refuses, with nothing written.
func TestFeedInit(t *testing.T) {
	dir := newTestSite(t)
	for _, f := range []string{"podcast.yaml", "episodes.json", "feed.xml", "index.html", "artwork.png", "assets/style.css", ".spacecast.lock"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("feed init did not write %s", f)
		}
	}
	feedClean(t, dir)
	if out := mustRun(t, "feed", "check", dir); !strings.Contains(out, "clean") {
		t.Errorf("feed check on a new site: %s", out)
	}
	guid := xpath(t, filepath.Join(dir, "feed.xml"), "string(//*[local-name()='guid' and namespace-uri()='https://podcastindex.org/namespace/1.0'])")
	if guid != feed.ShowGUID("https://podcast.example.com/town-hall/feed.xml") {
		t.Errorf("podcast:guid %q", guid)
	}

	tmp := t.TempDir()
	small := filepath.Join(tmp, "small.png")
	testArtwork(t, small, 1400, 1000)
	fresh := filepath.Join(tmp, "fresh")
	tests := []struct {
		args []string
		code int
		want []string
		why  string
	}{
		{[]string{"feed", "init", fresh}, ExitUsage, []string{"--title T", "--base-url URL", "--author NAME", "--description TEXT", "--category NAME", "--owner-email EMAIL"}, "every missing value is named with its flag"},
		{append(initArgs(fresh, ""), "--category", "Technolgy"), ExitUsage, []string{`did you mean "Technology"`}, "a misspelt category gets the closest"},
		{append(initArgs(fresh, ""), "--category", "news > tech news"), ExitUsage, []string{"News"}, "a category in the wrong case"},
		{initArgs(fresh, small), ExitBadInput, []string{"small.png", "1400x1000", "not square"}, "artwork of the wrong size"},
		{append(initArgs(fresh, ""), "--base-url", "http://insecure.example.com"), ExitUsage, []string{"--base-url", "https"}, "a base URL that is not https"},
		{append(initArgs(fresh, ""), "--language", "english"), ExitUsage, []string{"--language"}, "a language that is no BCP 47 tag"},
		{append(initArgs(fresh, ""), "--owner-email", "ada"), ExitUsage, []string{"--owner-email"}, "an email without @"},
		{initArgs(dir, ""), ExitBadInput, []string{"podcast.yaml", "edit"}, "a folder that is a site already"},
	}
	before := siteTree(t, dir, false)
	for _, tt := range tests {
		_, stderr, code := run(t, tt.args...)
		t.Logf("%s: %s", tt.why, strings.TrimSpace(stderr))
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d: %s", tt.why, code, tt.code, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr does not mention %q:\n%s", tt.why, w, stderr)
			}
		}
		if _, err := os.Stat(fresh); err == nil {
			t.Errorf("%s: %s was created", tt.why, fresh)
			os.RemoveAll(fresh)
		}
	}
	testutil.SameTree(t, "feed init on a site", before, siteTree(t, dir, false))
}

// TestPublishBadInput: each wrong input is refused with a clear message and the right exit
// status, and the site is byte-identical afterwards (every file hashed).
func TestPublishBadInput(t *testing.T) {
	dir := newTestSite(t)
	src := t.TempDir()
	mp3 := filepath.Join(src, "episode.mp3")
	toneMP3(t, mp3, 20, 440)
	other := filepath.Join(src, "other.mp3")
	toneMP3(t, other, 21, 550)
	wav := filepath.Join(src, "episode one.wav")
	testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=d=2", wav)
	txt := filepath.Join(src, "notes.txt")
	os.WriteFile(txt, bytes.Repeat([]byte("hello, not audio\n"), 100), 0o644)
	badChapters := filepath.Join(src, "chapters.json")
	os.WriteFile(badChapters, []byte(`{"version":"1.2.0","chapters":[{"title":"no start"}]}`), 0o644)
	notes := filepath.Join(src, "notes.md")
	os.WriteFile(notes, []byte("# hi"), 0o644)
	mustRun(t, "publish", dir, mp3, "--title", "Episode 1")

	noSite := filepath.Join(t.TempDir(), "nosite")
	os.Mkdir(noSite, 0o755)
	broken := filepath.Join(t.TempDir(), "broken")
	os.CopyFS(broken, os.DirFS(dir))
	yml, _ := os.ReadFile(filepath.Join(broken, "podcast.yaml"))
	lines := strings.Split(string(yml), "\n")
	langLine := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "language:") {
			lines[i], langLine = "language: english please", i+1
		}
	}
	os.WriteFile(filepath.Join(broken, "podcast.yaml"), []byte(strings.Join(lines, "\n")), 0o644)
	typo := filepath.Join(t.TempDir(), "typo")
	os.CopyFS(typo, os.DirFS(dir))
	os.WriteFile(filepath.Join(typo, "podcast.yaml"), append(yml, []byte("titel: oops\n")...), 0o644)
	yamlLines := strings.Count(string(yml), "\n") + 1

	tests := []struct {
		site string
		args []string
		code int
		want []string
		why  string
	}{
		{noSite, []string{mp3, "--title", "x"}, ExitBadInput, []string{"no podcast.yaml", "feed init"}, "a folder without podcast.yaml"},
		{broken, []string{mp3, "--title", "x"}, ExitBadInput, []string{fmt.Sprintf("podcast.yaml:%d", langLine), "language"}, "a malformed podcast.yaml names the line"},
		{typo, []string{mp3, "--title", "x"}, ExitBadInput, []string{fmt.Sprintf("podcast.yaml:%d", yamlLines), "titel"}, "an unknown key in podcast.yaml names its line"},
		{dir, []string{txt, "--title", "x"}, ExitBadInput, []string{"notes.txt", "not audio"}, "a file that is not audio"},
		{dir, []string{wav, "--title", "x"}, ExitBadInput, []string{"WAV", "spacecast mix '" + wav + "' -o '" + strings.TrimSuffix(wav, ".wav") + ".mp3'"}, "a WAV gets the exact mix command"},
		{dir, []string{other, "--title", "Episode 1"}, ExitBadInput, []string{"episode-1", "--update"}, "another episode under a slug in use"},
		{dir, []string{mp3, "--title", "x", "--soundbite", "10+15"}, ExitBadInput, []string{"past the end", "0:20.000"}, "a soundbite past the end"},
		{dir, []string{mp3, "--title", "x", "--person", "Ed:juggler"}, ExitUsage, []string{"juggler", "host"}, "an unknown person role"},
		{dir, []string{mp3, "--title", "x", "--chapters", badChapters}, ExitBadInput, []string{"chapters.json", "startTime"}, "a chapters file without a start"},
		{dir, []string{mp3, "--title", "x", "--date", "yesterday"}, ExitUsage, []string{"RFC 3339"}, "a date that is not RFC 3339"},
		{dir, []string{mp3, "--title", "x", "--description", "d", "--notes", notes}, ExitUsage, []string{"--description or --notes"}, "description and notes together"},
		{dir, []string{mp3}, ExitUsage, []string{"--title"}, "no title"},
		{dir, []string{mp3, "--title", "x", "--type", "teaser"}, ExitUsage, []string{"full, trailer or bonus"}, "an unknown episode type"},
		{dir, []string{mp3, "--title", "x", "--soundbite", "banana"}, ExitUsage, []string{"START+DURATION"}, "a soundbite that is not a range"},
		{dir, []string{mp3, "--title", "x", "--transcript", filepath.Join(src, "t.docx")}, ExitUsage, []string{".vtt"}, "a transcript of an unknown type"},
		{dir, []string{"--update", "episode-1", "--date", "2025-01-01T00:00:00Z"}, ExitUsage, []string{"--date", "fixed"}, "--date with --update"},
		{dir, []string{"--update", "episode-9", "--title", "y"}, ExitBadInput, []string{"episode-9", "episode-1"}, "--update of an unknown slug lists the slugs"},
		{dir, []string{mp3, "--title", "x", "--audio", other}, ExitUsage, []string{"--audio is for --update"}, "--audio without --update"},
	}
	for _, tt := range tests {
		before := siteTree(t, tt.site, false)
		_, stderr, code := run(t, append([]string{"publish", tt.site}, tt.args...)...)
		t.Logf("%s: %s", tt.why, strings.TrimSpace(stderr))
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d: %s", tt.why, code, tt.code, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr does not mention %q:\n%s", tt.why, w, stderr)
			}
		}
		testutil.SameTree(t, tt.why, before, siteTree(t, tt.site, false))
	}
	if _, stderr, code := run(t, "unpublish", dir, "episode-9"); code != ExitBadInput || !strings.Contains(stderr, "episode-1") {
		t.Errorf("unpublish of an unknown slug: exit %d: %s", code, stderr)
	}
}

// publishReport is what publish --json prints.
type publishReport struct {
	Status          string  `json:"status"`
	Slug            string  `json:"slug"`
	GUID            string  `json:"guid"`
	Title           string  `json:"title"`
	PubDate         string  `json:"pub_date"`
	Bytes           int64   `json:"bytes"`
	DurationSeconds float64 `json:"duration_seconds"`
	URLs            struct {
		Audio, Chapters, Transcript, Feed, Page string
	} `json:"urls"`
	Persons    []feed.Person            `json:"persons"`
	Chapters   []struct{ Title string } `json:"chapters"`
	Soundbites []struct {
		StartSeconds    float64 `json:"start_seconds"`
		DurationSeconds float64 `json:"duration_seconds"`
		Title           string  `json:"title"`
	} `json:"soundbites"`
	Written []string `json:"written"`
	Removed []string `json:"removed"`
}

func publishJSON(t *testing.T, args ...string) publishReport {
	t.Helper()
	out := mustRun(t, append(args, "--json")...)
	var r publishReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	return r
}

// TestPublishLifecycle publishes an episode with everything, publishes it again (a no-op:
// feed.xml byte-identical), updates it and unpublishes it, judging the feed each time.
func TestPublishLifecycle(t *testing.T) {
	dir := newTestSite(t)
	src := t.TempDir()
	mp3 := filepath.Join(src, "ep.mp3")
	toneMP3(t, mp3, 65.5, 440)
	notes := filepath.Join(src, "notes.md")
	os.WriteFile(notes, []byte("In this episode we **test** the [feed](https://example.com/feed).\n"), 0o644)
	vtt := filepath.Join(src, "ep.vtt")
	os.WriteFile(vtt, []byte("WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello.\n"), 0o644)
	chapters := filepath.Join(src, "ch.json")
	os.WriteFile(chapters, []byte(`{"version":"1.2.0","chapters":[{"startTime":0,"title":"Hello"},{"startTime":30.5,"title":"Middle"}]}`), 0o644)
	args := []string{"publish", dir, mp3, "--title", "Keeping live rooms", "--notes", notes, "--date", "2025-05-01T09:00:00Z",
		"--season", "1", "--episode", "3", "--soundbite", "0:10+20s:The best bit", "--chapters", chapters, "--transcript", vtt,
		"--person", "Ada Lovelace:host", "--person", "Brook"}
	r := publishJSON(t, args...)
	st, _ := os.Stat(mp3)
	pcm := testutil.FFmpegDecode(t, mp3, 0, 1)
	if r.Status != "published" || r.Slug != "keeping-live-rooms" || r.Bytes != st.Size() || r.PubDate != "2025-05-01T09:00:00Z" {
		t.Errorf("report %+v", r)
	}
	if d := float64(len(pcm)) / 44100; math.Abs(r.DurationSeconds-d) > 1e-6 {
		t.Errorf("duration %.6f s, ffmpeg decodes %.6f s", r.DurationSeconds, d)
	}
	if r.URLs.Audio != "https://podcast.example.com/town-hall/episodes/keeping-live-rooms.mp3" || r.URLs.Chapters == "" || r.URLs.Transcript == "" {
		t.Errorf("urls %+v", r.URLs)
	}
	if len(r.Persons) != 2 || r.Persons[0].Role != "host" || r.Persons[1].Role != "guest" || len(r.Chapters) != 2 || len(r.Soundbites) != 1 || r.Soundbites[0].Title != "The best bit" {
		t.Errorf("persons %+v chapters %+v soundbites %+v", r.Persons, r.Chapters, r.Soundbites)
	}
	fx := feedClean(t, dir)
	feedPath := filepath.Join(dir, "feed.xml")
	if got := xpath(t, feedPath, "string(//item/enclosure/@length)"); got != strconv.FormatInt(st.Size(), 10) {
		t.Errorf("xmllint reads enclosure length %s, the file has %d bytes", got, st.Size())
	}
	if got := xpath(t, feedPath, "string(//item/*[local-name()='soundbite']/@startTime)"); got != "10" {
		t.Errorf("soundbite startTime %q", got)
	}

	// Publishing the same again is a no-op.
	before := siteTree(t, dir, false)
	if r := publishJSON(t, args...); r.Status != "unchanged" || len(r.Written) != 0 {
		t.Errorf("republish: status %s, wrote %v", r.Status, r.Written)
	}
	if out := mustRun(t, args...); !strings.Contains(out, "unchanged") {
		t.Errorf("republish says %q", out)
	}
	testutil.SameTree(t, "republish", before, siteTree(t, dir, false))
	fx2, _ := os.ReadFile(feedPath)
	if !bytes.Equal(fx, fx2) {
		t.Error("feed.xml changed on an identical publish")
	}

	// Update: the title changes, the GUID and pubDate do not; lists given replace.
	u := publishJSON(t, "publish", "--update", dir, r.Slug, "--title", "Keeping live rooms (fixed)", "--soundbite", "30+15:Another")
	if u.Status != "updated" || u.GUID != r.GUID || u.PubDate != r.PubDate || u.Title != "Keeping live rooms (fixed)" || len(u.Soundbites) != 1 || u.Soundbites[0].Title != "Another" {
		t.Errorf("update: %+v", u)
	}
	feedClean(t, dir)

	// Unpublish: gone from the feed and the page, files removed, slug retired.
	un := publishJSON(t, "unpublish", dir, r.Slug)
	if un.Status != "unpublished" || len(un.Removed) != 3 {
		t.Errorf("unpublish: %+v", un)
	}
	fx3 := feedClean(t, dir)
	page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if bytes.Contains(fx3, []byte(r.GUID)) || bytes.Contains(page, []byte("keeping-live-rooms.mp3")) {
		t.Error("the unpublished episode is still in the feed or the page")
	}
	if _, stderr, code := run(t, args...); code != ExitBadInput || !strings.Contains(stderr, "--slug") {
		t.Errorf("publish under the retired slug: exit %d: %s", code, stderr)
	}
	if out := mustRun(t, append(args, "--slug", "keeping-live-rooms-2")...); !strings.Contains(out, "published") {
		t.Errorf("publish under a new slug: %s", out)
	}
	feedClean(t, dir)
}

// TestPublishSession publishes a session folder: it is mixed, its speakers become persons and
// its soundbite comes along.
func TestPublishSession(t *testing.T) {
	dir := newTestSite(t)
	r := publishJSON(t, "publish", dir, demoSession, "--title", "The demo session", "--person", "ada:host")
	roles := map[string]string{}
	for _, p := range r.Persons {
		roles[p.Name] = p.Role
	}
	if len(r.Persons) != 3 || roles["Brook"] != "guest" || roles["Cyd"] != "guest" {
		t.Errorf("persons %+v: want the three speakers, Brook and Cyd guests", r.Persons)
	}
	var host string
	for n, role := range roles {
		if strings.HasPrefix(n, "Ada") {
			host = role
		}
	}
	if host != "host" {
		t.Errorf("--person ada:host did not make the speaker with identity ada the host: %+v", r.Persons)
	}
	if len(r.Soundbites) == 0 {
		t.Error("the session's soundbite did not come along")
	}
	audio := filepath.Join(dir, "episodes", r.Slug+".mp3")
	pcm := testutil.FFmpegDecode(t, audio, 48000, 1)
	if d := float64(len(pcm)) / 48000; math.Abs(d-r.DurationSeconds) > 0.001 {
		t.Errorf("the mixed episode decodes %.3f s with ffmpeg; the feed says %.3f s", d, r.DurationSeconds)
	}
	feedClean(t, dir)
}

// TestPublishConcurrent runs four real publish processes on one site at once: every episode lands
// and the feed checks clean. A run that cannot get the lock in time fails clearly.
func TestPublishConcurrent(t *testing.T) {
	bin := spacecastBinary(t)
	dir := newTestSite(t)
	src := t.TempDir()
	const n = 4
	var wg sync.WaitGroup
	outs := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		p := filepath.Join(src, fmt.Sprintf("ep%d.mp3", i))
		toneMP3(t, p, 30+float64(i), 300+100*i)
	}
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			cmd := exec.Command(bin, "publish", dir, filepath.Join(src, fmt.Sprintf("ep%d.mp3", i)), "--title", fmt.Sprintf("Episode %d", i))
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("publish %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	eps, err := site.Episodes(dir)
	if err != nil || len(eps) != n {
		t.Fatalf("%d episodes in the record (%v), want %d", len(eps), err, n)
	}
	fx := feedClean(t, dir)
	if c := bytes.Count(fx, []byte("<item>")); c != n {
		t.Errorf("feed.xml has %d items, want %d", c, n)
	}
	for _, e := range eps {
		if _, err := os.Stat(filepath.Join(dir, "episodes", e.Audio.File)); err != nil {
			t.Errorf("episode %s: %v", e.Slug, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".spacecast-stage-*")); len(m) > 0 {
		t.Errorf("staging folders left behind: %v", m)
	}

	// Hold the site's lock as another run would: publish waits, says so, then fails clearly.
	f, err := os.OpenFile(filepath.Join(dir, site.LockName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	before := siteTree(t, dir, false)
	out, err := exec.Command(bin, "publish", dir, filepath.Join(src, "ep0.mp3"), "--title", "Late", "--lock-timeout", "500ms").CombinedOutput()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != ExitFailure || !strings.Contains(string(out), "waiting for") || !strings.Contains(string(out), "locked by another spacecast run") {
		t.Errorf("publish on a locked site: %v\n%s", err, out)
	}
	testutil.SameTree(t, "a run that timed out on the lock", before, siteTree(t, dir, false))
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// TestPublishKilled kills a publish with SIGKILL while it mixes a session folder: the site stays
// as it was, and the next publish works and removes the dead run's staging folder.
func TestPublishKilled(t *testing.T) {
	bin := spacecastBinary(t)
	dir := newTestSite(t)
	mp3 := filepath.Join(t.TempDir(), "ep.mp3")
	toneMP3(t, mp3, 20, 440)
	mustRun(t, "publish", dir, mp3, "--title", "Before")
	before := siteTree(t, dir, false)

	cmd := exec.Command(bin, "publish", dir, demoSession, "--title", "Killed while mixing")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the mix is writing its output inside the staging folder.
	deadline := time.Now().Add(60 * time.Second)
	var stage string
	for time.Now().Before(deadline) {
		m, _ := filepath.Glob(filepath.Join(dir, ".spacecast-stage-*", "episodes", "*"))
		if len(m) > 0 {
			if st, err := os.Stat(m[0]); err == nil && st.Size() > 0 {
				stage = filepath.Dir(filepath.Dir(m[0]))
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if stage == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the publish never started writing into a staging folder:\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the publish was not killed mid-way (it ended: %v):\n%s", err, stderr.String())
	}
	testutil.SameTree(t, "after kill -9", before, siteTree(t, dir, true))
	if _, err := os.Stat(stage); err != nil {
		t.Fatalf("the dead run's staging folder is gone already: %v", err)
	}

	out := mustRun(t, "publish", dir, demoSession, "--title", "After the crash")
	if !strings.Contains(out, "removed staging folders of crashed runs: "+filepath.Base(stage)) {
		t.Errorf("the next publish did not say it cleaned %s:\n%s", filepath.Base(stage), out)
	}
	if _, err := os.Stat(stage); err == nil {
		t.Error("the dead run's staging folder is still there")
	}
	eps, _ := site.Episodes(dir)
	if len(eps) != 2 {
		t.Errorf("%d episodes after the crash and one more publish, want 2", len(eps))
	}
	feedClean(t, dir)
}

// TestFeedCheck reports problems in a feed with their line and exits 3; a clean one exits 0.
func TestFeedCheck(t *testing.T) {
	dir := newTestSite(t)
	mp3 := filepath.Join(t.TempDir(), "ep.mp3")
	toneMP3(t, mp3, 20, 440)
	mustRun(t, "publish", dir, mp3, "--title", "Episode 1")
	mustRun(t, "feed", "check", dir)
	// The audio changes behind the feed's back: the enclosure length no longer matches.
	f, _ := os.OpenFile(filepath.Join(dir, "episodes", "episode-1.mp3"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write(make([]byte, 100))
	f.Close()
	out, _, code := run(t, "feed", "check", dir, "--json")
	var rep struct {
		Clean    bool           `json:"clean"`
		Problems []checkProblem `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != ExitBadInput || rep.Clean || len(rep.Problems) != 1 || rep.Problems[0].Line == 0 || !strings.Contains(rep.Problems[0].Msg, "length") {
		t.Errorf("feed check after the audio changed: exit %d, %+v", code, rep)
	}
	if _, stderr, code := run(t, "feed", "check", filepath.Join(dir, "podcast.yaml")); code != ExitBadInput || !regexp.MustCompile(`XML|xml`).MatchString(stderr) {
		t.Errorf("feed check of a YAML file: exit %d: %s", code, stderr)
	}
}

func TestParseSoundbite(t *testing.T) {
	tests := []struct {
		in    string
		start time.Duration
		dur   time.Duration
		title string
		why   string
	}{
		{"10+20", 10 * time.Second, 20 * time.Second, "", "seconds plus a duration"},
		{"1:05+30s:Best bit", 65 * time.Second, 30 * time.Second, "Best bit", "a clock start, a Go duration and a title"},
		{"1:05-1:35:Intro: part 2", 65 * time.Second, 30 * time.Second, "Intro: part 2", "START-END, and a title with a colon"},
		{"0:10+0:20", 10 * time.Second, 20 * time.Second, "", "the longest prefix that reads as a range wins"},
		{"12.5+15:", 12500 * time.Millisecond, 15 * time.Second, "", "an empty title"},
	}
	for _, tt := range tests {
		sb, err := parseSoundbite(tt.in)
		if err != nil || sb.Start != tt.start || sb.Duration != tt.dur || sb.Title != tt.title {
			t.Errorf("%s: parseSoundbite(%q) = %+v, %v", tt.why, tt.in, sb, err)
		}
	}
	for _, bad := range []string{"", "10", "banana", "20-10", "10+0", ":title"} {
		if _, err := parseSoundbite(bad); err == nil {
			t.Errorf("parseSoundbite(%q) accepted", bad)
		}
	}
}

func FuzzParseSoundbite(f *testing.F) {
	for _, s := range []string{"10+20", "1:05+30s:Best bit", "1:05-1:35:Intro", "0:10+0:20:x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sb, err := parseSoundbite(s)
		if err != nil {
			return
		}
		if sb.Start < 0 || sb.Duration <= 0 {
			t.Fatalf("%q gave %+v", s, sb)
		}
	})
}

func TestParsePerson(t *testing.T) {
	tests := []struct{ in, name, role, group, why string }{
		{"Ada Lovelace", "Ada Lovelace", "", "", "a name alone: the role is decided later (guest, or the speaker's)"},
		{"Ada Lovelace:Host", "Ada Lovelace", "host", "cast", "a role in any case"},
		{"Dee:producer", "Dee", "producer", "creative direction", "the group follows the role"},
		{"Re: Ed:editor", "Re: Ed", "editor", "writing", "a colon in the name: the role is after the last one"},
	}
	for _, tt := range tests {
		p, err := parsePerson(tt.in)
		if err != nil || p.Name != tt.name || p.Role != tt.role || p.Group != tt.group {
			t.Errorf("%s: parsePerson(%q) = %+v, %v", tt.why, tt.in, p, err)
		}
	}
	for _, bad := range []string{":host", "Ed:juggler"} {
		if _, err := parsePerson(bad); err == nil {
			t.Errorf("parsePerson(%q) accepted", bad)
		}
	}
}
