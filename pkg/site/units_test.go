package site

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/feed"
)

func TestSlugify(t *testing.T) {
	tests := []struct{ title, want, why string }{
		{"Episode 1: Keeping live rooms", "episode-1-keeping-live-rooms", "punctuation and spaces become one hyphen"},
		{"Épisode 2 — Ça commence", "episode-2-ca-commence", "accents are dropped after NFKD"},
		{"Straße & Smørrebrød", "strasse-and-smorrebrod", "letters NFKD keeps whole are spelled out"},
		{"  --Hello--  ", "hello", "no hyphens at the ends"},
		{"ﬁnal ①", "final-1", "compatibility characters decompose"},
		{"日本語", "", "nothing ASCII is left"},
		{strings.Repeat("word ", 30), "word-word-word-word-word-word-word-word-word-word-word-word", "cut at a hyphen within 60 bytes"},
		{strings.Repeat("a", 70), strings.Repeat("a", 60), "one long word is cut at 60"},
	}
	for _, tt := range tests {
		got := Slugify(tt.title)
		if got != tt.want {
			t.Errorf("%s: Slugify(%q) = %q, want %q", tt.why, tt.title, got, tt.want)
		}
		if got != "" && !ValidSlug(got) {
			t.Errorf("%s: %q is not a valid slug", tt.why, got)
		}
	}
	for s, ok := range map[string]bool{"a": true, "ep-1": true, "": false, "-a": false, "a-": false, "a--b": false, "A": false, "a_b": false, strings.Repeat("a", 61): false} {
		if ValidSlug(s) != ok {
			t.Errorf("ValidSlug(%q) = %v, want %v", s, !ok, ok)
		}
	}
}

// TestEpisodeGUID checks the GUID against Python's uuid module, an independent UUIDv5.
func TestEpisodeGUID(t *testing.T) {
	py := testutil.Require(t, "python3")
	ns := feed.ShowGUID("https://podcast.example.com/feed.xml")
	got, err := EpisodeGUID(ns, "episode-1")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", "import uuid,sys; print(uuid.uuid5(uuid.UUID(sys.argv[1]), sys.argv[2]))", ns, "episode-1").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(out)); got != want {
		t.Errorf("EpisodeGUID = %s, python uuid5 = %s", got, want)
	}
	if _, err := EpisodeGUID("not-a-uuid", "x"); err == nil {
		t.Error("a show GUID that is no UUID was accepted")
	}
}

func TestRenderNotes(t *testing.T) {
	tests := []struct{ md, html, text, why string }{
		{"Hello *world*", "<p>Hello <em>world</em></p>\n", "Hello world", "inline emphasis"},
		{"# Title\n\nPara one\nstill one.\n\nPara two.", "<h1>Title</h1>\n<p>Para one\nstill one.</p>\n<p>Para two.</p>\n", "Title\n\nPara one still one.\n\nPara two.", "blocks are separated by a blank line"},
		{"- one\n- two [link](https://x.example/a)\n\n1. first\n2. second", "", "- one\n\n- two link (https://x.example/a)\n\n1. first\n\n2. second", "lists and links"},
		{"Visit https://x.example/", `<p>Visit <a href="https://x.example/">https://x.example/</a></p>` + "\n", "Visit https://x.example/", "bare URLs are linked (GFM)"},
		{"<script>alert(1)</script>\n\nok <b>x</b>", "\n<p>ok x</p>\n", "ok x", "raw HTML is left out"},
		{"[x](javascript:alert(1))", "<p>x</p>\n", "x", "a link with a dangerous scheme keeps only its text"},
		{"[x](&#106;avascript:alert(1))", "<p>x</p>\n", "x", "a scheme hidden behind a character reference is judged once it is resolved"},
		{"[x](&#x6Aavascript:alert(1)) [y](java&#x09;script:alert(1)) [z](JAVASCRIPT:alert(1))", "<p>x y z</p>\n", "x y z", "hex references, tabs and capitals change nothing"},
		{"<javascript:alert(1)>", "<p>javascript:alert(1)</p>\n", "javascript:alert(1)", "an autolink with a dangerous scheme is text"},
		{"[y][x]\n\n[x]: &#106;avascript:alert(1)", "<p>y</p>\n", "y", "a reference link is judged like an inline one"},
		{"![a](data:image/svg+xml,x)", "<p><img alt=\"a\"></p>\n", "a", "an image loses a data: source"},
		{"- [x] done\n\n| a |\n|:-:|\n| 1 |\n\n```go\nx\n```", "<ul>\n<li><input checked=\"\" disabled=\"\" type=\"checkbox\"> done</li>\n</ul>\n<table>\n<thead>\n<tr>\n<th style=\"text-align: center\">a</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td style=\"text-align: center\">1</td>\n</tr>\n</tbody>\n</table>\n<pre><code class=\"language-go\">x\n</code></pre>\n", "- done\n\na\n\n1\n\nx", "task lists, aligned tables and code languages survive cleaning"},
		{"```\ncode <here>\n```", "<pre><code>code &lt;here&gt;\n</code></pre>\n", "code <here>", "code blocks keep their text"},
		{"| a | b |\n|---|---|\n| 1 | 2 |", "", "a | b\n\n1 | 2", "tables"},
	}
	for _, tt := range tests {
		n, err := RenderNotes([]byte(tt.md))
		if err != nil {
			t.Fatalf("%s: %v", tt.why, err)
		}
		if tt.html != "" && n.HTML != tt.html {
			t.Errorf("%s: HTML\n%q\nwant\n%q", tt.why, n.HTML, tt.html)
		}
		if n.Text != tt.text {
			t.Errorf("%s: text\n%q\nwant\n%q", tt.why, n.Text, tt.text)
		}
	}
	if _, err := RenderNotes([]byte{0xc3, 0x28}); !errors.Is(err, ErrBadInput) {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func TestSummary(t *testing.T) {
	long := strings.Repeat("word ", 1000)
	s := Summary(long, MaxDescription)
	if len(s) > MaxDescription || !strings.HasSuffix(s, "…") || strings.HasSuffix(s, " …") {
		t.Errorf("Summary: %d bytes, ends %q", len(s), s[len(s)-10:])
	}
	u := Summary(strings.Repeat("é", 3000), 100)
	if !utf8.ValidString(u) || len(u) > 100 {
		t.Errorf("Summary cut a character: %q", u)
	}
	if Summary("short", 100) != "short" {
		t.Error("Summary changed a short text")
	}
}

func FuzzRenderNotes(f *testing.F) {
	for _, s := range []string{"# T\n\n- a\n- b\n\n> q\n\n```\nc\n```", "[x](y) <b>z</b>", "| a |\n|---|\n| 1 |", "1. a\n   - b\n     2. c",
		"[x](&#106;avascript:alert(1))", "[x](java&#x09;script:x)", "<JaVaScRiPt:x>", "![i](data:text/html,x)", "[a]: &#x6A avascript:x\n\n[a]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, md []byte) {
		n, err := RenderNotes(md)
		if err != nil {
			if utf8.Valid(md) {
				t.Fatalf("valid UTF-8 refused: %v", err)
			}
			return
		}
		if !utf8.ValidString(n.Text) || !utf8.ValidString(n.HTML) {
			t.Fatal("output is not UTF-8")
		}
		// The property that matters: nothing in the HTML can run, as a browser tokenizes it.
		if bad := testutil.ActiveMarkup(n.HTML); bad != "" {
			t.Fatalf("%s in the notes' HTML: %s", bad, n.HTML)
		}
	})
}

func TestRecord(t *testing.T) {
	d := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	eps := []feed.Episode{
		{Slug: "b", GUID: "g2", PubDate: d, Title: "B", Type: "full", Audio: feed.Audio{File: "b.mp3"}},
		{Slug: "a", GUID: "g1", PubDate: d, Title: "A", Type: "full", Audio: feed.Audio{File: "a.mp3"}, Unpublished: true},
		{Slug: "c", GUID: "g3", PubDate: d.Add(-time.Hour), Title: "C", Type: "full"},
	}
	b1, err := encodeRecord(eps)
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseRecord("episodes.json", b1)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{back[0].Slug, back[1].Slug, back[2].Slug}; strings.Join(got, ",") != "c,a,b" {
		t.Errorf("record order %v, want oldest first then by slug", got)
	}
	b2, _ := encodeRecord(back)
	if string(b1) != string(b2) {
		t.Error("the record does not round-trip byte for byte")
	}
	bad := []struct{ doc, want, why string }{
		{`{"format":"spacecast-episodes","version":1,"episodes":[`, "line 1", "truncated JSON names where"},
		{"{\n\"format\": \"spacecast-episodes\",\n\"version\": \"1\"}", "line 3", "a wrong type names its line"},
		{`{"format":"spacecast-episodes","version":2,"episodes":[]}`, "version 2", "a newer version"},
		{`{"format":"spacecast-episodes","version":1,"episodes":[],"extra":1}`, "unknown field", "an unknown key"},
		{`{"format":"spacecast-episodes","version":1,"episodes":[{"slug":"a","guid":"x","pub_date":"2025-01-01T00:00:00Z"},{"slug":"a","guid":"y","pub_date":"2025-01-01T00:00:00Z"}]}`, "twice", "a slug twice"},
		{`{"format":"spacecast-episodes","version":1,"episodes":[{"slug":"a","guid":"x","pub_date":"2025-01-01T00:00:00Z","audio":{"file":"../feed.xml"}}]}`, "plain name", "a file outside episodes/"},
		{`{"format":"spacecast-episodes","version":1,"episodes":[{"slug":"a","pub_date":"2025-01-01T00:00:00Z"}]}`, "GUID", "no GUID"},
	}
	for _, tt := range bad {
		_, err := parseRecord("episodes.json", []byte(tt.doc))
		if !errors.Is(err, ErrBadRecord) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want ErrBadRecord mentioning %q", tt.why, err, tt.want)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	b, _ := encodeRecord([]feed.Episode{{Slug: "a", GUID: "g", PubDate: time.Unix(0, 0).UTC(), Type: "full", Audio: feed.Audio{File: "a.mp3"}}})
	f.Add(b)
	f.Add([]byte(`{"format":"spacecast-episodes","version":1,"episodes":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		eps, err := parseRecord("episodes.json", data)
		if err != nil {
			return
		}
		// What parses is written back and parses to the same record.
		out, err := encodeRecord(eps)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseRecord("episodes.json", out)
		if err != nil || len(again) != len(eps) {
			t.Fatalf("re-encoded record does not parse: %v", err)
		}
	})
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := lockSite(ctx, dir, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := ""
	start := time.Now()
	_, err = lockSite(ctx, dir, 300*time.Millisecond, func(p string) { waited = p })
	if !errors.Is(err, ErrLockTimeout) || waited != filepath.Join(dir, LockName) || time.Since(start) < 300*time.Millisecond {
		t.Errorf("a held lock: %v after %v (told %q); want ErrLockTimeout after 300ms", err, time.Since(start), waited)
	}
	go func() { time.Sleep(100 * time.Millisecond); l.unlock() }()
	l2, err := lockSite(ctx, dir, 5*time.Second, nil)
	if err != nil {
		t.Fatalf("the lock was released but not taken: %v", err)
	}
	l2.unlock()
	cctx, cancel := context.WithCancel(ctx)
	l3, _ := lockSite(ctx, dir, time.Second, nil)
	defer l3.unlock()
	cancel()
	if _, err := lockSite(cctx, dir, time.Minute, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled wait: %v", err)
	}
}

// TestCleanStale: a staging folder whose run is alive is kept; one whose lock nobody holds (its
// run died) is removed, and so is an old one that never got its lock file.
func TestCleanStale(t *testing.T) {
	dir := t.TempDir()
	live, err := newStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer live.remove()
	dead, err := newStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	dead.lock.unlock() // what the kernel does when the process dies
	young := filepath.Join(dir, stagePrefix+"young")
	old := filepath.Join(dir, stagePrefix+"old")
	os.Mkdir(young, 0o755)
	os.Mkdir(old, 0o755)
	past := time.Now().Add(-2 * unlockedStageAge)
	os.Chtimes(old, past, past)
	removed, err := cleanStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{filepath.Base(dead.dir): true, filepath.Base(old): true}
	if len(removed) != 2 || !want[removed[0]] || !want[removed[1]] {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, p := range []string{live.dir, young} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

// TestNewStageWhileAnotherCleans: runs that make their staging folders while another run clears
// stale ones (four publish processes at once do) never lose a live folder. The lock file used to
// be created unlocked and locked a moment later; a cleaner that opened it in between took the
// folder for a dead run's and removed it under its owner.
func TestNewStageWhileAnotherCleans(t *testing.T) {
	dir := t.TempDir()
	done := make(chan struct{})
	cleaned := make(chan error, 1)
	go func() {
		defer close(cleaned)
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := cleanStale(dir); err != nil {
				cleaned <- err
				return
			}
		}
	}()
	defer func() {
		close(done)
		if err := <-cleaned; err != nil {
			t.Errorf("cleanStale: %v", err)
		}
	}()
	for i := range 3000 {
		s, err := newStage(dir)
		if err != nil {
			t.Fatalf("stage %d: %v", i, err)
		}
		if _, err := os.Stat(s.path(EpisodesDir)); err != nil {
			t.Fatalf("stage %d was removed while its run was alive: %v", i, err)
		}
		if err := s.remove(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProbeMP3 measures an MP3 and checks the length against ffmpeg's gapless decode.
func TestProbeMP3(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.mp3")
	writeTone(t, p, 7.25, nil)
	a, err := ProbeMP3(p)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if a.Bytes != st.Size() || a.Type != "audio/mpeg" || len(a.SHA256) != 64 {
		t.Errorf("probe %+v (file %d bytes)", a, st.Size())
	}
	pcm := testutil.FFmpegDecode(t, p, 48000, 1)
	if got := time.Duration(len(pcm)) * time.Second / 48000; got != a.Duration {
		t.Errorf("duration %v, ffmpeg decodes %v", a.Duration, got)
	}
	var nm *NotMP3Error
	if _, err := ProbeMP3(dir); !errors.Is(err, ErrBadInput) {
		t.Errorf("a folder: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x.opus"), append([]byte("OggS"), make([]byte, 100)...), 0o644)
	if _, err := ProbeMP3(filepath.Join(dir, "x.opus")); !errors.As(err, &nm) || nm.Kind != "opus" {
		t.Errorf("an Ogg file: %v", err)
	}
}
