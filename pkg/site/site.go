package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spacecast/spacecast/internal/fsutil"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/studio"
)

// DefaultLockTimeout is how long a run waits for another run's lock on the site. The lock is held
// only while the record is read and the staged files are renamed (mixing and copying happen
// before), so a wait this long means the other run is stuck.
const DefaultLockTimeout = 2 * time.Minute

// Options are what every operation that writes a site takes. The zero value works.
type Options struct {
	// LockTimeout bounds the wait for the site's lock (DefaultLockTimeout when 0).
	LockTimeout time.Duration
	// OnWait is called once when the lock is busy and the run starts to wait.
	OnWait func(lockPath string)
	// Now is the clock for an episode's pubDate when none is given (time.Now when nil).
	Now func() time.Time
	// Progress receives reports while a session folder is mixed.
	Progress studio.Progress
	// IntoExisting lets Init make a site in a folder that already holds other files (Init only).
	// Even so Init never replaces a file: a folder holding any file a site is made of is
	// ErrSiteFiles.
	IntoExisting bool
}

// lock takes the site's lock as the options say: waiting up to LockTimeout, OnWait told.
func (o *Options) lock(ctx context.Context, dir string) (*fileLock, error) {
	timeout := o.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	return lockSite(ctx, dir, timeout, o.OnWait)
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Result reports what an operation did.
type Result struct {
	// Status is "created", "published", "updated", "unpublished", "unchanged" or "rebuilt".
	Status string `json:"status"`
	Site   string `json:"site"`
	// Episode is the episode published, updated or unpublished (nil for init and build).
	Episode *feed.Episode `json:"episode,omitempty"`
	// Written lists the site files (relative, slash-separated) that changed, in the order they
	// were renamed into place; Removed the ones deleted. Both are empty when nothing changed.
	Written []string `json:"written"`
	Removed []string `json:"removed,omitempty"`
	// Cleaned names staging folders of crashed runs that were removed.
	Cleaned []string `json:"cleaned,omitempty"`
	// Warnings say what was published other than the input had it: a name or title from the
	// recording whose control or bidirectional characters were removed.
	Warnings []string `json:"warnings,omitempty"`
	// Show is the show as podcast.yaml holds it.
	Show *feed.Show `json:"-"`
}

// LoadShow reads SITE/podcast.yaml. A folder without one is ErrNoSite; a podcast.yaml with
// mistakes gives pkg/feed's errors, which name the line and field.
func LoadShow(dir string) (*feed.Show, error) {
	p := filepath.Join(dir, ShowName)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return nil, errorf("%s: %w: the folder does not exist (make a site with 'spacecast feed init %s ...')", dir, ErrNoSite, dir)
			}
			return nil, errorf("%s: %w (make it a site with 'spacecast feed init %s ...')", dir, ErrNoSite, dir)
		}
		return nil, errorf("%w", err)
	}
	return feed.LoadShow(p)
}

// Episodes reads the site's episode record (unpublished tombstones included), oldest first.
func Episodes(dir string) ([]feed.Episode, error) {
	eps, err := loadRecord(dir)
	if err != nil {
		return nil, err
	}
	sortEpisodes(eps)
	return eps, nil
}

// tx is one change of a site: files staged, then, under the site lock, the record changed and
// everything renamed into place.
type tx struct {
	dir   string
	opts  Options
	stage *stage
	lock  *fileLock
	res   Result

	show *feed.Show
	eps  []feed.Episode
	// files are the staged site files (relative paths) to rename into place before the record.
	files []string
	// drop are site files to delete once the new feed is in place.
	drop []string
}

// begin starts a change of the site at dir: it removes crashed runs' staging folders and makes a
// staging folder of its own. The show and record are read later, under the lock.
func begin(dir string, opts Options) (*tx, error) {
	cleaned, err := cleanStale(dir)
	if err != nil {
		return nil, err
	}
	st, err := newStage(dir)
	if err != nil {
		return nil, err
	}
	return &tx{dir: dir, opts: opts, stage: st, res: Result{Site: dir, Cleaned: cleaned, Written: []string{}}}, nil
}

// abort removes the staging folder and releases the lock; the site is as it was.
func (t *tx) abort() error {
	return errors.Join(t.stage.remove(), t.lock.unlock())
}

// stageFile records that the staged file rel (already written under t.stage) goes into the site.
func (t *tx) stageFile(rel string) {
	if !slices.Contains(t.files, rel) {
		t.files = append(t.files, rel)
	}
}

// writeStaged writes data as the staged copy of rel.
func (t *tx) writeStaged(rel string, data []byte) error {
	p := t.stage.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return errorf("%w", err)
	}
	if err := writeFile(p, data); err != nil {
		return errorf("stage %s: %w", rel, err)
	}
	t.stageFile(rel)
	return nil
}

// lockAndLoad takes the site lock and reads the show and the record as they are now.
func (t *tx) lockAndLoad(ctx context.Context) error {
	l, err := t.opts.lock(ctx, t.dir)
	if err != nil {
		return err
	}
	t.lock = l
	if t.show, err = LoadShow(t.dir); err != nil {
		return err
	}
	t.res.Show = t.show
	t.eps, err = loadRecord(t.dir)
	return err
}

// render stages the files derived from the show and the record: episodes.json, feed.xml,
// index.html and the page's assets.
func (t *tx) render() error {
	rec, err := encodeRecord(t.eps)
	if err != nil {
		return err
	}
	newest := slices.Clone(t.eps)
	sortEpisodes(newest)
	slices.Reverse(newest)
	var fx, page bytes.Buffer
	if err := feed.Render(&fx, t.show, newest); err != nil {
		return errorf("render %s: %w", FeedName, err)
	}
	if err := RenderPage(&page, t.show, newest); err != nil {
		return errorf("render %s: %w", PageName, err)
	}
	assets := Assets()
	err = fs.WalkDir(assets, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, p)
		if err != nil {
			return err
		}
		return t.writeStaged(p, b)
	})
	if err != nil {
		return errorf("page assets: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{RecordName, rec}, {FeedName, fx.Bytes()}, {PageName, page.Bytes()}} {
		if err := t.writeStaged(f.name, f.data); err != nil {
			return err
		}
	}
	return nil
}

// commitOrder ranks a staged file: episodes' files and other new content first, then the
// record, then the feed, then the page, so that no published file ever names one not yet there.
func commitOrder(rel string) int {
	switch rel {
	case ShowName:
		return 5 // init: podcast.yaml last, so a half-made site is not a site
	case PageName:
		return 4
	case FeedName:
		return 3
	case RecordName:
		return 2
	}
	if strings.HasPrefix(rel, EpisodesDir+"/") {
		return 0
	}
	return 1 // artwork, page assets
}

// commit renders the derived files and renames every staged file that differs from the site's
// into place, in commitOrder; then it deletes t.drop, removes the staging folder and releases the
// lock. If a rename fails, the files already renamed are put back. It must be called holding the
// lock (after lockAndLoad).
func (t *tx) commit() (*Result, error) {
	defer t.abort()
	if err := t.render(); err != nil {
		return nil, err
	}
	files := slices.Clone(t.files)
	slices.SortStableFunc(files, func(a, b string) int { return commitOrder(a) - commitOrder(b) })
	type done struct{ rel, backup string }
	var renamed []done
	var madeDirs []string
	rollback := func(cause error) error {
		errs := []error{cause}
		for i := len(renamed) - 1; i >= 0; i-- {
			d := renamed[i]
			dst := filepath.Join(t.dir, filepath.FromSlash(d.rel))
			if d.backup != "" {
				errs = append(errs, os.Rename(d.backup, dst))
			} else {
				errs = append(errs, os.Remove(dst))
			}
		}
		for i := len(madeDirs) - 1; i >= 0; i-- {
			errs = append(errs, os.Remove(madeDirs[i]))
		}
		return errors.Join(errs...)
	}
	backups := filepath.Join(t.stage.dir, ".previous")
	for _, rel := range files {
		src := t.stage.path(rel)
		dst := filepath.Join(t.dir, filepath.FromSlash(rel))
		same, err := sameContent(src, dst)
		if err != nil {
			return nil, rollback(errorf("compare %s: %w", rel, err))
		}
		if same {
			continue
		}
		if parent := filepath.Dir(dst); !isDir(parent) {
			if err := os.MkdirAll(parent, 0o755); err != nil {
				return nil, rollback(errorf("%w", err))
			}
			madeDirs = append(madeDirs, parent) // site files are at most one folder deep
		}
		d := done{rel: rel}
		if _, err := os.Lstat(dst); err == nil {
			d.backup = filepath.Join(backups, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(d.backup), 0o755); err != nil {
				return nil, rollback(errorf("%w", err))
			}
			if err := os.Link(dst, d.backup); err != nil {
				// A file system without hard links: keep a copy instead.
				if _, cerr := fsutil.CopyFile(dst, d.backup); cerr != nil {
					return nil, rollback(fmt.Errorf("site: keep the previous %s: %w", rel, errors.Join(err, cerr)))
				}
			}
		}
		if err := os.Rename(src, dst); err != nil {
			return nil, rollback(errorf("put %s in place: %w", rel, err))
		}
		renamed = append(renamed, d)
		t.res.Written = append(t.res.Written, rel)
	}
	var errs []error
	for _, dir := range dirsOf(t.dir, t.res.Written) {
		errs = append(errs, fsutil.SyncDir(dir))
	}
	for _, rel := range t.drop {
		if slices.Contains(t.files, rel) {
			continue // replaced, not dropped
		}
		err := os.Remove(filepath.Join(t.dir, filepath.FromSlash(rel)))
		if err == nil {
			t.res.Removed = append(t.res.Removed, rel)
		} else if !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, errorf("remove %s: %w", rel, err))
		}
	}
	res := t.res
	if err := errors.Join(errs...); err != nil {
		return &res, err
	}
	return &res, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// dirsOf lists the folders of a site that hold the given files.
func dirsOf(site string, files []string) []string {
	var dirs []string
	for _, f := range files {
		d := filepath.Join(site, filepath.FromSlash(path.Dir(f)))
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// sameContent reports whether two files hold the same bytes; a missing b is not the same.
func sameContent(a, b string) (bool, error) {
	sb, err := os.Stat(b)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	if sa.Size() != sb.Size() {
		return false, nil
	}
	ha, _, err := fsutil.SHA256File(a)
	if err != nil {
		return false, err
	}
	hb, _, err := fsutil.SHA256File(b)
	return err == nil && ha == hb, err
}

// Build renders feed.xml, index.html and its assets again from podcast.yaml and episodes.json:
// after podcast.yaml was edited by hand, or to repair a site whose last run was killed between
// renames. Files that would not change are left alone. A folder that is not a site (ErrNoSite) is
// left untouched: no lock file, no staging folder.
func Build(ctx context.Context, dir string, opts Options) (*Result, error) {
	if _, err := LoadShow(dir); err != nil {
		return nil, err
	}
	t, err := begin(dir, opts)
	if err != nil {
		return nil, err
	}
	if err := t.lockAndLoad(ctx); err != nil {
		return nil, also(err, t.abort())
	}
	res, err := t.commit()
	if res != nil {
		res.Status = "rebuilt"
		if len(res.Written) == 0 {
			res.Status = "unchanged"
		}
	}
	return res, err
}
