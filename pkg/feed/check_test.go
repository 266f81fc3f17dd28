package feed

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestCheckProblems(t *testing.T) {
	base := string(render(t, sampleShow(), sampleEpisodes()))
	ep1 := "0b5e1d8a-6c1f-4a51-9d0c-5a1e4f7a1001"
	ep2 := "0b5e1d8a-6c1f-4a51-9d0c-5a1e4f7a1002"
	tests := []struct {
		name     string
		old, new string             // replace the first old by new in our own feed
		site     func(fstest.MapFS) // change the site folder (nil: as published)
		where    string             // Problem.Where
		at       string             // the problem is on the line of this text in the changed feed
		nth      int                // ... at its nth occurrence (0 means 1)
		msg      string             // and says this
	}{
		{name: "a channel without a title", old: "    <title>Spacecast Test Show &amp; Friends</title>\n", new: "",
			where: "channel", at: "<channel>", msg: "title is missing"},
		{name: "a show description over 4000 bytes", old: "<description>A show", new: "<description>" + strings.Repeat("x", 4000) + "A show",
			where: "channel", at: "<description>xxx", msg: "Apple takes at most 4000"},
		{name: "no artwork", old: `    <itunes:image href="https://podcast.example.com/show/artwork.jpg"></itunes:image>` + "\n", new: "",
			where: "channel", at: "<channel>", msg: "itunes:image is missing"},
		{name: "artwork that is too small", site: func(s fstest.MapFS) { s["artwork.jpg"] = &fstest.MapFile{Data: jpegOf(t, 1000, 1000)} },
			where: "channel", at: "<itunes:image", msg: "itunes:image artwork.jpg: it is a 1000x1000 px JPEG, smaller than 1400x1400"},
		{name: "artwork that is a GIF under a .jpg name", site: func(s fstest.MapFS) { s["artwork.jpg"] = &fstest.MapFile{Data: []byte("GIF89a\x01\x00\x01\x00")} },
			where: "channel", at: "<itunes:image", msg: "it is a GIF"},
		{name: "artwork missing from the site folder", site: func(s fstest.MapFS) { delete(s, "artwork.jpg") },
			where: "channel", at: "<itunes:image", msg: "itunes:image file artwork.jpg is not in the site folder"},
		{name: "artwork without a .jpg or .png name", old: `<itunes:image href="https://podcast.example.com/show/artwork.jpg">`, new: `<itunes:image href="https://podcast.example.com/show/artwork">`,
			where: "channel", at: "<itunes:image", msg: "does not end in .jpg or .png"},
		{name: "a category outside Apple's list", old: `<itunes:category text="Technology">`, new: `<itunes:category text="Podcasting">`,
			where: "channel", at: `text="Podcasting"`, msg: `"Podcasting" is not an Apple category`},
		{name: "a subcategory of the wrong category", old: `<itunes:category text="Tech News">`, new: `<itunes:category text="Gadgets">`,
			where: "channel", at: `text="Gadgets"`, msg: `"Gadgets" is not a subcategory of News`},
		{name: "no category at all", old: `    <itunes:category text="Technology"></itunes:category>
    <itunes:category text="News">
      <itunes:category text="Tech News"></itunes:category>
    </itunes:category>
    <itunes:category text="Society &amp; Culture">
      <itunes:category text="Documentary"></itunes:category>
    </itunes:category>
`, new: "", where: "channel", at: "<channel>", msg: "itunes:category is missing"},
		{name: "explicit written the old way", old: "<itunes:explicit>false</itunes:explicit>\n    <itunes:owner>", new: "<itunes:explicit>no</itunes:explicit>\n    <itunes:owner>",
			where: "channel", at: "<itunes:explicit>no", msg: `itunes:explicit is "no" (Apple takes true or false)`},
		{name: "no atom:link rel=self (PSP-1)", old: `    <atom:link href="https://podcast.example.com/show/feed.xml" rel="self" type="application/rss+xml"></atom:link>` + "\n", new: "",
			where: "channel", at: "<channel>", msg: `atom:link rel="self" is missing`},
		{name: "a self link of the wrong type", old: `rel="self" type="application/rss+xml"`, new: `rel="self" type="text/xml"`,
			where: "channel", at: "<atom:link", msg: "use application/rss+xml"},
		{name: "a language that is not a tag", old: "<language>en-GB</language>", new: "<language>English</language>",
			where: "channel", at: "<language>", msg: `language "English" is not a language tag`},
		{name: "a podcast:guid that is not a UUID", old: "<podcast:guid>6637e728-aafa-5991-a4be-398b319c9720", new: "<podcast:guid>my-show",
			where: "channel", at: "<podcast:guid>", msg: "is not a UUID"},
		{name: "podcast:locked as a boolean", old: ">yes</podcast:locked>", new: ">true</podcast:locked>",
			where: "channel", at: "<podcast:locked", msg: "podcast:locked is \"true\" (use yes or no)"},
		{name: "a channel date that is not RFC 2822", old: "<lastBuildDate>Sat, 08 Mar 2025 09:30:00 +0000", new: "<lastBuildDate>2025-03-08T09:30:00Z",
			where: "channel", at: "<lastBuildDate>", msg: "lastBuildDate \"2025-03-08T09:30:00Z\" is not an RFC 2822 date"},
		{name: "a channel person over http", old: `img="https://podcast.example.com/ada.jpg"`, new: `img="http://podcast.example.com/ada.jpg"`,
			where: "channel", at: `img="http://`, msg: "must use https"},
		{name: "an undeclared podcast: prefix", old: ` xmlns:podcast="https://podcastindex.org/namespace/1.0"`, new: "",
			where: "feed", at: "<podcast:guid>", msg: `the prefix podcast: is used but not declared (add xmlns:podcast="https://podcastindex.org/namespace/1.0" to <rss>)`},
		{name: "the iTunes namespace with a wrong URI", old: `xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"`, new: `xmlns:itunes="http://www.itunes.com/dtds/podcast.dtd"`,
			where: "rss", at: "<rss", msg: "xmlns:itunes is"},
		{name: "RSS 0.91", old: `<rss version="2.0"`, new: `<rss version="0.91"`,
			where: "rss", at: "<rss", msg: `version is "0.91"`},
		{name: "an Atom feed instead of RSS", old: base, new: "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>\n",
			where: "feed", at: "<feed", msg: "the root element is <feed>, not <rss>"},

		{name: "two episodes with one guid", old: ep1 + "</guid>", new: ep2 + "</guid>",
			where: `item "Episode 1: Hello"`, at: ep2, nth: 2, msg: "is also the guid of the item on line"},
		{name: "an episode without a guid (PSP-1)", old: `      <guid isPermaLink="false">0b5e1d8a-6c1f-4a51-9d0c-5a1e4f7a1000</guid>` + "\n", new: "",
			where: `item "Trailer"`, at: "<item>", nth: 3, msg: "guid is missing"},
		{name: "an episode without a title", old: "<title>Trailer</title>", new: "<title> </title>",
			where: "item 3", at: "<item>", nth: 3, msg: "title is missing or empty"},
		{name: "a pubDate in ISO 8601", old: "<pubDate>Sat, 01 Mar 2025 09:30:00 +0000</pubDate>\n      <enclosure", new: "<pubDate>2025-03-01 09:30</pubDate>\n      <enclosure",
			where: `item "Episode 1: Hello"`, at: "<pubDate>2025", msg: `pubDate "2025-03-01 09:30" is not an RFC 2822 date`},
		{name: "a pubDate whose weekday is wrong", old: "<pubDate>Sat, 01 Mar 2025 09:30:00 +0000</pubDate>\n      <enclosure", new: "<pubDate>Fri, 01 Mar 2025 09:30:00 +0000</pubDate>\n      <enclosure",
			where: `item "Episode 1: Hello"`, at: "<pubDate>Fri", msg: "is not an RFC 2822 date"},
		{name: "an episode without a pubDate", old: "      <pubDate>Thu, 27 Feb 2025 09:30:00 +0000</pubDate>\n", new: "",
			where: `item "Trailer"`, at: "<item>", nth: 3, msg: "pubDate is missing"},
		{name: "an enclosure length that is not the file's size", old: `length="1234567"`, new: `length="1234000"`,
			where: `item "Episode 1: Hello"`, at: `length="1234000"`, msg: "enclosure length is 1234000 but episodes/episode-1.mp3 is 1234567 bytes"},
		{name: "an enclosure whose file is missing", site: func(s fstest.MapFS) { delete(s, "episodes/episode 2.mp3") },
			where: `item "Episode 2 <special> & more"`, at: "episode%202.mp3", msg: "enclosure file episodes/episode 2.mp3 is not in the site folder"},
		{name: "an enclosure length that is not a number", old: `length="34567"`, new: `length="34 KB"`,
			where: `item "Trailer"`, at: `length="34 KB"`, msg: `enclosure length "34 KB" is not the file's size`},
		{name: "an enclosure without a type", old: `length="34567" type="audio/mpeg"`, new: `length="34567"`,
			where: `item "Trailer"`, at: `length="34567"`, msg: "enclosure type \"\" is not a MIME type"},
		{name: "an episode without an enclosure", old: `      <enclosure url="https://podcast.example.com/show/episodes/trailer.mp3" length="34567" type="audio/mpeg"></enclosure>` + "\n", new: "",
			where: `item "Trailer"`, at: "<item>", nth: 3, msg: "enclosure is missing"},
		{name: "an episode with two enclosures", old: `<enclosure url="https://podcast.example.com/show/episodes/trailer.mp3" length="34567" type="audio/mpeg"></enclosure>`, new: `<enclosure url="https://podcast.example.com/show/episodes/trailer.mp3" length="34567" type="audio/mpeg"></enclosure><enclosure url="https://podcast.example.com/show/episodes/x.mp3" length="1" type="audio/mpeg"/>`,
			where: `item "Trailer"`, at: "episodes/x.mp3", msg: "has 2 enclosures"},
		{name: "two episodes with one audio file", old: "episodes/trailer.mp3", new: "episodes/episode-1.mp3",
			where: `item "Trailer"`, at: "episodes/episode-1.mp3", nth: 2, msg: "is also the enclosure of the item on line"},
		{name: "an episode without a duration", old: "      <itunes:duration>60</itunes:duration>\n", new: "",
			where: `item "Trailer"`, at: "<item>", nth: 3, msg: "itunes:duration is missing"},
		{name: "a duration in an unknown form", old: "<itunes:duration>60</itunes:duration>", new: "<itunes:duration>1 min</itunes:duration>",
			where: `item "Trailer"`, at: "<itunes:duration>1 min", msg: `itunes:duration "1 min" is not seconds or [HH:]MM:SS`},
		{name: "an episode description over 4000 bytes", old: "<description>What is coming.", new: "<description>" + strings.Repeat("y", 4001),
			where: `item "Trailer"`, at: "<description>yyy", msg: "description is 4001 bytes"},
		{name: "an episode type Apple does not have", old: "<itunes:episodeType>trailer", new: "<itunes:episodeType>teaser",
			where: `item "Trailer"`, at: "<itunes:episodeType>teaser", msg: "is not full, trailer or bonus"},
		{name: "an episode number in words", old: "<itunes:episode>2</itunes:episode>", new: "<itunes:episode>two</itunes:episode>",
			where: `item "Episode 2 <special> & more"`, at: "<itunes:episode>two", msg: `itunes:episode "two" is not a positive whole number`},
		{name: "a soundbite past the end of the episode", old: `startTime="1234.5"`, new: `startTime="3650"`,
			where: `item "Episode 1: Hello"`, at: `startTime="3650"`, msg: "ends after the episode (3662 s long)"},
		{name: "a soundbite of negative length", old: `duration="60"`, new: `duration="-5"`,
			where: `item "Episode 1: Hello"`, at: `duration="-5"`, msg: `duration "-5" is not a positive number of seconds`},
		{name: "a soundbite without a start", old: `startTime="73" `, new: ``,
			where: `item "Episode 1: Hello"`, at: `<podcast:soundbite duration="60"`, msg: "startTime \"\" is not seconds"},
		{name: "chapters over http", old: `<podcast:chapters url="https://`, new: `<podcast:chapters url="http://`,
			where: `item "Episode 1: Hello"`, at: "<podcast:chapters", msg: "podcast:chapters url: \"http://podcast.example.com/show/episodes/episode-1.chapters.json\" must use https"},
		{name: "chapters of the wrong type", old: `type="application/json+chapters"`, new: `type="application/json"`,
			where: `item "Episode 1: Hello"`, at: "<podcast:chapters", msg: "podcast:chapters type is \"application/json\""},
		{name: "a chapters file that is not JSON chapters", site: func(s fstest.MapFS) {
			s["episodes/episode-1.chapters.json"] = &fstest.MapFile{Data: []byte(`{"chapters": []}`)}
		},
			where: `item "Episode 1: Hello"`, at: "<podcast:chapters", msg: "no \"version\""},
		{name: "a chapters file missing from the site", site: func(s fstest.MapFS) { delete(s, "episodes/episode-1.chapters.json") },
			where: `item "Episode 1: Hello"`, at: "<podcast:chapters", msg: "podcast:chapters file episodes/episode-1.chapters.json is not in the site folder"},
		{name: "a transcript over http", old: `<podcast:transcript url="https://podcast.example.com/show/episodes/episode-1.vtt"`, new: `<podcast:transcript url="http://podcast.example.com/show/episodes/episode-1.vtt"`,
			where: `item "Episode 1: Hello"`, at: "episode-1.vtt", msg: "podcast:transcript url: \"http://podcast.example.com/show/episodes/episode-1.vtt\" must use https"},
		{name: "a transcript without a type", old: `type="text/vtt" `, new: ``,
			where: `item "Episode 1: Hello"`, at: "episode-1.vtt", msg: "podcast:transcript has no MIME type"},
		{name: "a transcript missing from the site", site: func(s fstest.MapFS) { delete(s, "episodes/episode-2.srt") },
			where: `item "Episode 2 <special> & more"`, at: "episode-2.srt", msg: "podcast:transcript file episodes/episode-2.srt is not in the site folder"},
		{name: "show notes with a javascript: link hidden behind a character reference", old: `<a href="https://example.com">a link</a>`, new: `<a href="&#106;avascript:alert(1)">a link</a>`,
			where: `item "Episode 2 <special> & more"`, at: "<content:encoded>", msg: `content:encoded has active markup: href on <a>: "javascript:alert(1)" is a javascript: URL`},
		{name: "show notes with a script on their second line", old: `and ]]]]><![CDATA[> inside.</p>`, new: "and ]]]]><![CDATA[> inside.</p>\n<script>alert(1)</script>",
			where: `item "Episode 2 <special> & more"`, at: "<script>", msg: "content:encoded has active markup: <script> element"},
		{name: "show notes with an image whose error handler runs script", old: `<a href="https://example.com">a link</a>`, new: `<img src=x onerror=alert(1)>`,
			where: `item "Episode 2 <special> & more"`, at: "<content:encoded>", msg: "onerror attribute on <img>"},
		{name: "show notes with a tab inside the scheme", old: `<a href="https://example.com">`, new: `<a href="java&#x09;script:alert(1)">`,
			where: `item "Episode 2 <special> & more"`, at: "<content:encoded>", msg: "javascript: URL"},
		{name: "a description that is HTML with a data: link", old: "<description>Notes as text.", new: "<description>&lt;a href=&#34;data:text/html,x&#34;&gt;x&lt;/a&gt;",
			where: `item "Episode 2 <special> & more"`, at: "<description>&lt;a", msg: "description has active markup: href on <a>"},
		{name: "an episode link that is javascript:", old: "<link>https://podcast.example.com/show/#ep-episode-2</link>", new: "<link>javascript:alert(1)</link>",
			where: `item "Episode 2 <special> & more"`, at: "<link>javascript", msg: "link: \"javascript:alert(1)\" is not an absolute http(s) URL"},
		{name: "an HTML transcript with a script", old: `episodes/episode-2.srt" type="application/x-subrip"`, new: `episodes/episode-2.html" type="text/html"`,
			site: func(s fstest.MapFS) {
				s["episodes/episode-2.html"] = &fstest.MapFile{Data: []byte("<p><cite>Ada:</cite> Hi</p>\n<script>fetch('/x')</script>")}
			},
			where: `item "Episode 2 <special> & more"`, at: "episode-2.html", msg: "podcast:transcript file episodes/episode-2.html has active markup: <script> element"},
		{name: "a chapters file with a javascript: link", site: func(s fstest.MapFS) {
			s["episodes/episode-1.chapters.json"] = &fstest.MapFile{Data: []byte(`{"version": "1.2.0", "chapters": [{"startTime": 0, "url": "JAVASCRIPT:alert(1)"}]}`)}
		},
			where: `item "Episode 1: Hello"`, at: "<podcast:chapters", msg: "chapter 1: url: \"JAVASCRIPT:alert(1)\" is a javascript: URL"},
		{name: "a person's link over http", old: `href="https://example.com/grace"`, new: `href="http://example.com/grace"`,
			where: `item "Episode 1: Hello"`, at: "Grace Hopper", msg: `podcast:person "Grace Hopper" href: "http://example.com/grace" must use https`},
		{name: "a person's role outside the taxonomy", old: `role="guest" href="https://example.com/grace"`, new: `role="special guest" href="https://example.com/grace"`,
			where: `item "Episode 1: Hello"`, at: "Grace Hopper", msg: `role "special guest" is not in group "Cast"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := base
			if tt.old != "" {
				if !strings.Contains(base, tt.old) {
					t.Fatalf("our feed has no %q", tt.old)
				}
				text = strings.Replace(base, tt.old, tt.new, 1)
			}
			site := sampleSite(t)
			if tt.site != nil {
				tt.site(site)
			}
			probs, err := Check([]byte(text), site)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			nth := max(tt.nth, 1)
			line := lineOf(text, tt.at, nth)
			if line == 0 {
				t.Fatalf("the changed feed has no %q (occurrence %d)", tt.at, nth)
			}
			found := false
			for _, p := range probs {
				if p.Where == tt.where && p.Line == line && strings.Contains(p.Msg, tt.msg) {
					found = true
					if p.Col < 1 {
						t.Errorf("column %d", p.Col)
					}
				}
			}
			if !found {
				var got []string
				for _, p := range probs {
					got = append(got, p.String())
				}
				t.Errorf("want a problem on line %d in %s saying %q; got:\n%s", line, tt.where, tt.msg, strings.Join(got, "\n"))
			}
		})
	}
}

func TestCheckColumns(t *testing.T) {
	feed := "<rss version=\"2.0\">\n<channel>\n  <item>\n    <title>A</title>\n  </item>\n</channel>\n</rss>\n"
	probs, err := Check([]byte(feed), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		if p.Where == `item "A"` && strings.Contains(p.Msg, "enclosure is missing") {
			if p.Line != 3 || p.Col != 3 {
				t.Errorf("the item's problem is at %d:%d, want 3:3 (the item's '<')", p.Line, p.Col)
			}
			return
		}
	}
	t.Errorf("no enclosure problem in %v", probs)
}

func TestCheckNotXML(t *testing.T) {
	for name, input := range map[string]string{
		"empty input":            "",
		"plain text":             "this is not a feed",
		"HTML":                   "<html><body><p>Not found</body></html>",
		"a truncated feed":       `<rss version="2.0"><channel><title>x</title>`,
		"an undeclared entity":   `<rss version="2.0"><channel><title>&nbsp;</title></channel></rss>`,
		"a non-UTF-8 encoding":   "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"></rss>",
		"deeply nested elements": strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100),
	} {
		t.Run(name, func(t *testing.T) {
			probs, err := Check([]byte(input), nil)
			if !errors.Is(err, ErrNotXML) {
				t.Errorf("Check = %v, %v; want ErrNotXML", probs, err)
			}
		})
	}
}

func TestCheckWithoutFilesSkipsFileChecks(t *testing.T) {
	out := render(t, sampleShow(), sampleEpisodes())
	probs, err := Check(out, nil)
	if err != nil || len(probs) != 0 {
		t.Errorf("Check(feed, nil) = %v, %v", probs, err)
	}
	// URLs outside the feed's base are not looked up in the site folder.
	moved := strings.ReplaceAll(string(out), "https://podcast.example.com/show/episodes/", "https://cdn.example.net/episodes/")
	probs, err = Check([]byte(moved), fstest.MapFS{"artwork.jpg": {Data: jpegOf(t, 1400, 1400)}})
	if err != nil || len(probs) != 0 {
		t.Errorf("enclosures on another host: %v, %v", probs, err)
	}
}

func TestParseITunesDuration(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "59": 59, "3662": 3662, "1:01": 61, "01:01:02": 3662, "100:00:00": 360000, "61.5": 61} {
		got, ok := parseITunesDuration(in)
		if !ok || int(got.Seconds()) != want {
			t.Errorf("%q = %v, %v; want %d s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1:60", "1:2:3:4", "-1", "a", "1:-1", "1::2"} {
		if _, ok := parseITunesDuration(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
}
