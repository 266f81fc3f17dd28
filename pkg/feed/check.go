package feed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/websafe"
)

// Problem is one thing wrong with a feed: where it is (line and column of the element, 1-based;
// the column counts bytes), which part of the feed (`channel`, `item "Episode 3"`) and what is
// wrong and what to do.
type Problem struct {
	Line, Col int
	Where     string
	Msg       string
}

// String formats the problem as "12:5: item "Episode 3": ...".
func (p Problem) String() string {
	return fmt.Sprintf("%d:%d: %s: %s", p.Line, p.Col, p.Where, p.Msg)
}

// element is a parsed XML element with its position.
type element struct {
	name      xml.Name
	attr      []xml.Attr
	text      bytes.Buffer
	line, col int
	kids      []*element
}

func (e *element) attrValue(local string) (string, bool) {
	for _, a := range e.attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

func (e *element) all(space, local string) []*element {
	var out []*element
	for _, k := range e.kids {
		if k.name.Space == space && k.name.Local == local {
			out = append(out, k)
		}
	}
	return out
}

func (e *element) first(space, local string) *element {
	for _, k := range e.kids {
		if k.name.Space == space && k.name.Local == local {
			return k
		}
	}
	return nil
}

func (e *element) trimmed() string { return strings.TrimSpace(e.text.String()) }

// maxDepth bounds element nesting; no feed needs more, and it keeps hostile input cheap.
const maxDepth = 64

// parseTree reads the document into elements, each with the line and column of its '<'.
func parseTree(data []byte) (*element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root *element
	var stack []*element
	for {
		line, col := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errorf("%w: %v", ErrNotXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, errorf("%w: elements nested more than %d deep on line %d", ErrNotXML, maxDepth, line)
			}
			e := &element{name: t.Name, attr: t.Copy().Attr, line: line, col: col}
			if len(stack) == 0 {
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errorf("%w: no root element", ErrNotXML)
	}
	return root, nil
}

type checker struct {
	problems []Problem
	files    fs.FS
	base     string // the feed's base URL, ending in "/" ("" when unknown)
	// prefixes maps an undeclared namespace prefix (as the decoder leaves it in Name.Space) to
	// true once reported.
	prefixes map[string]bool
}

func (c *checker) add(e *element, where, format string, args ...any) {
	c.problems = append(c.problems, Problem{Line: e.line, Col: e.col, Where: where, Msg: fmt.Sprintf(format, args...)})
}

// Check checks a feed against Apple's requirements, PSP-1 and the Podcasting 2.0 tags we
// write, and returns every problem found, in document order (none: the feed is clean). When
// files is the site folder (nil skips these), it also checks that each enclosure's length
// matches its file and that artwork is a 1400–3000 px square JPEG or PNG; a URL is mapped to a
// file by stripping the feed's base, the directory of its atom:link rel="self" URL. The error
// is only for input that is not well-formed XML (it wraps ErrNotXML).
func Check(feedXML []byte, files fs.FS) ([]Problem, error) {
	root, err := parseTree(feedXML)
	if err != nil {
		return nil, err
	}
	c := &checker{files: files, prefixes: map[string]bool{}}
	c.checkNamespaces(root)
	switch {
	case root.name.Local != "rss":
		c.add(root, "feed", "the root element is <%s>, not <rss> (podcast feeds are RSS 2.0)", root.name.Local)
		return c.sorted(), nil
	case root.name.Space != "":
		c.add(root, "feed", "<rss> is in the namespace %q (RSS 2.0 elements have none: remove xmlns=)", root.name.Space)
		return c.sorted(), nil
	}
	if v, _ := root.attrValue("version"); v != "2.0" {
		c.add(root, "rss", "version is %q, not \"2.0\" (write <rss version=\"2.0\">)", v)
	}
	chans := root.all("", "channel")
	if len(chans) != 1 {
		c.add(root, "rss", "has %d <channel> elements (a feed has exactly one)", len(chans))
		if len(chans) == 0 {
			return c.sorted(), nil
		}
	}
	ch := chans[0]
	c.checkChannel(ch)
	guids := map[string]*element{}
	urls := map[string]*element{}
	for i, it := range ch.all("", "item") {
		c.checkItem(it, i+1, guids, urls)
	}
	return c.sorted(), nil
}

func (c *checker) sorted() []Problem {
	sort.SliceStable(c.problems, func(i, j int) bool {
		a, b := c.problems[i], c.problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return c.problems
}

// knownPrefixes are the namespaces a podcast feed uses, by their usual prefix.
var knownPrefixes = map[string]string{
	"itunes":  NamespaceITunes,
	"podcast": NamespacePodcast,
	"atom":    NamespaceAtom,
	"content": NamespaceContent,
}

// checkNamespaces reports prefixes used without a declaration (the decoder leaves the bare
// prefix in Name.Space) and our prefixes declared with another URI.
func (c *checker) checkNamespaces(e *element) {
	for _, a := range e.attr {
		if a.Name.Space == "xmlns" {
			if want, ok := knownPrefixes[a.Name.Local]; ok && a.Value != want {
				c.add(e, "rss", "xmlns:%s is %q (use %q, or apps will not see these tags)", a.Name.Local, a.Value, want)
			}
		}
	}
	if sp := e.name.Space; sp != "" && !strings.Contains(sp, "/") && !c.prefixes[sp] {
		c.prefixes[sp] = true
		hint := fmt.Sprintf("declare it with xmlns:%s on <rss>", sp)
		if want, ok := knownPrefixes[sp]; ok {
			hint = fmt.Sprintf("add xmlns:%s=%q to <rss>", sp, want)
		}
		c.add(e, "feed", "the prefix %s: is used but not declared (%s)", sp, hint)
	}
	for _, k := range e.kids {
		c.checkNamespaces(k)
	}
}

func (c *checker) checkChannel(ch *element) {
	const where = "channel"
	required := func(space, local, why string) *element {
		e := ch.first(space, local)
		if e == nil {
			c.add(ch, where, "%s is missing (%s)", tagName(space, local), why)
		}
		return e
	}

	// PSP-1: atom:link rel="self"; it also gives the base that maps URLs to files.
	var self *element
	for _, l := range ch.all(NamespaceAtom, "link") {
		if rel, _ := l.attrValue("rel"); rel == "self" {
			self = l
			break
		}
	}
	if self == nil {
		c.add(ch, where, `atom:link rel="self" is missing (PSP-1 requires the feed's own URL: <atom:link href="https://…/feed.xml" rel="self" type="application/rss+xml"/>)`)
	} else {
		href, _ := self.attrValue("href")
		if msg := checkWebURL(href, false); msg != "" {
			c.add(self, where, "atom:link rel=\"self\" href: %s", msg)
		} else if i := strings.LastIndex(href, "/"); i >= 0 {
			if u, err := url.Parse(href); err == nil && u.RawQuery == "" {
				c.base = href[:i+1]
			}
		}
		if typ, _ := self.attrValue("type"); typ != "application/rss+xml" {
			c.add(self, where, "atom:link rel=\"self\" type is %q (use application/rss+xml)", typ)
		}
	}

	if t := required("", "title", "Apple requires the show's name"); t != nil && t.trimmed() == "" {
		c.add(t, where, "title is empty (Apple requires the show's name)")
	}
	if d := required("", "description", "Apple requires a description of the show"); d != nil {
		c.checkDescription(d, where)
	}
	if l := required("", "link", "PSP-1 requires the show's web page"); l != nil {
		if msg := checkWebURL(l.trimmed(), false); msg != "" {
			c.add(l, where, "link: %s", msg)
		}
	}
	if img := ch.first("", "image"); img != nil {
		if u := img.first("", "url"); u != nil {
			if msg := checkWebURL(u.trimmed(), false); msg != "" {
				c.add(u, where, "image url: %s", msg)
			}
		}
	}
	if sum := ch.first(NamespaceITunes, "summary"); sum != nil {
		c.checkActive(sum, where, "itunes:summary", sum.text.String(), false)
	}
	if l := required("", "language", "Apple requires the language spoken, e.g. en"); l != nil && !languageTag.MatchString(l.trimmed()) {
		c.add(l, where, "language %q is not a language tag (use a BCP 47 or ISO 639 code such as en or en-us)", l.trimmed())
	}
	if img := required(NamespaceITunes, "image", `Apple requires show artwork: <itunes:image href="https://…/artwork.jpg"/>`); img != nil {
		c.checkArtworkRef(img, where, "itunes:image")
	}
	cats := ch.all(NamespaceITunes, "category")
	if len(cats) == 0 {
		c.add(ch, where, "itunes:category is missing (Apple requires at least one category from its list)")
	}
	for _, cat := range cats {
		c.checkCategory(cat, where)
	}
	if ex := required(NamespaceITunes, "explicit", "Apple requires <itunes:explicit>true</itunes:explicit> or false"); ex != nil {
		c.checkExplicit(ex, where)
	}
	if t := ch.first(NamespaceITunes, "type"); t != nil {
		if v := t.trimmed(); v != "episodic" && v != "serial" {
			c.add(t, where, "itunes:type %q is not episodic or serial", v)
		}
	}
	if g := ch.first(NamespacePodcast, "guid"); g != nil && !uuidRE.MatchString(g.trimmed()) {
		c.add(g, where, "podcast:guid %q is not a UUID (use the UUIDv5 of the feed URL)", g.trimmed())
	}
	if l := ch.first(NamespacePodcast, "locked"); l != nil {
		if v := l.trimmed(); v != "yes" && v != "no" {
			c.add(l, where, "podcast:locked is %q (use yes or no)", v)
		}
		if owner, ok := l.attrValue("owner"); ok && checkEmail(owner) != "" {
			c.add(l, where, "podcast:locked owner %q is not an email address", owner)
		}
	}
	if o := ch.first(NamespaceITunes, "owner"); o != nil {
		if em := o.first(NamespaceITunes, "email"); em == nil {
			c.add(o, where, "itunes:owner has no itunes:email (Apple uses it to verify ownership)")
		} else if msg := checkEmail(em.trimmed()); msg != "" {
			c.add(em, where, "itunes:email: %s", msg)
		}
	}
	for _, tag := range []string{"pubDate", "lastBuildDate"} {
		if d := ch.first("", tag); d != nil {
			c.checkDate(d, where, tag)
		}
	}
	for _, p := range ch.all(NamespacePodcast, "person") {
		c.checkPerson(p, where)
	}
}

func (c *checker) checkItem(it *element, n int, guids, urls map[string]*element) {
	where := fmt.Sprintf("item %d", n)
	title := it.first("", "title")
	if title != nil && title.trimmed() != "" {
		where = fmt.Sprintf("item %q", title.trimmed())
	} else {
		c.add(it, where, "title is missing or empty (Apple requires an episode title)")
	}

	// Apple: one enclosure with url, length in bytes and type.
	encs := it.all("", "enclosure")
	switch len(encs) {
	case 0:
		c.add(it, where, "enclosure is missing (Apple requires the episode's audio: <enclosure url=… length=… type=…/>)")
	case 1:
	default:
		c.add(encs[1], where, "has %d enclosures (Apple takes exactly one per episode)", len(encs))
	}
	if len(encs) > 0 {
		c.checkEnclosure(encs[0], where, urls)
	}

	// PSP-1 and Apple: a guid that is present, unique and never changes.
	if g := it.first("", "guid"); g == nil || g.trimmed() == "" {
		at := it
		if g != nil {
			at = g
		}
		c.add(at, where, "guid is missing or empty (every episode needs a permanent unique guid)")
	} else if first, dup := guids[g.trimmed()]; dup {
		c.add(g, where, "guid %q is also the guid of the item on line %d (each episode needs its own)", g.trimmed(), first.line)
	} else {
		guids[g.trimmed()] = g
	}

	if d := it.first("", "pubDate"); d == nil {
		c.add(it, where, "pubDate is missing (Apple orders episodes by it: an RFC 2822 date)")
	} else {
		c.checkDate(d, where, "pubDate")
	}

	var duration time.Duration = -1
	if d := it.first(NamespaceITunes, "duration"); d == nil {
		c.add(it, where, "itunes:duration is missing (Apple shows it: whole seconds or HH:MM:SS)")
	} else if dur, ok := parseITunesDuration(d.trimmed()); !ok {
		c.add(d, where, "itunes:duration %q is not seconds or [HH:]MM:SS", d.trimmed())
	} else {
		duration = dur
	}

	if d := it.first("", "description"); d != nil {
		c.checkDescription(d, where)
	}
	for _, enc := range it.all(NamespaceContent, "encoded") {
		c.checkActive(enc, where, "content:encoded", enc.text.String(), false)
	}
	if sum := it.first(NamespaceITunes, "summary"); sum != nil {
		c.checkActive(sum, where, "itunes:summary", sum.text.String(), false)
	}
	if l := it.first("", "link"); l != nil {
		if msg := checkWebURL(l.trimmed(), false); msg != "" {
			c.add(l, where, "link: %s", msg)
		}
	}
	if ex := it.first(NamespaceITunes, "explicit"); ex != nil {
		c.checkExplicit(ex, where)
	}
	if t := it.first(NamespaceITunes, "episodeType"); t != nil {
		if v := t.trimmed(); v != "full" && v != "trailer" && v != "bonus" {
			c.add(t, where, "itunes:episodeType %q is not full, trailer or bonus", v)
		}
	}
	for _, tag := range []struct{ space, local string }{{NamespaceITunes, "episode"}, {NamespaceITunes, "season"}, {NamespacePodcast, "season"}} {
		if e := it.first(tag.space, tag.local); e != nil {
			if v, err := strconv.Atoi(e.trimmed()); err != nil || v <= 0 {
				c.add(e, where, "%s %q is not a positive whole number", tagName(tag.space, tag.local), e.trimmed())
			}
		}
	}
	if e := it.first(NamespacePodcast, "episode"); e != nil {
		if v, err := strconv.ParseFloat(e.trimmed(), 64); err != nil || v < 0 {
			c.add(e, where, "podcast:episode %q is not a number", e.trimmed())
		}
	}
	if img := it.first(NamespaceITunes, "image"); img != nil {
		c.checkArtworkRef(img, where, "itunes:image")
	}

	// Podcasting 2.0.
	for _, ch := range it.all(NamespacePodcast, "chapters") {
		u := c.resourceURL(ch, where, "podcast:chapters")
		if typ, _ := ch.attrValue("type"); typ != ChaptersType {
			c.add(ch, where, "podcast:chapters type is %q (use %s for JSON chapters)", typ, ChaptersType)
		}
		if data, ok := c.readFile(ch, where, "podcast:chapters", u); ok {
			if _, err := ParseChapters(data); err != nil {
				c.add(ch, where, "podcast:chapters file: %v", Unprefixed(err))
			}
		}
	}
	for _, t := range it.all(NamespacePodcast, "transcript") {
		u := c.resourceURL(t, where, "podcast:transcript")
		if typ, _ := t.attrValue("type"); typ == "" || !strings.Contains(typ, "/") {
			c.add(t, where, "podcast:transcript has no MIME type (e.g. type=\"text/vtt\")")
		}
		typ, _ := t.attrValue("type")
		if typ == "text/html" {
			// Served from the site's origin and linked from its page: no script may be in it.
			if data, ok := c.readFile(t, where, "podcast:transcript", u); ok {
				rel, _ := c.sitePath(u)
				c.checkActive(t, where, "podcast:transcript file "+rel, string(data), true)
			}
		} else if rel, ok := c.sitePath(u); ok && u != "" && c.files != nil {
			if _, err := fs.Stat(c.files, rel); err != nil {
				c.add(t, where, "podcast:transcript file %s is not in the site folder (%v)", rel, unwrapPathError(err))
			}
		}
	}
	for _, sb := range it.all(NamespacePodcast, "soundbite") {
		c.checkSoundbite(sb, where, duration)
	}
	for _, p := range it.all(NamespacePodcast, "person") {
		c.checkPerson(p, where)
	}
}

func (c *checker) checkEnclosure(enc *element, where string, urls map[string]*element) {
	u, _ := enc.attrValue("url")
	if msg := checkWebURL(u, false); msg != "" {
		c.add(enc, where, "enclosure url: %s", msg)
		u = ""
	} else if first, dup := urls[u]; dup {
		c.add(enc, where, "enclosure url %s is also the enclosure of the item on line %d (each episode needs its own file)", u, first.line)
	} else {
		urls[u] = enc
	}
	lengthText, _ := enc.attrValue("length")
	length, err := strconv.ParseInt(lengthText, 10, 64)
	if err != nil || length <= 0 {
		c.add(enc, where, "enclosure length %q is not the file's size in bytes (a whole number above 0)", lengthText)
		length = -1
	}
	if typ, _ := enc.attrValue("type"); typ == "" || !strings.Contains(typ, "/") {
		c.add(enc, where, "enclosure type %q is not a MIME type (use audio/mpeg for MP3)", typ)
	}
	if u == "" || c.files == nil {
		return
	}
	rel, ok := c.sitePath(u)
	if !ok {
		return
	}
	st, err := fs.Stat(c.files, rel)
	switch {
	case err != nil:
		c.add(enc, where, "enclosure file %s is not in the site folder (%v)", rel, unwrapPathError(err))
	case length >= 0 && st.Size() != length:
		c.add(enc, where, "enclosure length is %d but %s is %d bytes (apps use it for downloads and seeking: write the file's size)", length, rel, st.Size())
	}
}

func (c *checker) checkDescription(d *element, where string) {
	text := d.text.String()
	c.checkActive(d, where, "description", text, false)
	switch {
	case strings.TrimSpace(text) == "" && where == "channel":
		c.add(d, where, "description is empty (Apple requires a description of the show)")
	case len(text) > MaxDescriptionBytes:
		c.add(d, where, "description is %d bytes (Apple takes at most %d)", len(text), MaxDescriptionBytes)
	}
}

// maxFindings is how many pieces of active markup are reported for one element.
const maxFindings = 5

// checkActive reports active markup (websafe.Find) in HTML the feed carries: show notes in
// content:encoded, descriptions apps may read as HTML, an HTML transcript. Each finding is placed
// on its own line, counted from the element's.
func (c *checker) checkActive(e *element, where, what, html string, document bool) {
	fix := "publish the episode again with this spacecast, which cleans it, or remove it"
	if document {
		fix = "publish the transcript again with this spacecast, which cleans it"
	}
	found := websafe.Find(html, websafe.Options{Document: document})
	for i, f := range found {
		if i == maxFindings {
			c.problems = append(c.problems, Problem{Line: e.line, Col: e.col, Where: where,
				Msg: fmt.Sprintf("%s: %d more pieces of active markup", what, len(found)-maxFindings)})
			break
		}
		p := Problem{Line: e.line, Col: e.col, Where: where,
			Msg: fmt.Sprintf("%s has active markup: %s (an app or browser that shows it as HTML would run it: %s)", what, f.Msg, fix)}
		if !document && f.Line > 1 {
			p.Line, p.Col = e.line+f.Line-1, 1
		}
		c.problems = append(c.problems, p)
	}
}

func (c *checker) checkExplicit(ex *element, where string) {
	if v := ex.trimmed(); v != "true" && v != "false" {
		c.add(ex, where, "itunes:explicit is %q (Apple takes true or false)", v)
	}
}

func (c *checker) checkDate(d *element, where, tag string) {
	if _, err := parseRFC2822(d.trimmed()); err != nil {
		c.add(d, where, "%s %q is not an RFC 2822 date (write e.g. Sat, 01 Mar 2025 09:30:00 +0000)", tag, d.trimmed())
	}
}

func (c *checker) checkCategory(cat *element, where string) {
	text, _ := cat.attrValue("text")
	if _, ok := Categories[text]; !ok {
		_, _, err := SplitCategory(text)
		msg := "is not an Apple category"
		if err != nil {
			msg = err.Error()
		}
		c.add(cat, where, "itunes:category %s", msg)
		return
	}
	for _, sub := range cat.all(NamespaceITunes, "category") {
		st, _ := sub.attrValue("text")
		if _, _, err := SplitCategory(text + CategorySeparator + st); err != nil {
			c.add(sub, where, "itunes:category %v", err)
		}
		if len(sub.kids) > 0 {
			c.add(sub.kids[0], where, "itunes:category nested three deep (Apple has categories and subcategories only)")
		}
	}
}

func (c *checker) checkPerson(p *element, where string) {
	per := Person{Name: p.trimmed()}
	per.Role, _ = p.attrValue("role")
	per.Group, _ = p.attrValue("group")
	per.Img, _ = p.attrValue("img")
	per.Href, _ = p.attrValue("href")
	if err := CheckPerson(per); err != nil {
		c.add(p, where, "podcast:person %q %v", per.Name, err)
	}
}

func (c *checker) checkSoundbite(sb *element, where string, duration time.Duration) {
	startText, _ := sb.attrValue("startTime")
	durText, _ := sb.attrValue("duration")
	start, err1 := parseSeconds(startText)
	length, err2 := parseSeconds(durText)
	switch {
	case err1 != nil:
		c.add(sb, where, "podcast:soundbite startTime %q is not seconds from the start (%v)", startText, err1)
	case err2 != nil || length <= 0:
		c.add(sb, where, "podcast:soundbite duration %q is not a positive number of seconds", durText)
	case duration >= 0 && start+length > duration+500*time.Millisecond:
		// itunes:duration is rounded to the second: allow its half second.
		c.add(sb, where, "podcast:soundbite %s+%s ends after the episode (%s s long)", startText, durText, formatSeconds(duration))
	}
}

// checkArtworkRef checks an itunes:image href and, through files, the image itself.
func (c *checker) checkArtworkRef(img *element, where, tag string) {
	href, _ := img.attrValue("href")
	if msg := checkWebURL(href, false); msg != "" {
		c.add(img, where, "%s href: %s", tag, msg)
		return
	}
	u, _ := url.Parse(href)
	switch strings.ToLower(path.Ext(u.Path)) {
	case ".jpg", ".jpeg", ".png":
	default:
		c.add(img, where, "%s %s does not end in .jpg or .png (Apple requires the extension)", tag, href)
	}
	if c.files == nil {
		return
	}
	rel, ok := c.sitePath(href)
	if !ok {
		return
	}
	f, err := c.files.Open(rel)
	if err != nil {
		c.add(img, where, "%s file %s is not in the site folder (%v)", tag, rel, unwrapPathError(err))
		return
	}
	defer f.Close()
	if msg := artworkProblem(f); msg != "" {
		c.add(img, where, "%s %s: %s", tag, rel, msg)
	}
}

// resourceURL checks a Podcasting 2.0 resource's url attribute (https) and returns it.
func (c *checker) resourceURL(e *element, where, tag string) string {
	u, ok := e.attrValue("url")
	if !ok || u == "" {
		c.add(e, where, "%s has no url", tag)
		return ""
	}
	if msg := checkWebURL(u, true); msg != "" {
		c.add(e, where, "%s url: %s", tag, msg)
		return ""
	}
	return u
}

// maxResourceBytes bounds a chapters or transcript file read during a check.
const maxResourceBytes = 16 << 20

// readFile reads a resource the feed links to from the site folder; ok is false when there is
// nothing to read (no files, a URL outside the site) or the file is missing (reported).
func (c *checker) readFile(e *element, where, tag, u string) ([]byte, bool) {
	if u == "" || c.files == nil {
		return nil, false
	}
	rel, ok := c.sitePath(u)
	if !ok {
		return nil, false
	}
	f, err := c.files.Open(rel)
	if err != nil {
		c.add(e, where, "%s file %s is not in the site folder (%v)", tag, rel, unwrapPathError(err))
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxResourceBytes))
	if err != nil {
		c.add(e, where, "%s file %s cannot be read (%v)", tag, rel, err)
		return nil, false
	}
	return data, true
}

// sitePath maps a URL under the feed's base to a path in the site folder.
func (c *checker) sitePath(u string) (string, bool) {
	if c.base == "" || !strings.HasPrefix(u, c.base) {
		return "", false
	}
	pu, err := url.Parse(u)
	if err != nil {
		return "", false
	}
	bu, err := url.Parse(c.base)
	if err != nil {
		return "", false
	}
	rel := strings.TrimPrefix(pu.Path, bu.Path)
	if rel == "" || !fs.ValidPath(rel) {
		return "", false
	}
	return rel, true
}

func tagName(space, local string) string {
	for prefix, ns := range knownPrefixes {
		if ns == space {
			return prefix + ":" + local
		}
	}
	return local
}

// parseITunesDuration reads itunes:duration: whole seconds, MM:SS or HH:MM:SS (Apple), and
// tolerates fractional seconds.
func parseITunesDuration(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, false
	}
	var total time.Duration
	for i, p := range parts {
		if i < len(parts)-1 {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n > maxSeconds || (i > 0 && n >= 60) {
				return 0, false
			}
			total = (total + time.Duration(n)) * 60
			continue
		}
		sec, err := parseSeconds(p)
		if err != nil || (len(parts) > 1 && sec >= time.Minute) {
			return 0, false
		}
		total = total*time.Second + sec
	}
	return total, true
}

// rfc2822Layouts are the date forms RFC 2822 §3.3 allows (day name optional, seconds optional,
// numeric zone or an obsolete zone name, one- or two-digit day).
var rfc2822Layouts = []string{
	"Mon, 02 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"02 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 02 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 02 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"02 Jan 2006 15:04:05 MST",
	"Mon, 02 Jan 2006 15:04 MST",
}

// obsoleteZones are the zone names RFC 2822 §4.3 keeps (UT, GMT and the US zones).
var obsoleteZones = map[string]bool{"UT": true, "GMT": true, "EST": true, "EDT": true, "CST": true, "CDT": true, "MST": true, "MDT": true, "PST": true, "PDT": true}

func parseRFC2822(s string) (time.Time, error) {
	s = strings.Join(strings.Fields(s), " ")
	for _, layout := range rfc2822Layouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if strings.HasSuffix(layout, "MST") {
			zone := s[strings.LastIndex(s, " ")+1:]
			if !obsoleteZones[zone] {
				continue
			}
		}
		// time.Parse ignores a day name that disagrees with the date; RFC 2822 does not.
		if strings.HasPrefix(layout, "Mon") && !strings.HasPrefix(s, t.Weekday().String()[:3]) {
			return time.Time{}, errors.New("the day of the week does not match the date")
		}
		return t, nil
	}
	return time.Time{}, errors.New("not an RFC 2822 date")
}
