package site

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// stagePrefix starts the name of every staging folder inside a site.
const stagePrefix = ".spacecast-stage-"

// stageLockName is the lock file inside a staging folder: held by its run for as long as the
// folder is in use, so another run can tell a live staging folder from a crashed one's.
const stageLockName = ".lock"

// unlockedStageAge is how old a staging folder without a lock file (a run that died between
// creating it and locking it) must be before it counts as stale.
const unlockedStageAge = time.Minute

// stage is a staging folder inside the site: outputs are written here and renamed into place.
// Being on the same file system as the site makes each rename atomic.
type stage struct {
	dir  string
	lock *fileLock
}

func newStage(site string) (*stage, error) {
	dir, err := os.MkdirTemp(site, stagePrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("site: create a staging folder in %s: %w", site, err)
	}
	// The lock file appears under its name already locked: made under another name, locked, then
	// renamed (the lock stays with the open file). Created in place, another run's cleanStale
	// could open it between the create and the lock, find it unlocked, take it for a dead run's,
	// and remove this live folder (seen with four publish runs at once).
	tmp := filepath.Join(dir, stageLockName+".new")
	l, ok, err := tryLock(tmp)
	if err == nil && !ok {
		err = errors.New("its lock is held by another process")
	}
	if err == nil {
		if err = os.Rename(tmp, filepath.Join(dir, stageLockName)); err != nil {
			err = errors.Join(err, l.unlock())
		}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("site: lock staging folder %s: %w", dir, err), os.RemoveAll(dir))
	}
	if err := os.Mkdir(filepath.Join(dir, EpisodesDir), 0o755); err != nil {
		return nil, errors.Join(fmt.Errorf("site: %w", err), os.RemoveAll(dir), l.unlock())
	}
	return &stage{dir: dir, lock: l}, nil
}

// path is where the staged copy of the site file rel goes.
func (s *stage) path(rel string) string { return filepath.Join(s.dir, filepath.FromSlash(rel)) }

// remove deletes the staging folder and releases its lock; safe to call twice.
func (s *stage) remove() error {
	if s == nil || s.lock == nil {
		return nil
	}
	err := errors.Join(os.RemoveAll(s.dir), s.lock.unlock())
	s.lock = nil
	return err
}

// cleanStale removes staging folders left by runs that died (kill -9, power loss): those whose
// lock no live process holds. It returns the names removed.
func cleanStale(site string) ([]string, error) {
	entries, err := os.ReadDir(site)
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), stagePrefix) {
			continue
		}
		dir := filepath.Join(site, e.Name())
		stale, l, err := staleStage(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !stale {
			continue
		}
		err = os.RemoveAll(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("site: remove stale staging folder %s: %w", dir, err))
		} else {
			removed = append(removed, e.Name())
		}
		if l != nil {
			l.unlock()
		}
	}
	return removed, errors.Join(errs...)
}

// staleStage reports whether a staging folder is dead; when it is and had a lock file, the lock is
// returned held, so no one revives it while it is removed.
func staleStage(dir string) (bool, *fileLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, stageLockName), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		st, err := os.Stat(dir)
		if err != nil {
			return false, nil, nil // removed meanwhile
		}
		return time.Since(st.ModTime()) > unlockedStageAge, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("site: staging folder %s: %w", dir, err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil, f.Close()
	}
	if err != nil {
		return false, nil, errors.Join(fmt.Errorf("site: staging folder %s: %w", dir, err), f.Close())
	}
	return true, &fileLock{f: f}, nil
}

// writeFile writes data to path and syncs it.
func writeFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
