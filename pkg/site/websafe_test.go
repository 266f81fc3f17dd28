package site

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/feed"
)

// hostileNotes are show notes that try to put script into the page and the feed, each with a
// word that must still be seen.
var hostileNotes = []struct{ name, md, keep string }{
	{"a decimal character reference hides the j", "[alpha](&#106;avascript:alert(1))", "alpha"},
	{"a decimal reference without its semicolon", "[bravo](&#106avascript:alert(1))", "bravo"},
	{"a hex reference without its semicolon", "[charlie](&#x6Aavascript:alert(1))", "charlie"},
	{"a tab reference inside the scheme", "[delta](java&#x09;script:alert(1))", "delta"},
	{"a named tab inside the scheme", "[echo](java&Tab;script:alert(1))", "echo"},
	{"a named colon", "[foxtrot](javascript&colon;alert(1))", "foxtrot"},
	{"upper case", "[golf](JAVASCRIPT:alert(1))", "golf"},
	{"a reference definition", "[hotel][r]\n\n[r]: &#106;avascript:alert(1)", "hotel"},
	{"an autolink", "india <javascript:alert(1)>", "india"},
	{"vbscript", "[juliet](vbscript:msgbox(1))", "juliet"},
	{"a data: HTML link", "[kilo](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "kilo"},
	{"a data: SVG image", "lima ![x](data:image/svg+xml,%3Csvg%20onload%3Dalert(1)%3E)", "lima"},
	{"raw script", "mike\n\n<script>alert(1)</script>", "mike"},
	{"an image with an error handler", "november <img src=x onerror=alert(1)>", "november"},
	{"a link in a raw HTML block", "oscar\n\n<div>\n<a href=\"javascript:alert(1)\">x</a>\n</div>", "oscar"},
	{"an iframe in a raw HTML block", "papa\n\n<iframe src=\"https://evil.example/\"></iframe>", "papa"},
	{"an svg with onload", "quebec\n\n<svg onload=alert(1)>", "quebec"},
	{"a script in a code span reaches the description as text", "romeo `<img src=x onerror=alert(1)>`", "romeo"},
	{"a script in a code block", "sierra\n\n```\n<script>alert(1)</script>\n```", "sierra"},
}

// TestPublishHostileNotes publishes every hostile note into a real site folder and reads
// index.html and feed.xml (its content:encoded and description, as an app that shows HTML
// would) with an HTML tokenizer: nothing in them may run, and each note's words remain.
func TestPublishHostileNotes(t *testing.T) {
	ctx := context.Background()
	dir := newSite(t)
	mp3 := filepath.Join(t.TempDir(), "ep.mp3")
	writeTone(t, mp3, 2, nil)
	for i, tt := range hostileNotes {
		_, err := Publish(ctx, dir, EpisodeInput{Audio: mp3, Title: fmt.Sprintf("Episode %d", i+1), Notes: []byte(tt.md), NotesName: "notes.md",
			Date: time.Date(2025, 5, 1, 9, i, 0, 0, time.UTC)}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}

	page, err := os.ReadFile(filepath.Join(dir, PageName))
	if err != nil {
		t.Fatal(err)
	}
	if bad := testutil.ActiveMarkup(string(page)); bad != "" {
		t.Errorf("index.html has %s", bad)
	}
	if f := CheckPage(page); len(f) > 0 {
		t.Errorf("CheckPage on the page spacecast wrote: %v", f)
	}

	var rss struct {
		Items []struct {
			Title       string `xml:"title"`
			Description string `xml:"description"`
			Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
		} `xml:"channel>item"`
	}
	b := checkFeed(t, dir)
	if err := xml.Unmarshal(b, &rss); err != nil {
		t.Fatal(err)
	}
	byTitle := map[string]int{}
	for i, it := range rss.Items {
		byTitle[it.Title] = i
	}
	for i, tt := range hostileNotes {
		it := rss.Items[byTitle[fmt.Sprintf("Episode %d", i+1)]]
		for what, html := range map[string]string{"content:encoded": it.Content, "description": it.Description} {
			if bad := testutil.ActiveMarkup(html); bad != "" {
				t.Errorf("%s: the feed's %s has %s: %q", tt.name, what, bad, html)
			}
			if !strings.Contains(html, tt.keep) {
				t.Errorf("%s: the feed's %s lost %q: %q", tt.name, what, tt.keep, html)
			}
		}
		if !strings.Contains(string(page), tt.keep) {
			t.Errorf("%s: the page lost %q", tt.name, tt.keep)
		}
	}

	// The record itself holds only cleaned notes.
	eps, err := loadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range eps {
		if bad := testutil.ActiveMarkup(ep.NotesHTML); bad != "" {
			t.Errorf("episodes.json: %s's notes have %s", ep.Slug, bad)
		}
	}
}

// TestPageCleansAnOldRecord: a record written before notes were cleaned (or edited by hand)
// still makes a page and a feed in which nothing runs, and a chapter link that is not a web
// link is left out.
func TestPageCleansAnOldRecord(t *testing.T) {
	ep := feed.Episode{Slug: "old", GUID: "g", PubDate: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Title: "Old",
		NotesHTML: `<p><a href="javascript:alert(1)">click</a><img src=x onerror=alert(1)></p><script>alert(1)</script>`,
		Audio:     feed.Audio{File: "old.mp3", Bytes: 100, Type: "audio/mpeg", Duration: time.Minute},
		Chapters:  []feed.Chapter{{Start: 0, Title: "One", URL: "&#106;avascript:alert(1)"}, {Start: time.Second, Title: "Two", URL: "https://example.com/two"}},
	}
	var b strings.Builder
	if err := RenderPage(&b, testShow(), []feed.Episode{ep}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if bad := testutil.ActiveMarkup(page); bad != "" {
		t.Errorf("the page has %s", bad)
	}
	if !strings.Contains(page, "click") || !strings.Contains(page, `href="https://example.com/two"`) || strings.Contains(page, "ZgotmplZ") {
		t.Errorf("the page lost the link's text or the good chapter link, or shows html/template's marker:\n%s", page)
	}
}

// TestPublishHTMLTranscript: an HTML transcript is published cleaned, in a page of its own with
// no script, keeping the speakers, times and text; feed check finds it clean.
func TestPublishHTMLTranscript(t *testing.T) {
	ctx := context.Background()
	dir := newSite(t)
	src := t.TempDir()
	mp3 := filepath.Join(src, "ep.mp3")
	writeTone(t, mp3, 2, nil)
	tr := filepath.Join(src, "ep.html")
	os.WriteFile(tr, []byte(`<!DOCTYPE html><html lang="en"><head><title>Episode 1</title><script>fetch("/steal?c="+document.cookie)</script></head>`+
		`<body onload="alert(1)"><cite>Ada:</cite> <time>0:00</time> <p>Welcome to <a href="https://example.com/">the show</a>.</p>`+
		`<p><a href="&#106;avascript:alert(1)">click</a><img src=x onerror=alert(1)><iframe src="https://evil.example/"></iframe></p></body></html>`), 0o644)
	res, err := Publish(ctx, dir, EpisodeInput{Audio: mp3, Title: "Episode 1", Transcript: tr}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join(dir, EpisodesDir, res.Episode.Transcript.File))
	if err != nil {
		t.Fatal(err)
	}
	if bad := testutil.ActiveMarkup(string(out)); bad != "" {
		t.Errorf("the published transcript has %s:\n%s", bad, out)
	}
	for _, want := range []string{"<cite>Ada:</cite>", "<time>0:00</time>", `<a href="https://example.com/">the show</a>`, "click", `<meta charset="utf-8">`, "Content-Security-Policy", "<title>Episode 1</title>"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the published transcript lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "steal") {
		t.Errorf("the script's code is still in the transcript:\n%s", out)
	}
	checkFeed(t, dir)
}

// TestPageArtworkPathWithAColon: podcast.yaml's image is a path in the site folder, and a
// colon in it is a file name, not a scheme: the page links the file (html/template would
// otherwise turn the link into its #ZgotmplZ marker).
func TestPageArtworkPathWithAColon(t *testing.T) {
	s := testShow()
	s.Image = "javascript:alert(1).png"
	var b strings.Builder
	if err := RenderPage(&b, s, nil); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.Contains(page, `src="javascript%3Aalert%281%29.png"`) && !strings.Contains(page, `src="javascript%3Aalert(1).png"`) || strings.Contains(page, "ZgotmplZ") {
		t.Errorf("the artwork is not linked as a file:\n%s", page)
	}
	if bad := testutil.ActiveMarkup(page); bad != "" {
		t.Errorf("the page has %s", bad)
	}
}
