package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spacecast/spacecast/internal/fsutil"
)

// Session is a session folder and its manifest, or a session read where it is stored (OpenFiles).
type Session struct {
	// Dir is the session folder; "" for a session OpenFiles read from elsewhere.
	Dir      string
	Manifest *Manifest

	files Files  // nil: the folder Dir
	name  string // what messages call a session read through files
}

// IsSession reports whether dir holds a manifest.
func IsSession(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, ManifestName))
	return err == nil && st.Mode().IsRegular()
}

// maxManifestProbe bounds how much of a manifest.json IsSpacecast reads to find its format.
const maxManifestProbe = 64 << 20

// IsSpacecast reports whether dir is a spacecast session folder: its manifest.json says so
// (format "spacecast-session"), or, when the manifest cannot be read as JSON (a damaged one),
// the folder also has the tracks/ folder every session has. An unrelated manifest.json (a web
// app's, a browser extension's) does not make a folder a session.
func IsSpacecast(dir string) bool {
	f, err := os.Open(filepath.Join(dir, ManifestName))
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	var m struct {
		Format string `json:"format"`
	}
	if err := json.NewDecoder(io.LimitReader(f, maxManifestProbe)).Decode(&m); err != nil {
		st, err := os.Stat(filepath.Join(dir, TracksDir))
		return err == nil && st.IsDir()
	}
	return m.Format == FormatName
}

// Enclosing returns the session folder path lies in, or is: the nearest folder at or above it
// that IsSpacecast. path should be absolute and free of links (fsutil.Resolve); it need not exist.
func Enclosing(path string) (string, bool) {
	var found string
	fsutil.Ancestors(path, func(dir string) bool {
		if IsSpacecast(dir) {
			found = dir
			return false
		}
		return true
	})
	return found, found != ""
}

// noFolder reports whether reading a file in a folder failed because there is no such folder, or
// it is a file.
func noFolder(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Open reads and validates the session in dir.
func Open(dir string) (*Session, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if noFolder(err) {
		return nil, &NotSessionError{Dir: dir}
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("session: %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return &Session{Dir: dir, Manifest: m}, nil
}

// Path returns the absolute location of a file named in the manifest.
func (s *Session) Path(rel string) string {
	return filepath.Join(s.Dir, filepath.FromSlash(rel))
}

// Save writes the manifest atomically: to a temporary file in the folder, synced, then renamed
// over manifest.json, so a crash leaves either the old or the new manifest, never half of one.
func (s *Session) Save() error {
	if s.files != nil {
		return fmt.Errorf("session: save %s: %w", s.name, ErrReadOnly)
	}
	if err := s.Manifest.Validate(); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	b, err := s.Manifest.Marshal()
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(s.Dir, ManifestName), b, 0o644)
}

// WriteFileAtomic writes data to path through a synced temporary file and a rename
// (fsutil.WriteFileAtomic).
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := fsutil.WriteFileAtomic(path, data, perm); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}
