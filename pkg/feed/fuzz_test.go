package feed

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/websafe"
)

// FuzzParseShow: podcast.yaml is edited by hand. Any input either parses into a show that
// survives ShowTemplate and renders to a well-formed feed, or fails with ConfigErrors only.
func FuzzParseShow(f *testing.F) {
	f.Add(ShowTemplate(sampleShow()))
	f.Add([]byte("title: T\ndescription: D\nbase_url: https://x.example\nauthor: A\nlanguage: en\ncategories: [Comedy]\nexplicit: false\nowner: {email: a@x.example}\n"))
	f.Add([]byte("title: [unclosed\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Add([]byte("persons:\n  - name: X\n    role: guest\n    bogus: 1\n"))
	pushed := sampleShow()
	pushed.Push = "s3://podcast.example.com/show"
	f.Add(ShowTemplate(pushed))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseShow("podcast.yaml", data)
		if err != nil {
			if s != nil {
				t.Fatal("a show and an error")
			}
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			for _, e := range errs {
				var ce *ConfigError
				if !errors.As(e, &ce) || ce.File != "podcast.yaml" || ce.Msg == "" {
					t.Fatalf("not a ConfigError naming the file: %#v", e)
				}
			}
			return
		}
		again, err := ParseShow("podcast.yaml", ShowTemplate(s))
		if err != nil {
			t.Fatalf("ShowTemplate of a valid show does not parse: %v\n%s", err, ShowTemplate(s))
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip changed the show:\n%#v\n%#v", s, again)
		}
		var b bytes.Buffer
		if err := Render(&b, s, nil); err != nil {
			t.Fatalf("a valid show does not render: %v", err)
		}
		if _, err := Check(b.Bytes(), nil); err != nil {
			t.Fatalf("the feed of a valid show is not well-formed: %v\n%s", err, b.Bytes())
		}
	})
}

// FuzzCheck: feed check reads any file a user points it at.
func FuzzCheck(f *testing.F) {
	var b bytes.Buffer
	if err := Render(&b, sampleShow(), sampleEpisodes()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`<rss version="2.0"><channel><item><enclosure url="https://x/a.mp3" length="1" type="audio/mpeg"/><podcast:soundbite startTime="1e9" duration="-0"/></item></channel></rss>`))
	f.Add([]byte(`<rss xmlns:itunes="x"><channel><itunes:category text="News"><itunes:category text="A"><itunes:category/></itunes:category></itunes:category></channel></rss>`))
	site := sampleSite(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		probs, err := Check(data, site)
		if err != nil {
			if !errors.Is(err, ErrNotXML) {
				t.Fatalf("error %v does not wrap ErrNotXML", err)
			}
			return
		}
		for _, p := range probs {
			if p.Line < 1 || p.Col < 1 || p.Where == "" || p.Msg == "" {
				t.Fatalf("problem without a place or a message: %#v", p)
			}
		}
	})
}

// FuzzParseChapters: the --chapters file comes from the user. Whatever parses writes back and
// parses to the same chapters.
func FuzzParseChapters(f *testing.F) {
	ep := sampleEpisodes()[0]
	data, err := ChaptersJSON(&ep)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version":"1.2.0","chapters":[{"startTime":0.0005},{"startTime":"3"},{"startTime":1,"endTime":null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		chs, err := ParseChapters(data)
		if err != nil {
			if !errors.Is(err, ErrChapters) {
				t.Fatalf("error %v does not wrap ErrChapters", err)
			}
			return
		}
		out, err := ChaptersJSON(&Episode{Slug: "x", Chapters: chs})
		if err != nil {
			t.Fatalf("parsed chapters do not write: %v", err)
		}
		back, err := ParseChapters(out)
		if err != nil || !reflect.DeepEqual(back, chs) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, chs, back)
		}
	})
}

// FuzzRender: titles, notes and names come from users; the feed must stay well-formed XML, keep
// every item, and carry no active markup in its notes and descriptions.
func FuzzRender(f *testing.F) {
	f.Add("Title & <b>", "notes ]]> <p>", "Ada", "bite", "slug")
	f.Add("\x00\x1b\xff\xfe", "\x01]]>\x02", "\u2028", "\ufffe", "a/b c")
	f.Add("t", `<a href="&#106;avascript:alert(1)">x</a><img src=x onerror=alert(1)>`, "Ada", "b", "s")
	f.Fuzz(func(t *testing.T, title, notes, person, bite, slug string) {
		s := sampleShow()
		s.Title = "Show " + title
		eps := sampleEpisodes()
		eps[0].Title = "Ep " + title
		eps[0].Slug = "s" + slug
		eps[0].NotesHTML = notes
		eps[0].Description = notes
		eps[0].Persons = []Person{{Name: "P " + person}}
		eps[0].Soundbites = []Soundbite{{Start: time.Second, Duration: time.Second, Title: bite}}
		if len(eps[0].Description) > MaxDescriptionBytes || len(person) > MaxPersonName || strings.ContainsAny(person, "\x00") {
			return
		}
		var b bytes.Buffer
		if err := Render(&b, s, eps); err != nil {
			if errors.Is(err, ErrEpisode) { // e.g. a person name with a control character
				return
			}
			t.Fatal(err)
		}
		root, err := parseTree(b.Bytes())
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, b.Bytes())
		}
		items := root.first("", "channel").all("", "item")
		if n := len(items); n != 3 {
			t.Fatalf("%d items, want 3", n)
		}
		// Nothing in the notes or the description may run in an app that shows them as HTML.
		for _, it := range items {
			for _, tag := range []*element{it.first("", "description"), it.first(NamespaceContent, "encoded")} {
				if tag == nil {
					continue
				}
				if f := websafe.Find(tag.text.String(), websafe.Options{}); len(f) > 0 {
					t.Fatalf("active markup %v in %q", f, tag.text.String())
				}
			}
		}
	})
}
