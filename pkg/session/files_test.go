package session_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/session"
)

// memFiles is a session's files in memory, without folders, as a bucket holds them.
type memFiles map[string][]byte

type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

func (m memFiles) Open(rel string) (session.File, error) {
	b, ok := m[rel]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: m.Name(rel), Err: fs.ErrNotExist}
	}
	return memFile{bytes.NewReader(b)}, nil
}

func (m memFiles) List() ([]session.FileInfo, error) {
	var out []session.FileInfo
	for rel, b := range m {
		out = append(out, session.FileInfo{Path: rel, Size: int64(len(b)), ModTime: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)})
	}
	slices.SortFunc(out, func(a, b session.FileInfo) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func (m memFiles) Name(rel string) string { return "mem://s/" + rel }

// sealedInMemory is the demo session, sealed, as memFiles.
func sealedInMemory(t *testing.T) (string, memFiles) {
	t.Helper()
	dir := testutil.DemoSession(t)
	if err := session.Seal(dir, nil); err != nil {
		t.Fatal(err)
	}
	m := memFiles{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// TestFilesElsewhere: a session whose files are not in a folder is opened, verified and exported
// through Files, with the results of its folder, named as its Files names it.
func TestFilesElsewhere(t *testing.T) {
	dir, m := sealedInMemory(t)
	s, err := session.OpenFiles(m, "mem://s")
	if err != nil {
		t.Fatal(err)
	}
	if s.Location() != "mem://s" || s.Dir != "" {
		t.Errorf("Location %q, Dir %q", s.Location(), s.Dir)
	}
	if err := s.Save(); !errors.Is(err, session.ErrReadOnly) {
		t.Errorf("Save: %v, want ErrReadOnly", err)
	}

	rep, err := session.VerifyFiles(m, "mem://s", nil)
	if err != nil || !rep.OK || rep.Dir != "mem://s" {
		t.Fatalf("VerifyFiles of an untouched copy: %+v, %v", rep, err)
	}
	local, err := session.Verify(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	local.Dir = rep.Dir
	if a, b := *local, *rep; a.ManifestSHA256 != b.ManifestSHA256 || a.Files != b.Files || a.OK != b.OK {
		t.Errorf("VerifyFiles %+v, Verify %+v", b, a)
	}

	m["tracks/ada-1.opus"] = append(slices.Clone(m["tracks/ada-1.opus"]), 0)
	delete(m, "tracks/cyd-1.opus")
	m["notes.txt"] = []byte("x")
	rep, err = session.VerifyFiles(m, "mem://s", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Changed) != 1 || rep.Changed[0].Path != "tracks/ada-1.opus" ||
		!slices.Equal(rep.Missing, []string{"tracks/cyd-1.opus"}) || !slices.Equal(rep.Added, []string{"notes.txt"}) {
		t.Errorf("VerifyFiles of a changed copy: %+v", rep)
	}
	delete(m, "manifest.json")
	var ns *session.NotSessionError
	if _, err := session.VerifyFiles(m, "mem://s", nil); !errors.As(err, &ns) || ns.Dir != "mem://s" {
		t.Errorf("VerifyFiles without a manifest: %v, want a NotSessionError naming mem://s", err)
	}
}

// TestExportFilesMakesFolders: an export of files without folders (a bucket's) has the folders
// their paths need, the top one first, as an export of the folder has.
func TestExportFilesMakesFolders(t *testing.T) {
	_, m := sealedInMemory(t)
	s, err := session.OpenFiles(m, "mem://s")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := session.ExportFiles(s, "town-hall", &buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			if rel := strings.TrimPrefix(h.Name, "town-hall/"); !bytes.Equal(b, m[rel]) || h.Mode != 0o644 {
				t.Errorf("%s: %d bytes, mode %o; want the file's %d bytes, mode 644", h.Name, len(b), h.Mode, len(m[rel]))
			}
		}
	}
	want := []string{"town-hall/", "town-hall/manifest.json", "town-hall/tracks/", "town-hall/tracks/ada-1.opus",
		"town-hall/tracks/brook-1.opus", "town-hall/tracks/brook-2.opus", "town-hall/tracks/cyd-1.opus"}
	if !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
}
