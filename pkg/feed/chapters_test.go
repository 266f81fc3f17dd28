package feed

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil/golden"
)

func TestChaptersJSON(t *testing.T) {
	ep := sampleEpisodes()[0]
	data, err := ChaptersJSON(&ep)
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, data, "chapters.json")

	// Read with encoding/json into the spec's shape: version 1.2.0, seconds as numbers.
	var got struct {
		Version  string `json:"version"`
		Title    string `json:"title"`
		FileName string `json:"fileName"`
		Chapters []struct {
			StartTime float64  `json:"startTime"`
			EndTime   *float64 `json:"endTime"`
			Title     string   `json:"title"`
			URL       string   `json:"url"`
			Img       string   `json:"img"`
		} `json:"chapters"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "1.2.0" || got.Title != ep.Title || got.FileName != ep.Audio.File || len(got.Chapters) != len(ep.Chapters) {
		t.Fatalf("chapters file %+v", got)
	}
	for i, c := range got.Chapters {
		want := ep.Chapters[i]
		if c.StartTime != want.Start.Seconds() || c.Title != want.Title || c.URL != want.URL || c.Img != want.Img {
			t.Errorf("chapter %d: %+v, want %+v", i, c, want)
		}
		if (c.EndTime != nil) != (want.End != 0) || (c.EndTime != nil && *c.EndTime != want.End.Seconds()) {
			t.Errorf("chapter %d endTime %v, want %v", i, c.EndTime, want.End)
		}
	}
	// And back: ParseChapters reads what ChaptersJSON writes.
	back, err := ParseChapters(data)
	if err != nil || !reflect.DeepEqual(back, ep.Chapters) {
		t.Errorf("ParseChapters(ChaptersJSON) = %+v, %v; want %+v", back, err, ep.Chapters)
	}

	none := Episode{Slug: "x", Title: "No chapters"}
	data, err = ChaptersJSON(&none)
	if err != nil || !strings.Contains(string(data), `"chapters": []`) {
		t.Errorf("an episode without chapters: %s %v", data, err)
	}
}

func TestChaptersJSONRejects(t *testing.T) {
	for name, chapters := range map[string][]Chapter{
		"a chapter before the start":     {{Start: -time.Second}},
		"chapters out of order":          {{Start: 10 * time.Second}, {Start: 5 * time.Second}},
		"a chapter ending at its start":  {{Start: 10 * time.Second, End: 10 * time.Second}},
		"a chapter past the audio's end": {{Start: 2 * time.Hour}},
		"a javascript: link":             {{Start: 0, URL: "&#106;avascript:alert(1)"}},
		"a data: image":                  {{Start: 0, Img: "data:image/svg+xml,<svg onload=alert(1)>"}},
	} {
		t.Run(name, func(t *testing.T) {
			ep := Episode{Slug: "x", Chapters: chapters, Audio: Audio{Duration: time.Hour}}
			if _, err := ChaptersJSON(&ep); !errors.Is(err, ErrEpisode) {
				t.Errorf("ChaptersJSON = %v, want ErrEpisode", err)
			}
		})
	}
}

func TestParseChapters(t *testing.T) {
	// The spec's basic example, abridged, with its optional properties (toc, location).
	spec := `{"version": "1.2.0", "author": "John Doe", "chapters": [
		{"startTime": 0, "title": "Intro"},
		{"startTime": 168, "title": "Hearing Aids", "img": "https://example.com/images/hearing_aids.jpg"},
		{"startTime": 4826.25, "img": "https://example.com/p.jpg", "toc": false, "location": {"name": "Paris", "geo": "geo:48.8,2.3"}},
		{"startTime": 6089, "endTime": 6100.5, "title": "Outro", "url": "https://example.com"}]}`
	got, err := ParseChapters([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	want := []Chapter{
		{Start: 0, Title: "Intro"},
		{Start: 168 * time.Second, Title: "Hearing Aids", Img: "https://example.com/images/hearing_aids.jpg"},
		{Start: 4826250 * time.Millisecond, Img: "https://example.com/p.jpg"},
		{Start: 6089 * time.Second, End: 6100500 * time.Millisecond, Title: "Outro", URL: "https://example.com"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	for _, tt := range []struct{ name, in, msg string }{
		{"not JSON", `chapters: yes`, "must be a JSON object"},
		{"no version", `{"chapters": []}`, `no "version"`},
		{"no chapters array", `{"version": "1.2.0"}`, `no "chapters" array`},
		{"a chapter without a start", `{"version": "1.2.0", "chapters": [{"title": "x"}]}`, "chapter 1 has no startTime"},
		{"a start that is a string", `{"version": "1.2.0", "chapters": [{"startTime": "1:00"}]}`, "chapter 1"},
		{"a negative start", `{"version": "1.2.0", "chapters": [{"startTime": -1}]}`, "negative"},
		{"chapters out of order", `{"version": "1.2.0", "chapters": [{"startTime": 10}, {"startTime": 5}]}`, "chapter 2 starts at 5, before chapter 1"},
		{"an end before the start", `{"version": "1.2.0", "chapters": [{"startTime": 10, "endTime": 9}]}`, "not after its start"},
		{"an absurd time", `{"version": "1.2.0", "chapters": [{"startTime": 1e300}]}`, "more than 100 hours"},
		{"a javascript: link", `{"version": "1.2.0", "chapters": [{"startTime": 0, "url": "javascript:alert(1)"}]}`, `chapter 1: url: "javascript:alert(1)" is a javascript: URL`},
		{"a link with a tab in its scheme", `{"version": "1.2.0", "chapters": [{"startTime": 0, "url": "java\tscript:alert(1)"}]}`, "javascript: URL"},
		{"a data: image", `{"version": "1.2.0", "chapters": [{"startTime": 0, "img": "data:text/html,x"}]}`, "chapter 1: img"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseChapters([]byte(tt.in))
			if !errors.Is(err, ErrChapters) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ParseChapters = %v, want ErrChapters saying %q", err, tt.msg)
			}
		})
	}
}

func TestFormatSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 73 * time.Second: "73", 1234500 * time.Millisecond: "1234.5", 42250 * time.Millisecond: "42.25",
		1 * time.Millisecond: "0.001", 1499 * time.Microsecond: "0.001", 1500 * time.Microsecond: "0.002", -1500 * time.Millisecond: "-1.5",
	} {
		if got := formatSeconds(d); got != want {
			t.Errorf("formatSeconds(%v) = %q, want %q", d, got, want)
		}
	}
}
