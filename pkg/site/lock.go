package site

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockName is the lock file in a site folder. It stays empty: its flock(2) is the lock.
const LockName = ".spacecast.lock"

// lockPoll is how often a waiting run tries the lock again.
const lockPoll = 50 * time.Millisecond

// fileLock is an exclusive flock(2) on a file, released by unlock or by the process's death (the
// kernel drops it with the descriptor, so a kill -9 never leaves a site locked).
type fileLock struct{ f *os.File }

// tryLock takes an exclusive lock on path without waiting; ok is false when another holds it.
func tryLock(path string) (_ *fileLock, ok bool, _ error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, false, f.Close()
	}
	if err != nil {
		return nil, false, errors.Join(err, f.Close())
	}
	return &fileLock{f: f}, true, nil
}

// unlock releases the lock; it is safe to call twice.
func (l *fileLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the only descriptor releases the flock
	l.f = nil
	return err
}

// lockSite takes the site's lock, waiting up to timeout. onWait, when not nil, is called once when
// the lock is busy, before waiting, so the user learns why nothing happens.
func lockSite(ctx context.Context, dir string, timeout time.Duration, onWait func(lockPath string)) (*fileLock, error) {
	path := filepath.Join(dir, LockName)
	deadline := time.Now().Add(timeout)
	waited := false
	for {
		l, ok, err := tryLock(path)
		if err != nil {
			return nil, errorf("lock %s: %w", path, err)
		}
		if ok {
			return l, nil
		}
		if !waited && onWait != nil {
			onWait(path)
		}
		waited = true
		if !time.Now().Before(deadline) {
			return nil, &Error{Err: &LockTimeoutError{Dir: dir, Lock: path, Timeout: timeout}}
		}
		t := time.NewTimer(min(lockPoll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
