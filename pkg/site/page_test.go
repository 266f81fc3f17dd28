package site

import (
	"bytes"
	"errors"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/spacecast/spacecast/internal/testutil/golden"
	"github.com/spacecast/spacecast/pkg/feed"
)

func pageShow() *feed.Show {
	return &feed.Show{
		Title:       "Night & Day <Radio>",
		Description: "A show about \"everything\".\n\nSecond paragraph.",
		BaseURL:     "https://podcast.example.org/night",
		Author:      "Ada Lovelace",
		Language:    "en-GB",
		Image:       "artwork.png",
		Copyright:   "© 2025 Ada Lovelace",
		Type:        "episodic",
		Persons:     []feed.Person{{Name: "Ada Lovelace", Role: "host"}},
	}
}

func pageEpisodes() []feed.Episode {
	yes := true
	day := func(d int) time.Time {
		// Not UTC on purpose: the page writes dates in UTC.
		return time.Date(2025, 3, d, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600))
	}
	return []feed.Episode{{
		Slug: "first-light", GUID: "g1", PubDate: day(1), Title: "First light",
		Description: "Plain description.\n\nIn two paragraphs & one ampersand.",
		Type:        "trailer",
		Audio:       feed.Audio{File: "first-light.mp3", Bytes: 812_345, Type: "audio/mpeg", Duration: 47*time.Second + 250*time.Millisecond},
	}, {
		Slug: "tags-<b>", GUID: "g2", PubDate: day(8), Title: `Tags <b>bold</b> & "quotes"`,
		Description: "Notes as text.",
		NotesHTML:   "<p>Show notes with <a href=\"https://example.org/\">a link</a>.</p>\n<ul>\n<li>one</li>\n</ul>",
		Season:      1, Number: 2, Type: "full", Explicit: &yes,
		Audio: feed.Audio{File: "tags-b.mp3", Bytes: 12_345_678, Type: "audio/mpeg", Duration: time.Hour + 2*time.Minute + 3*time.Second + 456*time.Millisecond},
		Chapters: []feed.Chapter{
			{Start: 0, Title: "Intro"},
			{Start: 90*time.Second + 500*time.Millisecond, Title: "The <main> part", URL: "https://example.org/chapter?a=1&b=2"},
			{Start: time.Hour + 1500*time.Microsecond, Title: "Late"},
		},
		Soundbites: []feed.Soundbite{
			{Start: 12*time.Second + 345600*time.Microsecond, Duration: 15 * time.Second, Title: "A <quote> & more"},
			{Start: 65 * time.Second, Duration: 7500 * time.Millisecond},
		},
		Transcript: &feed.Transcript{File: "tags-b.vtt", Type: "text/vtt"},
		Persons:    []feed.Person{{Name: "Brook", Role: "guest"}},
	}, {
		Slug: "gone", GUID: "g3", PubDate: day(15), Title: "Gone episode", Description: "Removed.",
		Audio:       feed.Audio{File: "gone.mp3", Bytes: 1000, Type: "audio/mpeg", Duration: time.Minute},
		Unpublished: true,
	}, {
		Slug: "no-chapters", GUID: "g4", PubDate: day(4), Title: "No chapters here",
		Description: "Just audio.",
		Audio:       feed.Audio{File: "no-chapters.mp3", Bytes: 999, Type: "audio/mpeg", Duration: 9 * time.Minute},
		Soundbites:  []feed.Soundbite{{Start: 3 * time.Second, Duration: 2 * time.Second, Title: "Bite"}},
	}}
}

func pageRender(t *testing.T, s *feed.Show, eps []feed.Episode) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := RenderPage(&b, s, eps); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// parsePage parses the page with an HTML5 parser, as a browser would.
func pageParse(t testing.TB, b []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the page does not parse: %v", err)
	}
	return doc
}

func pageAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func pageText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// all returns the elements under n for which match is true, in document order.
func pageAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func pageTag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func pageClass(n *html.Node, class string) bool {
	v, _ := pageAttr(n, "class")
	return slices.Contains(strings.Fields(v), class)
}

// pageArticle is what the tests read back from one episode's <article>.
type pageArticle struct {
	id, title, audioSrc string
	chapters, bites     [][2]string // href, text
	transcript          string
	text                string
}

func pageArticles(doc *html.Node) []pageArticle {
	var out []pageArticle
	for _, a := range pageAll(doc, pageTag("article")) {
		var pa pageArticle
		pa.id, _ = pageAttr(a, "id")
		if h := pageAll(a, pageTag("h2")); len(h) == 1 {
			pa.title = pageText(h[0])
		}
		if au := pageAll(a, pageTag("audio")); len(au) == 1 {
			pa.audioSrc, _ = pageAttr(au[0], "src")
		}
		for _, sec := range pageAll(a, pageTag("section")) {
			for _, l := range pageAll(sec, func(n *html.Node) bool { return n.Data == "a" && pageClass(n, "seek") }) {
				href, _ := pageAttr(l, "href")
				pair := [2]string{href, pageText(l)}
				if pageClass(sec, "chapters") {
					pa.chapters = append(pa.chapters, pair)
				} else {
					pa.bites = append(pa.bites, pair)
				}
			}
		}
		for _, l := range pageAll(a, pageTag("a")) {
			if strings.HasPrefix(pageText(l), "Transcript") {
				pa.transcript, _ = pageAttr(l, "href")
			}
		}
		pa.text = pageText(a)
		out = append(out, pa)
	}
	return out
}

func TestRenderPageEpisodes(t *testing.T) {
	eps := pageEpisodes()
	tests := []struct {
		name  string
		eps   []feed.Episode
		check func(t *testing.T, page []byte, arts []pageArticle)
	}{{
		name: "Published episodes are listed newest first, and the unpublished one is left out.",
		eps:  eps,
		check: func(t *testing.T, page []byte, arts []pageArticle) {
			var got []string
			for _, a := range arts {
				got = append(got, a.title)
			}
			want := []string{eps[1].Title, eps[3].Title, eps[0].Title}
			if !slices.Equal(got, want) {
				t.Errorf("episodes on the page: %q, want %q", got, want)
			}
			if bytes.Contains(page, []byte("Gone episode")) || bytes.Contains(page, []byte("gone.mp3")) {
				t.Error("the unpublished episode is on the page")
			}
		},
	}, {
		name: `A title with <>&" is escaped in the source and reads back exactly, in the heading and the links.`,
		eps:  eps[1:2],
		check: func(t *testing.T, page []byte, arts []pageArticle) {
			if len(arts) != 1 || arts[0].title != `Tags <b>bold</b> & "quotes"` {
				t.Fatalf("articles %+v", arts)
			}
			for _, raw := range []string{"<b>bold</b>", "<main> part", "<quote>"} {
				if bytes.Contains(page, []byte(raw)) {
					t.Errorf("the page has %q unescaped", raw)
				}
			}
			if want := feed.EpisodeAnchor("tags-<b>"); arts[0].id != want || want != "ep-tags--b-" {
				t.Errorf("article id %q, want %q: the anchor the feed's items link to", arts[0].id, want)
			}
			if want := "A <quote> & more"; !strings.Contains(arts[0].bites[0][1], want) {
				t.Errorf("soundbite link text %q does not read back %q", arts[0].bites[0][1], want)
			}
		},
	}, {
		name: "Chapter and soundbite links are media fragments on the episode's audio, in seconds with up to 3 decimals.",
		eps:  eps[1:2],
		check: func(t *testing.T, page []byte, arts []pageArticle) {
			a := arts[0]
			if a.audioSrc != "episodes/tags-b.mp3" {
				t.Errorf("audio src %q", a.audioSrc)
			}
			wantCh := [][2]string{
				{"episodes/tags-b.mp3#t=0", "0:00 Intro"},
				{"episodes/tags-b.mp3#t=90.5", "1:30 The <main> part"},
				{"episodes/tags-b.mp3#t=3600.002", "1:00:00 Late"},
			}
			if !slices.Equal(a.chapters, wantCh) {
				t.Errorf("chapters %q\nwant %q", a.chapters, wantCh)
			}
			wantSB := [][2]string{
				{"episodes/tags-b.mp3#t=12.346,27.346", "0:12 A <quote> & more (15 s)"},
				{"episodes/tags-b.mp3#t=65,72.5", "1:05 Soundbite (7.5 s)"},
			}
			if !slices.Equal(a.bites, wantSB) {
				t.Errorf("soundbites %q\nwant %q", a.bites, wantSB)
			}
			if a.transcript != "episodes/tags-b.vtt" {
				t.Errorf("transcript link %q", a.transcript)
			}
		},
	}, {
		name: "An episode with no chapters has no chapters section, and still its soundbites.",
		eps:  eps[3:4],
		check: func(t *testing.T, page []byte, arts []pageArticle) {
			if len(arts[0].chapters) != 0 || strings.Contains(arts[0].text, "Chapters") {
				t.Errorf("chapters shown: %q", arts[0].chapters)
			}
			if len(arts[0].bites) != 1 || arts[0].bites[0][0] != "episodes/no-chapters.mp3#t=3,5" {
				t.Errorf("soundbites %q", arts[0].bites)
			}
			if arts[0].transcript != "" {
				t.Errorf("a transcript link %q for an episode without one", arts[0].transcript)
			}
		},
	}, {
		name: "Show notes are included as HTML; without notes the description's paragraphs are.",
		eps:  []feed.Episode{eps[0], eps[1]},
		check: func(t *testing.T, page []byte, arts []pageArticle) {
			doc := pageParse(t, page)
			notes := pageAll(doc, func(n *html.Node) bool { return pageClass(n, "notes") })
			if len(notes) != 2 {
				t.Fatalf("%d notes blocks", len(notes))
			}
			if l := pageAll(notes[0], pageTag("a")); len(l) != 1 || pageText(l[0]) != "a link" {
				t.Errorf("the notes' HTML is not on the page as HTML: %q", pageText(notes[0]))
			}
			if p := pageAll(notes[1], pageTag("p")); len(p) != 2 || pageText(p[1]) != "In two paragraphs & one ampersand." {
				t.Errorf("description paragraphs: %d, %q", len(p), pageText(notes[1]))
			}
		},
	}, {
		name: "With no episodes the page says so and has no audio.",
		eps:  nil,
		check: func(t *testing.T, page []byte, arts []pageArticle) {
			if len(arts) != 0 || !bytes.Contains(page, []byte("No episodes yet.")) {
				t.Errorf("articles %d; page:\n%s", len(arts), page)
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := pageRender(t, pageShow(), tc.eps)
			tc.check(t, page, pageArticles(pageParse(t, page)))
		})
	}
}

func TestRenderPageShow(t *testing.T) {
	page := pageRender(t, pageShow(), pageEpisodes())
	doc := pageParse(t, page)
	if h := pageAll(doc, pageTag("html")); len(h) != 1 || func() string { v, _ := pageAttr(h[0], "lang"); return v }() != "en-GB" {
		t.Error(`<html lang> is not the show's language "en-GB"`)
	}
	if h1 := pageAll(doc, pageTag("h1")); len(h1) != 1 || pageText(h1[0]) != "Night & Day <Radio>" {
		t.Errorf("want exactly one h1 with the show's title")
	}
	if ti := pageAll(doc, pageTag("title")); len(ti) != 1 || pageText(ti[0]) != "Night & Day <Radio>" {
		t.Errorf("the <title> is not the show's title")
	}
	var alternate bool
	for _, l := range pageAll(doc, pageTag("link")) {
		rel, _ := pageAttr(l, "rel")
		typ, _ := pageAttr(l, "type")
		href, _ := pageAttr(l, "href")
		if rel == "alternate" && typ == "application/rss+xml" && href == "feed.xml" {
			alternate = true
		}
	}
	if !alternate {
		t.Error(`no <link rel="alternate" type="application/rss+xml" href="feed.xml"> in head`)
	}
	img := pageAll(doc, pageTag("img"))
	if len(img) != 1 {
		t.Fatalf("%d images, want the artwork", len(img))
	}
	if src, _ := pageAttr(img[0], "src"); src != "artwork.png" {
		t.Errorf("artwork src %q", src)
	}
	if alt, _ := pageAttr(img[0], "alt"); alt != "Artwork of Night & Day <Radio>" {
		t.Errorf("artwork alt %q", alt)
	}
	var feedLink string
	for _, a := range pageAll(doc, pageTag("a")) {
		if href, _ := pageAttr(a, "href"); href == "feed.xml" {
			feedLink = pageText(a)
		}
	}
	if feedLink != "https://podcast.example.org/night/feed.xml" {
		t.Errorf("the feed link reads %q, want the feed's URL to copy", feedLink)
	}
	skip := pageAll(doc, func(n *html.Node) bool { return pageClass(n, "skip") })
	if len(skip) != 1 {
		t.Fatal("no skip link")
	}
	if href, _ := pageAttr(skip[0], "href"); href != "#episodes" || len(pageAll(doc, func(n *html.Node) bool {
		id, _ := pageAttr(n, "id")
		return id == "episodes" && n.Data == "main"
	})) != 1 {
		t.Errorf("the skip link goes to %q, not to <main id=episodes>", href)
	}
	for _, au := range pageAll(doc, pageTag("audio")) {
		controls, _ := pageAttr(au, "controls")
		preload, _ := pageAttr(au, "preload")
		label, _ := pageAttr(au, "aria-labelledby")
		_, hasControls := pageAttr(au, "controls")
		if !hasControls || controls != "" || preload != "metadata" || label == "" {
			t.Errorf("audio %v: want controls, preload=metadata and an accessible name", au.Attr)
		}
	}
	// Nothing from another host: every resource the page loads is relative.
	for _, n := range pageAll(doc, func(n *html.Node) bool { return true }) {
		for _, key := range []string{"src", "href"} {
			v, ok := pageAttr(n, key)
			if !ok || n.Data == "a" {
				continue
			}
			if strings.Contains(v, "//") || strings.Contains(v, ":") {
				t.Errorf("<%s %s=%q> loads from another host", n.Data, key, v)
			}
		}
	}
}

func TestRenderPageLanguage(t *testing.T) {
	s := pageShow()
	s.Language = "de"
	doc := pageParse(t, pageRender(t, s, pageEpisodes()))
	if v, _ := pageAttr(pageAll(doc, pageTag("html"))[0], "lang"); v != "de" {
		t.Errorf("lang %q, want de", v)
	}
	// The page's own words are English and marked so; the show's words are not marked.
	for _, h3 := range pageAll(doc, pageTag("h3")) {
		if v, _ := pageAttr(h3, "lang"); v != "en" {
			t.Errorf("<h3>%s</h3> has lang %q, want en on a German show", pageText(h3), v)
		}
	}
	for _, h2 := range pageAll(doc, pageTag("h2")) {
		if _, ok := pageAttr(h2, "lang"); ok {
			t.Errorf("the episode title %q is marked with a language", pageText(h2))
		}
	}
	s.Language = "en"
	doc = pageParse(t, pageRender(t, s, pageEpisodes()))
	if n := pageAll(doc, func(n *html.Node) bool { _, ok := pageAttr(n, "lang"); return ok && n.Data != "html" }); len(n) != 0 {
		t.Errorf("an English show has %d elements with their own lang", len(n))
	}
}

func TestRenderPageDeterministic(t *testing.T) {
	eps := pageEpisodes()
	before := pageEpisodes()
	a := pageRender(t, pageShow(), eps)
	if !reflect.DeepEqual(eps, before) {
		t.Error("RenderPage changed the episodes it was given")
	}
	b := pageRender(t, pageShow(), eps)
	reversed := slices.Clone(eps)
	slices.Reverse(reversed)
	c := pageRender(t, pageShow(), reversed)
	if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
		t.Error("the same episodes (twice, and in another order) give different pages")
	}
	// Two episodes published at the same instant keep one order.
	same := pageEpisodes()
	same[3].PubDate = same[1].PubDate
	x := pageRender(t, pageShow(), same)
	slices.Reverse(same)
	if y := pageRender(t, pageShow(), same); !bytes.Equal(x, y) {
		t.Error("episodes with the same date come out in the input's order")
	}
}

func TestRenderPageGolden(t *testing.T) {
	golden.Assert(t, pageRender(t, pageShow(), pageEpisodes()), "page.html")
}

func TestRenderPageErrors(t *testing.T) {
	tests := []struct {
		name string
		show *feed.Show
		edit func(eps []feed.Episode)
		want string
	}{
		{"No show settings is an error, not a blank page.", nil, func([]feed.Episode) {}, "no show settings"},
		{"A soundbite that starts before the audio is refused.", pageShow(), func(e []feed.Episode) { e[1].Soundbites[0].Start = -time.Second }, `episode "tags-<b>": soundbite 1`},
		{"A soundbite of no length is refused.", pageShow(), func(e []feed.Episode) { e[3].Soundbites[0].Duration = 0 }, `episode "no-chapters": soundbite 1`},
		{"A chapter that starts before the audio is refused.", pageShow(), func(e []feed.Episode) { e[1].Chapters[2].Start = -time.Millisecond }, `chapter 3 ("Late")`},
		{"An episode without an audio file is refused.", pageShow(), func(e []feed.Episode) { e[0].Audio.File = "" }, `episode "first-light" has no audio file`},
		{"Two slugs that make the same id are refused.", pageShow(), func(e []feed.Episode) { e[3].Slug = "tags-(b)" }, `share the id "ep-tags--b-"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eps := pageEpisodes()
			tc.edit(eps)
			var b bytes.Buffer
			err := RenderPage(&b, tc.show, eps)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "site: page: ") {
				t.Errorf("error %v, want one that starts with %q and says %q", err, "site: page: ", tc.want)
			}
			if b.Len() != 0 {
				t.Errorf("%d bytes written before the error", b.Len())
			}
		})
	}
	w := pageFailWriter{}
	if err := RenderPage(w, pageShow(), pageEpisodes()); !errors.Is(err, errPageWrite) {
		t.Errorf("a failing writer gives %v, want it wrapped", err)
	}
}

var errPageWrite = errors.New("disk full")

type pageFailWriter struct{}

func (pageFailWriter) Write([]byte) (int, error) { return 0, errPageWrite }

func TestPageTimes(t *testing.T) {
	tests := []struct {
		name           string
		d              time.Duration
		seconds, clock string
		human, iso     string
	}{
		{"Zero is 0 everywhere.", 0, "0", "0:00", "0 s", "PT0S"},
		{"Whole seconds have no decimals.", 42 * time.Second, "42", "0:42", "42 s", "PT42S"},
		{"Trailing zeros are dropped.", 1500 * time.Millisecond, "1.5", "0:01", "2 s", "PT2S"},
		{"Seconds round to the millisecond.", 1234567 * time.Microsecond, "1.235", "0:01", "1 s", "PT1S"},
		{"Sub-millisecond rounds down to zero.", 400 * time.Microsecond, "0", "0:00", "0 s", "PT0S"},
		{"Minutes round for people.", 12*time.Minute + 34*time.Second, "754", "12:34", "13 min", "PT12M34S"},
		{"An hour and more shows hours.", time.Hour + 2*time.Minute + 3*time.Second + 9*time.Millisecond, "3723.009", "1:02:03", "1 h 2 min", "PT1H2M3S"},
		{"The clock truncates like a player's.", 59*time.Second + 999*time.Millisecond, "59.999", "0:59", "1 min", "PT1M0S"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pageSeconds(tc.d); got != tc.seconds {
				t.Errorf("seconds(%v) = %q, want %q", tc.d, got, tc.seconds)
			}
			if got := pageClock(tc.d); got != tc.clock {
				t.Errorf("clock(%v) = %q, want %q", tc.d, got, tc.clock)
			}
			if got := pageHumanDuration(tc.d); got != tc.human {
				t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.human)
			}
			if got := pageISODuration(tc.d); got != tc.iso {
				t.Errorf("isoDuration(%v) = %q, want %q", tc.d, got, tc.iso)
			}
		})
	}
}

func TestPageAssets(t *testing.T) {
	page := pageRender(t, pageShow(), pageEpisodes())
	doc := pageParse(t, page)
	var linked []string
	for _, n := range pageAll(doc, func(n *html.Node) bool { return n.Data == "script" || n.Data == "link" }) {
		for _, key := range []string{"src", "href"} {
			if v, ok := pageAttr(n, key); ok && strings.HasPrefix(v, "assets/") {
				p, query, _ := strings.Cut(v, "?")
				if !strings.HasPrefix(query, "v=") {
					t.Errorf("%s has no version query", v)
				}
				linked = append(linked, p)
			}
		}
	}
	var files []string
	err := fs.WalkDir(Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(linked)
	if want := []string{"assets/player.js", "assets/style.css"}; !slices.Equal(linked, want) || !slices.Equal(files, want) {
		t.Errorf("the page links %q and Assets has %q; want both %q", linked, files, want)
	}
	// The version query follows the content.
	for _, n := range pageAll(doc, pageTag("script")) {
		src, _ := pageAttr(n, "src")
		b, err := fs.ReadFile(Assets(), "assets/player.js")
		if err != nil || !strings.HasSuffix(src, pageAssetURLs()["assets/player.js"][len("assets/player.js"):]) || len(b) == 0 {
			t.Errorf("script src %q", src)
		}
	}
}

// FuzzRenderPageText: whatever text a title, description or chapter holds, the page parses and
// reads it back exactly where it is shown.
func FuzzRenderPageText(f *testing.F) {
	f.Add(`Tags <b>bold</b> & "quotes"`, "line\n\nline", "</script><script>alert(1)</script>")
	f.Add("a", "", "]]>--><!--")
	f.Add("&amp; &lt;", "'single' `back`", "{{.Title}}")
	f.Fuzz(func(t *testing.T, title, desc, chapter string) {
		for _, s := range []string{title, desc, chapter} {
			// An HTML parser turns CR into LF (HTML §13.2.3.5, preprocessing the input stream)
			// and drops or replaces NUL; titles hold neither.
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\x00") {
				t.Skip()
			}
		}
		eps := pageEpisodes()[1:2]
		eps[0].Title, eps[0].NotesHTML, eps[0].Description = title, "", desc
		eps[0].Chapters[0].Title = chapter
		var b bytes.Buffer
		if err := RenderPage(&b, pageShow(), eps); err != nil {
			t.Fatal(err)
		}
		doc := pageParse(t, b.Bytes())
		arts := pageArticles(doc)
		if len(arts) != 1 || arts[0].title != title {
			t.Fatalf("title %q reads back as %+v", title, arts)
		}
		if got, want := arts[0].chapters[0][1], "0:00 "+chapter; got != want {
			t.Errorf("chapter %q reads back %q", want, got)
		}
		if n := len(pageAll(doc, pageTag("script"))); n != 1 {
			t.Errorf("%d script elements, want only player.js", n)
		}
	})
}
