package site

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spacecast/spacecast/internal/fsutil"
	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/studio"
	"github.com/spacecast/spacecast/pkg/websafe"
)

// Field names a part of an episode; EpisodeInput.Set says which parts were given.
type Field uint

// The parts of an episode an EpisodeInput can give.
const (
	FieldTitle       Field = 1 << iota
	FieldDescription       // Description, or Notes
	FieldDate
	FieldSeason
	FieldNumber
	FieldType
	FieldExplicit
	FieldSoundbites
	FieldChapters
	FieldTranscript
	FieldPersons
	FieldAudio
)

// EpisodeInput is what Publish and Update are told about an episode.
//
// Metadata carried by spacecast's own MP3s (studio.ReadMeta) comes along: the speakers become
// podcast:person entries (role "guest", or the role a Persons entry or the show's persons give the
// same name or identity), and the chapters and soundbites come with their times. Chapters given
// here replace the file's (a chapters file is a complete list); soundbites given here are added to
// the file's, replacing one that starts at the same time; persons given here are added, or change
// the role of the speaker with the same name.
type EpisodeInput struct {
	// Set says which fields were given. Publish also takes every field that is not zero as given;
	// Update keeps what the episode has for every field not in Set.
	Set Field
	// Audio is an MP3 file or a session folder (mixed with studio.Mix's defaults).
	Audio string
	// Slug is the episode's name in episodes/ and its URL; Slugify(Title) when empty.
	Slug  string
	Title string
	// Description is plain text. Notes, when set instead, is Markdown: the page and
	// content:encoded show it as HTML, and the description is its text (cut to MaxDescription).
	Description string
	Notes       []byte
	NotesName   string // the notes file, for messages
	// Date is the pubDate at first publish (now when zero); it never changes afterwards.
	Date           time.Time
	Season, Number int
	Type           string // "full" (default), "trailer" or "bonus"
	Explicit       bool
	Soundbites     []feed.Soundbite
	Chapters       []feed.Chapter
	// Transcript is a file: .vtt, .srt, .json, .html or .txt.
	Transcript string
	Persons    []feed.Person
}

func (in *EpisodeInput) has(f Field) bool { return in.Set&f != 0 }

// given is the fields that hold a value: what Publish adds to Set (a bool cannot tell, so
// Explicit counts only when FieldExplicit is set).
func (in *EpisodeInput) given() Field {
	var f Field
	for _, c := range []struct {
		ok bool
		f  Field
	}{
		{!in.Date.IsZero(), FieldDate}, {in.Season != 0, FieldSeason}, {in.Number != 0, FieldNumber},
		{in.Type != "", FieldType}, {in.Soundbites != nil, FieldSoundbites}, {in.Chapters != nil, FieldChapters},
		{in.Transcript != "", FieldTranscript}, {in.Persons != nil, FieldPersons},
	} {
		if c.ok {
			f |= c.f
		}
	}
	return f
}

// transcriptTypes maps a transcript's extension to its MIME type (Podcasting 2.0 transcript tag).
var transcriptTypes = map[string]string{
	".vtt":  "text/vtt",
	".srt":  "application/x-subrip",
	".json": "application/json",
	".html": "text/html",
	".txt":  "text/plain",
}

// TranscriptType returns the MIME type of a transcript file by its extension.
func TranscriptType(path string) (string, bool) {
	t, ok := transcriptTypes[strings.ToLower(filepath.Ext(path))]
	return t, ok
}

// Publish adds an episode to the site at dir: the audio (an MP3 copied as it is, or a session
// folder mixed) goes to episodes/SLUG.mp3 with its chapters and transcript, the record gets the
// episode with a GUID and pubDate fixed now, and feed.xml and index.html are made again.
//
// Publishing the same episode again changes nothing (Status "unchanged"). A different episode
// under a slug in use is ErrSlugTaken (use Update); the slug of an unpublished episode is
// ErrSlugRetired. On any error the site is left as it was.
func Publish(ctx context.Context, dir string, in EpisodeInput, opts Options) (*Result, error) {
	show, err := LoadShow(dir)
	if err != nil {
		return nil, err
	}
	slug := in.Slug
	if slug == "" {
		slug = Slugify(in.Title)
		if slug == "" {
			return nil, badInput("title %q: %w", in.Title, ErrNoSlug)
		}
	} else if !ValidSlug(slug) {
		return nil, badInput("slug %q: use 1-%d lowercase ASCII letters, digits and single hyphens", slug, MaxSlug)
	}
	eps, err := loadRecord(dir)
	if err != nil {
		return nil, err
	}
	if i := find(eps, slug); i >= 0 && eps[i].Unpublished {
		return nil, retired(slug)
	}
	t, err := begin(dir, opts)
	if err != nil {
		return nil, err
	}
	res, err := t.publish(ctx, slug, show, in)
	if err != nil {
		return nil, also(err, t.abort())
	}
	return res, nil
}

func retired(slug string) error {
	return errorf("slug %q: %w: slugs and GUIDs are never reused", slug, ErrSlugRetired)
}

func (t *tx) publish(ctx context.Context, slug string, show *feed.Show, in EpisodeInput) (*Result, error) {
	ep := feed.Episode{Slug: slug, Type: "full"}
	audio, meta, err := t.stageAudio(ctx, in.Audio, slug, show, in.Title)
	if err != nil {
		return nil, err
	}
	ep.Audio = audio
	in.Set |= FieldAudio | FieldTitle | FieldDescription | in.given()
	if t.res.Warnings, err = applyInput(&ep, &in, meta, show); err != nil {
		return nil, err
	}
	if err := t.stageEpisodeFiles(&ep, &in, nil); err != nil {
		return nil, err
	}

	if err := t.lockAndLoad(ctx); err != nil {
		return nil, err
	}
	if err := t.assignIdentity(&ep, &in); err != nil {
		return nil, err
	}
	t.res.Episode = &ep
	if i := find(t.eps, slug); i >= 0 {
		old := &t.eps[i]
		if old.Unpublished {
			return nil, retired(slug)
		}
		same, err := t.sameEpisode(old, &ep)
		if err != nil {
			return nil, err
		}
		if !same {
			return nil, &Error{Err: &SlugTakenError{Dir: t.dir, Slug: slug, Title: old.Title, PubDate: old.PubDate}}
		}
		t.res.Episode = old
		res, err := t.commit()
		if res != nil {
			res.Status = "unchanged"
		}
		return res, err
	}
	t.eps = append(t.eps, ep)
	res, err := t.commit()
	if res != nil {
		res.Status = "published"
	}
	return res, err
}

// assignIdentity gives a new episode its GUID and pubDate, or an episode already in the record
// (published meanwhile, or again) the ones it has.
func (t *tx) assignIdentity(ep *feed.Episode, in *EpisodeInput) error {
	if i := find(t.eps, ep.Slug); i >= 0 {
		old := t.eps[i]
		ep.GUID = old.GUID
		ep.PubDate = old.PubDate
		if in.has(FieldDate) && !in.Date.Equal(old.PubDate) {
			ep.PubDate = in.Date.UTC() // differs: sameEpisode says so
		}
		return nil
	}
	guid, err := EpisodeGUID(t.show.PodcastGUID(), ep.Slug)
	if err != nil {
		return err
	}
	for _, e := range t.eps {
		if e.GUID == guid {
			return errorf("%w: episode %q already has GUID %s (a podcast.yaml guid edited by hand?)", ErrSlugTaken, e.Slug, guid)
		}
	}
	ep.GUID = guid
	ep.PubDate = t.opts.now().UTC().Truncate(time.Second)
	if in.has(FieldDate) {
		ep.PubDate = in.Date.UTC()
	}
	return nil
}

// sameEpisode reports whether ep, staged, is the episode old already in the site: the same record
// and the same bytes in its chapters and transcript files.
func (t *tx) sameEpisode(old, ep *feed.Episode) (bool, error) {
	a, err := json.Marshal(old)
	if err != nil {
		return false, err
	}
	b, err := json.Marshal(ep)
	if err != nil {
		return false, err
	}
	if !bytes.Equal(a, b) {
		return false, nil
	}
	for _, f := range episodeFiles(ep)[1:] {
		rel := EpisodesDir + "/" + f
		site := filepath.Join(t.dir, EpisodesDir, f)
		if _, err := os.Stat(site); err != nil {
			continue // missing from the site: the commit puts it back
		}
		same, err := sameContent(t.stage.path(rel), site)
		if err != nil || !same {
			return false, err
		}
	}
	return true, nil
}

// Update changes an episode already published: the fields in in.Set, and its audio when
// FieldAudio is set. Its GUID and pubDate never change (FieldDate is an error). Files the episode
// no longer has are removed.
func Update(ctx context.Context, dir, slug string, in EpisodeInput, opts Options) (*Result, error) {
	show, err := LoadShow(dir)
	if err != nil {
		return nil, err
	}
	if in.has(FieldDate) {
		return nil, badInput("%s: an episode's pubDate is fixed when it is first published (podcast apps sort and notify by it; a moved date looks like a new episode)", slug)
	}
	eps, err := loadRecord(dir)
	if err != nil {
		return nil, err
	}
	i := find(eps, slug)
	if i < 0 {
		return nil, noEpisode(dir, slug, eps)
	}
	if eps[i].Unpublished {
		return nil, errorf("%s: %w: it cannot be changed", slug, ErrSlugRetired)
	}
	t, err := begin(dir, opts)
	if err != nil {
		return nil, err
	}
	res, err := t.update(ctx, show, eps[i], in)
	if err != nil {
		return nil, also(err, t.abort())
	}
	return res, nil
}

func noEpisode(dir, slug string, eps []feed.Episode) error {
	var live []string
	for _, e := range eps {
		if !e.Unpublished {
			live = append(live, e.Slug)
		}
	}
	if len(live) == 0 {
		return errorf("%s: %w %q (the site has no episodes)", dir, ErrNoEpisode, slug)
	}
	return errorf("%s: %w %q (its episodes: %s)", dir, ErrNoEpisode, slug, strings.Join(live, ", "))
}

func (t *tx) update(ctx context.Context, show *feed.Show, old feed.Episode, in EpisodeInput) (*Result, error) {
	ep := old
	ep.Persons = slices.Clone(old.Persons)
	ep.Soundbites = slices.Clone(old.Soundbites)
	ep.Chapters = slices.Clone(old.Chapters)
	var meta *studio.Meta
	if in.has(FieldAudio) {
		title := old.Title
		if in.has(FieldTitle) {
			title = in.Title
		}
		audio, m, err := t.stageAudio(ctx, in.Audio, old.Slug, show, title)
		if err != nil {
			return nil, err
		}
		ep.Audio, meta = audio, m
	}
	var err error
	if t.res.Warnings, err = applyInput(&ep, &in, meta, show); err != nil {
		return nil, err
	}
	if err := t.stageEpisodeFiles(&ep, &in, &old); err != nil {
		return nil, err
	}
	if err := t.lockAndLoad(ctx); err != nil {
		return nil, err
	}
	i := find(t.eps, old.Slug)
	if i < 0 || !recordEqual(&t.eps[i], &old) {
		return nil, errorf("%s: the episode was changed by another run meanwhile: run the update again", old.Slug)
	}
	for _, f := range episodeFiles(&old) {
		if !slices.Contains(episodeFiles(&ep), f) {
			t.drop = append(t.drop, EpisodesDir+"/"+f)
		}
	}
	same, err := t.sameEpisode(&old, &ep)
	if err != nil {
		return nil, err
	}
	t.eps[i] = ep
	t.res.Episode = &ep
	res, err := t.commit()
	if res != nil {
		res.Status = "updated"
		if same {
			res.Status = "unchanged"
		}
	}
	return res, err
}

func recordEqual(a, b *feed.Episode) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// Unpublish takes an episode out of the feed and the page and deletes its files; its record stays
// as a tombstone, so that its slug and GUID are never used again. Unpublishing an unpublished
// episode changes nothing.
func Unpublish(ctx context.Context, dir, slug string, opts Options) (*Result, error) {
	if _, err := LoadShow(dir); err != nil {
		return nil, err
	}
	t, err := begin(dir, opts)
	if err != nil {
		return nil, err
	}
	res, err := t.unpublish(ctx, slug)
	if err != nil {
		return nil, also(err, t.abort())
	}
	return res, nil
}

func (t *tx) unpublish(ctx context.Context, slug string) (*Result, error) {
	if err := t.lockAndLoad(ctx); err != nil {
		return nil, err
	}
	i := find(t.eps, slug)
	if i < 0 {
		return nil, noEpisode(t.dir, slug, t.eps)
	}
	ep := &t.eps[i]
	status := "unchanged"
	if !ep.Unpublished {
		ep.Unpublished = true
		status = "unpublished"
	}
	for _, f := range episodeFiles(ep) {
		t.drop = append(t.drop, EpisodesDir+"/"+f)
	}
	t.res.Episode = ep
	res, err := t.commit()
	if res != nil {
		res.Status = status
	}
	return res, err
}

// stageAudio puts the episode's audio into the staging folder as episodes/SLUG.mp3 and measures
// it: an MP3 is copied as it is, a session folder is mixed with mix's defaults. It returns the
// enclosure and the file's spacecast metadata (nil for other MP3s).
func (t *tx) stageAudio(ctx context.Context, src, slug string, show *feed.Show, title string) (feed.Audio, *studio.Meta, error) {
	name := slug + ".mp3"
	dst := t.stage.path(EpisodesDir + "/" + name)
	if st, err := os.Stat(src); err == nil && st.IsDir() && session.IsSession(src) {
		mo := studio.DefaultMixOptions()
		mo.Inputs, mo.Output = []string{src}, dst
		mo.Tag.Title, mo.Tag.Artist, mo.Tag.Album = title, show.Author, show.Title
		if _, err := studio.Mix(ctx, mo, t.opts.Progress); err != nil {
			return feed.Audio{}, nil, errorf("mix %s: %w", src, err)
		}
	} else {
		if _, err := ProbeMP3(src); err != nil {
			return feed.Audio{}, nil, err
		}
		if _, err := fsutil.CopyFile(src, dst); err != nil {
			return feed.Audio{}, nil, fmt.Errorf("site: copy %s: %w", src, err)
		}
	}
	// Measure the staged copy: it is what the feed describes, whatever happens to src meanwhile.
	audio, err := ProbeMP3(dst)
	if err != nil {
		return feed.Audio{}, nil, err
	}
	audio.File = name
	meta, err := studio.ReadMeta(dst)
	if err != nil {
		return feed.Audio{}, nil, badInput("%s: %w", src, err)
	}
	t.stageFile(EpisodesDir + "/" + name)
	return audio, meta, nil
}

// stageEpisodeFiles stages the chapters JSON and the transcript of ep. old is the episode as
// recorded when updating (nil when publishing).
func (t *tx) stageEpisodeFiles(ep *feed.Episode, in *EpisodeInput, old *feed.Episode) error {
	ep.ChaptersFile = ""
	if len(ep.Chapters) > 0 {
		ep.ChaptersFile = ep.Slug + ".chapters.json"
		b, err := feed.ChaptersJSON(ep)
		if err != nil {
			return errorf("chapters of %s: %w", ep.Slug, err)
		}
		if err := t.writeStaged(EpisodesDir+"/"+ep.ChaptersFile, b); err != nil {
			return err
		}
	}
	if !in.has(FieldTranscript) {
		return nil
	}
	ep.Transcript = nil
	if in.Transcript == "" {
		return nil // --update with an empty --transcript: remove it
	}
	typ, ok := TranscriptType(in.Transcript)
	if !ok {
		return badInput("transcript %s: use a .vtt, .srt, .json, .html or .txt file", in.Transcript)
	}
	if err := checkTranscript(in.Transcript); err != nil {
		return err
	}
	name := ep.Slug + strings.ToLower(filepath.Ext(in.Transcript))
	if typ == "text/html" {
		// An HTML transcript is served from the site's own origin and linked from the page:
		// it is published cleaned, never as it came.
		b, err := os.ReadFile(in.Transcript)
		if err != nil {
			return badInput("transcript: %w", err)
		}
		clean, err := websafe.CleanTranscript(bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF")))
		if err != nil {
			return badInput("transcript %s: %w", in.Transcript, err)
		}
		if err := t.writeStaged(EpisodesDir+"/"+name, clean); err != nil {
			return err
		}
	} else {
		if _, err := fsutil.CopyFile(in.Transcript, t.stage.path(EpisodesDir+"/"+name)); err != nil {
			return fmt.Errorf("site: copy transcript %s: %w", in.Transcript, err)
		}
		t.stageFile(EpisodesDir + "/" + name)
	}
	ep.Transcript = &feed.Transcript{File: name, Type: typ}
	return nil
}

// checkTranscript refuses a transcript that is empty, not UTF-8, or not what its extension says.
func checkTranscript(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return badInput("transcript: %w", err)
	}
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	bad := func(why string) error {
		return badInput("transcript %s: %s", path, why)
	}
	switch {
	case len(bytes.TrimSpace(b)) == 0:
		return bad("it is empty")
	case !utf8Valid(b):
		return bad("it is not UTF-8 text")
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".vtt":
		if !bytes.HasPrefix(b, []byte("WEBVTT")) {
			return bad(`a WebVTT file starts with "WEBVTT"`)
		}
	case ".json":
		if !json.Valid(b) {
			return bad("it is not valid JSON")
		}
	case ".srt":
		if !bytes.Contains(b, []byte("-->")) {
			return bad(`an SRT file has "00:00:01,000 --> 00:00:02,000" time lines; this has none`)
		}
	}
	return nil
}

// applyInput sets the fields of ep that in gives, merges the audio's metadata when there is new
// audio, and checks the result against the audio's length.
func applyInput(ep *feed.Episode, in *EpisodeInput, meta *studio.Meta, show *feed.Show) (warnings []string, err error) {
	if in.has(FieldTitle) {
		ep.Title = strings.TrimSpace(in.Title)
	}
	if in.has(FieldDescription) {
		ep.Description, ep.NotesHTML = strings.TrimSpace(in.Description), ""
		if in.Notes != nil {
			n, err := RenderNotes(in.Notes)
			if err != nil {
				if errors.Is(err, errNotUTF8) {
					return nil, badInput("notes %s: %w", in.NotesName, errNotUTF8)
				}
				return nil, err
			}
			ep.Description, ep.NotesHTML = Summary(n.Text, MaxDescription), n.HTML
		} else if len(ep.Description) > MaxDescription {
			return nil, badInput("description: %w", &TooLongError{What: "description", Bytes: len(ep.Description), Max: MaxDescription})
		}
	}
	if in.has(FieldSeason) {
		ep.Season = in.Season
	}
	if in.has(FieldNumber) {
		ep.Number = in.Number
	}
	if in.has(FieldType) {
		ep.Type = in.Type
	}
	if in.has(FieldExplicit) {
		ep.Explicit = &in.Explicit
	}
	if in.has(FieldAudio) {
		// New audio: its own metadata replaces what the old audio brought.
		ep.Persons, ep.Chapters, ep.Soundbites = nil, nil, nil
		if meta != nil {
			// Titles from the audio's metadata may carry a room's display names: they are
			// published sanitised, with a warning, never refused (safetext.Publish).
			for _, c := range meta.Chapters {
				title := publishable(&warnings, "chapter title", c.Title)
				ep.Chapters = append(ep.Chapters, feed.Chapter{Start: c.Start, End: c.End, Title: title})
			}
			for _, s := range meta.Soundbites {
				title := publishable(&warnings, "soundbite title", s.Title)
				ep.Soundbites = append(ep.Soundbites, feed.Soundbite{Start: s.Start, Duration: s.Duration, Title: title})
			}
		}
	}
	if in.has(FieldChapters) {
		ep.Chapters = slices.Clone(in.Chapters)
	}
	if in.has(FieldSoundbites) || in.has(FieldAudio) {
		base := ep.Soundbites
		if !in.has(FieldAudio) {
			base = nil // --update --soundbite without new audio: the given list replaces the old
		}
		ep.Soundbites = mergeSoundbites(base, in.Soundbites)
	}
	if in.has(FieldPersons) || in.has(FieldAudio) {
		var speakers []studio.MetaSpeaker
		if in.has(FieldAudio) && meta != nil {
			speakers = meta.Speakers
		} else if !in.has(FieldAudio) {
			speakers = nil // --update --person without new audio: the given list replaces the old
		}
		persons, err := mergePersons(speakers, in.Persons, show.Persons, &warnings)
		if err != nil {
			return nil, err
		}
		ep.Persons = persons
	}
	return warnings, checkEpisode(ep)
}

// publishable returns text from a recording (a display name, a title made from one) as it may be
// published (safetext.Publish), and adds a warning when that changed it. The raw text stays in
// the session's manifest.
func publishable(warnings *[]string, what, raw string) string {
	clean := safetext.Publish(raw)
	if !safetext.Clean(raw) || utf8.RuneCountInString(strings.TrimSpace(raw)) > safetext.MaxPublish {
		*warnings = append(*warnings, fmt.Sprintf("%s %s from the recording is published as %q: control, bidirectional or invalid characters removed, or cut to %d characters", what, strconv.QuoteToASCII(raw), clean, safetext.MaxPublish))
	}
	return clean
}

// mergeSoundbites adds given soundbites to the file's; a given one replaces a file's one that
// starts at the same time. The result is sorted by start.
func mergeSoundbites(file, given []feed.Soundbite) []feed.Soundbite {
	var out []feed.Soundbite
	for _, f := range file {
		if !slices.ContainsFunc(given, func(g feed.Soundbite) bool { return g.Start == f.Start }) {
			out = append(out, f)
		}
	}
	out = append(out, given...)
	slices.SortStableFunc(out, func(a, b feed.Soundbite) int { return int((a.Start - b.Start) / time.Microsecond) })
	return out
}

// mergePersons makes an episode's podcast:person list: the recorded speakers first, in their
// order, then the given persons no speaker matched. A speaker's name is its display name (its
// identity only when it has none); its role is that of a given person with the same name or
// identity, else that of the show's person with that name, else "guest". Names compare without
// case. Every role must be in the Podcasting 2.0 taxonomy.
func mergePersons(speakers []studio.MetaSpeaker, given, show []feed.Person, warnings *[]string) ([]feed.Person, error) {
	var out []feed.Person
	used := make([]bool, len(given))
	match := func(names ...string) int {
		for i, g := range given {
			for _, n := range names {
				if n != "" && strings.EqualFold(strings.TrimSpace(g.Name), n) {
					return i
				}
			}
		}
		return -1
	}
	seen := func(name string) bool {
		return slices.ContainsFunc(out, func(p feed.Person) bool { return strings.EqualFold(p.Name, name) })
	}
	fromRoom := make(map[int]bool)
	for _, s := range speakers {
		// A room's display name may carry anything: it is published sanitised, with a warning.
		name := publishable(warnings, "speaker name", s.Name)
		if name == "" {
			name = publishable(warnings, "speaker identity", s.Identity)
		}
		if name == "" || seen(name) {
			continue
		}
		p := feed.Person{Name: name, Role: "guest"}
		if i := slices.IndexFunc(show, func(h feed.Person) bool {
			return strings.EqualFold(h.Name, name) || strings.EqualFold(h.Name, s.Identity)
		}); i >= 0 {
			p = show[i]
			p.Name = name
			if p.Role == "" {
				p.Role = feed.DefaultRole
			}
		}
		if i := match(name, s.Identity); i >= 0 {
			used[i] = true
			if given[i].Role != "" {
				p.Role, p.Group = given[i].Role, ""
			}
		}
		fromRoom[len(out)] = true
		out = append(out, p)
	}
	for i, g := range given {
		g.Name = strings.TrimSpace(g.Name)
		if used[i] || g.Name == "" || seen(g.Name) {
			continue
		}
		if g.Role == "" {
			g.Role = "guest"
		}
		if j := slices.IndexFunc(show, func(h feed.Person) bool { return strings.EqualFold(h.Name, g.Name) }); j >= 0 {
			g.Img, g.Href = show[j].Img, show[j].Href
		}
		out = append(out, g)
	}
	for i := range out {
		p := &out[i]
		if p.Group == "" {
			g, ok := feed.RoleGroup(p.Role)
			if !ok {
				return nil, badInput("person %q: %w", p.Name, feed.CheckPersonRole("", p.Role))
			}
			p.Group = strings.ToLower(g)
		}
		if err := feed.CheckPerson(*p); err != nil {
			return nil, badInput("person %q: %w", p.Name, err)
		}
		p.Role = strings.ToLower(p.Role)
		if fromRoom[i] {
			// "Ada (host)" as host: the role attribute says it, the name need not say it again.
			p.Name = feed.WithoutRole(p.Name, p.Role)
		}
	}
	return out, nil
}

// checkEpisode checks an episode against its audio: type, numbers, and every soundbite and
// chapter inside the audio.
func checkEpisode(ep *feed.Episode) error {
	bad := func(format string, a ...any) error {
		return badInput("episode %q: %s", ep.Slug, fmt.Sprintf(format, a...))
	}
	d := ep.Audio.Duration
	switch {
	case ep.Title == "":
		return bad("the title is empty")
	case ep.Type != "full" && ep.Type != "trailer" && ep.Type != "bonus":
		return bad("type %q: use full, trailer or bonus", ep.Type)
	case ep.Season < 0 || ep.Number < 0:
		return bad("season and episode numbers start at 1")
	case !safetext.Clean(ep.Title):
		return bad("the title %q has control, bidirectional or invalid characters (type it as plain text)", ep.Title)
	}
	// Names and titles from a recording were made publishable in applyInput; one that is still
	// not plain text was typed, and is refused rather than changed.
	for _, p := range ep.Persons {
		if !safetext.Clean(p.Name) {
			return bad("person %q has control, bidirectional or invalid characters (type the name as plain text)", p.Name)
		}
	}
	for _, c := range ep.Chapters {
		if !safetext.Clean(c.Title) {
			return bad("chapter title %q has control, bidirectional or invalid characters (type it as plain text)", c.Title)
		}
	}
	for _, sb := range ep.Soundbites {
		if !safetext.Clean(sb.Title) {
			return bad("soundbite title %q has control, bidirectional or invalid characters (type it as plain text)", sb.Title)
		}
	}
	for _, s := range ep.Soundbites {
		r := edit.Range{Start: s.Start, End: s.Start + s.Duration}
		if s.Duration <= 0 {
			return bad("soundbite at %s has no duration", edit.FormatTime(s.Start))
		}
		if r.End > d {
			return bad("soundbite %s ends past the end of the episode (%s)", r, edit.FormatTime(d))
		}
	}
	for i := range ep.Chapters {
		c := &ep.Chapters[i]
		if c.End > d && c.End-d < time.Millisecond {
			c.End = d // the source's rounding
		}
		if c.Start >= d || c.End > d {
			return bad("chapter %q at %s is past the end of the episode (%s)", c.Title, edit.FormatTime(c.Start), edit.FormatTime(d))
		}
	}
	return nil
}
