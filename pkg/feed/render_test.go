package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/golden"
)

func render(t testing.TB, s *Show, eps []Episode) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, s, eps); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return b.Bytes()
}

func TestRenderGolden(t *testing.T) {
	golden.Assert(t, render(t, sampleShow(), sampleEpisodes()), "feed")
}

func TestRenderDeterministic(t *testing.T) {
	s := sampleShow()
	eps := sampleEpisodes()
	before := sampleEpisodes()
	first := render(t, s, eps)
	if !reflect.DeepEqual(eps, before) {
		t.Fatal("Render changed the episodes it was given")
	}
	if again := render(t, s, eps); !bytes.Equal(first, again) {
		t.Fatal("two renders of the same input differ")
	}
	reversed := make([]Episode, len(eps))
	for i := range eps {
		reversed[len(eps)-1-i] = eps[i]
	}
	if got := render(t, s, reversed); !bytes.Equal(first, got) {
		t.Fatalf("the episodes' input order changed the output:\n%s", golden.Diff(first, got))
	}
	// A time zone other than UTC changes nothing: dates are written in UTC.
	local := sampleEpisodes()
	for i := range local {
		local[i].PubDate = local[i].PubDate.In(time.FixedZone("X", -7*3600))
	}
	if got := render(t, s, local); !bytes.Equal(first, got) {
		t.Fatalf("the dates' time zone changed the output:\n%s", golden.Diff(first, got))
	}
	// No clock: a feed rendered a second later is the same.
	time.Sleep(1100 * time.Millisecond)
	if got := render(t, s, eps); !bytes.Equal(first, got) {
		t.Fatal("the output depends on the time of rendering")
	}
}

func TestRenderLeavesOutUnpublished(t *testing.T) {
	out := render(t, sampleShow(), sampleEpisodes())
	if bytes.Contains(out, []byte("Withdrawn")) || bytes.Contains(out, []byte("withdrawn.mp3")) {
		t.Error("the unpublished episode is in the feed")
	}
	if n := bytes.Count(out, []byte("<item>")); n != 3 {
		t.Errorf("%d items, want the 3 published episodes", n)
	}
}

func TestRenderNoEpisodes(t *testing.T) {
	out := render(t, sampleShow(), nil)
	for _, tag := range []string{"<pubDate>", "<lastBuildDate>", "<item>"} {
		if bytes.Contains(out, []byte(tag)) {
			t.Errorf("a feed without episodes has %s (it must not invent a date)", tag)
		}
	}
	if _, err := gofeed.NewParser().Parse(bytes.NewReader(out)); err != nil {
		t.Errorf("gofeed cannot read an empty feed: %v", err)
	}
}

func TestRenderRejects(t *testing.T) {
	good := func() []Episode { return sampleEpisodes()[:1] }
	tests := []struct {
		name   string
		show   func(*Show)
		change func([]Episode) []Episode
		want   error
		msg    string
	}{
		{"a show without a title cannot make a feed", func(s *Show) { s.Title = "" }, nil, ErrShow, "title"},
		{"a show without a base URL has nowhere to point", func(s *Show) { s.BaseURL = "" }, nil, ErrShow, "base_url"},
		{"a category outside Apple's list is refused", func(s *Show) { s.Categories = []string{"Podcasting"} }, nil, ErrShow, "categories"},
		{"an episode without a GUID would get a new identity", nil, func(e []Episode) []Episode { e[0].GUID = ""; return e }, ErrEpisode, "no GUID"},
		{"an episode without a date would be dated now", nil, func(e []Episode) []Episode { e[0].PubDate = time.Time{}; return e }, ErrEpisode, "publication date"},
		{"an episode without a title", nil, func(e []Episode) []Episode { e[0].Title = " "; return e }, ErrEpisode, "no title"},
		{"an enclosure needs a length", nil, func(e []Episode) []Episode { e[0].Audio.Bytes = 0; return e }, ErrEpisode, "length 0"},
		{"an enclosure needs a MIME type", nil, func(e []Episode) []Episode { e[0].Audio.Type = ""; return e }, ErrEpisode, "MIME"},
		{"an episode needs a duration", nil, func(e []Episode) []Episode { e[0].Audio.Duration = 0; return e }, ErrEpisode, "duration"},
		{"a soundbite past the end of the audio", nil, func(e []Episode) []Episode {
			e[0].Soundbites = []Soundbite{{Start: e[0].Audio.Duration - time.Second, Duration: 2 * time.Second}}
			return e
		}, ErrEpisode, "ends after the audio"},
		{"a soundbite whose end overflows int64 still ends after the audio", nil, func(e []Episode) []Episode {
			e[0].Soundbites = []Soundbite{{Start: time.Second, Duration: math.MaxInt64 - time.Millisecond}}
			return e
		}, ErrEpisode, "ends after the audio"},
		{"an episode claiming 1e18 ns (31 years) of audio", nil, func(e []Episode) []Episode { e[0].Audio.Duration = 1e18; return e }, ErrEpisode, "more than 100 hours"},
		{"a soundbite of no length", nil, func(e []Episode) []Episode { e[0].Soundbites = []Soundbite{{Start: 0}}; return e }, ErrEpisode, "soundbite 1"},
		{"two episodes with one GUID", nil, func(e []Episode) []Episode {
			two := append(e, e[0])
			two[1].Slug = "copy"
			return two
		}, ErrEpisode, "same GUID"},
		{"an unknown episode type", nil, func(e []Episode) []Episode { e[0].Type = "special"; return e }, ErrEpisode, "type"},
		{"a description over Apple's 4000 bytes", nil, func(e []Episode) []Episode { e[0].Description = strings.Repeat("x", 4001); return e }, ErrEpisode, "4001 bytes"},
		{"a person with a role outside the taxonomy", nil, func(e []Episode) []Episode { e[0].Persons = []Person{{Name: "X", Role: "wizard"}}; return e }, ErrEpisode, "wizard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sampleShow()
			if tt.show != nil {
				tt.show(s)
			}
			eps := good()
			if tt.change != nil {
				eps = tt.change(eps)
			}
			var b bytes.Buffer
			err := Render(&b, s, eps)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Render error %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
			if b.Len() != 0 {
				t.Errorf("Render wrote %d bytes before failing", b.Len())
			}
		})
	}
}

// sampleSite is the site folder for the sample feed: artwork and files of the sizes the
// episodes record.
func sampleSite(t testing.TB) fstest.MapFS {
	t.Helper()
	site := fstest.MapFS{"artwork.jpg": {Data: jpegOf(t, 1400, 1400)}}
	for _, ep := range sampleEpisodes() {
		if ep.Unpublished {
			continue
		}
		site["episodes/"+ep.Audio.File] = &fstest.MapFile{Data: make([]byte, ep.Audio.Bytes)}
		if ep.ChaptersFile != "" {
			data, err := ChaptersJSON(&ep)
			if err != nil {
				t.Fatal(err)
			}
			site["episodes/"+ep.ChaptersFile] = &fstest.MapFile{Data: data}
		}
		if ep.Transcript != nil {
			site["episodes/"+ep.Transcript.File] = &fstest.MapFile{Data: []byte("WEBVTT\n")}
		}
	}
	return site
}

var (
	jpegCache   = map[[2]int][]byte{}
	jpegCacheMu sync.Mutex
)

// jpegOf encodes a w x h RGB JPEG (cached: large ones take a moment).
func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	jpegCacheMu.Lock()
	defer jpegCacheMu.Unlock()
	if b, ok := jpegCache[[2]int{w, h}]; ok {
		return b
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y += 7 {
		for x := 0; x < w; x += 7 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 50}); err != nil {
		t.Fatal(err)
	}
	jpegCache[[2]int{w, h}] = b.Bytes()
	return b.Bytes()
}

func TestRenderChecksClean(t *testing.T) {
	out := render(t, sampleShow(), sampleEpisodes())
	probs, err := Check(out, sampleSite(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("our own feed has a problem: %s", p)
	}
	// The 1,000-episode feed of the benchmark, without files.
	big := render(t, sampleShow(), manyEpisodes(1000))
	probs, err = Check(big, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range probs {
		if i == 5 {
			break
		}
		t.Errorf("the 1000-episode feed has a problem: %s", p)
	}
}

func TestRenderXmllint(t *testing.T) {
	testutil.Require(t, "xmllint")
	path := filepath.Join(t.TempDir(), "feed.xml")
	if err := os.WriteFile(path, render(t, sampleShow(), sampleEpisodes()), 0o644); err != nil {
		t.Fatal(err)
	}
	// --noout: parse only; a well-formedness error makes xmllint exit non-zero.
	_, stderr := testutil.Run(t, "xmllint", "--noout", "--nonet", path)
	if len(stderr) > 0 {
		t.Errorf("xmllint warned:\n%s", stderr)
	}
}

// TestRenderGofeed parses our feed with github.com/mmcdole/gofeed and checks that every field
// we write reads back as written; podcast: tags come back as extensions.
func TestRenderGofeed(t *testing.T) {
	s := sampleShow()
	eps := sampleEpisodes()
	out := render(t, s, eps)
	f, err := gofeed.NewParser().Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("gofeed: %v", err)
	}
	eq := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: gofeed read %#v, we wrote %#v", what, got, want)
		}
	}
	eq("feed type", f.FeedType+" "+f.FeedVersion, "rss 2.0")
	eq("title", f.Title, s.Title)
	eq("description", f.Description, s.Description)
	eq("link", f.Link, s.BaseURL+"/")
	eq("self link", f.FeedLink, s.FeedURL())
	eq("language", f.Language, s.Language)
	eq("copyright", f.Copyright, s.Copyright)
	eq("generator", f.Generator, Generator)
	eq("image", f.Image.URL, s.BaseURL+"/artwork.jpg")
	eq("updated", f.UpdatedParsed.Equal(t0.Add(7*24*time.Hour)), true)
	eq("published", f.PublishedParsed.Equal(t0.Add(7*24*time.Hour)), true)
	it := f.ITunesExt
	eq("itunes:author", it.Author, s.Author)
	eq("itunes:explicit", it.Explicit, "false")
	eq("itunes:image", it.Image, s.BaseURL+"/artwork.jpg")
	eq("itunes:type", it.Type, "episodic")
	eq("itunes:owner", *it.Owner, ext.ITunesOwner{Name: "Ada L.", Email: "ada@example.com"})
	var cats []string
	for _, c := range it.Categories {
		name := c.Text
		if c.Subcategory != nil {
			name += CategorySeparator + c.Subcategory.Text
		}
		cats = append(cats, name)
	}
	eq("itunes:category", cats, s.Categories)

	pc := f.Extensions["podcast"]
	eq("podcast:guid", pc["guid"][0].Value, s.GUID)
	eq("podcast:locked", pc["locked"][0].Value, "yes")
	eq("podcast:locked owner", pc["locked"][0].Attrs["owner"], s.Owner.Email)
	eq("channel podcast:person", readPersons(pc["person"]), s.Persons)

	// Items, newest first.
	want := []Episode{eps[2], eps[0], eps[1]}
	if len(f.Items) != len(want) {
		t.Fatalf("gofeed read %d items, want %d", len(f.Items), len(want))
	}
	for i, item := range f.Items {
		ep := want[i]
		t.Run(ep.Slug, func(t *testing.T) {
			eq := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: gofeed read %#v, we wrote %#v", what, got, want)
				}
			}
			eq("title", item.Title, ep.Title)
			eq("guid", item.GUID, ep.GUID)
			eq("link", item.Link, s.EpisodePageURL(ep.Slug))
			eq("description", item.Description, ep.Description)
			eq("content:encoded", item.Content, ep.NotesHTML)
			eq("pubDate", item.PublishedParsed != nil && item.PublishedParsed.Equal(ep.PubDate), true)
			eq("enclosures", len(item.Enclosures), 1)
			enc := item.Enclosures[0]
			eq("enclosure url", enc.URL, s.EpisodeURL(ep.Audio.File))
			eq("enclosure length", enc.Length, strconv.FormatInt(ep.Audio.Bytes, 10))
			eq("enclosure type", enc.Type, ep.Audio.Type)
			ie := item.ITunesExt
			eq("itunes:duration", ie.Duration, strconv.Itoa(int(ep.Audio.Duration.Round(time.Second).Seconds())))
			explicit := s.Explicit
			if ep.Explicit != nil {
				explicit = *ep.Explicit
			}
			eq("itunes:explicit", ie.Explicit, strconv.FormatBool(explicit))
			eq("itunes:author", ie.Author, s.Author)
			// gofeed v1.3.0 has no field for itunes:title; it is among the extensions.
			eq("itunes:title", item.Extensions["itunes"]["title"][0].Value, ep.Title)
			eq("itunes:episodeType", ie.EpisodeType, ep.Type)
			eq("itunes:episode", ie.Episode, numberOrEmpty(ep.Number))
			eq("itunes:season", ie.Season, numberOrEmpty(ep.Season))

			pc := item.Extensions["podcast"]
			eq("podcast:season", textOf(pc["season"]), numberOrEmpty(ep.Season))
			eq("podcast:episode", textOf(pc["episode"]), numberOrEmpty(ep.Number))
			var sbs []Soundbite
			for _, e := range pc["soundbite"] {
				start, err1 := parseSeconds(e.Attrs["startTime"])
				dur, err2 := parseSeconds(e.Attrs["duration"])
				if err1 != nil || err2 != nil {
					t.Fatalf("soundbite %v: %v %v", e.Attrs, err1, err2)
				}
				sbs = append(sbs, Soundbite{Start: start, Duration: dur, Title: e.Value})
			}
			eq("podcast:soundbite", sbs, ep.Soundbites)
			if ep.ChaptersFile != "" {
				eq("podcast:chapters url", pc["chapters"][0].Attrs["url"], s.EpisodeURL(ep.ChaptersFile))
				eq("podcast:chapters type", pc["chapters"][0].Attrs["type"], ChaptersType)
			} else {
				eq("podcast:chapters", len(pc["chapters"]), 0)
			}
			if ep.Transcript != nil {
				eq("podcast:transcript url", pc["transcript"][0].Attrs["url"], s.EpisodeURL(ep.Transcript.File))
				eq("podcast:transcript type", pc["transcript"][0].Attrs["type"], ep.Transcript.Type)
			} else {
				eq("podcast:transcript", len(pc["transcript"]), 0)
			}
			eq("podcast:person", readPersons(pc["person"]), ep.Persons)
		})
	}
}

func readPersons(es []ext.Extension) []Person {
	var out []Person
	for _, e := range es {
		out = append(out, Person{Name: e.Value, Role: e.Attrs["role"], Group: e.Attrs["group"], Img: e.Attrs["img"], Href: e.Attrs["href"]})
	}
	return out
}

func textOf(es []ext.Extension) string {
	if len(es) == 0 {
		return ""
	}
	return es[0].Value
}

func numberOrEmpty(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// python finds a Python 3 that can import podcastparser (Debian's python3-podcastparser lives
// in /usr/bin/python3's dist-packages, which a pyenv or venv python3 on PATH does not see).
func python(t *testing.T) string {
	t.Helper()
	var tried []string
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import podcastparser").Run() == nil {
			return path
		}
		tried = append(tried, path)
	}
	msg := "gPodder's podcastparser is not installed (apt-get install python3-podcastparser; tried " + strings.Join(tried, ", ") + ")"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestRenderPodcastparser parses our feed with gPodder's parser and checks the fields it knows:
// podcastparser reads RSS, iTunes and content:encoded, not the podcast: namespace.
func TestRenderPodcastparser(t *testing.T) {
	py := python(t)
	s := sampleShow()
	eps := sampleEpisodes()
	path := filepath.Join(t.TempDir(), "feed.xml")
	if err := os.WriteFile(path, render(t, s, eps), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := testutil.Run(t, py, filepath.Join("testdata", "podcastparser_dump.py"), s.FeedURL(), path)
	var got struct {
		Title, Link, Description, Type, Generator, Language string
		CoverURL                                            string     `json:"cover_url"`
		Author                                              string     `json:"itunes_author"`
		Owner                                               Owner      `json:"itunes_owner"`
		Explicit                                            bool       `json:"explicit"`
		Categories                                          [][]string `json:"itunes_categories"`
		Episodes                                            []struct {
			Title, GUID, Link, Description, Type string
			DescriptionHTML                      string `json:"description_html"`
			TotalTime                            int    `json:"total_time"`
			Published                            int64  `json:"published"`
			Explicit                             bool   `json:"explicit"`
			Author                               string `json:"itunes_author"`
			Season                               int    `json:"season"`
			Number                               int    `json:"number"`
			Enclosures                           []struct {
				URL      string `json:"url"`
				FileSize int64  `json:"file_size"`
				MimeType string `json:"mime_type"`
			}
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("podcastparser output: %v\n%s", err, out)
	}
	eq := func(what string, g, w any) {
		t.Helper()
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: podcastparser read %#v, we wrote %#v", what, g, w)
		}
	}
	eq("title", got.Title, s.Title)
	eq("link", got.Link, s.BaseURL+"/")
	eq("description", got.Description, s.Description)
	eq("type", got.Type, "episodic")
	eq("generator", got.Generator, Generator)
	eq("language", got.Language, s.Language)
	eq("cover", got.CoverURL, s.BaseURL+"/artwork.jpg")
	eq("itunes:author", got.Author, s.Author)
	eq("itunes:owner", got.Owner, Owner{Name: "Ada L.", Email: "ada@example.com"})
	eq("explicit", got.Explicit, s.Explicit)
	eq("categories", got.Categories, [][]string{{"Technology"}, {"News", "Tech News"}, {"Society & Culture", "Documentary"}})

	want := []Episode{eps[2], eps[0], eps[1]}
	if len(got.Episodes) != len(want) {
		t.Fatalf("podcastparser read %d episodes, want %d", len(got.Episodes), len(want))
	}
	for i, g := range got.Episodes {
		ep := want[i]
		eq(ep.Slug+" title", g.Title, ep.Title)
		eq(ep.Slug+" guid", g.GUID, ep.GUID)
		eq(ep.Slug+" link", g.Link, s.EpisodePageURL(ep.Slug))
		eq(ep.Slug+" description", g.Description, ep.Description)
		eq(ep.Slug+" content:encoded", g.DescriptionHTML, ep.NotesHTML)
		eq(ep.Slug+" duration", g.TotalTime, int(ep.Audio.Duration.Round(time.Second).Seconds()))
		eq(ep.Slug+" published", g.Published, ep.PubDate.Unix())
		explicit := s.Explicit
		if ep.Explicit != nil {
			explicit = *ep.Explicit
		}
		eq(ep.Slug+" explicit", g.Explicit, explicit)
		eq(ep.Slug+" itunes:author", g.Author, s.Author)
		eq(ep.Slug+" episode type", g.Type, ep.Type)
		eq(ep.Slug+" season", g.Season, ep.Season)
		eq(ep.Slug+" episode number", g.Number, ep.Number)
		if len(g.Enclosures) != 1 {
			t.Errorf("%s: %d enclosures, want 1", ep.Slug, len(g.Enclosures))
			continue
		}
		eq(ep.Slug+" enclosure url", g.Enclosures[0].URL, s.EpisodeURL(ep.Audio.File))
		eq(ep.Slug+" enclosure length", g.Enclosures[0].FileSize, ep.Audio.Bytes)
		eq(ep.Slug+" enclosure type", g.Enclosures[0].MimeType, ep.Audio.Type)
	}
}
