package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/site"
	"github.com/spacecast/spacecast/pkg/sitestore"
	"github.com/spacecast/spacecast/pkg/studio"
)

type publishOptions struct {
	update      bool
	audio       string
	title       string
	description string
	notes       string
	date        string
	season      int
	episode     int
	typ         string
	soundbites  []string
	chapters    string
	transcript  string
	persons     []string
	slug        string
	explicit    bool
	lockTimeout time.Duration
	push        sitePushFlags
}

func newPublishCommand(g *globalOptions) *cobra.Command {
	o := &publishOptions{}
	cmd := &cobra.Command{
		Use:   "publish SITE AUDIO --title T [flags] | publish --update SITE SLUG [flags]",
		Short: "Publish an episode to a site folder: audio, feed.xml, chapters and index.html",
		Long: `Publish copies an episode's audio into SITE/episodes/SLUG.mp3, records the episode in
SITE/episodes.json and writes SITE/feed.xml (RSS with iTunes, PSP-1 and Podcasting 2.0 tags), the
episode's chapters JSON and transcript, and SITE/index.html again. SITE is a folder made by
'spacecast feed init'; upload it to any static host (docs/publish.md).

AUDIO is an MP3 (its length is read exactly from the LAME tag) or a session folder, which is mixed
with mix's defaults first. Other audio (WAV, Ogg Opus) is refused with the mix command that makes
an MP3 of it.

spacecast's own MP3s (mix, clip, trim) say who speaks in them, their chapters and soundbites, on
the file's own timeline after any trim. Those speakers become podcast:person entries with the role
"guest" (or the show's role for a person podcast.yaml lists, or the role --person gives the same
name or identity); the chapters and soundbites come along. --chapters FILE replaces the file's
chapters; --soundbite and --person add to what the file has (a --soundbite at the same start
replaces the file's one).

The slug (the file name and the episode's URL) is made from the title: ASCII, lowercase, hyphens,
at most 60 characters; --slug picks another. The episode's GUID (a UUIDv5 of the show's
podcast:guid and the slug) and its pubDate (--date, or now) are fixed when it is first published.
Publishing the same episode again changes nothing and says "unchanged"; a different episode under
a slug in use is refused: change it with --update, or choose another --slug.

--update SITE SLUG changes a published episode: only the flags given change (a list flag given,
--soundbite, --person or --chapters, replaces that list; --audio FILE replaces the audio and takes
its metadata anew). The GUID and pubDate never change, so --date is refused.

Two runs on one site never corrupt it: each waits for the site's lock (--lock-timeout), everything
is made in a staging folder inside SITE and renamed into place only when all of it succeeded (audio
first, then episodes.json, feed.xml and index.html last). A failure or Ctrl-C leaves the site as
it was.

Times: seconds (754.5), MM:SS(.mmm), HH:MM:SS(.mmm) or 1h2m3s. A soundbite is START+DURATION or
START-END with an optional :TITLE (15 to 120 s is what apps expect).

--push s3://BUCKET[/PREFIX] (or a push: line in podcast.yaml) uploads the site after a successful
publish, as 'spacecast site push' does: audio first, feed.xml and index.html last, unchanged files
skipped. The store is checked before anything is published; a push that fails afterwards leaves
the episode published in SITE, and 'spacecast site push' completes the upload. --no-push skips
podcast.yaml's target once.

Exit status 3 for bad input (not a site, a podcast.yaml mistake, audio that is not an MP3, a
soundbite past the end, a slug in use), 2 for a malformed flag, 1 when the site's lock is not free
within --lock-timeout, 5 when --push's store cannot be used.

` + s3Help + ``,
		Example: `  spacecast publish site/ episode.mp3 --title "Keeping live rooms" --notes notes.md
  spacecast publish site/ town-hall/ --title "Town hall, May" --season 1 --episode 4 \
      --soundbite 12:30+45s:"The best answer" --person "Ada Lovelace:host" --transcript ep4.vtt
  spacecast publish site/ trailer.mp3 --title "Coming soon" --type trailer --date 2025-05-01T09:00:00Z
  spacecast publish --update site/ keeping-live-rooms --description "Fixed a typo" --json
  spacecast publish --update site/ keeping-live-rooms --audio episode-v2.mp3
  spacecast publish site/ episode.mp3 --title "Episode 5" --push s3://podcast.example.com`,
		Args: exactArgs("publish", 2, "SITE and AUDIO (or, with --update, SITE and SLUG)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPublish(cmd, o, g, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.update, "update", false, "change the published episode SLUG instead of publishing a new one")
	fl.StringVar(&o.audio, "audio", "", "with --update: replace the audio (an MP3 or a session folder)")
	fl.StringVar(&o.title, "title", "", "the episode's title (required unless --update)")
	fl.StringVar(&o.description, "description", "", "the episode's description, plain text (at most 4000 bytes)")
	fl.StringVar(&o.notes, "notes", "", "show notes, a Markdown file: HTML in the page and feed, its text as the description")
	fl.StringVar(&o.date, "date", "", "pubDate, RFC 3339 (2025-05-01T09:00:00Z; default now); fixed at first publish")
	fl.IntVar(&o.season, "season", 0, "season number (1 or more)")
	fl.IntVar(&o.episode, "episode", 0, "episode number (1 or more)")
	fl.StringVar(&o.typ, "type", "full", "episode type: full, trailer or bonus")
	fl.StringArrayVar(&o.soundbites, "soundbite", nil, "a soundbite, START+DURATION[:TITLE] or START-END[:TITLE]; repeatable; added to the file's")
	fl.StringVar(&o.chapters, "chapters", "", "a Podcasting 2.0 JSON chapters file; replaces the file's chapters")
	fl.StringVar(&o.transcript, "transcript", "", "a transcript: .vtt, .srt, .json, .html or .txt")
	fl.StringArrayVar(&o.persons, "person", nil, "a person, NAME[:ROLE] (role from the Podcasting 2.0 taxonomy, default guest); repeatable")
	fl.StringVar(&o.slug, "slug", "", "the episode's slug (default: made from the title)")
	fl.BoolVar(&o.explicit, "explicit", false, "mark the episode explicit (default: the show's setting)")
	fl.DurationVar(&o.lockTimeout, "lock-timeout", site.DefaultLockTimeout, "how long to wait for another run's lock on SITE")
	o.push.addFlags(cmd, "publishing")
	cmd.MarkFlagFilename("notes", "md", "markdown", "txt")
	cmd.MarkFlagFilename("chapters", "json")
	cmd.MarkFlagFilename("transcript", "vtt", "srt", "json", "html", "txt")
	return cmd
}

func runPublish(cmd *cobra.Command, o *publishOptions, g *globalOptions, dir, second string) error {
	in, err := o.input(cmd)
	if err != nil {
		return err
	}
	audio, name := second, "publish"
	if o.update {
		audio, name = o.audio, "publish --update"
	}
	if err := checkOutput(name, "SITE", dir, audio, o.notes, o.chapters, o.transcript); err != nil {
		return err
	}
	pusher, err := o.push.open(cmd, "publish", dir)
	if err != nil {
		return err
	}
	opts := siteOptions(g, "publish", o.lockTimeout)
	prog := newProgress(g, "publish")
	opts.Progress = prog
	var res *site.Result
	if o.update {
		if ok := site.ValidSlug(second); !ok {
			return usageErr("publish --update: %q is not a slug: give SITE and the SLUG of a published episode (see episodes.json or the page)", second)
		}
		res, err = site.Update(cmd.Context(), dir, second, in, opts)
	} else {
		in.Audio = second
		res, err = site.Publish(cmd.Context(), dir, in, opts)
	}
	prog.Finish()
	if err != nil {
		return siteErr("publish", err)
	}
	return pusher.finish(g, res)
}

// input turns the flags into a site.EpisodeInput, checking each value.
func (o *publishOptions) input(cmd *cobra.Command) (site.EpisodeInput, error) {
	fl := cmd.Flags()
	var in site.EpisodeInput
	set := func(name string, f site.Field) bool {
		if fl.Changed(name) {
			in.Set |= f
			return true
		}
		return false
	}
	cmdName := "publish"
	if o.update {
		cmdName = "publish --update"
		if fl.Changed("date") {
			return in, usageErr("publish --update: --date cannot change: an episode's pubDate is fixed when it is first published (podcast apps sort and notify by it)")
		}
		if fl.Changed("slug") {
			return in, usageErr("publish --update: --slug cannot change: the slug is the episode's URL and its GUID's name (unpublish it and publish it anew to rename it)")
		}
		if set("audio", site.FieldAudio) {
			in.Audio = o.audio
		}
	} else {
		if fl.Changed("audio") {
			return in, usageErr("publish: --audio is for --update; give the audio as the second argument (publish SITE AUDIO --title T)")
		}
		if strings.TrimSpace(o.title) == "" {
			return in, usageErr("publish: --title is required (e.g. --title \"Episode 1: Keeping live rooms\")")
		}
	}
	if set("title", site.FieldTitle) {
		in.Title = o.title
		if strings.TrimSpace(o.title) == "" {
			return in, usageErr("%s: --title is empty", cmdName)
		}
	}
	if fl.Changed("description") && fl.Changed("notes") {
		return in, usageErr("%s: give --description or --notes, not both (the description is made from the notes)", cmdName)
	}
	if set("description", site.FieldDescription) {
		in.Description = o.description
	}
	if set("notes", site.FieldDescription) {
		b, err := os.ReadFile(o.notes)
		if err != nil {
			return in, inputErr(fmt.Errorf("%s: --notes %s: %w", cmdName, o.notes, pathErr(err)))
		}
		if b == nil {
			b = []byte{}
		}
		in.Notes, in.NotesName = b, o.notes
	}
	if set("date", site.FieldDate) {
		d, err := time.Parse(time.RFC3339, o.date)
		if err != nil {
			return in, usageErr("%s: --date %q is not an RFC 3339 time (use e.g. 2025-05-01T09:00:00Z or 2025-05-01T11:00:00+02:00)", cmdName, o.date)
		}
		in.Date = d
	}
	for _, n := range []struct {
		flag  string
		v     int
		f     site.Field
		field *int
	}{{"season", o.season, site.FieldSeason, &in.Season}, {"episode", o.episode, site.FieldNumber, &in.Number}} {
		if set(n.flag, n.f) {
			if n.v < 1 {
				return in, usageErr("%s: --%s %d: numbers start at 1", cmdName, n.flag, n.v)
			}
			*n.field = n.v
		}
	}
	if set("type", site.FieldType) || !o.update {
		in.Set |= site.FieldType
		in.Type = o.typ
		if o.typ != "full" && o.typ != "trailer" && o.typ != "bonus" {
			return in, usageErr("%s: --type %q: use full, trailer or bonus", cmdName, o.typ)
		}
	}
	if set("explicit", site.FieldExplicit) {
		in.Explicit = o.explicit
	}
	if set("soundbite", site.FieldSoundbites) {
		for _, s := range o.soundbites {
			sb, err := parseSoundbite(s)
			if err != nil {
				return in, usageErr("%s: --soundbite %q: %v", cmdName, s, err)
			}
			in.Soundbites = append(in.Soundbites, sb)
		}
	}
	if set("chapters", site.FieldChapters) {
		b, err := os.ReadFile(o.chapters)
		if err != nil {
			return in, inputErr(fmt.Errorf("%s: --chapters %s: %w", cmdName, o.chapters, pathErr(err)))
		}
		chs, err := feed.ParseChapters(b)
		if err != nil {
			return in, inputErr(fmt.Errorf("%s: --chapters %s: %w", cmdName, o.chapters, unprefixed(err)))
		}
		in.Chapters = chs
	}
	if set("transcript", site.FieldTranscript) {
		in.Transcript = o.transcript
		if _, ok := site.TranscriptType(o.transcript); o.transcript != "" && !ok {
			return in, usageErr("%s: --transcript %s: use a .vtt, .srt, .json, .html or .txt file", cmdName, o.transcript)
		}
	}
	if set("person", site.FieldPersons) {
		for _, s := range o.persons {
			p, err := parsePerson(s)
			if err != nil {
				return in, usageErr("%s: --person %q: %v", cmdName, s, err)
			}
			in.Persons = append(in.Persons, p)
		}
	}
	if !o.update {
		in.Slug = o.slug
		if o.slug != "" && !site.ValidSlug(o.slug) {
			return in, usageErr("publish: --slug %q: use 1-%d lowercase ASCII letters, digits and single hyphens (e.g. episode-12)", o.slug, site.MaxSlug)
		}
	}
	return in, nil
}

// parseSoundbite reads START+DURATION[:TITLE] or START-END[:TITLE]. Times may hold colons
// themselves, so the range is the longest prefix that reads as one; the rest is the title.
func parseSoundbite(s string) (feed.Soundbite, error) {
	var best *edit.Range
	title := ""
	for i := len(s); i > 0; i-- {
		if i < len(s) && s[i] != ':' {
			continue
		}
		r, err := edit.ParseRange(s[:i])
		if err == nil {
			best = &r
			if i < len(s) {
				title = strings.TrimSpace(s[i+1:])
			}
			break
		}
	}
	if best == nil {
		return feed.Soundbite{}, fmt.Errorf("not START+DURATION[:TITLE] or START-END[:TITLE] (e.g. 12:30+45s:The best answer)")
	}
	if best.Len() <= 0 {
		return feed.Soundbite{}, fmt.Errorf("the soundbite is empty (its end is not after its start)")
	}
	return feed.Soundbite{Start: best.Start, Duration: best.Len(), Title: title}, nil
}

// parsePerson reads NAME[:ROLE]; the role must be in the Podcasting 2.0 taxonomy.
func parsePerson(s string) (feed.Person, error) {
	name, role := s, ""
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		name, role = s[:i], strings.TrimSpace(s[i+1:])
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return feed.Person{}, fmt.Errorf("no name (use NAME or NAME:ROLE, e.g. \"Ada Lovelace:host\")")
	}
	p := feed.Person{Name: name, Role: strings.ToLower(role)}
	if role != "" {
		group, ok := feed.RoleGroup(role)
		if !ok {
			return p, fmt.Errorf("unknown role %q (Podcasting 2.0 roles include host, co-host, guest, guest host, narrator, producer, editor, composer; the full list is in docs/publish.md)", role)
		}
		p.Group = strings.ToLower(group)
	}
	return p, nil
}

// siteOptions are the site.Options every site command uses: the lock timeout, and a note on
// stderr when another run holds the lock.
func siteOptions(g *globalOptions, command string, timeout time.Duration) site.Options {
	return site.Options{
		LockTimeout: timeout,
		OnWait: func(lock string) {
			fmt.Fprintf(g.stderr, "%s: waiting for %s: another spacecast run is changing the site (up to %s)\n", command, lock, timeout)
		},
	}
}

// siteErr prefixes a site error with the command; the error table picks its message, hint and
// exit status.
func siteErr(command string, err error) error {
	return fmt.Errorf("%s: %w", command, unprefixed(err))
}

// unprefixed is a site or feed error without the library's name in front ("site: ", "feed: "):
// the command's name, before it, says where it failed.
func unprefixed(err error) error {
	return feed.Unprefixed(site.Unprefixed(err))
}

// pathErr drops the operation from an *fs.PathError: the caller names the file.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, os.ErrNotExist) {
			return errors.New("the file does not exist")
		}
		return pe.Err
	}
	return err
}

// mp3Name is the MP3 the mix command suggested for a non-MP3 input would write.
func mp3Name(path string) string {
	base := strings.TrimSuffix(path, filepath.Ext(path))
	if base+".mp3" == path || base == "" {
		return base + "-mixed.mp3"
	}
	return base + ".mp3"
}

// shellQuote quotes a path for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+@%:,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// episodeReport is what publish, publish --update and unpublish print with --json.
type episodeReport struct {
	Status          string                 `json:"status"`
	Site            string                 `json:"site"`
	Slug            string                 `json:"slug"`
	GUID            string                 `json:"guid"`
	Title           string                 `json:"title"`
	PubDate         time.Time              `json:"pub_date"`
	URLs            episodeURLs            `json:"urls"`
	Bytes           int64                  `json:"bytes"`
	DurationSeconds float64                `json:"duration_seconds"`
	SHA256          string                 `json:"sha256"`
	Persons         []feed.Person          `json:"persons"`
	Chapters        []chapterReport        `json:"chapters"`
	Soundbites      []studio.SoundbiteInfo `json:"soundbites"`
	Written         []string               `json:"written"`
	Removed         []string               `json:"removed,omitempty"`
	Cleaned         []string               `json:"cleaned_stale_staging,omitempty"`
	Warnings        []string               `json:"warnings,omitempty"`
	// Push is what publish --push uploaded.
	Push *sitestore.Report `json:"push,omitempty"`
}

type episodeURLs struct {
	Audio      string `json:"audio,omitempty"`
	Chapters   string `json:"chapters,omitempty"`
	Transcript string `json:"transcript,omitempty"`
	Feed       string `json:"feed"`
	Page       string `json:"page"`
}

type chapterReport struct {
	StartSeconds float64 `json:"start_seconds"`
	EndSeconds   float64 `json:"end_seconds,omitempty"`
	Title        string  `json:"title"`
}

func newEpisodeReport(res *site.Result) episodeReport {
	ep, show := res.Episode, res.Show
	r := episodeReport{
		Status: res.Status, Site: res.Site, Slug: ep.Slug, GUID: ep.GUID, Title: ep.Title, PubDate: ep.PubDate,
		URLs:  episodeURLs{Feed: show.FeedURL(), Page: show.PageURL()},
		Bytes: ep.Audio.Bytes, DurationSeconds: edit.InSeconds(ep.Audio.Duration), SHA256: ep.Audio.SHA256,
		Persons: ep.Persons, Chapters: []chapterReport{}, Soundbites: []studio.SoundbiteInfo{},
		Written: res.Written, Removed: res.Removed, Cleaned: res.Cleaned, Warnings: res.Warnings,
	}
	if r.Persons == nil {
		r.Persons = []feed.Person{}
	}
	if !ep.Unpublished {
		r.URLs.Audio = show.EpisodeURL(ep.Audio.File)
		if ep.ChaptersFile != "" {
			r.URLs.Chapters = show.EpisodeURL(ep.ChaptersFile)
		}
		if ep.Transcript != nil {
			r.URLs.Transcript = show.EpisodeURL(ep.Transcript.File)
		}
	}
	for _, c := range ep.Chapters {
		r.Chapters = append(r.Chapters, chapterReport{StartSeconds: edit.InSeconds(c.Start), EndSeconds: edit.InSeconds(c.End), Title: c.Title})
	}
	for _, s := range ep.Soundbites {
		r.Soundbites = append(r.Soundbites, studio.SoundbiteInfo{Start: s.Start, Duration: s.Duration, Title: s.Title})
	}
	return r
}

func printEpisodeResult(g *globalOptions, res *site.Result) error {
	return printPublished(g, res, nil)
}

// printPublished prints the episode's result and, when the site was pushed, what the push did.
func printPublished(g *globalOptions, res *site.Result, push *sitestore.Report) error {
	r := newEpisodeReport(res)
	r.Push = push
	printWarnings(g, res)
	if g.json {
		return writeJSON(g.stdout, r)
	}
	if push != nil {
		defer printSitePush(g, push)
	}
	w := g.stdout
	ep := res.Episode
	switch r.Status {
	case "unchanged":
		fmt.Fprintf(w, "unchanged: %q is already published as %s, exactly so\n", ep.Title, ep.Slug)
	case "unpublished":
		fmt.Fprintf(w, "unpublished %s (%q): out of the feed and the page; its GUID %s stays retired\n", ep.Slug, ep.Title, term(ep.GUID))
	default:
		fmt.Fprintf(w, "%s %q as %s\n", r.Status, ep.Title, ep.Slug)
	}
	if !ep.Unpublished {
		fmt.Fprintf(w, "  audio      %s (%s, %d bytes)\n", r.URLs.Audio, edit.FormatTime(ep.Audio.Duration), ep.Audio.Bytes)
		fmt.Fprintf(w, "  guid       %s, pubDate %s\n", term(ep.GUID), ep.PubDate.Format(time.RFC1123Z))
		printPersons(w, ep.Persons)
		for _, c := range ep.Chapters {
			fmt.Fprintf(w, "  chapter    %s  %s\n", edit.FormatTime(c.Start), term(c.Title))
		}
		for _, s := range ep.Soundbites {
			fmt.Fprintf(w, "  soundbite  %s+%s  %s\n", edit.FormatTime(s.Start), edit.FormatTime(s.Duration), term(s.Title))
		}
		if ep.Transcript != nil {
			fmt.Fprintf(w, "  transcript %s\n", r.URLs.Transcript)
		}
		fmt.Fprintf(w, "  feed       %s\n", r.URLs.Feed)
	}
	printChanges(w, res)
	return nil
}

// printWarnings prints, on stderr, what was published other than the input had it (a display
// name from the room without its control characters). --json carries them as "warnings".
func printWarnings(g *globalOptions, res *site.Result) {
	for _, w := range res.Warnings {
		fmt.Fprintf(g.stderr, "warning: %s\n", safetext.TermN(w, safetext.MaxText))
	}
}

func printPersons(w io.Writer, ps []feed.Person) {
	if len(ps) == 0 {
		return
	}
	var s []string
	for _, p := range ps {
		s = append(s, term(feed.PersonLabel(p)))
	}
	fmt.Fprintf(w, "  persons    %s\n", strings.Join(s, ", "))
}

func printChanges(w io.Writer, res *site.Result) {
	if len(res.Cleaned) > 0 {
		fmt.Fprintf(w, "removed staging folders of crashed runs: %s\n", strings.Join(res.Cleaned, ", "))
	}
	if len(res.Written) > 0 {
		fmt.Fprintf(w, "wrote %s: %s\n", res.Site, strings.Join(res.Written, ", "))
	}
	if len(res.Removed) > 0 {
		fmt.Fprintf(w, "removed %s\n", strings.Join(res.Removed, ", "))
	}
}
