package session

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Files is where a session's files are read from: its folder (Open), or a store that keeps the
// folder's layout file for file (a bucket: package sessionstore). Paths are slash paths relative
// to the session (manifest.json, tracks/ada-1.opus). Every reader of a session's files — its
// tracks, its live mix, the digests of Verify, Export — goes through it, so that a session in a
// bucket is read where it lies, streamed, without a local copy.
type Files interface {
	// Open opens the file at rel for reading. A missing file is an error matching fs.ErrNotExist.
	Open(rel string) (File, error)
	// List returns every entry of the session, in slash-path order. A store without folders
	// lists only files; a folder lists its folders too (Type fs.ModeDir), itself as ".".
	List() ([]FileInfo, error)
	// Name is how messages name the file at rel: a path, or an s3:// URL.
	Name(rel string) string
}

// File is a session file opened for reading: read in order (decoding a track), at an offset
// (finding an Ogg page), or from where a Seek put it. *os.File is one.
type File interface {
	io.Reader
	io.Seeker
	io.ReaderAt
	io.Closer
}

// FileInfo describes one entry of Files.List.
type FileInfo struct {
	Path    string // slash path relative to the session
	Size    int64
	ModTime time.Time
	// Type is the entry's type bits (fs.ModeDir, fs.ModeSymlink, fs.ModeSocket…); 0 for a
	// regular file, the only kind of file a session holds.
	Type fs.FileMode
	// Perm is the file's permission bits, as an archive of the session keeps them.
	Perm fs.FileMode
}

// Dir is a session folder on the local disk, as Files: names in messages are its paths.
type Dir string

var _ Files = Dir("")

// Open opens the file at rel with os.Open; its errors name the file's path.
func (d Dir) Open(rel string) (File, error) { return os.Open(d.Name(rel)) }

// Name is the file's path in the folder.
func (d Dir) Name(rel string) string { return filepath.Join(string(d), filepath.FromSlash(rel)) }

// List walks the folder.
func (d Dir) List() ([]FileInfo, error) {
	dir := string(d)
	var out []FileInfo
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		fi := FileInfo{Path: filepath.ToSlash(r), Type: e.Type()}
		if info, err := e.Info(); err == nil {
			fi.Size, fi.ModTime, fi.Perm = info.Size(), info.ModTime(), info.Mode().Perm()
		}
		out = append(out, fi)
		return nil
	})
	slices.SortFunc(out, func(a, b FileInfo) int { return strings.Compare(a.Path, b.Path) })
	return out, err
}

// OpenFiles reads and validates the session whose files src holds; name is what messages call it
// (an s3:// URL). The session's Dir is empty: it has no folder, and nothing is written to it
// (Save refuses).
func OpenFiles(src Files, name string) (*Session, error) {
	b, err := readAll(src, ManifestName, maxManifestProbe)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotSessionError{Dir: name}
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("session: %s: %w", src.Name(ManifestName), err)
	}
	return &Session{Manifest: m, files: src, name: name}, nil
}

// Files is where the session's files are read from: its folder, or the store OpenFiles was given.
func (s *Session) Files() Files {
	if s.files == nil {
		return Dir(s.Dir)
	}
	return s.files
}

// Location is the session as messages name it: its folder, or the name OpenFiles was given.
func (s *Session) Location() string {
	if s.files == nil {
		return s.Dir
	}
	return s.name
}

// OpenFile opens the file rel of the session for reading.
func (s *Session) OpenFile(rel string) (File, error) { return s.Files().Open(rel) }

// readAll reads the file rel of src, refusing one longer than limit bytes.
func readAll(src Files, rel string, limit int64) ([]byte, error) {
	f, err := src.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src.Name(rel), err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w: longer than %d bytes", src.Name(rel), ErrInvalid, limit)
	}
	return b, nil
}

// hashIn is the SHA-256 and size of the file rel of src, read as a stream.
func hashIn(src Files, rel string) (FileHash, error) {
	f, err := src.Open(rel)
	if err != nil {
		return FileHash{}, fmt.Errorf("session: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileHash{}, fmt.Errorf("session: read %s: %w", src.Name(rel), err)
	}
	return FileHash{Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
