package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
func Init(ctx context.Context, dir string, show *feed.Show, artwork string, opts Options) (*Result, error) {
	if _, err := os.Stat(filepath.Join(dir, ShowName)); err == nil {
		return nil, fmt.Errorf("site: %s: %w (edit %s to change the show's settings)", dir, ErrSiteExists, filepath.Join(dir, ShowName))
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, badInput("site: %s: it is a file, not a folder", dir)
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
		return nil, fmt.Errorf("site: %w", err)
	}
	t, err := begin(dir, opts)
	if err != nil {
		return nil, err
	}
	res, err := t.init(ctx, parsed, yml, art)
	if err != nil {
		return nil, errors.Join(err, t.abort())
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
		return nil, fmt.Errorf("site: %s: %w (made by another run meanwhile)", t.dir, ErrSiteExists)
	}
	t.show, t.res.Show = show, show
	res, err := t.commit()
	if res != nil {
		res.Status = "created"
	}
	return res, err
}

// readArtwork reads and checks the show's artwork and returns it with the extension its format
// takes (".png" or ".jpg").
func readArtwork(path string) ([]byte, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", badInput("site: artwork %s: the file does not exist", path)
		}
		return nil, "", badInput("site: artwork %s: %w", path, err)
	}
	if err := feed.CheckArtwork(bytes.NewReader(b)); err != nil {
		return nil, "", badInput("site: artwork %s: %w", path, err)
	}
	ext := ".jpg"
	if bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		ext = ".png"
	}
	return b, ext, nil
}
