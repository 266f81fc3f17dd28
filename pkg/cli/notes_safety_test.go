package cli

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// TestPublishHostileNotesCLI publishes show notes, a transcript and chapters that try to put
// script on the site's origin, through the command as a user runs it, into a real site folder;
// index.html, feed.xml and the transcript are read with an HTML tokenizer (no browser needed)
// and nothing in them may run. Then script is put into the published files by hand, and
// 'feed check' must report each (exit 3).
func TestPublishHostileNotesCLI(t *testing.T) {
	dir := newTestSite(t)
	src := t.TempDir()
	mp3 := filepath.Join(src, "ep.mp3")
	toneMP3(t, mp3, 5, 440)
	notes := strings.Join([]string{
		"# Show notes",
		"[entity](&#106;avascript:alert(1)) [nosemi](&#106avascript:alert(1)) [hex](&#x6Aavascript:alert(1))",
		"[tab](java&#x09;script:alert(1)) [upper](JAVASCRIPT:alert(1)) [colon](javascript&colon;alert(1)) <javascript:alert(1)>",
		"[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) ![svg](data:image/svg+xml,%3Csvg%20onload%3Dalert(1)%3E)",
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"<div>\n<a href=\"javascript:alert(1)\">raw</a>\n</div>",
		"`<img src=x onerror=alert(1)>` and a [good link](https://example.com/ok).",
	}, "\n\n")
	notesPath := filepath.Join(src, "notes.md")
	transcript := filepath.Join(src, "ep.html")
	os.WriteFile(notesPath, []byte(notes), 0o644)
	os.WriteFile(transcript, []byte(`<html><head><script>alert(1)</script></head><body onload="alert(1)"><cite>Ada:</cite> <time>0:00</time> <p>Hello <a href="&#106;avascript:alert(1)">x</a></p></body></html>`), 0o644)

	// Chapters with a script link are refused before anything is written.
	chapters := filepath.Join(src, "chapters.json")
	os.WriteFile(chapters, []byte(`{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "One", "url": "java\tscript:alert(1)"}]}`), 0o644)
	if _, stderr, code := run(t, "publish", dir, mp3, "--title", "Episode 1", "--chapters", chapters); code != ExitBadInput || !strings.Contains(stderr, "javascript: URL") {
		t.Fatalf("chapters with a javascript: link: exit %d: %s", code, stderr)
	}

	mustRun(t, "publish", dir, mp3, "--title", "Episode 1", "--notes", notesPath, "--transcript", transcript)
	if out, stderr, code := run(t, "feed", "check", dir); code != 0 {
		t.Fatalf("feed check of what publish wrote: exit %d\n%s%s", code, out, stderr)
	}

	page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if bad := testutil.ActiveMarkup(string(page)); bad != "" {
		t.Errorf("index.html has %s", bad)
	}
	if !strings.Contains(string(page), `<a href="https://example.com/ok">good link</a>`) || !strings.Contains(string(page), "entity") {
		t.Errorf("the page lost the notes' text or their good link")
	}
	tr, _ := os.ReadFile(filepath.Join(dir, "episodes", "episode-1.html"))
	if bad := testutil.ActiveMarkup(string(tr)); bad != "" || !strings.Contains(string(tr), "<cite>Ada:</cite>") {
		t.Errorf("the transcript has %q or lost its speaker:\n%s", bad, tr)
	}
	feedXML, _ := os.ReadFile(filepath.Join(dir, "feed.xml"))
	var rss struct {
		Items []struct {
			Description string `xml:"description"`
			Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(feedXML, &rss); err != nil || len(rss.Items) != 1 {
		t.Fatalf("feed.xml: %v, %d items", err, len(rss.Items))
	}
	for what, html := range map[string]string{"content:encoded": rss.Items[0].Content, "description": rss.Items[0].Description} {
		if bad := testutil.ActiveMarkup(html); bad != "" {
			t.Errorf("the feed's %s has %s: %q", what, bad, html)
		}
	}

	// Script put in by hand, in each place feed check reads.
	for _, tt := range []struct {
		name, file, old, new, msg string
	}{
		{"a javascript: link hidden in the feed's notes", "feed.xml", `<a href="https://example.com/ok">`, `<a href="&#106;avascript:alert(1)">`, "content:encoded has active markup"},
		{"an image with an error handler in the description", "feed.xml", "<description>Show notes", "<description>&lt;img src=x onerror=alert(1)&gt;Show notes", "description has active markup: onerror"},
		{"a script in the page", "index.html", "</main>", "<script>alert(1)</script></main>", "<script> element"},
		{"a tab-hidden javascript: link in the page", "index.html", `href="https://example.com/ok"`, `href="java&#9;script:alert(1)"`, "javascript: URL"},
		{"a script in the transcript", "episodes/episode-1.html", "</body>", "<script>alert(1)</script></body>", "podcast:transcript file episodes/episode-1.html has active markup"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(orig), tt.old) {
				t.Fatalf("%s has no %q", tt.file, tt.old)
			}
			os.WriteFile(path, []byte(strings.Replace(string(orig), tt.old, tt.new, 1)), 0o644)
			defer os.WriteFile(path, orig, 0o644)
			out, stderr, code := run(t, "feed", "check", dir)
			if code != ExitBadInput || !strings.Contains(out, tt.msg) {
				t.Errorf("feed check: exit %d, want %d and a problem saying %q:\n%s%s", code, ExitBadInput, tt.msg, out, stderr)
			}
		})
	}
}
