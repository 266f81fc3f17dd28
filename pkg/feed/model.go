// Package feed is a podcast: the show's settings (podcast.yaml), its episodes, and the RSS feed
// with iTunes, PSP-1 and Podcasting 2.0 tags and the JSON chapters that describe them.
package feed

import "time"

// Show is the channel: what podcast.yaml holds. Paths in it are relative to the site folder.
type Show struct {
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	// BaseURL is where the site folder is served; feed.xml is at BaseURL + "/feed.xml" and an
	// episode's audio at BaseURL + "/episodes/" + its file. No trailing slash.
	BaseURL string `yaml:"base_url"`
	// Link is the show's web page; BaseURL + "/" when empty.
	Link       string   `yaml:"link,omitempty"`
	Author     string   `yaml:"author"`
	Language   string   `yaml:"language"`   // BCP 47, e.g. "en" or "en-GB"
	Categories []string `yaml:"categories"` // Apple's list, "Category" or "Category > Subcategory"
	Explicit   bool     `yaml:"explicit"`
	Image      string   `yaml:"image,omitempty"` // artwork file in the site folder
	Owner      Owner    `yaml:"owner"`
	Copyright  string   `yaml:"copyright,omitempty"`
	// Type is Apple's itunes:type: "episodic" (newest first) or "serial" (in order).
	Type string `yaml:"type"`
	// GUID is podcast:guid, the UUIDv5 of the feed URL made when the site was created; it stays
	// when the show moves to another host.
	GUID string `yaml:"guid"`
	// Locked is podcast:locked: other platforms may not import the feed without the owner's email.
	Locked  bool     `yaml:"locked"`
	Persons []Person `yaml:"persons,omitempty"` // the show's people (hosts)
	// Push is where publish uploads the site after each change: s3://BUCKET[/PREFIX], the
	// place base_url serves; "" when the site is uploaded some other way.
	Push string `yaml:"push,omitempty"`
}

// Owner is itunes:owner.
type Owner struct {
	Name  string `yaml:"name,omitempty"`
	Email string `yaml:"email"`
}

// Person is a podcast:person.
type Person struct {
	Name  string `yaml:"name" json:"name"`
	Role  string `yaml:"role,omitempty" json:"role,omitempty"`   // Podcasting 2.0 taxonomy; "host", "guest", ...
	Group string `yaml:"group,omitempty" json:"group,omitempty"` // taxonomy group; "cast" when empty
	Img   string `yaml:"img,omitempty" json:"img,omitempty"`     // https URL
	Href  string `yaml:"href,omitempty" json:"href,omitempty"`   // https URL
}

// Episode is one published (or unpublished) episode as the site records it.
type Episode struct {
	Slug string `json:"slug"` // ASCII, the audio's base name in episodes/
	// GUID is fixed when the episode is first published and never changes or is reused.
	GUID    string    `json:"guid"`
	PubDate time.Time `json:"pub_date"` // fixed when first published
	Title   string    `json:"title"`
	// Description is plain text; NotesHTML, when set, is the show notes rendered from Markdown
	// (content:encoded), and Description is their text.
	Description string `json:"description"`
	NotesHTML   string `json:"notes_html,omitempty"`
	Season      int    `json:"season,omitempty"`
	Number      int    `json:"episode,omitempty"`
	Type        string `json:"type"` // "full", "trailer", "bonus"
	Explicit    *bool  `json:"explicit,omitempty"`

	Audio Audio `json:"audio"`

	Soundbites []Soundbite `json:"soundbites,omitempty"`
	Chapters   []Chapter   `json:"chapters,omitempty"`
	// ChaptersFile and Transcript name files in episodes/ ("" when none).
	ChaptersFile string      `json:"chapters_file,omitempty"`
	Transcript   *Transcript `json:"transcript,omitempty"`
	Persons      []Person    `json:"persons,omitempty"`

	// Unpublished episodes stay in the record so that their slug and GUID are never reused.
	Unpublished bool `json:"unpublished,omitempty"`
}

// Audio is an episode's enclosure.
type Audio struct {
	File     string        `json:"file"` // in episodes/
	Bytes    int64         `json:"bytes"`
	Type     string        `json:"type"` // "audio/mpeg"
	Duration time.Duration `json:"duration"`
	SHA256   string        `json:"sha256"`
}

// Soundbite is a podcast:soundbite, its times on the episode's audio.
type Soundbite struct {
	Start    time.Duration `json:"start"`
	Duration time.Duration `json:"duration"`
	Title    string        `json:"title,omitempty"`
}

// Chapter is one chapter, its start on the episode's audio.
type Chapter struct {
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end,omitempty"`
	Title string        `json:"title"`
	URL   string        `json:"url,omitempty"`
	Img   string        `json:"img,omitempty"`
}

// Transcript is a podcast:transcript file in episodes/.
type Transcript struct {
	File string `json:"file"`
	Type string `json:"type"` // "text/vtt", "application/x-subrip", "application/json", "text/html", "text/plain"
}
