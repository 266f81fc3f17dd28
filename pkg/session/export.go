package session

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// Export writes the session in dir to w as a tar archive under one top folder named like dir:
// every file (the manifest, its signature and hold.json included; the recorder's control pointer
// and temporary files left out), folders first, in slash-path order, with the files' modes and
// times and no owner names, so that two exports of one session are byte-identical. Verify works on
// the unpacked copy.
func Export(dir string, w io.Writer) error {
	s, err := Open(dir)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(s.Dir)
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	top := filepath.Base(abs)
	type entry struct {
		rel string
		fi  fs.FileInfo
	}
	var ents []entry
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("session: export: %w", err)
		}
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("session: %w", err)
		}
		rel := filepath.ToSlash(r)
		if rel == ControlName || isTempName(d.Name()) {
			return nil
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("session: export %s: %w", p, ErrIrregular)
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("session: export: %w", err)
		}
		ents = append(ents, entry{rel, fi})
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(ents, func(a, b entry) int {
		if a.rel < b.rel {
			return -1
		}
		if a.rel > b.rel {
			return 1
		}
		return 0
	})
	tw := tar.NewWriter(w)
	for _, e := range ents {
		name := path.Join(top, e.rel)
		h := &tar.Header{Name: name, ModTime: e.fi.ModTime().UTC().Truncate(1e9), Format: tar.FormatPAX}
		if e.fi.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, name+"/", 0o755
		} else {
			h.Typeflag, h.Size, h.Mode = tar.TypeReg, e.fi.Size(), int64(e.fi.Mode().Perm())
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("session: export: %w", err)
		}
		if e.fi.IsDir() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(e.rel)))
		if err != nil {
			return fmt.Errorf("session: export: %w", err)
		}
		n, err := io.Copy(tw, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("session: export %s: %w", e.rel, err)
		}
		if n != e.fi.Size() {
			return fmt.Errorf("session: export %s: it changed size while being read (is it still recording?)", e.rel)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("session: export: %w", err)
	}
	return nil
}
