package feed

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/mail"
	"net/url"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	"github.com/spacecast/spacecast/pkg/objstore"

	"github.com/spacecast/spacecast/internal/textutil"
)

// ConfigError is one problem in podcast.yaml: the file, the line (0 when the problem is a key
// that is missing), the field ("owner.email", "persons[1].role") and what is wrong and what to
// do about it. It wraps ErrConfig.
type ConfigError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the problem as "podcast.yaml:7: language: ... (use ...)".
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrConfig) true.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// Limits from Apple's podcast RSS requirements.
const (
	// MaxDescriptionBytes is the longest show or episode description Apple takes.
	MaxDescriptionBytes = 4000
	// MaxPersonName is the Podcasting 2.0 person tag's advice: longer names may be truncated.
	MaxPersonName = 128
)

// LoadShow reads and validates a podcast.yaml file; errors name the file by path.
func LoadShow(path string) (*Show, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errorf("read show settings: %w", err)
	}
	return ParseShow(path, data)
}

// ParseShow parses and validates podcast.yaml; name is the file name used in errors. It reports
// every problem at once: the error is a *ConfigError, or an errors.Join of several (each one a
// *ConfigError, in line order). Unknown keys are errors, so a typo never silently drops a
// setting. Defaults: type is "episodic" when absent. The image file itself is not opened: call
// (*Show).CheckImage with the site folder.
func ParseShow(name string, data []byte) (*Show, error) {
	p := &showParser{file: name}
	s := p.parse(data)
	if len(p.errs) > 0 {
		if len(p.errs) == 1 {
			return nil, p.errs[0]
		}
		errs := make([]error, len(p.errs))
		for i, e := range p.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// showKeys are podcast.yaml's keys, in the order ShowTemplate writes them.
var showKeys = []string{"title", "description", "base_url", "link", "author", "language", "categories",
	"explicit", "image", "owner", "copyright", "type", "guid", "locked", "persons", "push"}

var (
	ownerKeys  = []string{"name", "email"}
	personKeys = []string{"name", "role", "group", "img", "href"}
)

type showParser struct {
	file string
	errs []*ConfigError
}

func (p *showParser) errf(line int, field, format string, args ...any) {
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *showParser) parse(data []byte) *Show {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		p.errf(line, "", "is not valid YAML: %s (fix the syntax; `spacecast feed init` writes a commented example)", msg)
		return nil
	}
	if len(doc.Content) == 0 {
		p.errf(0, "", "is empty (it holds the show's settings: `spacecast feed init` writes one)")
		return nil
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.errf(root.Line, "", "is not a mapping of settings (write key: value lines such as `title: My Show`)")
		return nil
	}
	s := &Show{}
	seen := p.keys(root, "", showKeys)
	for _, key := range showKeys {
		kv, ok := seen[key]
		if !ok {
			continue
		}
		v := kv[1]
		switch key {
		case "title":
			s.Title = p.str(v, key)
		case "description":
			s.Description = p.str(v, key)
		case "base_url":
			s.BaseURL = p.str(v, key)
		case "link":
			s.Link = p.str(v, key)
		case "author":
			s.Author = p.str(v, key)
		case "language":
			s.Language = p.str(v, key)
		case "categories":
			s.Categories = p.strList(v, key)
		case "explicit":
			s.Explicit = p.boolean(v, key)
		case "image":
			s.Image = p.str(v, key)
		case "owner":
			s.Owner = p.owner(v)
		case "copyright":
			s.Copyright = p.str(v, key)
		case "type":
			s.Type = p.str(v, key)
		case "guid":
			s.GUID = p.str(v, key)
		case "locked":
			s.Locked = p.boolean(v, key)
		case "persons":
			s.Persons = p.persons(v)
		case "push":
			s.Push = p.str(v, key)
		}
	}
	line := func(key string) int {
		if kv, ok := seen[key]; ok {
			return kv[1].Line
		}
		return 0
	}
	required := func(key, what string) bool {
		if _, ok := seen[key]; !ok {
			p.errf(0, key, "is missing (add `%s: %s`)", key, what)
			return false
		}
		return true
	}

	if required("title", "the show's name") && strings.TrimSpace(s.Title) == "" {
		p.errf(line("title"), "title", "is empty (set the show's name)")
	}
	if required("description", "what the show is about") {
		switch {
		case strings.TrimSpace(s.Description) == "":
			p.errf(line("description"), "description", "is empty (say what the show is about; Apple requires it)")
		case len(s.Description) > MaxDescriptionBytes:
			p.errf(line("description"), "description", "is %d bytes (Apple takes at most %d: shorten it)", len(s.Description), MaxDescriptionBytes)
		}
	}
	if required("base_url", "https://example.com/podcast") {
		if msg := checkBaseURL(s.BaseURL); msg != "" {
			p.errf(line("base_url"), "base_url", "%s", msg)
		}
	}
	if s.Link != "" {
		if msg := checkWebURL(s.Link, false); msg != "" {
			p.errf(line("link"), "link", "%s (or leave it empty to use base_url/)", msg)
		}
	}
	if required("author", "the name listeners see as the show's author") && strings.TrimSpace(s.Author) == "" {
		p.errf(line("author"), "author", "is empty (set the name listeners see as the show's author)")
	}
	if required("language", "en") && !languageTag.MatchString(s.Language) {
		p.errf(line("language"), "language", "%q is not a language tag (use a BCP 47 tag such as en, en-GB or pt-BR)", s.Language)
	}
	if required("categories", "[Technology]") {
		if len(s.Categories) == 0 && !p.failedAt(line("categories")) {
			p.errf(line("categories"), "categories", "is empty (name at least one Apple category, e.g. `- Technology` or `- News > Tech News`)")
		}
		dup := map[string]bool{}
		for i, c := range s.Categories {
			node := seen["categories"][1].Content[i]
			if node.Kind != yaml.ScalarNode {
				continue // reported by strList
			}
			cat, sub, err := SplitCategory(c)
			field := fmt.Sprintf("categories[%d]", i)
			if err != nil {
				p.errf(node.Line, field, "%v", err)
				continue
			}
			canon := cat
			if sub != "" {
				canon += CategorySeparator + sub
			}
			if dup[canon] {
				p.errf(node.Line, field, "%q is listed twice (remove one)", c)
			}
			dup[canon] = true
		}
	}
	required("explicit", "false")
	if s.Image != "" {
		if msg := checkImagePath(s.Image); msg != "" {
			p.errf(line("image"), "image", "%s", msg)
		}
	}
	if required("owner", "{name: ..., email: you@example.com}") {
		p.checkOwner(seen["owner"][0], seen["owner"][1], s.Owner)
	}
	switch s.Type {
	case "":
		s.Type = "episodic"
	case "episodic", "serial":
	default:
		p.errf(line("type"), "type", "%q is not a show type (use episodic, newest first, or serial, in order)", s.Type)
	}
	if s.GUID != "" && !uuidRE.MatchString(s.GUID) {
		p.errf(line("guid"), "guid", "%q is not a UUID (podcast:guid; delete the line and `spacecast feed init` rules apply: the UUIDv5 of the feed URL)", s.GUID)
	}
	if s.Push != "" {
		if _, err := objstore.ParseURL(s.Push); err != nil {
			reason := err.Error()
			var ue *objstore.URLError
			if errors.As(err, &ue) {
				reason = ue.Reason // the value is not repeated: it may hold credentials
			}
			p.errf(line("push"), "push", "is not an s3://BUCKET/PREFIX URL: %s (give the place base_url serves, or leave push out when the site is uploaded another way)", reason)
		}
	}
	for _, field := range []struct{ key, value string }{{"title", s.Title}, {"description", s.Description}, {"author", s.Author}, {"copyright", s.Copyright}} {
		if r, ok := badControl(field.value); ok {
			p.errf(line(field.key), field.key, "contains the control character %U (remove it; XML cannot carry it)", r)
		}
	}
	sortConfigErrors(p.errs)
	return s
}

// failedAt reports whether an error was already recorded on line.
func (p *showParser) failedAt(line int) bool {
	for _, e := range p.errs {
		if e.Line == line {
			return true
		}
	}
	return false
}

// sortConfigErrors puts errors in line order, missing keys (line 0) last, keeping the order of
// errors on one line.
func sortConfigErrors(errs []*ConfigError) {
	key := func(e *ConfigError) int {
		if e.Line == 0 {
			return math.MaxInt
		}
		return e.Line
	}
	sort.SliceStable(errs, func(i, j int) bool { return key(errs[i]) < key(errs[j]) })
}

// keys walks a mapping, reporting unknown and repeated keys; it returns key -> [key, value].
func (p *showParser) keys(m *yaml.Node, prefix string, known []string) map[string][2]*yaml.Node {
	seen := map[string][2]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), deref(m.Content[i+1])
		key := k.Value
		field := prefix + key
		if k.Kind != yaml.ScalarNode {
			p.errf(k.Line, prefix, "a key must be a plain name (write key: value)")
			continue
		}
		if !contains(known, key) {
			hint := "remove it"
			if near := nearest(key, known); near != "" {
				hint = fmt.Sprintf("did you mean %s?", near)
			}
			p.errf(k.Line, field, "is not a known setting (%s; the settings here are: %s)", hint, strings.Join(known, ", "))
			continue
		}
		if prev, dup := seen[key]; dup {
			p.errf(k.Line, field, "is set twice (also on line %d: keep one)", prev[0].Line)
			continue
		}
		seen[key] = [2]*yaml.Node{k, v}
	}
	return seen
}

func (p *showParser) str(v *yaml.Node, field string) string {
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		return ""
	case v.Kind == yaml.ScalarNode:
		return v.Value
	}
	p.errf(v.Line, field, "must be a single value, not a %s (quote it if it holds a colon: %s: \"a: b\")", kindName(v), field)
	return ""
}

func (p *showParser) boolean(v *yaml.Node, field string) bool {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
		var b bool
		if err := v.Decode(&b); err == nil {
			return b
		}
	}
	shown := v.Value
	if v.Kind != yaml.ScalarNode {
		shown = kindName(v)
	}
	p.errf(v.Line, field, "%q is not true or false (use true or false)", shown)
	return false
}

func (p *showParser) strList(v *yaml.Node, field string) []string {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errf(v.Line, field, "must be a list (write one `- item` per line)")
		return nil
	}
	var out []string
	for i, c := range v.Content {
		c = deref(c)
		v.Content[i] = c
		out = append(out, p.str(c, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

func (p *showParser) owner(v *yaml.Node) Owner {
	var o Owner
	if v.Kind != yaml.MappingNode {
		p.errf(v.Line, "owner", "must hold name: and email: lines (indented under owner:)")
		return o
	}
	seen := p.keys(v, "owner.", ownerKeys)
	for _, key := range ownerKeys {
		kv, ok := seen[key]
		if !ok {
			continue
		}
		switch key {
		case "name":
			o.Name = p.str(kv[1], "owner.name")
		case "email":
			o.Email = p.str(kv[1], "owner.email")
		}
	}
	return o
}

func (p *showParser) checkOwner(k, v *yaml.Node, o Owner) {
	if v.Kind != yaml.MappingNode {
		return // reported by owner
	}
	line := k.Line
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == "email" {
			line = v.Content[i+1].Line
		}
	}
	if o.Email == "" {
		p.errf(line, "owner.email", "is missing (Apple and podcast:locked need the owner's email: add `email: you@example.com` under owner:)")
	} else if msg := checkEmail(o.Email); msg != "" {
		p.errf(line, "owner.email", "%s", msg)
	}
	if r, ok := badControl(o.Name); ok {
		p.errf(v.Line, "owner.name", "contains the control character %U (remove it)", r)
	}
}

func (p *showParser) persons(v *yaml.Node) []Person {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errf(v.Line, "persons", "must be a list of people (each `- name: ...` with optional role, group, img, href)")
		return nil
	}
	var out []Person
	for i, item := range v.Content {
		item = deref(item)
		field := fmt.Sprintf("persons[%d]", i)
		if item.Kind != yaml.MappingNode {
			p.errf(item.Line, field, "must be a mapping (write `- name: Ada Lovelace` and optional role:, group:, img:, href:)")
			continue
		}
		var per Person
		seen := p.keys(item, field+".", personKeys)
		for _, key := range personKeys {
			kv, ok := seen[key]
			if !ok {
				continue
			}
			val := p.str(kv[1], field+"."+key)
			switch key {
			case "name":
				per.Name = val
			case "role":
				per.Role = val
			case "group":
				per.Group = val
			case "img":
				per.Img = val
			case "href":
				per.Href = val
			}
		}
		var pe *PersonError
		if errors.As(CheckPerson(per), &pe) {
			line := item.Line
			if kv, ok := seen[pe.Field]; ok {
				line = kv[1].Line
			}
			p.errf(line, field+"."+pe.Field, "%s", pe.Msg)
		}
		out = append(out, per)
	}
	return out
}

// PersonError is what is wrong with a Person, and in which of its fields (name, role, group,
// img, href).
type PersonError struct{ Field, Msg string }

// Error formats the problem as "role: ...".
func (e *PersonError) Error() string { return e.Field + ": " + e.Msg }

// CheckPerson checks a podcast:person: a name of at most 128 characters, a role and group from
// the taxonomy and https img and href URLs. It returns nil or a *PersonError for the first
// problem.
func CheckPerson(per Person) error {
	switch {
	case strings.TrimSpace(per.Name) == "":
		return &PersonError{"name", "is empty (podcast:person needs the person's name)"}
	case utf8.RuneCountInString(per.Name) > MaxPersonName:
		return &PersonError{"name", fmt.Sprintf("is longer than %d characters (apps truncate it: shorten it)", MaxPersonName)}
	}
	if r, ok := badControl(per.Name); ok {
		return &PersonError{"name", fmt.Sprintf("contains the control character %U (remove it)", r)}
	}
	if err := CheckPersonRole(per.Group, per.Role); err != nil {
		field := "role"
		if strings.HasPrefix(err.Error(), "group") {
			field = "group"
		}
		return &PersonError{field, err.Error()}
	}
	if per.Img != "" {
		if msg := checkWebURL(per.Img, true); msg != "" {
			return &PersonError{"img", msg}
		}
	}
	if per.Href != "" {
		if msg := checkWebURL(per.Href, true); msg != "" {
			return &PersonError{"href", msg}
		}
	}
	return nil
}

// FeedURL is where the feed is served: BaseURL + "/feed.xml".
func (s *Show) FeedURL() string { return s.BaseURL + "/feed.xml" }

// EpisodeURL is the URL of a file in the site's episodes/ folder, its name path-escaped.
func (s *Show) EpisodeURL(file string) string {
	return s.BaseURL + "/episodes/" + escapePath(file)
}

// SiteURL is the URL of a file at a path (slash-separated) in the site folder, path-escaped.
func (s *Show) SiteURL(p string) string { return s.BaseURL + "/" + escapePath(p) }

// PageURL is the show's web page: Link, or BaseURL + "/" when Link is empty.
func (s *Show) PageURL() string {
	if s.Link != "" {
		return s.Link
	}
	return s.BaseURL + "/"
}

// EpisodeAnchor is the id of an episode's entry on the site's index.html: "ep-" and the slug,
// every byte other than an ASCII letter, digit, '-' or '_' replaced by '-'. The feed links each
// item there; pkg/site's page must use the same id.
func EpisodeAnchor(slug string) string {
	b := []byte(slug)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	return "ep-" + string(b)
}

// EpisodePageURL is an episode's place on the site's page: BaseURL + "/#" + EpisodeAnchor(slug),
// the item's <link>.
func (s *Show) EpisodePageURL(slug string) string { return s.BaseURL + "/#" + EpisodeAnchor(slug) }

// PodcastGUID is the show's podcast:guid: GUID, or ShowGUID(FeedURL()) when GUID is empty.
func (s *Show) PodcastGUID() string {
	if s.GUID != "" {
		return s.GUID
	}
	return ShowGUID(s.FeedURL())
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		parts[i] = url.PathEscape(part)
	}
	return strings.Join(parts, "/")
}

// CheckImage opens the show's artwork (Image, a path in the site folder) in site and checks it
// with CheckArtwork. It returns nil when Image is empty, and a *ConfigError for the image field
// otherwise (line 0: the Show no longer knows its lines).
func (s *Show) CheckImage(site fs.FS, file string) error {
	if s.Image == "" {
		return nil
	}
	f, err := site.Open(s.Image)
	if err != nil {
		msg := fmt.Sprintf("%s cannot be opened: %v (put the artwork in the site folder or fix the path)", s.Image, unwrapPathError(err))
		return &ConfigError{File: file, Field: "image", Msg: msg}
	}
	defer f.Close()
	if err := CheckArtwork(f); err != nil {
		return &ConfigError{File: file, Field: "image", Msg: s.Image + ": " + strings.TrimPrefix(err.Error(), "feed: artwork: ")}
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// podcastNamespace is the UUID namespace of podcast:guid (Podcasting 2.0 guid tag).
var podcastNamespace = uuid.UUID{0xea, 0xd4, 0xc2, 0x36, 0xbf, 0x58, 0x58, 0xc6, 0xa2, 0xc6, 0xa6, 0xb2, 0x8d, 0x12, 0x8c, 0xb6}

// ShowGUID is podcast:guid for a feed URL: the UUIDv5 (RFC 9562 §5.5, SHA-1) in the namespace
// ead4c236-bf58-58c6-a2c6-a6b28d128cb6 of the URL with its scheme ("https://") and trailing
// slashes removed.
func ShowGUID(feedURL string) string {
	name := feedURL
	if i := strings.Index(name, "://"); i >= 0 {
		name = name[i+3:]
	}
	name = strings.TrimRight(name, "/")
	return uuid.NewSHA1(podcastNamespace, []byte(name)).String()
}

var (
	uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// languageTag is the shape of a BCP 47 tag: a 2–3 letter language and optional subtags.
	languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
)

func checkBaseURL(s string) string {
	if s == "" {
		return "is empty (set the https address the site folder is served from, e.g. https://example.com/podcast)"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("%q is not an absolute URL (use the https address the site folder is served from, e.g. https://example.com/podcast)", s)
	case u.Scheme != "https":
		return fmt.Sprintf("%q must use https (podcast apps and Podcasting 2.0 resources need it: use https://%s%s)", s, u.Host, u.EscapedPath())
	case u.User != nil:
		return fmt.Sprintf("%q contains a user name or password (remove it)", s)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Sprintf("%q has a query (?...); files are found under it by path (remove the query)", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Sprintf("%q has a fragment (#...) (remove it)", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Sprintf("%q ends with / (remove the trailing slash: %s)", s, strings.TrimRight(s, "/"))
	case strings.ContainsAny(s, " \t\n\"<>"):
		return fmt.Sprintf("%q contains spaces or quotes (percent-encode them)", s)
	}
	return ""
}

// checkWebURL checks an absolute http(s) URL; httpsOnly for Podcasting 2.0 resources.
func checkWebURL(s string, httpsOnly bool) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Sprintf("%q is not an absolute http(s) URL (use https://...)", s)
	}
	if httpsOnly && u.Scheme != "https" {
		return fmt.Sprintf("%q must use https (Podcasting 2.0 apps load it from inside https pages)", s)
	}
	if strings.ContainsAny(s, " \t\n\"<>") {
		return fmt.Sprintf("%q contains spaces or quotes (percent-encode them)", s)
	}
	return ""
}

func checkEmail(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return fmt.Sprintf("%q is not a plain email address (write it as you@example.com, without a name)", s)
	}
	return ""
}

func checkImagePath(p string) string {
	clean := strings.TrimPrefix(p, "./")
	if !fs.ValidPath(clean) || clean == "." || strings.Contains(p, `\`) {
		return fmt.Sprintf("%q is not a path inside the site folder (use a relative path such as artwork.jpg)", p)
	}
	switch strings.ToLower(path.Ext(clean)) {
	case ".jpg", ".jpeg", ".png":
	default:
		return fmt.Sprintf("%q is not a .jpg or .png file (Apple takes JPEG or PNG artwork with that extension)", p)
	}
	if clean != p {
		return fmt.Sprintf("%q starts with ./ (write %s)", p, clean)
	}
	return ""
}

// badControl finds a character XML 1.0 cannot carry, or another control character; tab and
// newline are allowed.
func badControl(s string) (rune, bool) {
	for _, r := range s {
		if r == '\t' || r == '\n' {
			continue
		}
		if r == utf8.RuneError || unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF {
			return r, true
		}
	}
	return 0, false
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "value"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nearest returns the known key within edit distance 2 of key (a likely typo), or "". A key
// longer than 64 bytes is no typo of a known one and is not compared (it comes from the file).
func nearest(key string, known []string) string {
	if len(key) > 64 {
		return ""
	}
	best, bestD := "", 3
	for _, k := range known {
		if d := textutil.EditDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}
