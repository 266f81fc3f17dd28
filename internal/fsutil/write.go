package fsutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data (WriteAtomic).
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteAtomic(path, perm, func(w io.Writer) error {
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

// WriteAtomic replaces path with what write writes: into a temporary file beside it
// (".NAME.tmp…"), given perm, synced, renamed over path, and the folder synced, so after a crash
// path holds either the old content or the new, never a part. An error from write is returned as
// it is, and the temporary file is removed.
func WriteAtomic(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return errors.Join(err, f.Close())
	}
	if err = f.Chmod(perm); err != nil {
		return errors.Join(err, f.Close())
	}
	if err = f.Sync(); err != nil {
		return errors.Join(fmt.Errorf("sync %s: %w", path, err), f.Close())
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// CopyFile copies the regular file src to dst, which must not exist (so a copy never writes
// through a hard link into another file), and syncs dst. It returns the bytes copied; on failure
// a partial dst may remain. The arguments are in the order of os.Link and os.Rename, because a
// copy is what a caller falls back to when os.Link(src, dst) fails.
func CopyFile(src, dst string) (n int64, err error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	if n, err = io.Copy(out, in); err != nil {
		return n, errors.Join(fmt.Errorf("copy %s to %s: %w", src, dst, err), out.Close())
	}
	if err = out.Sync(); err != nil {
		return n, errors.Join(fmt.Errorf("sync %s: %w", dst, err), out.Close())
	}
	return n, out.Close()
}

// SyncDir syncs the folder dir, which makes the creations, renames and removals in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
