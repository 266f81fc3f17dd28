package session

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
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
	return ExportFiles(s, filepath.Base(abs), w)
}

// ExportFiles is Export of a session opened anywhere (Open, OpenFiles), under the top folder top.
// Every file is streamed into the archive. A store without folders (a bucket) gets its folders
// from its files' paths (the top one too), with the time of the first file in each; its files get
// mode 0644.
func ExportFiles(s *Session, top string, w io.Writer) error {
	src := s.Files()
	files, err := src.List()
	if err != nil {
		return fmt.Errorf("session: export: %w", err)
	}
	var ents []FileInfo
	have := map[string]bool{}
	for _, fi := range files {
		if fi.Path == ControlName || isTempName(path.Base(fi.Path)) {
			continue
		}
		if !fi.Type.IsDir() && !fi.Type.IsRegular() {
			return fmt.Errorf("session: export %s: %w", src.Name(fi.Path), ErrIrregular)
		}
		if fi.Type.IsRegular() && fi.Perm == 0 {
			fi.Perm = 0o644
		}
		ents = append(ents, fi)
		have[fi.Path] = true
	}
	for _, fi := range ents {
		for d := fi.Path; d != "."; {
			d = path.Dir(d)
			if !have[d] {
				have[d] = true
				ents = append(ents, FileInfo{Path: d, Type: fs.ModeDir, ModTime: fi.ModTime})
			}
		}
	}
	slices.SortFunc(ents, func(a, b FileInfo) int { return strings.Compare(a.Path, b.Path) })
	tw := tar.NewWriter(w)
	for _, e := range ents {
		name := path.Join(top, e.Path)
		h := &tar.Header{Name: name, ModTime: e.ModTime.UTC().Truncate(1e9), Format: tar.FormatPAX}
		if e.Type.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, name+"/", 0o755
		} else {
			h.Typeflag, h.Size, h.Mode = tar.TypeReg, e.Size, int64(e.Perm)
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("session: export: %w", err)
		}
		if e.Type.IsDir() {
			continue
		}
		f, err := src.Open(e.Path)
		if err != nil {
			return fmt.Errorf("session: export: %w", err)
		}
		n, err := io.Copy(tw, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("session: export %s: %w", e.Path, err)
		}
		if n != e.Size {
			return fmt.Errorf("session: export %s: it changed size while being read (is it still recording?)", e.Path)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("session: export: %w", err)
	}
	return nil
}
