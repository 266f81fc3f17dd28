package feed

import (
	"fmt"
	"time"
)

// sampleShow is a show with every setting filled in.
func sampleShow() *Show {
	return &Show{
		Title:       "Spacecast Test Show & Friends",
		Description: "A show about <recording> rooms.\nSecond line: \"quotes\" & ampersands.",
		BaseURL:     "https://podcast.example.com/show",
		Author:      "Ada Lovelace",
		Language:    "en-GB",
		Categories:  []string{"Technology", "News > Tech News", "Society & Culture > Documentary"},
		Explicit:    false,
		Image:       "artwork.jpg",
		Owner:       Owner{Name: "Ada L.", Email: "ada@example.com"},
		Copyright:   "© 2025 Ada Lovelace",
		Type:        "episodic",
		GUID:        ShowGUID("https://podcast.example.com/show/feed.xml"),
		Locked:      true,
		Persons: []Person{
			{Name: "Ada Lovelace", Role: "host", Img: "https://podcast.example.com/ada.jpg", Href: "https://example.com/ada"},
			{Name: "Charles Babbage", Role: "Co-Host", Group: "Cast"},
		},
	}
}

var t0 = time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)

// sampleEpisodes are three published episodes (out of date order) and one unpublished.
func sampleEpisodes() []Episode {
	yes := true
	return []Episode{
		{
			Slug: "episode-1", GUID: "0b5e1d8a-6c1f-4a51-9d0c-5a1e4f7a1001", PubDate: t0,
			Title: "Episode 1: Hello", Description: "The first one.", Season: 1, Number: 1, Type: "full",
			Audio:        Audio{File: "episode-1.mp3", Bytes: 1234567, Type: "audio/mpeg", Duration: 61*time.Minute + 1500*time.Millisecond},
			Soundbites:   []Soundbite{{Start: 73 * time.Second, Duration: 60 * time.Second}, {Start: 1234500 * time.Millisecond, Duration: 42250 * time.Millisecond, Title: "Why it matters"}},
			Chapters:     []Chapter{{Start: 0, Title: "Intro"}, {Start: 168 * time.Second, End: 260 * time.Second, Title: "Hearing Aids", URL: "https://example.com/aids", Img: "https://example.com/aids.jpg"}, {Start: 260500 * time.Millisecond, Title: "Progress"}},
			ChaptersFile: "episode-1.chapters.json",
			Transcript:   &Transcript{File: "episode-1.vtt", Type: "text/vtt"},
			Persons:      []Person{{Name: "Ada Lovelace"}, {Name: "Grace Hopper", Role: "guest", Href: "https://example.com/grace"}},
		},
		{
			Slug: "trailer", GUID: "0b5e1d8a-6c1f-4a51-9d0c-5a1e4f7a1000", PubDate: t0.Add(-48 * time.Hour),
			Title: "Trailer", Description: "What is coming.", Type: "trailer",
			Audio: Audio{File: "trailer.mp3", Bytes: 34567, Type: "audio/mpeg", Duration: 59600 * time.Millisecond},
		},
		{
			Slug: "episode-2", GUID: "0b5e1d8a-6c1f-4a51-9d0c-5a1e4f7a1002", PubDate: t0.Add(7 * 24 * time.Hour).In(time.FixedZone("CET", 3600)),
			Title: "Episode 2 <special> & more", Description: "Notes as text.", NotesHTML: "<p>Notes with <a href=\"https://example.com\">a link</a> and ]]> inside.</p>",
			Season: 1, Number: 2, Type: "bonus", Explicit: &yes,
			Audio:      Audio{File: "episode 2.mp3", Bytes: 2345678, Type: "audio/mpeg", Duration: 2*time.Hour + 3*time.Minute + 4*time.Second},
			Transcript: &Transcript{File: "episode-2.srt", Type: "application/x-subrip"},
		},
		{
			Slug: "withdrawn", GUID: "0b5e1d8a-6c1f-4a51-9d0c-5a1e4f7a0999", PubDate: t0.Add(-24 * time.Hour),
			Title: "Withdrawn", Unpublished: true,
			Audio: Audio{File: "withdrawn.mp3", Bytes: 1, Type: "audio/mpeg", Duration: time.Second},
		},
	}
}

// manyEpisodes makes n published episodes, each with soundbites, persons, chapters and a
// transcript.
func manyEpisodes(n int) []Episode {
	eps := make([]Episode, n)
	for i := range eps {
		eps[i] = Episode{
			Slug: fmt.Sprintf("ep-%04d", i), GUID: fmt.Sprintf("guid-%04d", i), PubDate: t0.Add(time.Duration(i) * 24 * time.Hour),
			Title: fmt.Sprintf("Episode %d", i+1), Description: "An episode about rooms, recorders & feeds.",
			NotesHTML: "<p>Show notes with <b>markup</b>.</p>", Season: 1 + i/100, Number: i + 1, Type: "full",
			Audio:        Audio{File: fmt.Sprintf("ep-%04d.mp3", i), Bytes: 40_000_000 + int64(i), Type: "audio/mpeg", Duration: 45 * time.Minute},
			Soundbites:   []Soundbite{{Start: 60 * time.Second, Duration: 30 * time.Second, Title: "A highlight"}, {Start: 600 * time.Second, Duration: 45 * time.Second}},
			Chapters:     []Chapter{{Start: 0, Title: "Intro"}, {Start: 5 * time.Minute, Title: "Main"}},
			ChaptersFile: fmt.Sprintf("ep-%04d.chapters.json", i),
			Transcript:   &Transcript{File: fmt.Sprintf("ep-%04d.vtt", i), Type: "text/vtt"},
			Persons:      []Person{{Name: "Ada Lovelace"}, {Name: "Guest Person", Role: "guest", Img: "https://example.com/g.jpg"}},
		}
	}
	return eps
}
