package site

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/browser"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/lame"
	"github.com/spacecast/spacecast/pkg/feed"
)

// pageMP3 encodes a tone of the given length with spacecast's LAME wrapper (LAME/Info tag
// included, so players know the exact length) into dir/file, and returns the episode's audio
// record: the duration is the PCM that went in, not anything read back.
func pageMP3(t *testing.T, dir, file string, f audio.Format, frames int, freq float64) feed.Audio {
	t.Helper()
	path := filepath.Join(dir, file)
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := lame.NewWriter(out, f, lame.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(testutil.Sine(frames, f.SampleRate, f.Channels, freq, 0.3)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return feed.Audio{
		File: file, Bytes: int64(len(b)), Type: "audio/mpeg", SHA256: hex.EncodeToString(sum[:]),
		Duration: time.Duration(frames) * time.Second / time.Duration(f.SampleRate),
	}
}

// pageSite builds a site folder the way publish lays it out: index.html, the assets, artwork and
// three real MP3 episodes (one with a transcript), and returns the episodes.
func pageSite(t *testing.T) (string, []feed.Episode) {
	t.Helper()
	dir := t.TempDir()
	epDir := filepath.Join(dir, "episodes")
	if err := os.Mkdir(epDir, 0o755); err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2025, 4, d, 9, 0, 0, 0, time.UTC) }
	eps := []feed.Episode{{
		Slug: "one", GUID: "g1", PubDate: day(1), Title: `One: <tones> & "sines"`, Type: "full",
		Description: "The first.",
		Audio:       pageMP3(t, epDir, "one.mp3", audio.Format{SampleRate: 44100, Channels: 1}, 44100*62/10+123, 440),
		Chapters:    []feed.Chapter{{Start: 0, Title: "Start"}, {Start: 3 * time.Second, Title: "Middle"}},
		Soundbites:  []feed.Soundbite{{Start: 2 * time.Second, Duration: 1200 * time.Millisecond, Title: "Bite one"}},
	}, {
		Slug: "two", GUID: "g2", PubDate: day(2), Title: "Two", Type: "full",
		NotesHTML:  "<p>Notes with <strong>HTML</strong> and <a href=\"episodes/two.vtt\">a link</a>.</p>",
		Audio:      pageMP3(t, epDir, "two.mp3", audio.Format{SampleRate: 48000, Channels: 2}, 48000*905/100, 660),
		Soundbites: []feed.Soundbite{{Start: 4500 * time.Millisecond, Duration: 1500 * time.Millisecond, Title: "Bite two"}},
		Transcript: &feed.Transcript{File: "two.vtt", Type: "text/vtt"},
	}, {
		Slug: "three", GUID: "g3", PubDate: day(3), Title: "Three, short", Type: "bonus",
		Description: "The third, at a low sample rate (MPEG-2).",
		Audio:       pageMP3(t, epDir, "three.mp3", audio.Format{SampleRate: 24000, Channels: 1}, 24000*45/10, 330),
		Chapters:    []feed.Chapter{{Start: 0, Title: "All of it"}},
		Soundbites:  []feed.Soundbite{{Start: 1250 * time.Millisecond, Duration: time.Second}},
	}, {
		Slug: "gone", GUID: "g4", PubDate: day(4), Title: "Unpublished", Type: "full",
		Audio:       feed.Audio{File: "gone.mp3", Bytes: 1, Type: "audio/mpeg", Duration: time.Second},
		Unpublished: true,
	}}
	vtt := "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Ada>A tone.\n"
	if err := os.WriteFile(filepath.Join(epDir, "two.vtt"), []byte(vtt), 0o644); err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(4 * y), 128, 255})
		}
	}
	var artwork bytes.Buffer
	if err := png.Encode(&artwork, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "artwork.png"), artwork.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, Assets()); err != nil {
		t.Fatal(err)
	}
	show := &feed.Show{
		Title: "Tone <Radio> & friends", Description: "Test tones.", BaseURL: "https://tones.example.org",
		Author: "Ada", Language: "en", Image: "artwork.png", Type: "episodic",
	}
	var page bytes.Buffer
	if err := RenderPage(&page, show, eps); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, eps
}

// pageReport is what testdata/page_browser.cjs measured in Chromium.
type pageReport struct {
	Browser string     `json:"browser"`
	JS      pageRun    `json:"js"`
	NoJS    pageRun    `json:"nojs"`
	Dark    []string   `json:"darkContrast"`
	Narrow  pageNarrow `json:"narrow"`
}

type pageRun struct {
	Console  []string    `json:"console"` // errors and warnings, and page errors
	Failed   []string    `json:"failed"`  // requests that failed or answered >= 400
	Requests []string    `json:"requests"`
	Audios   []pageAudio `json:"audios"`
	Links    []pageLink  `json:"links"`
	Unnamed  []string    `json:"unnamed"`  // links, buttons and media without an accessible name
	Named    int         `json:"named"`    // how many were checked
	Headings []int       `json:"headings"` // levels in document order
	Contrast []string    `json:"contrast"` // text under 4.5:1
	Seeks    []pageSeek  `json:"seeks"`
	Keyboard pageKeys    `json:"keyboard"`
	Aborted  []string    `json:"aborted"` // media requests Chromium cancelled itself (preload=metadata)
	// NoJS only: the URL the browser went to when a soundbite link was clicked, and where the
	// audio stood in Chromium's media document there.
	Navigated string `json:"navigated"`
	Fragment  struct {
		CurrentTime float64 `json:"currentTime"`
		Error       string  `json:"error"`
	} `json:"fragment"`
}

type pageAudio struct {
	Article    string  `json:"article"`
	Src        string  `json:"src"`        // the attribute
	CurrentSrc string  `json:"currentSrc"` // resolved
	Duration   float64 `json:"duration"`   // seconds, after loadedmetadata
	Error      string  `json:"error"`
	Name       string  `json:"name"` // accessible name from Chromium's accessibility tree
}

type pageLink struct {
	Article string `json:"article"`
	Kind    string `json:"kind"` // chapters or soundbites
	Href    string `json:"href"` // resolved
}

type pageSeek struct {
	Article string  `json:"article"`
	Kind    string  `json:"kind"`
	Start   float64 `json:"start"`
	End     float64 `json:"end"`
	Seeked  float64 `json:"seeked"`  // currentTime at the seeked event; -1 if none
	Played  bool    `json:"played"`  // a playing event followed
	PauseAt float64 `json:"pauseAt"` // currentTime when it paused by itself (soundbites); -1 if not
	// Others lists the other players whose time moved or that started playing.
	Others []string `json:"others"`
	Left   string   `json:"left"` // the URL the browser went to instead, if it followed the link

}

type pageKeys struct {
	First     string   `json:"first"`     // the element the first Tab focuses
	Tabs      int      `json:"tabs"`      // Tabs to reach the first soundbite link
	NoOutline []string `json:"noOutline"` // focused links without a visible focus outline
	Seeked    float64  `json:"seeked"`    // currentTime after Enter on that link
	Start     float64  `json:"start"`
}

type pageNarrow struct {
	ScrollWidth int `json:"scrollWidth"`
	ClientWidth int `json:"clientWidth"`
}

// TestPageInChromium serves a site with three real MP3 episodes on 127.0.0.1 and loads its
// index.html in headless Chromium (Debian's package, driven by the pinned playwright-core), with
// and without JavaScript.
func TestPageInChromium(t *testing.T) {
	dir, eps := pageSite(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	timeout := 90 * time.Second
	out, err := browser.Script(t, filepath.Join("testdata", "page_browser.cjs"), map[string]any{
		"url": srv.URL + "/", "timeoutMs": (timeout - 15*time.Second).Milliseconds(),
	}, timeout)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, out)
	}
	var r pageReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("the page script's report: %v:\n%s", err, out)
	}
	t.Logf("Chromium %s", r.Browser)

	for _, c := range []struct {
		name string
		run  pageRun
	}{{"with JavaScript", r.JS}, {"without JavaScript", r.NoJS}} {
		name, run := c.name, c.run
		if len(run.Console) > 0 {
			t.Errorf("%s: console errors and warnings: %q", name, run.Console)
		}
		if len(run.Failed) > 0 {
			t.Errorf("%s: failed requests: %q", name, run.Failed)
		}
		if !pageRequested(run.Requests, srv.URL+"/assets/style.css?v=") {
			t.Errorf("%s: the style sheet was not loaded: requests %q", name, run.Requests)
		}
		t.Logf("%s: %d requests; media requests Chromium cancelled itself after the metadata: %d", name, len(run.Requests), len(run.Aborted))
	}
	if !pageRequested(r.JS.Requests, srv.URL+"/assets/player.js?v=") {
		t.Errorf("player.js was not loaded: requests %q", r.JS.Requests)
	}
	if pageRequested(r.NoJS.Requests, srv.URL+"/assets/player.js") {
		t.Errorf("player.js was loaded with JavaScript off")
	}

	published := map[string]feed.Episode{}
	for _, e := range eps {
		if !e.Unpublished {
			published["ep-"+e.Slug] = e
		}
	}
	// Each player plays its own file and reports its exact length.
	if len(r.JS.Audios) != len(published) {
		t.Fatalf("%d audio elements, want %d", len(r.JS.Audios), len(published))
	}
	for _, a := range r.JS.Audios {
		e, ok := published[a.Article]
		if !ok {
			t.Errorf("an audio element in %q, not a published episode", a.Article)
			continue
		}
		if want := "episodes/" + e.Audio.File; a.Src != want || a.CurrentSrc != srv.URL+"/"+want {
			t.Errorf("%s: audio src %q (%q), want %q", a.Article, a.Src, a.CurrentSrc, want)
		}
		if a.Error != "" {
			t.Errorf("%s: the player failed: %s", a.Article, a.Error)
		}
		want := e.Audio.Duration.Seconds()
		t.Logf("%s: Chromium's duration %.4f s, the episode's %.4f s (off by %+.1f ms)", a.Article, a.Duration, want, 1000*(a.Duration-want))
		if math.Abs(a.Duration-want) > 0.05 {
			t.Errorf("%s: Chromium reports %.4f s, the episode is %.4f s (more than 50 ms off)", a.Article, a.Duration, want)
		}
		if a.Name != e.Title {
			t.Errorf("%s: the player's accessible name is %q, want the episode's title %q", a.Article, a.Name, e.Title)
		}
	}

	// Clicking a soundbite seeks that episode's player to its start, plays, and pauses at its end;
	// a chapter link seeks and plays. No other player moves.
	wantSeeks := 0
	for _, e := range published {
		wantSeeks += len(e.Soundbites) + len(e.Chapters)
	}
	if len(r.JS.Seeks) != wantSeeks {
		t.Errorf("%d links clicked, want %d (every chapter and soundbite)", len(r.JS.Seeks), wantSeeks)
	}
	for _, s := range r.JS.Seeks {
		t.Logf("%s %s %.3f–%.3f: seeked to %.3f, played %v, paused at %.3f", s.Article, s.Kind, s.Start, s.End, s.Seeked, s.Played, s.PauseAt)
		if s.Left != "" {
			t.Errorf("%s: a click on the %s link at %.3f s left the page for %s: player.js did not take it", s.Article, s.Kind, s.Start, s.Left)
			continue
		}
		if math.Abs(s.Seeked-s.Start) > 0.1 {
			t.Errorf("%s: a %s link to %.3f s seeked its player to %.3f s", s.Article, s.Kind, s.Start, s.Seeked)
		}
		if !s.Played {
			t.Errorf("%s: the %s link at %.3f s did not start its player", s.Article, s.Kind, s.Start)
		}
		if s.Kind == "soundbites" && (s.PauseAt < s.End-0.05 || s.PauseAt > s.End+0.3) {
			t.Errorf("%s: the soundbite %.3f–%.3f s paused at %.3f s, want its end (up to 300 ms late)", s.Article, s.Start, s.End, s.PauseAt)
		}
		if len(s.Others) > 0 {
			t.Errorf("%s: clicking a %s link moved other players: %q", s.Article, s.Kind, s.Others)
		}
	}

	// Without JavaScript the same links are media fragments on the audio file, and clicking one
	// goes there.
	var wantLinks []pageLink
	for _, a := range r.JS.Audios { // page order
		e := published[a.Article]
		for _, c := range e.Chapters {
			wantLinks = append(wantLinks, pageLink{a.Article, "chapters", srv.URL + "/episodes/" + e.Audio.File + "#t=" + pageSeconds(c.Start)})
		}
		for _, b := range e.Soundbites {
			wantLinks = append(wantLinks, pageLink{a.Article, "soundbites", srv.URL + "/episodes/" + e.Audio.File + "#t=" + pageSeconds(b.Start) + "," + pageSeconds(b.Start+b.Duration)})
		}
	}
	if !slices.Equal(r.NoJS.Links, wantLinks) {
		t.Errorf("without JavaScript the links are\n%v\nwant\n%v", r.NoJS.Links, wantLinks)
	}
	if !slices.Equal(r.JS.Links, wantLinks) {
		t.Errorf("with JavaScript the links' hrefs are\n%v\nwant the same media fragments\n%v", r.JS.Links, wantLinks)
	}
	if len(wantLinks) > 0 {
		var first string
		for _, l := range wantLinks {
			if l.Kind == "soundbites" {
				first = l.Href
				break
			}
		}
		if r.NoJS.Navigated != first {
			t.Errorf("without JavaScript a click on the first soundbite went to %q, want %q", r.NoJS.Navigated, first)
		}
		_, frag, _ := strings.Cut(first, "#t=")
		startText, _, _ := strings.Cut(frag, ",")
		start, err := strconv.ParseFloat(startText, 64)
		if err != nil {
			t.Fatalf("soundbite link %q: %v", first, err)
		}
		if f := r.NoJS.Fragment; f.Error != "" || math.Abs(f.CurrentTime-start) > 0.1 {
			t.Errorf("without JavaScript the soundbite link opened the audio at %.3f s (%s), want %.3f s", f.CurrentTime, f.Error, start)
		}
	}

	// Accessibility, as Chromium's accessibility tree has it.
	for _, c := range []struct {
		name string
		run  pageRun
	}{{"with JavaScript", r.JS}, {"without JavaScript", r.NoJS}} {
		name, run := c.name, c.run
		t.Logf("%s: %d links, buttons and players in Chromium's accessibility tree; headings %v", name, run.Named, run.Headings)
		if run.Named == 0 || len(run.Unnamed) > 0 {
			t.Errorf("%s: %d links, buttons and players checked; without an accessible name: %q", name, run.Named, run.Unnamed)
		}
		if len(run.Headings) == 0 || run.Headings[0] != 1 {
			t.Errorf("%s: headings %v: want the first to be the one h1", name, run.Headings)
		}
		ones := 0
		for i, l := range run.Headings {
			if l == 1 {
				ones++
			}
			if i > 0 && l > run.Headings[i-1]+1 {
				t.Errorf("%s: heading levels %v skip from %d to %d", name, run.Headings, run.Headings[i-1], l)
			}
		}
		if ones != 1 {
			t.Errorf("%s: %d h1 headings, want 1", name, ones)
		}
	}
	if len(r.JS.Contrast) > 0 {
		t.Errorf("text under 4.5:1 contrast in the light scheme: %q", r.JS.Contrast)
	}
	if len(r.Dark) > 0 {
		t.Errorf("text under 4.5:1 contrast in the dark scheme: %q", r.Dark)
	}
	if r.Narrow.ScrollWidth > r.Narrow.ClientWidth || r.Narrow.ClientWidth == 0 {
		t.Errorf("at 320 px the page is %d px wide (viewport %d): it scrolls sideways", r.Narrow.ScrollWidth, r.Narrow.ClientWidth)
	}
	k := r.JS.Keyboard
	t.Logf("keyboard: first Tab on %s, %d Tabs to the first soundbite, Enter seeked to %.3f", k.First, k.Tabs, k.Seeked)
	if !strings.Contains(k.First, "skip") {
		t.Errorf("the first Tab focuses %s, want the skip link", k.First)
	}
	if len(k.NoOutline) > 0 {
		t.Errorf("links focused by the keyboard without a visible outline: %q", k.NoOutline)
	}
	if k.Tabs == 0 || math.Abs(k.Seeked-k.Start) > 0.1 {
		t.Errorf("keyboard: Enter on a soundbite link (after %d Tabs) seeked to %.3f s, want %.3f s", k.Tabs, k.Seeked, k.Start)
	}
}

// pageRequested says whether a request went to a URL that starts with prefix.
func pageRequested(requests []string, prefix string) bool {
	return slices.ContainsFunc(requests, func(u string) bool { return strings.HasPrefix(u, prefix) })
}
