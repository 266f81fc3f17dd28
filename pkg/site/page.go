package site

// The site's web page: index.html, which lists the episodes with a player each, and the static
// files it needs (assets/style.css, assets/player.js). No build step and nothing from another
// host: the page links everything relatively, so it works from any host and from a local
// http server.

import (
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/websafe"
)

//go:embed assets/style.css assets/player.js
var pageAssets embed.FS

// Assets returns the static files index.html needs, at their paths relative to the site root
// (assets/style.css, assets/player.js): copy the whole tree into the site folder, e.g. with
// os.CopyFS(site, Assets()) into an empty staging folder.
func Assets() fs.FS { return pageAssets }

// pageAssetURLs maps an asset's path to the URL index.html links it by: the path plus a query
// naming its content, so a browser never keeps a stale copy after an upgrade.
var pageAssetURLs = sync.OnceValue(func() map[string]string {
	urls := map[string]string{}
	// Reading embedded files cannot fail.
	_ = fs.WalkDir(pageAssets, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(pageAssets, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		urls[p] = p + "?v=" + hex.EncodeToString(sum[:6])
		return nil
	})
	return urls
})

// RenderPage writes index.html for the show and its episodes: newest first, Unpublished ones left
// out. The same input always gives the same bytes (dates are written in UTC). eps is not changed.
// Episodes it cannot show (no audio file, a soundbite or chapter before the start) are an error
// before anything is written; a failing w can leave part of the page in it.
func RenderPage(w io.Writer, s *feed.Show, eps []feed.Episode) error {
	if s == nil {
		return errorf("page: no show settings")
	}
	d, err := newPageData(s, eps)
	if err != nil {
		return err
	}
	if err := pageTemplate.Execute(w, d); err != nil {
		return errorf("page: write index.html: %w", err)
	}
	return nil
}

// pageData is what the template shows; every value is ready to print.
type pageData struct {
	Lang string
	// UILang is "en" when the show's language is another: the page's own words (headings,
	// labels) are English and say so for screen readers. Empty for an English show.
	UILang      string
	Title       string
	Description []string // paragraphs
	Author      string
	Copyright   string
	People      string // the show's people, with their roles
	Image       string // artwork URL, relative; "" when none
	FeedURL     string // absolute, to copy into a podcast app; "" without a base URL
	CSS, JS     string
	Episodes    []pageEpisode
}

type pageEpisode struct {
	ID           string // HTML id (and prefix of its parts' ids): feed.EpisodeAnchor
	Title        string
	DateTime     string // RFC 3339, UTC
	Date         string // YYYY-MM-DD, UTC
	DurationISO  string // HTML duration string
	Duration     string // "42 min"
	Labels       []string
	Src          string // episodes/<file>, escaped
	Download     string // "MP3, 12.3 MB"
	Notes        template.HTML
	Description  []string // paragraphs, when there are no notes
	Persons      string
	Chapters     []pageMark
	Soundbites   []pageMark
	Transcript   string // URL, "" when none
	TranscriptAs string
}

// pageMark is a chapter or a soundbite: a link into the episode's audio.
type pageMark struct {
	Href   string // media fragment URL: episodes/<file>#t=start[,end] (W3C Media Fragments URI 1.0 §4.2.1)
	Start  string // seconds, for player.js
	End    string // seconds, soundbites only
	At     string // start as shown, e.g. 1:02:03
	Length string // soundbites only, e.g. 15 s
	Title  string
	URL    string // a chapter's web link, "" when none
}

func newPageData(s *feed.Show, eps []feed.Episode) (*pageData, error) {
	d := &pageData{
		Lang:        cmp.Or(strings.TrimSpace(s.Language), "en"),
		Title:       s.Title,
		Description: pageParagraphs(s.Description),
		Author:      s.Author,
		Copyright:   s.Copyright,
		People:      pagePersons(s.Persons),
		CSS:         pageAssetURLs()["assets/style.css"],
		JS:          pageAssetURLs()["assets/player.js"],
	}
	if primary, _, _ := strings.Cut(d.Lang, "-"); !strings.EqualFold(primary, "en") {
		d.UILang = "en"
	}
	if s.Image != "" {
		d.Image = pageEscapePath(s.Image)
	}
	if s.BaseURL != "" {
		d.FeedURL = s.FeedURL()
	}

	var list []*feed.Episode
	for i := range eps {
		if !eps[i].Unpublished {
			list = append(list, &eps[i])
		}
	}
	// Newest first; the slug breaks ties so that the order never depends on the input's.
	slices.SortFunc(list, func(a, b *feed.Episode) int {
		if c := b.PubDate.Compare(a.PubDate); c != 0 {
			return c
		}
		return strings.Compare(a.Slug, b.Slug)
	})
	ids := map[string]string{}
	for _, e := range list {
		pe, err := newPageEpisode(e)
		if err != nil {
			return nil, err
		}
		if other, ok := ids[pe.ID]; ok {
			return nil, errorf("page: episodes %q and %q would share the id %q on the page (slugs must differ)", other, e.Slug, pe.ID)
		}
		ids[pe.ID] = e.Slug
		d.Episodes = append(d.Episodes, pe)
	}
	return d, nil
}

func newPageEpisode(e *feed.Episode) (pageEpisode, error) {
	if e.Audio.File == "" {
		return pageEpisode{}, errorf("page: episode %q has no audio file", e.Slug)
	}
	src := "episodes/" + pageEscapePath(e.Audio.File)
	pub := e.PubDate.UTC()
	pe := pageEpisode{
		ID:          feed.EpisodeAnchor(e.Slug), // the feed's items link here
		Title:       e.Title,
		DateTime:    pub.Format(time.RFC3339),
		Date:        pub.Format("2006-01-02"),
		DurationISO: pageISODuration(e.Audio.Duration),
		Duration:    pageHumanDuration(e.Audio.Duration),
		Src:         src,
		Download:    pageAudioKind(e.Audio.Type, e.Audio.File) + ", " + pageBytes(e.Audio.Bytes),
		Persons:     pagePersons(e.Persons),
	}
	if e.Season > 0 && e.Number > 0 {
		pe.Labels = append(pe.Labels, fmt.Sprintf("Season %d, episode %d", e.Season, e.Number))
	} else if e.Season > 0 {
		pe.Labels = append(pe.Labels, fmt.Sprintf("Season %d", e.Season))
	} else if e.Number > 0 {
		pe.Labels = append(pe.Labels, fmt.Sprintf("Episode %d", e.Number))
	}
	switch e.Type {
	case "trailer":
		pe.Labels = append(pe.Labels, "Trailer")
	case "bonus":
		pe.Labels = append(pe.Labels, "Bonus")
	}
	if e.Explicit != nil && *e.Explicit {
		pe.Labels = append(pe.Labels, "Explicit")
	}
	if e.NotesHTML != "" {
		// The publisher's own Markdown, rendered and cleaned by spacecast when it was published;
		// cleaned again here when it is not clean (a record from an older spacecast, or edited by
		// hand), so that no script reaches the page.
		notes, err := websafe.Notes(e.NotesHTML)
		if err != nil {
			return pageEpisode{}, errorf("page: episode %q: show notes: %w", e.Slug, err)
		}
		pe.Notes = template.HTML(notes)
	} else {
		pe.Description = pageParagraphs(e.Description)
	}
	for i, c := range e.Chapters {
		if c.Start < 0 {
			return pageEpisode{}, errorf("page: episode %q: chapter %d (%q) starts before the audio (%v)", e.Slug, i+1, c.Title, c.Start)
		}
		t := pageSeconds(c.Start)
		link := c.URL
		if websafe.URL(link) != nil {
			link = "" // not a web link: the chapter is shown without it
		}
		pe.Chapters = append(pe.Chapters, pageMark{
			Href: src + "#t=" + t, Start: t, At: pageClock(c.Start), Title: c.Title, URL: link,
		})
	}
	for i, b := range e.Soundbites {
		if b.Start < 0 || b.Duration <= 0 {
			return pageEpisode{}, errorf("page: episode %q: soundbite %d starts at %v and lasts %v (it needs a start of 0 or more and a positive length)", e.Slug, i+1, b.Start, b.Duration)
		}
		start, end := pageSeconds(b.Start), pageSeconds(b.Start+b.Duration)
		pe.Soundbites = append(pe.Soundbites, pageMark{
			Href: src + "#t=" + start + "," + end, Start: start, End: end,
			At: pageClock(b.Start), Length: pageSeconds(b.Duration) + " s", Title: b.Title,
		})
	}
	if e.Transcript != nil && e.Transcript.File != "" {
		pe.Transcript = "episodes/" + pageEscapePath(e.Transcript.File)
		pe.TranscriptAs = pageTranscriptKind(e.Transcript.Type)
	}
	return pe, nil
}

// CheckPage returns the active markup in a site's index.html other than what the page itself
// has (its stylesheet, its icon, its feed link and its player script, assets/player.js): script
// smuggled into show notes or a chapter link, or added by hand.
func CheckPage(page []byte) []websafe.Finding {
	return websafe.Find(string(page), websafe.Options{Document: true, Script: func(src string) bool {
		p, _, _ := strings.Cut(src, "?")
		return p == "assets/player.js"
	}})
}

// pageSeconds writes d as seconds with up to three decimals and no trailing zeros ("12", "1.5",
// "3723.25"): Media Fragments URI 1.0 §4.2.1 npt-sec, rounded to the millisecond.
func pageSeconds(d time.Duration) string {
	ms := d.Round(time.Millisecond).Milliseconds()
	s := strconv.FormatInt(ms/1000, 10)
	if f := ms % 1000; f != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", f), "0")
	}
	return s
}

// pageClock writes d as m:ss, or h:mm:ss from an hour, truncated to the second like a player's clock.
func pageClock(d time.Duration) string {
	t := int64(d / time.Second)
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

// pageHumanDuration is an episode's length as a listener reads it: "42 s", "12 min", "1 h 5 min".
func pageHumanDuration(d time.Duration) string {
	if d.Round(time.Second) < time.Minute {
		return fmt.Sprintf("%d s", int64(d.Round(time.Second)/time.Second))
	}
	m := int64(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// pageISODuration is an HTML valid duration string (HTML, microsyntaxes: durations), whole
// seconds: "PT1H2M3S".
func pageISODuration(d time.Duration) string {
	t := int64(d.Round(time.Second) / time.Second)
	s := "PT"
	if t >= 3600 {
		s += strconv.FormatInt(t/3600, 10) + "H"
	}
	if t >= 60 {
		s += strconv.FormatInt(t/60%60, 10) + "M"
	}
	return s + strconv.FormatInt(t%60, 10) + "S"
}

// pageBytes is a file size in decimal units, one decimal: "12.3 MB".
func pageBytes(n int64) string {
	switch {
	case n >= 1e9:
		return strconv.FormatFloat(float64(n)/1e9, 'f', 1, 64) + " GB"
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	case n >= 1e3:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + " kB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

func pageAudioKind(mime, file string) string {
	switch mime {
	case "audio/mpeg":
		return "MP3"
	case "audio/mp4", "audio/x-m4a", "audio/aac":
		return "M4A"
	case "audio/ogg", "audio/opus":
		return "Ogg"
	}
	if ext := strings.TrimPrefix(path.Ext(file), "."); ext != "" {
		return strings.ToUpper(ext)
	}
	return "audio"
}

func pageTranscriptKind(mime string) string {
	switch mime {
	case "text/vtt":
		return "WebVTT"
	case "application/x-subrip", "application/srt":
		return "SubRip"
	case "application/json":
		return "JSON"
	case "text/html":
		return "web page"
	case "text/plain":
		return "text"
	}
	return mime
}

// pagePersons lists people for a line of text: "Ada (host), Brook (guest)".
func pagePersons(ps []feed.Person) string {
	var parts []string
	for _, p := range ps {
		if p.Name == "" {
			continue
		}
		parts = append(parts, feed.PersonLabel(p))
	}
	return strings.Join(parts, ", ")
}

// pageParagraphs splits plain text at blank lines.
func pageParagraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// pageEscapePath makes a relative URL path of a slash-separated file path in the site folder. A
// colon is escaped too, so that a file name such as "javascript:x.png" is never read as a scheme.
func pageEscapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(parts, "/")
}

// pageTemplate is index.html. html/template escapes every value for where it lands; the show
// notes are the one piece of HTML let through, after websafe has cleaned them.
var pageTemplate = template.Must(template.New("index.html").Funcs(template.FuncMap{"ui": pageUI}).Parse(pageHTML))

// pageUI is one of the page's own (English) words: marked lang="en" when the show's language is
// another, so that a screen reader pronounces it right.
func pageUI(lang, text string) template.HTML {
	t := template.HTMLEscapeString(text)
	if lang == "" {
		return template.HTML(t)
	}
	return template.HTML(`<span lang="` + template.HTMLEscapeString(lang) + `">` + t + `</span>`)
}

const pageHTML = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{- with .Description}}
<meta name="description" content="{{index . 0}}">
{{- end}}
<meta name="generator" content="spacecast">
<link rel="alternate" type="application/rss+xml" title="{{.Title}}" href="feed.xml">
<link rel="icon" href="{{if .Image}}{{.Image}}{{else}}data:,{{end}}">
<link rel="stylesheet" href="{{.CSS}}">
<script src="{{.JS}}" defer></script>
</head>
<body>
<a class="skip" href="#episodes"{{with .UILang}} lang="{{.}}"{{end}}>Skip to the episodes</a>
<header class="show">
{{- if .Image}}
<img class="artwork" src="{{.Image}}" alt="Artwork of {{.Title}}" width="240" height="240">
{{- end}}
<div>
<h1>{{.Title}}</h1>
{{- with .Author}}
<p class="author">{{.}}</p>
{{- end}}
{{- range .Description}}
<p>{{.}}</p>
{{- end}}
{{- with .People}}
<p>{{ui $.UILang "People:"}} {{.}}</p>
{{- end}}
<p class="subscribe">{{ui .UILang "Subscribe in your podcast app:"}} <a href="feed.xml" type="application/rss+xml">{{if .FeedURL}}{{.FeedURL}}{{else}}RSS feed{{end}}</a></p>
</div>
</header>
<main id="episodes" tabindex="-1">
{{- range .Episodes}}
<article class="episode" id="{{.ID}}" aria-labelledby="{{.ID}}-title">
<h2 id="{{.ID}}-title">{{.Title}}</h2>
<p class="meta"><time datetime="{{.DateTime}}">{{.Date}}</time> · <time datetime="{{.DurationISO}}">{{.Duration}}</time>
{{- range .Labels}} · {{ui $.UILang .}}{{end}}</p>
<audio controls preload="metadata" src="{{.Src}}" aria-labelledby="{{.ID}}-title"><a href="{{.Src}}">{{.Title}}</a></audio>
<p class="download"><a href="{{.Src}}" download>{{ui $.UILang "Download"}}<span class="vh"> {{.Title}}</span> ({{.Download}})</a>
{{- if .Transcript}} · <a href="{{.Transcript}}">{{ui $.UILang "Transcript"}}<span class="vh"> of {{.Title}}</span> ({{.TranscriptAs}})</a>{{end}}</p>
{{- with .Persons}}
<p class="persons">{{ui $.UILang "With"}} {{.}}</p>
{{- end}}
<div class="notes">
{{- if .Notes}}
{{.Notes}}
{{- else}}
{{- range .Description}}
<p>{{.}}</p>
{{- end}}
{{- end}}
</div>
{{- if .Chapters}}
<section class="chapters" aria-labelledby="{{.ID}}-chapters">
<h3 id="{{.ID}}-chapters"{{with $.UILang}} lang="{{.}}"{{end}}>Chapters</h3>
<ol class="marks">
{{- range .Chapters}}
<li><a class="seek" href="{{.Href}}" data-start="{{.Start}}"><span class="at">{{.At}}</span> {{.Title}}</a>
{{- if .URL}} <a class="more" href="{{.URL}}" rel="nofollow">more<span class="vh"> about {{.Title}}</span></a>{{end}}</li>
{{- end}}
</ol>
</section>
{{- end}}
{{- if .Soundbites}}
<section class="soundbites" aria-labelledby="{{.ID}}-soundbites">
<h3 id="{{.ID}}-soundbites"{{with $.UILang}} lang="{{.}}"{{end}}>Soundbites</h3>
<ul class="marks">
{{- range .Soundbites}}
<li><a class="seek" href="{{.Href}}" data-start="{{.Start}}" data-end="{{.End}}"><span class="at">{{.At}}</span> {{if .Title}}{{.Title}}{{else}}{{ui $.UILang "Soundbite"}}{{end}} <span class="len">({{.Length}})</span></a></li>
{{- end}}
</ul>
</section>
{{- end}}
</article>
{{- else}}
<p{{with .UILang}} lang="{{.}}"{{end}}>No episodes yet.</p>
{{- end}}
</main>
{{- with .Copyright}}
<footer><p>{{.}}</p></footer>
{{- end}}
</body>
</html>
`
