package feed

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/spacecast/spacecast/internal/testutil"
)

// lineOf returns the 1-based line of the nth (1-based) occurrence of sub in text, or 0.
func lineOf(text, sub string, nth int) int {
	off := 0
	for i := 0; i < nth; i++ {
		j := strings.Index(text[off:], sub)
		if j < 0 {
			return 0
		}
		off += j
		if i < nth-1 {
			off += len(sub)
		}
	}
	return strings.Count(text[:off], "\n") + 1
}

func configErrors(t *testing.T, err error) []*ConfigError {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []*ConfigError
	for _, e := range errs {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("%v is not a *ConfigError", e)
		}
		if !errors.Is(e, ErrConfig) {
			t.Errorf("%v does not wrap ErrConfig", e)
		}
		out = append(out, ce)
	}
	return out
}

func TestParseShowTemplateRoundTrip(t *testing.T) {
	minimal := &Show{Title: "T", Description: "D", BaseURL: "https://x.example", Author: "A", Language: "en",
		Categories: []string{"Comedy"}, Owner: Owner{Email: "o@x.example"}, Type: "serial"}
	tricky := sampleShow()
	tricky.Title = "true"
	tricky.Description = "  leading spaces: a colon, # not a comment\n- a dash\n\n\"quoted\" 'single' \\ backslash\ttab\n"
	tricky.Author = "null"
	tricky.Copyright = "~"
	tricky.Link = "https://example.com/show?x=1&y=2"
	tricky.Owner.Name = "123"
	tricky.Persons = []Person{{Name: "Zoë 'Z' Ünïcode: 🎙", Role: "Cover Art Designer", Group: "visuals"}}
	tricky.Push = "s3://podcast.example.com/show"
	for name, s := range map[string]*Show{"every setting": sampleShow(), "only the required ones": minimal, "values YAML would misread": tricky} {
		t.Run(name, func(t *testing.T) {
			text := ShowTemplate(s)
			got, err := ParseShow("podcast.yaml", text)
			if err != nil {
				t.Fatalf("ParseShow(ShowTemplate(s)): %v\n%s", err, text)
			}
			if !reflect.DeepEqual(got, s) {
				t.Errorf("round trip changed the show:\ngot  %#v\nwant %#v\n%s", got, s, text)
			}
			if !bytes.Equal(ShowTemplate(got), text) {
				t.Error("ShowTemplate is not deterministic")
			}
		})
	}
}

func TestParseShowDefaults(t *testing.T) {
	s := sampleShow()
	s.Type = ""
	got, err := ParseShow("podcast.yaml", bytes.Replace(ShowTemplate(s), []byte("type: episodic\n"), nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != "episodic" {
		t.Errorf("type without a value is %q, want episodic", got.Type)
	}
}

func TestConfigErrorFormat(t *testing.T) {
	e := &ConfigError{File: "podcast.yaml", Line: 7, Field: "language", Msg: `"english" is not a language tag (use en)`}
	if got, want := e.Error(), `podcast.yaml:7: language: "english" is not a language tag (use en)`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &ConfigError{File: "site/podcast.yaml", Field: "title", Msg: "is missing"}
	if got, want := e.Error(), "site/podcast.yaml: title: is missing"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseShowErrors(t *testing.T) {
	base := string(ShowTemplate(sampleShow()))
	tests := []struct {
		name     string
		old, new string // replace old by new in the valid template
		field    string
		at       string // the problem is on the line of this text in the changed file ("" = no line)
		msg      string
	}{
		{"a misspelt key is named with its line and the key it resembles", "language: en-GB", "langauge: en-GB", "langauge", "langauge: en-GB", "did you mean language?"},
		{"a push target that is not an s3 URL", "locked: true", "locked: true\npush: https://bucket.example.com", "push", "push:", "is not an s3://BUCKET/PREFIX URL"},
		{"a push target with credentials is refused", "locked: true", "locked: true\npush: s3://KEY:SECRET@bucket/x", "push", "push:", "holds credentials"},
		{"an unknown key is an error, not ignored", "locked: true", "locked: true\nfunding: https://x", "funding", "funding:", "is not a known setting"},
		{"a key given twice names both lines", "author: Ada Lovelace", "author: Ada Lovelace\nauthor: Someone", "author", "author: Someone", "is set twice"},
		{"a language that is not a BCP 47 tag", "language: en-GB", "language: english", "language", "language: english", "is not a language tag"},
		{"base_url over http", "base_url: https://podcast.example.com/show", "base_url: http://podcast.example.com/show", "base_url", "base_url:", "must use https"},
		{"base_url with a trailing slash", "base_url: https://podcast.example.com/show", "base_url: https://podcast.example.com/show/", "base_url", "base_url:", "trailing slash"},
		{"base_url with a query", "base_url: https://podcast.example.com/show", "base_url: https://podcast.example.com/show?a=1", "base_url", "base_url:", "has a query"},
		{"base_url that is not a URL", "base_url: https://podcast.example.com/show", "base_url: podcast.example.com", "base_url", "base_url:", "not an absolute URL"},
		{"a missing title has no line", "title: Spacecast Test Show & Friends\n", "", "title", "", "is missing"},
		{"an empty title", "title: Spacecast Test Show & Friends", `title: ""`, "title", "title:", "is empty"},
		{"a description longer than Apple takes", "description: |-", "description: " + strings.Repeat("x", 4001) + "\nx_description: |-", "description", "description: xxx", "4001 bytes"},
		{"a category outside Apple's list", "  - Technology\n", "  - Podcasting\n", "categories[0]", "- Podcasting", "is not an Apple category"},
		{"a category with the wrong capitals gets the right spelling", "  - Technology\n", "  - technology\n", "categories[0]", "- technology", `use "Technology"`},
		{"a subcategory given alone names its parent", "  - Technology\n", "  - Tech News\n", "categories[0]", "- Tech News", `use "News > Tech News"`},
		{"a subcategory of the wrong category", "  - News > Tech News", "  - News > Gadgets", "categories[1]", "- News > Gadgets", "not a subcategory of News"},
		{"a category listed twice", "  - Technology\n", "  - Technology\n  - Technology\n", "categories[1]", "  - Technology\n  - News", "listed twice"},
		{"no categories", "categories:\n  - Technology\n  - News > Tech News\n  - Society & Culture > Documentary\n", "categories: []\n", "categories", "categories: []", "is empty"},
		{"categories as a single value", "categories:\n  - Technology\n  - News > Tech News\n  - Society & Culture > Documentary\n", "categories: Technology\n", "categories", "categories: Technology", "must be a list"},
		{"explicit must be true or false", "explicit: false", "explicit: yes", "explicit", "explicit: yes", "is not true or false"},
		{"explicit is required", "explicit: false\n", "", "explicit", "", "is missing"},
		{"an owner without an email", "  email: ada@example.com\n", "", "owner.email", "owner:", "is missing"},
		{"an owner email with a name in it", "  email: ada@example.com", "  email: Ada <ada@example.com>", "owner.email", "email: Ada", "plain email address"},
		{"a misspelt owner key", "  email: ada@example.com", "  email: ada@example.com\n  mail: x@example.com", "owner.mail", "mail: x@", "did you mean email?"},
		{"an image outside the site folder", "image: artwork.jpg", "image: ../artwork.jpg", "image", "image: ../", "not a path inside the site folder"},
		{"an image that is not JPEG or PNG", "image: artwork.jpg", "image: artwork.gif", "image", "image: artwork.gif", "not a .jpg or .png"},
		{"a show type Apple does not have", "type: episodic", "type: weekly", "type", "type: weekly", "is not a show type"},
		{"a guid that is not a UUID", "guid: 6637e728-aafa-5991-a4be-398b319c9720", "guid: show-1", "guid", "guid: show-1", "is not a UUID"},
		{"a person's role outside the taxonomy", "    role: Co-Host", "    role: Sidekick", "persons[1].role", "role: Sidekick", "not in group \"Cast\""},
		{"a person's role in another group names that group", "    role: Co-Host", "    role: Composer", "persons[1].role", "role: Composer", `belongs to group "Audio Post-Production"`},
		{"a person's picture over http", "    img: https://podcast.example.com/ada.jpg", "    img: http://podcast.example.com/ada.jpg", "persons[0].img", "img: http://", "must use https"},
		{"a person without a name", "  - name: Charles Babbage\n", "  - name: \"\"\n", "persons[1].name", "name: \"\"", "is empty"},
		{"a misspelt person key", "    role: Co-Host", "    role: Co-Host\n    hrf: https://x.example", "persons[1].hrf", "hrf:", "did you mean href?"},
		{"a YAML syntax error keeps YAML's line", "author: Ada Lovelace", "author: Ada: Lovelace", "", "author: Ada: Lovelace", "is not valid YAML"},
		{"a title holding a control character XML cannot carry", "title: Spacecast Test Show & Friends", `title: "Bell \a"`, "title", "title: \"Bell", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.old) {
				t.Fatalf("the template has no %q", tt.old)
			}
			text := strings.Replace(base, tt.old, tt.new, 1)
			s, err := ParseShow("podcast.yaml", []byte(text))
			if err == nil {
				t.Fatalf("ParseShow accepted:\n%s", text)
			}
			if s != nil {
				t.Error("ParseShow returned a show with an error")
			}
			errs := configErrors(t, err)
			want := 0
			if tt.at != "" {
				want = lineOf(text, tt.at, 1)
			}
			for _, e := range errs {
				if e.Field == tt.field && e.Line == want && strings.Contains(e.Msg, tt.msg) && e.File == "podcast.yaml" {
					return
				}
			}
			t.Errorf("no error for field %q on line %d saying %q; got:\n%v", tt.field, want, tt.msg, err)
		})
	}
}

func TestParseShowReportsEveryProblem(t *testing.T) {
	text := "title: T\nlanguage: english\nbase_url: http://x.example\nexplicit: maybe\ncategories: [Nope]\nbogus: 1\n"
	_, err := ParseShow("podcast.yaml", []byte(text))
	errs := configErrors(t, err)
	var got []string
	for _, e := range errs {
		got = append(got, e.Field)
	}
	// In line order, then the missing keys.
	want := []string{"language", "base_url", "explicit", "categories[0]", "bogus", "description", "author", "owner"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields %v, want %v; errors:\n%v", got, want, err)
	}
	if !strings.HasPrefix(err.Error(), "podcast.yaml:2: language: ") {
		t.Errorf("the joined error starts %q", strings.SplitN(err.Error(), "\n", 2)[0])
	}
}

func TestParseShowNotAMapping(t *testing.T) {
	for name, text := range map[string]string{"an empty file": "", "only a comment": "# nothing\n", "a list": "- a\n- b\n", "a scalar": "hello\n"} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseShow("podcast.yaml", []byte(text))
			if err == nil {
				t.Fatal("accepted")
			}
			configErrors(t, err)
		})
	}
}

func TestLoadShow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "podcast.yaml")
	if err := os.WriteFile(path, ShowTemplate(sampleShow()), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadShow(path)
	if err != nil || !reflect.DeepEqual(s, sampleShow()) {
		t.Fatalf("LoadShow: %v %#v", err, s)
	}
	if err := os.WriteFile(path, []byte("title: T\nlanguage: xx-\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadShow(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":2: language: ") {
		t.Errorf("errors name the file by its path: %v", err)
	}
	if _, err := LoadShow(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

func TestShowURLs(t *testing.T) {
	s := &Show{BaseURL: "https://example.com/my show"}
	if got := s.FeedURL(); got != "https://example.com/my show/feed.xml" {
		t.Errorf("FeedURL %q", got)
	}
	if got := s.EpisodeURL("épisode 1?.mp3"); got != "https://example.com/my show/episodes/%C3%A9pisode%201%3F.mp3" {
		t.Errorf("EpisodeURL %q", got)
	}
	if got := s.SiteURL("art/cover #1.png"); got != "https://example.com/my show/art/cover%20%231.png" {
		t.Errorf("SiteURL %q", got)
	}
	// The same id as pkg/site's page gives the episode's entry.
	if got := s.EpisodePageURL("ep_1-b.c d"); got != "https://example.com/my show/#ep-ep_1-b-c-d" {
		t.Errorf("EpisodePageURL %q", got)
	}
}

func TestShowGUID(t *testing.T) {
	// The examples of the Podcasting 2.0 guid tag.
	for url, want := range map[string]string{
		"https://mp3s.nashownotes.com/pc20rss.xml": "917393e3-1b1e-5cef-ace4-edaa54e1f810",
		"http://mp3s.nashownotes.com/pc20rss.xml/": "917393e3-1b1e-5cef-ace4-edaa54e1f810",
		"podnews.net/rss":                          "9b024349-ccf0-5f69-a609-6b82873eab3c",
		"https://podnews.net/rss//":                "9b024349-ccf0-5f69-a609-6b82873eab3c",
		// What the hand-rolled UUIDv5 before google/uuid gave: published feeds keep their GUIDs.
		"https://podcast.example.com/feed.xml":           "d8582db3-a7c6-50a5-a509-a29f7ddd6cec",
		"https://podcast.example.com/town-hall/feed.xml": "ce049069-7d32-5282-b6de-3a52f2acef9e",
		"https://例え.jp/ポッドキャスト/feed.xml":                 "c55ead75-e7ee-5404-9146-abc3d42a4a94",
		"": "c9c7bad3-4712-514e-9ebd-d1e208fa1b76",
	} {
		if got := ShowGUID(url); got != want {
			t.Errorf("ShowGUID(%q) = %s, want %s", url, got, want)
		}
	}
	// Python's uuid.uuid5 as an independent implementation.
	urls := []string{"https://podcast.example.com/show/feed.xml", "https://例え.jp/ポッドキャスト/feed.xml", "https://x.example/a%20b/feed.xml"}
	script := "import sys, uuid\nns = uuid.UUID('ead4c236-bf58-58c6-a2c6-a6b28d128cb6')\nfor u in sys.argv[1:]:\n    print(uuid.uuid5(ns, u.split('://', 1)[-1].rstrip('/')))\n"
	out, _ := testutil.Run(t, "python3", append([]string{"-c", script}, urls...)...)
	want := strings.Fields(string(out))
	for i, u := range urls {
		if got := ShowGUID(u); i >= len(want) || got != want[i] {
			t.Errorf("ShowGUID(%q) = %s, python uuid5 says %v", u, got, want)
		}
	}
}

func pngOf(t testing.TB, w, h int, gray bool) []byte {
	t.Helper()
	var img image.Image
	if gray {
		img = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		img = image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.RGBA{10, 20, 30, 255}, color.RGBA{200, 100, 0, 255}})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestShowCheckImage(t *testing.T) {
	s := sampleShow()
	site := fstest.MapFS{"artwork.jpg": {Data: jpegOf(t, 1400, 1400)}, "small.png": {Data: pngOf(t, 600, 600, false)}}
	if err := s.CheckImage(site, "podcast.yaml"); err != nil {
		t.Errorf("good artwork: %v", err)
	}
	s.Image = "small.png"
	err := s.CheckImage(site, "podcast.yaml")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "image" || !strings.Contains(err.Error(), "small.png: it is a 600x600 px PNG, smaller than 1400x1400") {
		t.Errorf("small artwork: %v", err)
	}
	s.Image = "none.jpg"
	if err := s.CheckImage(site, "podcast.yaml"); err == nil || !strings.Contains(err.Error(), "podcast.yaml: image: none.jpg cannot be opened") {
		t.Errorf("missing artwork: %v", err)
	}
	s.Image = ""
	if err := s.CheckImage(site, "podcast.yaml"); err != nil {
		t.Errorf("no artwork set: %v", err)
	}
}
