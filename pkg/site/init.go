package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spacecast/spacecast/pkg/feed"
)

// ArtworkName is the base name of the show's artwork that Init copies into the site; the
// extension follows the image's format.
const ArtworkName = "artwork"

// Init makes dir a site for show: podcast.yaml (pkg/feed's commented template, its podcast:guid
// fixed from the feed URL), the artwork copied in when artwork is not "", an empty episode
// record, and the feed and page with no episodes. Everything is checked before anything is
// written: the show with pkg/feed's podcast.yaml validation (errors are *feed.ConfigError for the
// template's fields) and the artwork with feed.CheckArtwork. A folder that already has a
// podcast.yaml is ErrSiteExists: it is edited by hand, never overwritten.
//
// Init never replaces a file. dir may be missing or empty; a folder holding anything else but
// hidden files (.git), README, LICENSE, COPYING and CNAME is ErrNotEmpty unless
// opts.IntoExisting; a folder holding any file a site is made of (a site that lost its
// podcast.yaml, another web root) is ErrSiteFiles even then.
func Init(ctx context.Context, dir string, show *feed.Show, artwork string, opts Options) (*Result, error) {
	if _, err := os.Stat(filepath.Join(dir, ShowName)); err == nil {
		return nil, errorf("%s: %w (edit %s to change the show's settings)", dir, ErrSiteExists, filepath.Join(dir, ShowName))
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, badInput("%s: it is a file, not a folder", dir)
	}
	if err := checkInitFolder(dir, opts.IntoExisting); err != nil {
		return nil, err
	}
	s := *show
	var art []byte
	if artwork != "" {
		b, ext, err := readArtwork(artwork)
		if err != nil {
			return nil, err
		}
		art, s.Image = b, ArtworkName+ext
	}
	if s.GUID == "" {
		s.GUID = feed.ShowGUID(s.FeedURL())
	}
	yml := feed.ShowTemplate(&s)
	parsed, err := feed.ParseShow(ShowName, yml)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errorf("%w", err)
	}
	t, err := begin(dir, opts)
	if err != nil {
		return nil, err
	}
	res, err := t.init(ctx, parsed, yml, art)
	if err != nil {
		return nil, also(err, t.abort())
	}
	return res, nil
}

func (t *tx) init(ctx context.Context, show *feed.Show, yml, art []byte) (*Result, error) {
	if err := t.writeStaged(ShowName, yml); err != nil {
		return nil, err
	}
	if art != nil {
		if err := t.writeStaged(show.Image, art); err != nil {
			return nil, err
		}
	}
	timeout := t.opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	l, err := lockSite(ctx, t.dir, timeout, t.opts.OnWait)
	if err != nil {
		return nil, err
	}
	t.lock = l
	if _, err := os.Stat(filepath.Join(t.dir, ShowName)); err == nil {
		return nil, errorf("%s: %w (made by another run meanwhile)", t.dir, ErrSiteExists)
	}
	if err := checkInitFolder(t.dir, t.opts.IntoExisting); err != nil {
		return nil, err
	}
	t.show, t.res.Show = show, show
	res, err := t.commit()
	if res != nil {
		res.Status = "created"
	}
	return res, err
}

// siteFiles are the names at the top of a site folder that Init writes, or that only a site has:
// finding one means the folder is (or was) a site, or another web root, and Init would replace it.
func siteFiles() []string {
	names := []string{RecordName, FeedName, PageName, EpisodesDir, ArtworkName + ".png", ArtworkName + ".jpg"}
	entries, _ := fs.ReadDir(Assets(), ".") // embedded: cannot fail
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// ignoredInInit tells whether an entry of a folder does not make it "not empty" for Init: hidden
// files (.git, .gitignore, .DS_Store, a lock of ours) and what a new repository or a static host's
// folder starts with (README, LICENSE, COPYING, CNAME). None of them is a name Init writes.
func ignoredInInit(name string) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	up := strings.ToUpper(name)
	for _, p := range []string{"README", "LICENSE", "LICENCE", "COPYING"} {
		if strings.HasPrefix(up, p) {
			return true
		}
	}
	return up == "CNAME"
}

// checkInitFolder refuses a folder Init must not make a site in: one holding a site's files
// (ErrSiteFiles), or, unless intoExisting, anything Init does not ignore (ErrNotEmpty). A missing
// folder is fine.
func checkInitFolder(dir string, intoExisting bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return errorf("%w", err)
	}
	var found, other []string
	names := siteFiles()
	for _, e := range entries {
		switch {
		case slices.Contains(names, e.Name()):
			found = append(found, e.Name())
		case !ignoredInInit(e.Name()):
			other = append(other, e.Name())
		}
	}
	if len(found) > 0 {
		if i := slices.Index(found, RecordName); i > 0 {
			found = append([]string{RecordName}, slices.Delete(found, i, i+1)...)
		}
		hint := "if it is a site that lost its " + ShowName + ", make one in an empty folder with the same base URL " +
			"(that keeps the show's podcast:guid), copy it in and run 'spacecast feed build " + dir + "'; otherwise choose another folder"
		if !slices.Contains(found, RecordName) {
			hint = "choose another folder, or an empty one"
		}
		return badInput("%s: %w (%s): a new site would replace them; %s", dir, ErrSiteFiles, listNames(found), hint)
	}
	if len(other) > 0 && !intoExisting {
		return badInput("%s: %w: it holds %s", dir, ErrNotEmpty, listNames(other))
	}
	return nil
}

// listNames lists at most five names, then how many more.
func listNames(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
}

// readArtwork reads and checks the show's artwork and returns it with the extension its format
// takes (".png" or ".jpg").
func readArtwork(path string) ([]byte, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", badInput("artwork %s: the file does not exist", path)
		}
		return nil, "", badInput("artwork %s: %w", path, err)
	}
	if err := feed.CheckArtwork(bytes.NewReader(b)); err != nil {
		return nil, "", badInput("artwork %s: %w", path, err)
	}
	ext := ".jpg"
	if bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		ext = ".png"
	}
	return b, ext, nil
}
