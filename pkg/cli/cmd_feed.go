package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/internal/textutil"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/site"
)

func newFeedCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feed (init|check|build) SITE",
		Short: "Create a podcast site folder, check its feed, or build it again",
		Long: `A site folder is what a script uploads to static hosting: podcast.yaml (the show's settings,
edited by hand), episodes.json (the episode record), feed.xml, index.html and its assets, the
artwork and episodes/ (docs/publish.md).

  feed init SITE    make a site folder for a new show
  feed check SITE   check its feed against Apple's and PSP-1's requirements
  feed build SITE   write feed.xml and index.html again (after editing podcast.yaml)

Episodes are added with 'spacecast publish' and removed with 'spacecast unpublish'.`,
		Example: `  spacecast feed init site/ --title "Town Hall" --base-url https://podcast.example.com \
      --author "Ada Lovelace" --description "Our monthly town hall, unedited." \
      --category "Government" --owner-email ada@example.com --image cover.png
  spacecast feed check site/
  spacecast feed build site/`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("feed: give a subcommand: init, check or build (see 'spacecast feed --help')")
			}
			return usageErr("feed: unknown subcommand %q (use init, check or build)", args[0])
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	cmd.AddCommand(newFeedInitCommand(g), newFeedCheckCommand(g), newFeedBuildCommand(g))
	return cmd
}

type feedInitOptions struct {
	title, baseURL, author, description, image, language string
	categories                                           []string
	explicit, locked, intoExisting                       bool
	ownerEmail, ownerName, typ, copyright, link          string
	lockTimeout                                          time.Duration
}

// initFlags names each podcast.yaml field's flag, with what it is, for messages.
var initFlags = []struct{ field, flag, arg, what string }{
	{"title", "--title", "T", "the show's name"},
	{"base_url", "--base-url", "URL", "the https address SITE will be served from"},
	{"author", "--author", "NAME", "the author listeners see"},
	{"description", "--description", "TEXT", "what the show is about"},
	{"categories", "--category", "NAME", `an Apple Podcasts category, e.g. "Technology" or "News > Tech News"`},
	{"owner.email", "--owner-email", "EMAIL", "who Apple and directories contact about the show"},
	{"language", "--language", "TAG", "the language spoken (BCP 47)"},
	{"owner.name", "--owner-name", "NAME", "the owner's name"},
	{"image", "--image", "FILE", "the artwork"},
	{"type", "--type", "TYPE", "episodic or serial"},
	{"explicit", "--explicit", "", "explicit content"},
	{"copyright", "--copyright", "TEXT", "the copyright notice"},
	{"link", "--link", "URL", "the show's web page"},
}

func newFeedInitCommand(g *globalOptions) *cobra.Command {
	o := &feedInitOptions{}
	cmd := &cobra.Command{
		Use:   "init SITE --title T --base-url URL --author NAME --description TEXT --category C --owner-email EMAIL",
		Short: "Make a site folder for a new show",
		Long: `Init makes SITE (creating the folder if needed) a site for a new show: a commented
podcast.yaml holding the show's settings, with podcast:guid fixed from the feed URL (a UUIDv5 of
BASE-URL/feed.xml that stays when the show moves), the artwork copied in (--image: a square JPEG
or PNG, 1400 to 3000 px, as Apple requires), an empty episodes.json, and a feed.xml and
index.html with no episodes yet.

Every value is checked before anything is written; all missing required values are named at
once. A folder that already has a podcast.yaml is refused: edit podcast.yaml to change the show,
then 'spacecast feed build SITE'.

Init never replaces a file. SITE may be new or empty; hidden files (.git), README, LICENSE,
COPYING and CNAME do not count. A folder holding anything else is refused unless --into-existing
is given, and a folder holding a site's own files (episodes.json, feed.xml, index.html, episodes/,
assets/, artwork.png or .jpg: a site that lost its podcast.yaml, or another web root) is refused
even then: episodes.json is the only record of every episode's GUID and date. SITE may not lie
inside a recorded session's folder.

Categories come from Apple's list ("Category" or "Category > Subcategory"); the first is the
primary one. A misspelt one is refused with the closest name.`,
		Example: `  spacecast feed init site/ --title "Town Hall" --base-url https://podcast.example.com \
      --author "Ada Lovelace" --description "Our monthly town hall, unedited." \
      --category Government --category "News > Politics" --owner-email ada@example.com \
      --owner-name "Ada Lovelace" --image cover.png`,
		Args: exactArgs("feed init", 1, "SITE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFeedInit(cmd, o, g, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.title, "title", "", "the show's name (required)")
	fl.StringVar(&o.baseURL, "base-url", "", "the https address SITE is served from, e.g. https://podcast.example.com (required)")
	fl.StringVar(&o.author, "author", "", "the author listeners see (required)")
	fl.StringVar(&o.description, "description", "", "what the show is about, plain text, at most 4000 bytes (required)")
	fl.StringArrayVar(&o.categories, "category", nil, `Apple Podcasts category, "Category" or "Category > Subcategory"; repeatable (required)`)
	fl.StringVar(&o.ownerEmail, "owner-email", "", "the owner's email, for Apple and podcast:locked (required)")
	fl.StringVar(&o.ownerName, "owner-name", "", "the owner's name")
	fl.StringVar(&o.image, "image", "", "artwork: a square JPEG or PNG, 1400 to 3000 px (Apple requires artwork)")
	fl.StringVar(&o.language, "language", "en", "the language spoken, a BCP 47 tag (en, en-GB, de, pt-BR)")
	fl.BoolVar(&o.explicit, "explicit", false, "the show has explicit content")
	fl.StringVar(&o.typ, "type", "episodic", "episodic (newest first) or serial (in order)")
	fl.StringVar(&o.copyright, "copyright", "", `copyright notice, e.g. "© 2025 Ada Lovelace"`)
	fl.StringVar(&o.link, "link", "", "the show's web page (default: BASE-URL/, the site's index.html)")
	fl.BoolVar(&o.locked, "locked", true, "podcast:locked: ask other platforms not to import the feed without the owner's consent")
	fl.DurationVar(&o.lockTimeout, "lock-timeout", site.DefaultLockTimeout, "how long to wait for another run's lock on SITE")
	fl.BoolVar(&o.intoExisting, "into-existing", false, "make the site in a folder that already holds other files (none is replaced; a site's own files are refused even so)")
	cmd.MarkFlagFilename("image", "jpg", "jpeg", "png")
	return cmd
}

func runFeedInit(cmd *cobra.Command, o *feedInitOptions, g *globalOptions, dir string) error {
	values := map[string]string{"title": o.title, "base_url": o.baseURL, "author": o.author, "description": o.description,
		"owner.email": o.ownerEmail}
	if len(o.categories) > 0 {
		values["categories"] = o.categories[0]
	}
	var missing []string
	for _, f := range initFlags[:6] {
		if strings.TrimSpace(values[f.field]) == "" {
			missing = append(missing, fmt.Sprintf("  %-24s %s", f.flag+" "+f.arg, f.what))
		}
	}
	if len(missing) > 0 {
		return usageErr("feed init: missing required values (podcast apps need them):\n%s", strings.Join(missing, "\n"))
	}
	for _, c := range o.categories {
		if _, _, err := feed.SplitCategory(c); err != nil {
			var ce *feed.CategoryError
			if s := closestCategory(c); s != "" && errors.As(err, &ce) && ce.Use == "" {
				return usageErr("feed init: --category: %q is not an Apple category: did you mean %q?", c, s)
			}
			return usageErr("feed init: --category: %v", err)
		}
	}
	if o.typ != "episodic" && o.typ != "serial" {
		return usageErr("feed init: --type %q: use episodic or serial", o.typ)
	}
	show := &feed.Show{
		Title: o.title, Description: o.description, BaseURL: strings.TrimRight(o.baseURL, "/"), Link: o.link,
		Author: o.author, Language: o.language, Categories: o.categories, Explicit: o.explicit,
		Owner: feed.Owner{Name: o.ownerName, Email: o.ownerEmail}, Copyright: o.copyright, Type: o.typ, Locked: o.locked,
	}
	if err := checkOutput("feed init", "SITE", dir, o.image); err != nil {
		return err
	}
	if s := sessionUnder(dir); s != "" {
		return inputErr(fmt.Errorf("feed init: %s holds the recorded session %s: a site is uploaded as it is, so the recording would be published with it (make the site in another folder)", dir, s))
	}
	opts := siteOptions(g, "feed init", o.lockTimeout)
	opts.IntoExisting = o.intoExisting
	res, err := site.Init(cmd.Context(), dir, show, o.image, opts)
	if err != nil {
		if msgs := configMessages(err); msgs != nil {
			return usageErr("feed init: %s", strings.Join(msgs, "\n  "))
		}
		return siteErr("feed init", err)
	}
	if g.json {
		return writeJSON(g.stdout, map[string]any{"status": res.Status, "site": dir, "guid": res.Show.GUID,
			"feed": res.Show.FeedURL(), "page": res.Show.PageURL(), "image": res.Show.Image, "written": res.Written})
	}
	w := g.stdout
	fmt.Fprintf(w, "created the site %q in %s (podcast:guid %s)\n", res.Show.Title, dir, res.Show.GUID)
	fmt.Fprintf(w, "wrote %s\n", strings.Join(res.Written, ", "))
	fmt.Fprintf(w, "  feed  %s\n  page  %s\n", res.Show.FeedURL(), res.Show.PageURL())
	if res.Show.Image == "" {
		fmt.Fprintf(w, "note: no artwork yet: Apple requires it (put a square 1400-3000 px JPEG or PNG in %s and name it under image: in podcast.yaml)\n", dir)
	}
	fmt.Fprintf(w, "next: spacecast publish %s EPISODE.mp3 --title \"Episode 1\"\n", shellQuote(dir))
	return nil
}

// configMessages words podcast.yaml errors as flag errors for feed init: init writes
// podcast.yaml from flags, so its lines mean nothing to the user yet. It returns nil when err is
// not about the settings.
func configMessages(err error) []string {
	var ces []*feed.ConfigError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ce *feed.ConfigError
		if errors.As(e, &ce) {
			ces = append(ces, ce)
		}
	}
	walk(err)
	if len(ces) == 0 {
		return nil
	}
	var msgs []string
	for _, ce := range ces {
		name := ce.Field
		for _, f := range initFlags {
			if ce.Field == f.field || strings.HasPrefix(ce.Field, f.field+"[") || strings.HasPrefix(ce.Field, f.field+".") {
				name = f.flag
				break
			}
		}
		msgs = append(msgs, name+": "+ce.Msg)
	}
	return msgs
}

// closestCategory is the Apple category ("Category" or "Category > Subcategory") nearest to s by
// edit distance, or "" when none is near.
func closestCategory(s string) string {
	want := strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(s, ">", " > ")), " "))
	best, bestD := "", 1<<30
	var names []string
	for cat, subs := range feed.Categories {
		names = append(names, cat)
		for _, sub := range subs {
			names = append(names, cat+feed.CategorySeparator+sub)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		cands := []string{strings.ToLower(n)}
		if _, sub, ok := strings.Cut(n, feed.CategorySeparator); ok {
			cands = append(cands, strings.ToLower(sub)) // a subcategory typed alone
		}
		for _, c := range cands {
			if d := textutil.EditDistance(want, c); d < bestD {
				best, bestD = n, d
			}
		}
	}
	if bestD > max(2, len(want)/3) {
		return ""
	}
	return best
}

func newFeedCheckCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check SITE|FEED.xml",
		Short: "Check a feed against Apple's and PSP-1's requirements",
		Long: `Check reads a feed (SITE/feed.xml, or any FEED.xml) and reports every problem with its line,
column and where in the feed it is: the tags Apple and PSP-1 require, enclosure lengths against the
files beside the feed, the artwork (a square 1400-3000 px JPEG or PNG), unique and stable GUIDs,
RFC 2822 dates, https URLs for Podcasting 2.0 resources, soundbites inside their episodes, and
active markup (script, event handlers, javascript: or data: links, frames) in show notes,
descriptions, HTML transcripts and chapter links (docs/feed.md lists every check). For a SITE it
also checks podcast.yaml and index.html.

The exit status is 0 only when the feed is clean; problems give 3.`,
		Example: `  spacecast feed check site/
  spacecast feed check downloaded/feed.xml --json`,
		Args: exactArgs("feed check", 1, "SITE or FEED.xml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFeedCheck(g, args[0])
		},
	}
	return cmd
}

// checkProblem is one problem feed check reports.
type checkProblem struct {
	File  string `json:"file"`
	Line  int    `json:"line,omitempty"`
	Col   int    `json:"col,omitempty"`
	Where string `json:"where,omitempty"`
	Msg   string `json:"message"`
}

func (p checkProblem) String() string {
	s := p.File
	if p.Line > 0 {
		s += fmt.Sprintf(":%d", p.Line)
		if p.Col > 0 {
			s += fmt.Sprintf(":%d", p.Col)
		}
	}
	if p.Where != "" {
		s += ": " + p.Where
	}
	return s + ": " + p.Msg
}

func runFeedCheck(g *globalOptions, target string) error {
	st, err := os.Stat(target)
	if err != nil {
		return inputErr(fmt.Errorf("feed check: %s: %w", target, pathErr(err)))
	}
	var problems []checkProblem
	feedPath, root := target, filepath.Dir(target)
	if st.IsDir() {
		root, feedPath = target, filepath.Join(target, site.FeedName)
		show, err := site.LoadShow(target)
		switch {
		case errors.Is(err, site.ErrNoSite):
			return inputErr(fmt.Errorf("feed check: %s: %w (give a site folder or a feed file)", target, err))
		case err != nil:
			for _, e := range flattenErrors(err) {
				var ce *feed.ConfigError
				if errors.As(e, &ce) {
					problems = append(problems, checkProblem{File: ce.File, Line: ce.Line, Where: ce.Field, Msg: ce.Msg})
				} else {
					problems = append(problems, checkProblem{File: filepath.Join(target, site.ShowName), Msg: e.Error()})
				}
			}
		default:
			if err := show.CheckImage(os.DirFS(target), filepath.Join(target, site.ShowName)); err != nil {
				var ce *feed.ConfigError
				if errors.As(err, &ce) {
					problems = append(problems, checkProblem{File: ce.File, Line: ce.Line, Where: ce.Field, Msg: ce.Msg})
				}
			}
		}
	}
	data, err := os.ReadFile(feedPath)
	if err != nil {
		return inputErr(fmt.Errorf("feed check: %s: %w", feedPath, pathErr(err)))
	}
	found, err := feed.Check(data, os.DirFS(root))
	if err != nil {
		return inputErr(fmt.Errorf("feed check: %s: %w", feedPath, unprefixed(err)))
	}
	for _, p := range found {
		problems = append(problems, checkProblem{File: feedPath, Line: p.Line, Col: p.Col, Where: p.Where, Msg: p.Msg})
	}
	if st.IsDir() {
		// The page is served from the same origin as everything else in the site: nothing may
		// run in it but its own player.
		pagePath := filepath.Join(target, site.PageName)
		page, err := os.ReadFile(pagePath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, checkProblem{File: pagePath, Msg: "is missing (write it again with 'spacecast feed build " + target + "')"})
		case err != nil:
			return inputErr(fmt.Errorf("feed check: %s: %w", pagePath, pathErr(err)))
		default:
			for _, f := range site.CheckPage(page) {
				problems = append(problems, checkProblem{File: pagePath, Line: f.Line, Where: "page",
					Msg: f.Msg + " (nothing may run in the page but its own player: write it again with 'spacecast feed build " + target + "', which cleans show notes)"})
			}
		}
	}
	if g.json {
		if problems == nil {
			problems = []checkProblem{}
		}
		if err := writeJSON(g.stdout, map[string]any{"feed": feedPath, "clean": len(problems) == 0, "problems": problems}); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(g.stdout, safetext.TermN(fmt.Sprint(p), safetext.MaxText))
		}
		if len(problems) == 0 {
			fmt.Fprintf(g.stdout, "%s: clean\n", feedPath)
		}
	}
	if len(problems) > 0 {
		return inputErr(fmt.Errorf("feed check: %s: %d problem(s)", feedPath, len(problems)))
	}
	return nil
}

// flattenErrors lists the errors an errors.Join holds (err itself when it is not one).
func flattenErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	return []error{err}
}

type feedBuildOptions struct{ lockTimeout time.Duration }

func newFeedBuildCommand(g *globalOptions) *cobra.Command {
	o := &feedBuildOptions{}
	cmd := &cobra.Command{
		Use:   "build SITE",
		Short: "Write feed.xml and index.html again from podcast.yaml and episodes.json",
		Long: `Build writes SITE/feed.xml, SITE/index.html and the page's assets again from podcast.yaml and
episodes.json: after podcast.yaml was edited by hand (publish and unpublish do it too), or after a
run was killed between its renames. Files that would not change are left alone; podcast.yaml
mistakes are reported with their line.`,
		Example: `  spacecast feed build site/`,
		Args:    exactArgs("feed build", 1, "SITE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput("feed build", "SITE", args[0]); err != nil {
				return err
			}
			res, err := site.Build(cmd.Context(), args[0], siteOptions(g, "feed build", o.lockTimeout))
			if err != nil {
				return siteErr("feed build", err)
			}
			if g.json {
				return writeJSON(g.stdout, map[string]any{"status": res.Status, "site": res.Site, "written": res.Written, "cleaned_stale_staging": res.Cleaned})
			}
			if len(res.Written) == 0 {
				fmt.Fprintf(g.stdout, "unchanged: %s is up to date\n", args[0])
			}
			printChanges(g.stdout, res)
			return nil
		},
	}
	cmd.Flags().DurationVar(&o.lockTimeout, "lock-timeout", site.DefaultLockTimeout, "how long to wait for another run's lock on SITE")
	return cmd
}
