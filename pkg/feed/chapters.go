package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/websafe"
)

// ChaptersVersion is the JSON chapters format version we write (podcast-namespace
// chapters/jsonChapters.md, version 1.2).
const ChaptersVersion = "1.2.0"

// ChaptersType is the MIME type of a JSON chapters file, for podcast:chapters and for hosts.
const ChaptersType = "application/json+chapters"

type chaptersFile struct {
	Version  string        `json:"version"`
	Title    string        `json:"title,omitempty"`
	FileName string        `json:"fileName,omitempty"`
	Chapters []chapterJSON `json:"chapters"`
}

type chapterJSON struct {
	StartTime json.Number  `json:"startTime"`
	EndTime   *json.Number `json:"endTime,omitempty"`
	Title     string       `json:"title,omitempty"`
	Img       string       `json:"img,omitempty"`
	URL       string       `json:"url,omitempty"`
}

// ChaptersJSON is the episode's chapters as a Podcasting 2.0 JSON chapters file (version
// 1.2.0): the episode title, the audio file's name and each chapter's startTime (and endTime
// when set) in seconds to the millisecond. The output is indented and deterministic. Chapters
// must start at or after 0, in order, and end (when End is set) after they start.
func ChaptersJSON(ep *Episode) ([]byte, error) {
	f := chaptersFile{Version: ChaptersVersion, Title: ep.Title, FileName: ep.Audio.File, Chapters: []chapterJSON{}}
	var prev time.Duration
	for i, c := range ep.Chapters {
		switch {
		case c.Start < 0:
			return nil, errorf("%w: %q: chapter %d starts before 0", ErrEpisode, ep.Slug, i+1)
		case i > 0 && c.Start < prev:
			return nil, errorf("%w: %q: chapter %d (%s) starts before chapter %d (chapters must be in order)", ErrEpisode, ep.Slug, i+1, formatSeconds(c.Start), i)
		case c.End != 0 && c.End <= c.Start:
			return nil, errorf("%w: %q: chapter %d ends at %s, not after its start %s", ErrEpisode, ep.Slug, i+1, formatSeconds(c.End), formatSeconds(c.Start))
		case ep.Audio.Duration > 0 && c.Start >= ep.Audio.Duration:
			return nil, errorf("%w: %q: chapter %d starts at %s, past the end of the audio (%s)", ErrEpisode, ep.Slug, i+1, formatSeconds(c.Start), formatSeconds(ep.Audio.Duration))
		}
		for _, u := range []struct{ field, url string }{{"url", c.URL}, {"img", c.Img}} {
			if u.url != "" && websafe.URL(u.url) != nil {
				return nil, errorf("%w: %q: chapter %d %s: %v", ErrEpisode, ep.Slug, i+1, u.field, websafe.URL(u.url))
			}
		}
		prev = c.Start
		j := chapterJSON{StartTime: json.Number(formatSeconds(c.Start)), Title: c.Title, Img: c.Img, URL: c.URL}
		if c.End != 0 {
			end := json.Number(formatSeconds(c.End))
			j.EndTime = &end
		}
		f.Chapters = append(f.Chapters, j)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, errorf("chapters of %q: %w", ep.Slug, err)
	}
	return b.Bytes(), nil
}

// ParseChapters reads a Podcasting 2.0 JSON chapters file (the --chapters file a user gives,
// or one a feed links to). It needs "version" and a "chapters" array whose startTimes are
// numbers ≥ 0 in ascending order; titles, img, url and endTime are kept, other properties
// (toc, location) ignored. A url or img must be an http, https, mailto or relative URL
// (websafe.URL): a javascript: or data: link would reach every app that shows chapters. Errors wrap ErrChapters and name the chapter.
func ParseChapters(data []byte) ([]Chapter, error) {
	var raw struct {
		Version  *string `json:"version"`
		Chapters *[]struct {
			StartTime json.RawMessage `json:"startTime"`
			EndTime   json.RawMessage `json:"endTime"`
			Title     string          `json:"title"`
			Img       string          `json:"img"`
			URL       string          `json:"url"`
		} `json:"chapters"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errorf("%w: %v (it must be a JSON object with \"version\" and \"chapters\")", ErrChapters, err)
	}
	if raw.Version == nil {
		return nil, errorf("%w: no \"version\" (add \"version\": %q)", ErrChapters, ChaptersVersion)
	}
	if raw.Chapters == nil {
		return nil, errorf("%w: no \"chapters\" array", ErrChapters)
	}
	var out []Chapter
	for i, c := range *raw.Chapters {
		if c.StartTime == nil {
			return nil, errorf("%w: chapter %d has no startTime (seconds from the start of the audio)", ErrChapters, i+1)
		}
		start, err := jsonSeconds(c.StartTime)
		if err != nil {
			return nil, errorf("%w: chapter %d: startTime %s: %v", ErrChapters, i+1, c.StartTime, err)
		}
		if i > 0 && start < out[i-1].Start {
			return nil, errorf("%w: chapter %d starts at %s, before chapter %d (%s): chapters must be in order", ErrChapters, i+1, formatSeconds(start), i, formatSeconds(out[i-1].Start))
		}
		for _, u := range []struct{ field, url string }{{"url", c.URL}, {"img", c.Img}} {
			if u.url != "" && websafe.URL(u.url) != nil {
				return nil, errorf("%w: chapter %d: %s: %v", ErrChapters, i+1, u.field, websafe.URL(u.url))
			}
		}
		ch := Chapter{Start: start, Title: c.Title, Img: c.Img, URL: c.URL}
		if c.EndTime != nil && string(c.EndTime) != "null" {
			end, err := jsonSeconds(c.EndTime)
			if err != nil {
				return nil, errorf("%w: chapter %d: endTime %s: %v", ErrChapters, i+1, c.EndTime, err)
			}
			if end <= start {
				return nil, errorf("%w: chapter %d ends at %s, not after its start %s", ErrChapters, i+1, formatSeconds(end), formatSeconds(start))
			}
			ch.End = end
		}
		out = append(out, ch)
	}
	return out, nil
}

// jsonSeconds reads a JSON number of seconds (not a string: the spec says float).
func jsonSeconds(raw json.RawMessage) (time.Duration, error) {
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil || string(raw) == "null" {
		return 0, fmt.Errorf("not a number of seconds (write a number such as 94.5, not a string)")
	}
	return parseSeconds(n.String())
}

// maxSeconds bounds times we accept: 100 hours, far beyond any episode, well inside Duration.
const maxSeconds = 100 * 3600

// parseSeconds reads a non-negative number of seconds, rounded to the millisecond.
func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return 0, fmt.Errorf("not a number of seconds")
	case f < 0:
		return 0, fmt.Errorf("negative")
	case f > maxSeconds:
		return 0, fmt.Errorf("more than %d hours", maxSeconds/3600)
	}
	return time.Duration(math.Round(f*1000)) * time.Millisecond, nil
}

// formatSeconds writes d in seconds, rounded to the millisecond, without trailing zeros:
// "0", "73", "1234.5", "42.25".
func formatSeconds(d time.Duration) string {
	ms := d.Round(time.Millisecond).Milliseconds()
	neg := ms < 0
	if neg {
		ms = -ms
	}
	s := strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", frac), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}
