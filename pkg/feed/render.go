package feed

// How the feed is built on github.com/eduncan911/podcast v1.4.2 without forking it.
//
// The library's types carry the RSS 2.0 and iTunes elements it knows as plain structs with
// encoding/xml tags (podcast.Podcast, podcast.Item, podcast.Enclosure, podcast.ICategory,
// podcast.Author, podcast.AtomLink, ...), but it has no extension hook and lacks itunes:type,
// itunes:title, itunes:episode, itunes:season, itunes:episodeType, guid isPermaLink,
// content:encoded and every podcast: tag. We choose wrapper types over a token-level rewrite:
// channel and item below embed podcast.Podcast and podcast.Item, so encoding/xml marshals the
// library's fields in place, and add the missing elements as fields of their own with xml
// tags. Where the library's element is wrong for us, a field of the same XML name in the
// wrapper hides it (encoding/xml lets the shallower field win): guid gains isPermaLink="false"
// and the item list holds our items. Reasons: one encoding pass (no second parse of our own
// output, which keeps 1,000 episodes far under the 200 ms budget), the compiler checks every
// field, the element order is the struct order and so deterministic, and escaping is
// encoding/xml's, never hand-made strings.
//
// We fill the library's structs ourselves instead of calling Podcast.AddItem, because AddItem
// sets pubDate to time.Now() when a date is missing, sets the GUID to the enclosure URL (a host
// move would duplicate every episode), requires a description, and only knows a fixed list of
// enclosure MIME types. Channel pubDate and lastBuildDate are the newest episode's date, so the
// output is a pure function of (Show, []Episode): the same input gives the same bytes.

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eduncan911/podcast"

	"github.com/spacecast/spacecast/pkg/websafe"
)

// XML namespaces the feed declares.
const (
	NamespaceITunes  = "http://www.itunes.com/dtds/podcast-1.0.dtd"
	NamespacePodcast = "https://podcastindex.org/namespace/1.0"
	NamespaceAtom    = "http://www.w3.org/2005/Atom"
	NamespaceContent = "http://purl.org/rss/1.0/modules/content/"
)

// Generator is the feed's <generator>.
const Generator = "spacecast (github.com/eduncan911/podcast v1.4.2)"

type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	ITunes  string   `xml:"xmlns:itunes,attr"`
	Podcast string   `xml:"xmlns:podcast,attr"`
	Atom    string   `xml:"xmlns:atom,attr"`
	Content string   `xml:"xmlns:content,attr"`
	Channel *channel
}

// channel is podcast.Podcast plus what it lacks.
type channel struct {
	XMLName xml.Name `xml:"channel"`
	podcast.Podcast
	ITitle  string       `xml:"itunes:title,omitempty"`
	IType   string       `xml:"itunes:type,omitempty"`
	GUID    string       `xml:"podcast:guid,omitempty"`
	Locked  *lockedTag   `xml:"podcast:locked"`
	Persons []personTag  `xml:"podcast:person"`
	Items   []*itemEntry `xml:"item"` // hides podcast.Podcast.Items
}

// itemEntry is podcast.Item plus what it lacks.
type itemEntry struct {
	XMLName xml.Name `xml:"item"`
	GUID    guidTag  `xml:"guid"` // hides podcast.Item.GUID, which has no isPermaLink
	podcast.Item
	ITitle       string         `xml:"itunes:title,omitempty"`
	IEpisode     int            `xml:"itunes:episode,omitempty"`
	ISeason      int            `xml:"itunes:season,omitempty"`
	IEpisodeType string         `xml:"itunes:episodeType,omitempty"`
	Content      *cdataTag      `xml:"content:encoded"`
	Season       *numberTag     `xml:"podcast:season"`
	Episode      *numberTag     `xml:"podcast:episode"`
	Chapters     *chaptersTag   `xml:"podcast:chapters"`
	Soundbites   []soundbiteTag `xml:"podcast:soundbite"`
	Transcript   *transcriptTag `xml:"podcast:transcript"`
	Persons      []personTag    `xml:"podcast:person"`
}

type guidTag struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type cdataTag struct {
	Text string `xml:",cdata"`
}

type numberTag struct {
	Value int `xml:",chardata"`
}

type lockedTag struct {
	Owner string `xml:"owner,attr,omitempty"`
	Value string `xml:",chardata"`
}

type personTag struct {
	Role  string `xml:"role,attr,omitempty"`
	Group string `xml:"group,attr,omitempty"`
	Img   string `xml:"img,attr,omitempty"`
	Href  string `xml:"href,attr,omitempty"`
	Name  string `xml:",chardata"`
}

type chaptersTag struct {
	URL  string `xml:"url,attr"`
	Type string `xml:"type,attr"`
}

type soundbiteTag struct {
	StartTime string `xml:"startTime,attr"`
	Duration  string `xml:"duration,attr"`
	Title     string `xml:",chardata"`
}

type transcriptTag struct {
	URL  string `xml:"url,attr"`
	Type string `xml:"type,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
}

// rfc2822 is the date format of pubDate and lastBuildDate: RFC 1123 with a numeric zone, an
// RFC 2822 date; we always write UTC ("+0000").
const rfc2822 = time.RFC1123Z

// Render writes the show's RSS feed: RSS 2.0 with iTunes, PSP-1 and Podcasting 2.0 tags, the
// published episodes newest first (unpublished ones left out). It is deterministic: the same
// show and episodes give the same bytes. Dates are RFC 2822 in UTC; itunes:duration is whole
// seconds (rounded); the enclosure length is Audio.Bytes. It returns an error wrapping ErrShow
// or ErrEpisode when the input cannot make a valid feed (it checks every episode first and
// writes nothing then).
func Render(w io.Writer, s *Show, eps []Episode) error {
	doc, err := buildFeed(s, eps)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(xml.Header); err != nil {
		return errorf("write: %w", err)
	}
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return errorf("encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return errorf("encode: %w", err)
	}
	if err := bw.WriteByte('\n'); err != nil {
		return errorf("write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return errorf("write: %w", err)
	}
	return nil
}

func buildFeed(s *Show, eps []Episode) (*rssDoc, error) {
	if s == nil || strings.TrimSpace(s.Title) == "" || s.BaseURL == "" {
		return nil, errorf("%w: it needs at least a title and a base_url (check podcast.yaml)", ErrShow)
	}
	published := make([]*Episode, 0, len(eps))
	guids := make(map[string]string, len(eps))
	for i := range eps {
		ep := &eps[i]
		if ep.Unpublished {
			continue
		}
		if err := checkEpisode(ep); err != nil {
			return nil, err
		}
		if other, dup := guids[ep.GUID]; dup {
			return nil, errorf("%w: %q and %q have the same GUID %q (each episode needs its own)", ErrEpisode, other, ep.Slug, ep.GUID)
		}
		guids[ep.GUID] = ep.Slug
		published = append(published, ep)
	}
	// Newest first; the slug breaks ties so that the order never depends on the input's.
	sort.SliceStable(published, func(i, j int) bool {
		a, b := published[i], published[j]
		if !a.PubDate.Equal(b.PubDate) {
			return a.PubDate.After(b.PubDate)
		}
		return a.Slug < b.Slug
	})

	// podcast.New fills Generator and Language defaults and, given nil dates, time.Now(): we
	// overwrite all of them.
	// Descriptions are plain text, but apps may read them as HTML: websafe.Text leaves no tag in
	// one that has active markup.
	p := podcast.New(s.Title, s.PageURL(), websafe.Text(s.Description), nil, nil)
	p.Generator = Generator
	p.Language = s.Language
	p.PubDate, p.LastBuildDate = "", ""
	if len(published) > 0 {
		newest := published[0].PubDate.UTC().Format(rfc2822)
		p.PubDate, p.LastBuildDate = newest, newest
	}
	p.Copyright = s.Copyright
	p.AddAtomLink(s.FeedURL())
	if s.Image != "" {
		p.AddImage(s.SiteURL(s.Image))
	}
	p.IAuthor = s.Author
	p.IExplicit = strconv.FormatBool(s.Explicit)
	ownerName := s.Owner.Name
	if ownerName == "" {
		ownerName = s.Author
	}
	p.IOwner = &podcast.Author{Name: ownerName, Email: s.Owner.Email}
	for _, c := range s.Categories {
		cat, sub, err := SplitCategory(c)
		if err != nil {
			return nil, errorf("%w: categories: %v", ErrShow, err)
		}
		var subs []string
		if sub != "" {
			subs = []string{sub}
		}
		addCategory(&p, cat, subs)
	}
	p.Category = "" // AddCategory also fills RSS <category> with a comma list; Apple reads itunes:category

	typ := s.Type
	if typ == "" {
		typ = "episodic"
	}
	ch := &channel{
		Podcast: p,
		IType:   typ,
		GUID:    s.PodcastGUID(),
		Locked:  &lockedTag{Owner: s.Owner.Email, Value: yesNo(s.Locked)},
		Persons: personTags(s.Persons),
	}
	ch.Items = make([]*itemEntry, 0, len(published))
	for _, ep := range published {
		it, err := buildItem(s, ep)
		if err != nil {
			return nil, err
		}
		ch.Items = append(ch.Items, it)
	}
	return &rssDoc{
		Version: "2.0",
		ITunes:  NamespaceITunes,
		Podcast: NamespacePodcast,
		Atom:    NamespaceAtom,
		Content: NamespaceContent,
		Channel: ch,
	}, nil
}

// addCategory adds the category through the library, merging a second subcategory of the
// same category into one itunes:category element.
func addCategory(p *podcast.Podcast, cat string, subs []string) {
	for _, c := range p.ICategories {
		if c.Text == cat {
			for _, s := range subs {
				c.ICategories = append(c.ICategories, &podcast.ICategory{Text: s})
			}
			return
		}
	}
	p.AddCategory(cat, subs)
}

func buildItem(s *Show, ep *Episode) (*itemEntry, error) {
	explicit := s.Explicit
	if ep.Explicit != nil {
		explicit = *ep.Explicit
	}
	epType := ep.Type
	if epType == "" {
		epType = "full"
	}
	it := &itemEntry{
		GUID: guidTag{IsPermaLink: "false", Value: ep.GUID},
		Item: podcast.Item{
			Title:            ep.Title,
			Link:             s.EpisodePageURL(ep.Slug),
			Description:      websafe.Text(ep.Description),
			PubDateFormatted: ep.PubDate.UTC().Format(rfc2822),
			Enclosure: &podcast.Enclosure{
				URL:             s.EpisodeURL(ep.Audio.File),
				Length:          ep.Audio.Bytes,
				LengthFormatted: strconv.FormatInt(ep.Audio.Bytes, 10),
				TypeFormatted:   ep.Audio.Type,
			},
			IAuthor:   s.Author,
			IDuration: strconv.FormatInt(int64(ep.Audio.Duration.Round(time.Second)/time.Second), 10),
			IExplicit: strconv.FormatBool(explicit),
		},
		ITitle:       ep.Title,
		IEpisode:     ep.Number,
		ISeason:      ep.Season,
		IEpisodeType: epType,
		Persons:      personTags(ep.Persons),
	}
	if ep.NotesHTML != "" {
		// Rendered and cleaned when the episode was published; cleaned again when it is not
		// clean (a record from an older spacecast, or edited by hand).
		notes, err := websafe.Notes(ep.NotesHTML)
		if err != nil {
			return nil, errorf("%w: %q: show notes: %v", ErrEpisode, ep.Slug, err)
		}
		it.Content = &cdataTag{Text: xmlSafe(notes)}
	}
	if ep.Season > 0 {
		it.Season = &numberTag{Value: ep.Season}
	}
	if ep.Number > 0 {
		it.Episode = &numberTag{Value: ep.Number}
	}
	if ep.ChaptersFile != "" {
		it.Chapters = &chaptersTag{URL: s.EpisodeURL(ep.ChaptersFile), Type: ChaptersType}
	}
	for _, sb := range ep.Soundbites {
		it.Soundbites = append(it.Soundbites, soundbiteTag{
			StartTime: formatSeconds(sb.Start),
			Duration:  formatSeconds(sb.Duration),
			Title:     sb.Title,
		})
	}
	if t := ep.Transcript; t != nil && t.File != "" {
		tt := &transcriptTag{URL: s.EpisodeURL(t.File), Type: t.Type}
		if t.Type == "text/vtt" || t.Type == "application/x-subrip" {
			tt.Rel = "captions" // timed cues: apps may show them as closed captions
		}
		it.Transcript = tt
	}
	return it, nil
}

// checkEpisode rejects an episode record that cannot make a valid item.
func checkEpisode(ep *Episode) error {
	bad := func(format string, args ...any) error {
		return errorf("%w: %q: %w", ErrEpisode, ep.Slug, fmt.Errorf(format, args...))
	}
	switch {
	case ep.Slug == "":
		return errorf("%w: an episode titled %q has no slug (the episode record is damaged)", ErrEpisode, ep.Title)
	case strings.TrimSpace(ep.GUID) == "":
		return bad("no GUID (the episode record is damaged)")
	case ep.PubDate.IsZero():
		return bad("no publication date (the episode record is damaged)")
	case strings.TrimSpace(ep.Title) == "":
		return bad("%w", ErrNoTitle)
	case ep.Audio.File == "":
		return bad("no audio file")
	case ep.Audio.Bytes <= 0:
		return bad("audio %s has length %d bytes", ep.Audio.File, ep.Audio.Bytes)
	case ep.Audio.Type == "" || !strings.Contains(ep.Audio.Type, "/"):
		return bad("audio %s has no MIME type", ep.Audio.File)
	case ep.Audio.Duration <= 0:
		return bad("audio %s has no duration", ep.Audio.File)
	case ep.Audio.Duration > maxSeconds*time.Second:
		return bad("audio %s claims to last %s s, more than %d hours (the episode record is damaged)", ep.Audio.File, formatSeconds(ep.Audio.Duration), maxSeconds/3600)
	case len(ep.Description) > MaxDescriptionBytes:
		return bad("%w: %d bytes (Apple takes at most %d)", ErrLongDescription, len(ep.Description), MaxDescriptionBytes)
	}
	switch ep.Type {
	case "", "full", "trailer", "bonus":
	default:
		return bad("type %q is not full, trailer or bonus", ep.Type)
	}
	if ep.Season < 0 || ep.Number < 0 {
		return bad("season and episode numbers must be positive")
	}
	for i, sb := range ep.Soundbites {
		switch {
		case sb.Start < 0 || sb.Duration <= 0:
			return bad("soundbite %d (%s+%s) must start at 0 or later and last more than 0 s", i+1, formatSeconds(sb.Start), formatSeconds(sb.Duration))
		case sb.Duration > ep.Audio.Duration-sb.Start: // not Start+Duration, which can overflow
			return bad("soundbite %d (%s+%s) ends after the audio (%s)", i+1, formatSeconds(sb.Start), formatSeconds(sb.Duration), formatSeconds(ep.Audio.Duration))
		}
	}
	if t := ep.Transcript; t != nil && t.File != "" && t.Type == "" {
		return bad("transcript %s has no MIME type", t.File)
	}
	for i, per := range ep.Persons {
		if err := CheckPerson(per); err != nil {
			return bad("person %d (%s): %v", i+1, per.Name, err)
		}
	}
	return nil
}

func personTags(ps []Person) []personTag {
	out := make([]personTag, 0, len(ps))
	for _, p := range ps {
		out = append(out, personTag{Role: p.Role, Group: p.Group, Img: p.Img, Href: p.Href, Name: p.Name})
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// xmlSafe replaces characters XML 1.0 cannot carry with U+FFFD. encoding/xml does this for
// text and attributes but not inside CDATA.
func xmlSafe(s string) string {
	ok := func(r rune) bool {
		return r == 0x09 || r == 0x0A || r == 0x0D ||
			r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
	}
	clean := true
	for _, r := range s {
		if !ok(r) || r == 0xFFFD {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !ok(r) {
			r = 0xFFFD
		}
		b.WriteRune(r)
	}
	return b.String()
}
