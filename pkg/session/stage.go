package session

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/spacecast/spacecast/internal/fsutil"
)

// StagePrefix begins the name of every staging folder inside a session (".stage-redact-…",
// ".stage-recover-…"). The folders are not part of the session: a crashed run can leave one, and
// the next Stage removes it.
const StagePrefix = ".stage-"

// oldStagePrefix is the staging folder of earlier versions of redact.
const oldStagePrefix = ".redact-"

// Stage is a change of a session folder made in a staging folder inside it and then moved into
// place: the changed files are written in the stage (Path), the files left alone are hard links
// there (Mirror), so the stage is the whole new session and can be sealed; Commit renames the
// changed files into the session, the manifest last, and puts everything back when a rename
// fails. Until Commit, the session is not touched; Close removes the stage.
type Stage struct {
	// Dir is the staging folder.
	Dir      string
	session  string
	lock     *os.File // the session folder, flocked for as long as the stage lives
	replaced map[string]bool
	deleted  []string
}

// NewStage makes a staging folder for a change of the session in dir; what names the change
// ("redact", "recover"). It holds an flock on the session folder itself until Close, so two
// changes of one session cannot interleave (the second is ErrBusy: its stage would have removed
// the first's, or the last manifest written would have undone the other's change); then the
// staging folders a crashed run left are removed. The lock is on the folder, not a file in it,
// so the session's files stay as they are.
func NewStage(dir, what string) (*Stage, error) {
	lock, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	for {
		err = unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil, errors.Join(fmt.Errorf("session: %s: %w", dir, ErrBusy), lock.Close())
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("session: lock %s: %w", dir, err), lock.Close())
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() && isStageName(e.Name()) {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	stage, err := os.MkdirTemp(dir, StagePrefix+what+"-*")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("session: %w", err), lock.Close())
	}
	return &Stage{Dir: stage, session: dir, lock: lock, replaced: map[string]bool{}}, nil
}

func isStageName(name string) bool {
	return strings.HasPrefix(name, StagePrefix) || strings.HasPrefix(name, oldStagePrefix)
}

// Path is where the staged version of the file at slash path rel is written.
func (st *Stage) Path(rel string) string { return filepath.Join(st.Dir, filepath.FromSlash(rel)) }

// Replace marks the file at slash path rel as changed: Mirror leaves it out and Commit moves
// the staged version into place (nothing, when none was written).
func (st *Stage) Replace(rel string) { st.replaced[rel] = true }

// Delete marks the file at slash path rel to be removed by Commit.
func (st *Stage) Delete(rel string) {
	st.replaced[rel] = true
	if !slices.Contains(st.deleted, rel) {
		st.deleted = append(st.deleted, rel)
	}
}

// Replaced reports whether rel was marked by Replace or Delete.
func (st *Stage) Replaced(rel string) bool { return st.replaced[rel] }

// Close removes the staging folder and releases the session; it is safe to call twice.
func (st *Stage) Close() error {
	err := os.RemoveAll(st.Dir)
	if st.lock != nil {
		err = errors.Join(err, st.lock.Close()) // closing the descriptor releases the flock
		st.lock = nil
	}
	return err
}

// Mirror hard-links every regular file of the session (but staging folders, the files outside
// the hashes, files marked changed and temporary files) into the stage, at the same path.
// Without hard links (another file system), it copies.
func (st *Stage) Mirror() error {
	return filepath.WalkDir(st.session, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("session: %w", err)
		}
		rel, _ := filepath.Rel(st.session, path)
		slash := filepath.ToSlash(rel)
		if d.IsDir() {
			if isStageName(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		// The manifest, its signature, the hold and the recorder's control pointer are not the
		// session's content (Unhashed): they are never copied, and the hold never touched.
		if !d.Type().IsRegular() || st.replaced[slash] || Unhashed(slash) {
			return nil
		}
		dst := filepath.Join(st.Dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("session: %w", err)
		}
		if err := os.Link(path, dst); err == nil {
			return nil
		}
		if _, err := fsutil.CopyFile(path, dst); err != nil {
			return fmt.Errorf("session: %w", err)
		}
		return nil
	})
}

// Commit moves the staged files into the session: the changed files first (each original kept
// as a hard link in the stage until the end, to put back on failure), the manifest last, and
// removes the deleted ones. The manifest is always part of a commit. A failure puts back what
// was already moved, so the session is as it was.
func (st *Stage) Commit() (err error) {
	dir, stage := st.session, st.Dir
	orig := filepath.Join(stage, ".orig")
	var done []string
	defer func() {
		if err == nil {
			return
		}
		// Put back what was moved, newest first.
		for i := len(done) - 1; i >= 0; i-- {
			rel := filepath.FromSlash(done[i])
			if _, serr := os.Lstat(filepath.Join(orig, rel)); serr == nil {
				os.Rename(filepath.Join(orig, rel), filepath.Join(dir, rel))
			} else {
				os.Remove(filepath.Join(dir, rel))
			}
		}
	}()
	var order []string
	for rel := range st.replaced {
		if rel != ManifestName {
			order = append(order, rel)
		}
	}
	slices.Sort(order)
	order = append(order, ManifestName)
	// Keep every original first, so nothing is moved before all can be put back.
	for _, rel := range order {
		src := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Lstat(src); err != nil {
			continue
		}
		keep := filepath.Join(orig, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
			return fmt.Errorf("session: %w", err)
		}
		if err := os.Link(src, keep); err != nil {
			if _, err := fsutil.CopyFile(src, keep); err != nil {
				return fmt.Errorf("session: %w", err)
			}
		}
	}
	for _, rel := range order {
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if slices.Contains(st.deleted, rel) {
			if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("session: remove %s: %w", rel, err)
			}
			done = append(done, rel)
			continue
		}
		src := filepath.Join(stage, filepath.FromSlash(rel))
		if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
			continue // nothing staged: the file stays as it is
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("session: %w", err)
		}
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("session: replace %s: %w", rel, err)
		}
		done = append(done, rel)
	}
	dirs := map[string]bool{dir: true}
	for _, rel := range order {
		dirs[filepath.Dir(filepath.Join(dir, filepath.FromSlash(rel)))] = true
	}
	for d := range dirs {
		_ = fsutil.SyncDir(d) // best effort: the renames are done and cannot be taken back now
	}
	return nil
}
