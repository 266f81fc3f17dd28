package feed

import (
	"bytes"
	"strings"

	"gopkg.in/yaml.v3"
)

// templateHeader opens every podcast.yaml that ShowTemplate writes.
const templateHeader = `podcast.yaml: the show's settings. Edit by hand; spacecast reads this file each time it
writes feed.xml (publish, unpublish). Check your edits with: spacecast feed check SITE`

// templateComments explain each key in the file ShowTemplate writes.
var templateComments = map[string]string{
	"title":       "The show's name, as podcast apps list it.",
	"description": "What the show is about: plain text, at most 4000 bytes. Apple requires it.",
	"base_url": "The https address this site folder is served from, without a trailing slash. The feed is\n" +
		"base_url/feed.xml and the episodes are under base_url/episodes/. Changing it moves the show:\n" +
		"keep guid below as it is so that apps know it is the same show.",
	"link":     `The show's web page; "" means base_url/ (the index.html in this folder).`,
	"author":   "The name listeners see as the show's author (itunes:author).",
	"language": "The language spoken, as a BCP 47 tag: en, en-GB, de, pt-BR, ...",
	"categories": "Apple Podcasts categories, the first one primary: \"Category\" or \"Category > Subcategory\"\n" +
		"from Apple's list, e.g. Technology, News > Tech News, Society & Culture > Documentary.",
	"explicit": "true when episodes contain explicit content (itunes:explicit).",
	"image": "The show's artwork, a file in this folder: a square JPEG or PNG, 1400 to 3000 px, RGB.\n" +
		`Apple requires artwork; "" leaves it out.`,
	"owner":     "Who Apple and other directories contact about the show (itunes:owner, podcast:locked).",
	"copyright": `Copyright notice, e.g. "© 2025 Ada Lovelace"; "" leaves it out.`,
	"type":      "episodic (newest first; most shows) or serial (listened to in order).",
	"guid": "podcast:guid, the show's permanent identity: the UUIDv5 of the feed URL when the site was\n" +
		"made. Keep it when the show moves to another base_url.",
	"locked": "true asks other platforms not to import this feed unless the owner's email confirms\n" +
		"(podcast:locked).",
	"persons": "The show's regular people (podcast:person), e.g.\n" +
		"  - name: Ada Lovelace\n" +
		"    role: host            # Podcasting 2.0 taxonomy role; host when empty\n" +
		"    group: cast           # taxonomy group; cast when empty\n" +
		"    img: https://example.com/ada.jpg\n" +
		"    href: https://example.com/ada",
	"push": "Where publish uploads the site after each change (spacecast site push): s3://BUCKET[/PREFIX],\n" +
		"the place base_url serves. Leave it out when the site is uploaded another way.",
}

// ShowTemplate is the hand-editable podcast.yaml that `spacecast feed init` writes: every key,
// each with a comment, in a fixed order. ParseShow(ShowTemplate(s)) returns s for any s that
// ParseShow returns (an empty Type is written as "episodic", the default ParseShow applies).
func ShowTemplate(s *Show) []byte {
	typ := s.Type
	if typ == "" {
		typ = "episodic"
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, value *yaml.Node) {
		k := &yaml.Node{Kind: yaml.ScalarNode, Value: key, HeadComment: comment(templateComments[key])}
		root.Content = append(root.Content, k, value)
	}
	add("title", str(s.Title))
	add("description", str(s.Description))
	add("base_url", str(s.BaseURL))
	add("link", str(s.Link))
	add("author", str(s.Author))
	add("language", str(s.Language))
	cats := &yaml.Node{Kind: yaml.SequenceNode}
	for _, c := range s.Categories {
		cats.Content = append(cats.Content, str(c))
	}
	if len(s.Categories) == 0 {
		cats.Style = yaml.FlowStyle
	}
	add("categories", cats)
	add("explicit", boolean(s.Explicit))
	add("image", str(s.Image))
	owner := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		plain("name"), str(s.Owner.Name),
		plain("email"), str(s.Owner.Email),
	}}
	add("owner", owner)
	add("copyright", str(s.Copyright))
	add("type", str(typ))
	add("guid", str(s.GUID))
	add("locked", boolean(s.Locked))
	persons := &yaml.Node{Kind: yaml.SequenceNode}
	for _, p := range s.Persons {
		m := &yaml.Node{Kind: yaml.MappingNode}
		m.Content = append(m.Content, plain("name"), str(p.Name))
		for _, f := range []struct{ k, v string }{{"role", p.Role}, {"group", p.Group}, {"img", p.Img}, {"href", p.Href}} {
			if f.v != "" {
				m.Content = append(m.Content, plain(f.k), str(f.v))
			}
		}
		persons.Content = append(persons.Content, m)
	}
	if len(s.Persons) == 0 {
		persons.Style = yaml.FlowStyle
	}
	add("persons", persons)
	if s.Push != "" {
		add("push", str(s.Push))
	}

	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: comment(templateHeader), Content: []*yaml.Node{root}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	// Encoding a tree of plain nodes cannot fail: every value is a string, bool or node.
	_ = enc.Encode(doc)
	_ = enc.Close()
	return b.Bytes()
}

// comment turns lines into a YAML comment (yaml.v3 adds the "# " itself only to the first line).
func comment(text string) string {
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = "# " + l
	}
	return strings.Join(lines, "\n")
}

func plain(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// str is a string scalar; yaml.v3 quotes it when it would otherwise read as another type.
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if s == "" {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func boolean(b bool) *yaml.Node {
	v := "false"
	if b {
		v = "true"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v}
}
