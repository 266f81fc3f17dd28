package sessionstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spacecast/spacecast/internal/fsutil"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// Store is what a transfer needs of a bucket; *objstore.Client is one.
type Store interface {
	Put(ctx context.Context, bucket, key string, body io.ReadSeeker, opt objstore.PutOptions) (objstore.Object, error)
	Get(ctx context.Context, bucket, key string, r *objstore.Range) (io.ReadCloser, objstore.Object, error)
	Head(ctx context.Context, bucket, key string) (objstore.Object, error)
	List(ctx context.Context, bucket, prefix string) iter.Seq2[objstore.Object, error]
}

var _ Store = (*objstore.Client)(nil)

// Options are a transfer's optional hooks.
type Options struct {
	// OnFile, if set, is called before each file moves: its number (from 1), how many there
	// are, its slash path in the session and its size.
	OnFile func(n, of int, rel string, bytes int64)
}

// Report says what moved.
type Report struct {
	Session string `json:"session"` // the folder
	URL     string `json:"url"`     // s3://BUCKET/PREFIX/NAME
	ID      string `json:"id"`      // the manifest's session id
	Files   int    `json:"files"`
	Bytes   int64  `json:"bytes"`
	// Sealed: the manifest lists digests, and the files matched them (before a push, after a
	// pull). An unsealed session moves as it is, unchecked.
	Sealed bool `json:"sealed"`
}

// Push uploads the finalized session in dir under dst (its prefix is the session's name): every
// file of the folder (tracks, live mix, hold.json; not the recorder's control file or temporary
// files) in path order, then manifest.json.sig, then manifest.json. A sealed session is checked
// against its seal first. dst must not hold a session already (a manifest); files a push that
// stopped left there are replaced.
func Push(ctx context.Context, st Store, dir string, dst objstore.URL, opt Options) (*Report, error) {
	return push(ctx, st, dir, dst, opt, nil)
}

// push is Push with every upload under g (nil: unconditional).
func push(ctx context.Context, st Store, dir string, dst objstore.URL, opt Options, g *putGuard) (*Report, error) {
	fail := func(err error) (*Report, error) {
		return nil, &Error{Op: "push", Dir: dir, URL: dst.String(), Err: err}
	}
	if dst.Prefix == "" {
		return fail(ErrNoName)
	}
	s, err := session.Open(dir)
	if err != nil {
		return fail(err)
	}
	if !s.Manifest.Finalized {
		return fail(session.ErrNotFinalized)
	}
	sealed := len(s.Manifest.Files) > 0
	if err := session.CheckSeal(dir); err != nil {
		return fail(err)
	}
	files, err := listFiles(dir)
	if err != nil {
		return fail(err)
	}
	if _, err := st.Head(ctx, dst.Bucket, dst.Key(session.ManifestName)); err == nil {
		return fail(fmt.Errorf("%s: %w", dst.Key(session.ManifestName), ErrExists))
	} else if !errors.Is(err, objstore.ErrNotFound) {
		return fail(err)
	}
	rep := &Report{Session: dir, URL: dst.String(), ID: s.Manifest.ID, Sealed: sealed}
	for i, f := range files {
		if opt.OnFile != nil {
			opt.OnFile(i+1, len(files), f.rel, f.size)
		}
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.rel))
		var o objstore.Object
		if g != nil {
			o, err = g.put(ctx, st, p, dst.Bucket, dst.Key(f.rel))
		} else {
			o, err = putFile(ctx, st, p, dst.Bucket, dst.Key(f.rel))
		}
		if err != nil {
			return fail(err)
		}
		rep.Files++
		rep.Bytes += o.Size
	}
	return rep, nil
}

func putFile(ctx context.Context, st Store, p, bucket, key string) (objstore.Object, error) {
	f, err := os.Open(p)
	if err != nil {
		return objstore.Object{}, err
	}
	defer f.Close()
	return st.Put(ctx, bucket, key, f, objstore.PutOptions{ContentType: contentType(key)})
}

// contentType is the Content-Type a session file is stored with.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".opus":
		return "audio/ogg"
	case ".json":
		return "application/json"
	case ".sig":
		return "application/json"
	}
	return "application/octet-stream"
}

type file struct {
	rel  string
	size int64
}

// listFiles lists the files of the session folder dir that a transfer moves, in the order Push sends
// them: every regular file but the recorder's control file and temporary files, by slash path,
// then manifest.json.sig (if any) and manifest.json last. Anything else than a regular file or a
// folder is an error (session.ErrIrregular).
func listFiles(dir string) ([]file, error) {
	var out []file
	var sig, manifest *file
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(r)
		if rel == session.ControlName || strings.HasPrefix(d.Name(), ".") && strings.Contains(d.Name(), ".tmp") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: %w", p, session.ErrIrregular)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		f := file{rel: rel, size: fi.Size()}
		switch rel {
		case session.ManifestName:
			manifest = &f
		case session.SignatureName:
			sig = &f
		default:
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b file) int { return strings.Compare(a.rel, b.rel) })
	if sig != nil {
		out = append(out, *sig)
	}
	if manifest == nil {
		return nil, &session.NotSessionError{Dir: dir}
	}
	return append(out, *manifest), nil
}

// Pull downloads the session stored under src into the new folder dir: into a temporary folder
// beside it first, manifest first (a session not finalized is refused), then every other file;
// then a sealed session is checked against its seal, and the folder renamed to dir. On any
// failure, an interruption included, the temporary folder is removed: dir appears complete or not
// at all. dir must not exist.
func Pull(ctx context.Context, st Store, src objstore.URL, dir string, opt Options) (rep *Report, err error) {
	fail := func(err error) (*Report, error) {
		return nil, &Error{Op: "pull", Dir: dir, URL: src.String(), Err: err}
	}
	if src.Prefix == "" {
		return fail(ErrNoName)
	}
	if _, err := os.Lstat(dir); err == nil {
		return fail(fmt.Errorf("%s: %w", dir, ErrExists))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	manifest, objs, err := listSession(ctx, st, src)
	if err != nil {
		return fail(err)
	}
	objs = append([]objstore.Object{*manifest}, objs...)

	parent := filepath.Dir(dir)
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-pull-")
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	rep = &Report{Session: dir, URL: src.String()}
	folders := map[string]bool{tmp: true}
	for i, o := range objs {
		rel := strings.TrimPrefix(o.Key, src.Dir())
		if opt.OnFile != nil {
			opt.OnFile(i+1, len(objs), rel, o.Size)
		}
		p := filepath.Join(tmp, filepath.FromSlash(rel))
		folders[filepath.Dir(p)] = true
		n, err := getFile(ctx, st, src.Bucket, o.Key, p)
		if err != nil {
			return fail(err)
		}
		if i == 0 {
			s, err := session.Open(tmp)
			if err != nil {
				return fail(err)
			}
			if !s.Manifest.Finalized {
				return fail(session.ErrNotFinalized)
			}
			rep.ID, rep.Sealed = s.Manifest.ID, len(s.Manifest.Files) > 0
		}
		rep.Files++
		rep.Bytes += n
	}
	if err := session.CheckSeal(tmp); err != nil {
		var mm *session.SealMismatchError
		if errors.As(err, &mm) {
			mm.Dir = src.String()
		}
		return fail(err)
	}
	for f := range folders {
		if err := fsutil.SyncDir(f); err != nil {
			return fail(err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fail(err)
	}
	if err := fsutil.SyncDir(parent); err != nil {
		return fail(err)
	}
	return rep, nil
}

// listSession lists the objects of the session stored under src: its manifest, and every other
// file of the session (not the recorder's control file or temporary files) in key order. Keys are
// checked (checkRel): a bucket is outside input. Nothing there is ErrNoSession; files without a
// manifest (a push that did not finish) ErrIncomplete.
func listSession(ctx context.Context, st Reader, src objstore.URL) (*objstore.Object, []objstore.Object, error) {
	var objs []objstore.Object
	var manifest *objstore.Object
	redacting := false
	for o, err := range st.List(ctx, src.Bucket, src.Dir()) {
		if err != nil {
			return nil, nil, err
		}
		rel := strings.TrimPrefix(o.Key, src.Dir())
		if err := checkRel(rel); err != nil {
			return nil, nil, fmt.Errorf("%q: %w", o.Key, err)
		}
		if isLive(rel) {
			continue // the pieces of a recording not finished yet, or not cleaned up yet
		}
		redacting = redacting || rel == RedactJournalName
		if rel == session.ControlName || session.Unhashed(rel) && rel != session.ManifestName && rel != session.SignatureName && rel != session.HoldName {
			continue // the recorder's control file, a temporary file: never part of a session
		}
		if rel == session.ManifestName {
			manifest = &o
			continue
		}
		objs = append(objs, o)
	}
	if redacting {
		// A redaction stopped half-way: leave out what is not part of the session now.
		superseded, err := Superseded(ctx, st, src)
		if err != nil {
			return nil, nil, err
		}
		objs = slices.DeleteFunc(objs, func(o objstore.Object) bool { return superseded[o.Key] })
	}
	switch {
	case manifest == nil && len(objs) == 0:
		return nil, nil, ErrNoSession
	case manifest == nil:
		return nil, nil, ErrIncomplete
	}
	return manifest, objs, nil
}

// checkRel refuses a key's path below the prefix that is not a clean relative slash path: an
// empty, "." or ".." segment, a leading slash, a backslash, a control character. A bucket is
// outside input: a key must never name a file outside the folder being written.
func checkRel(rel string) error {
	if rel == "" || !utf8.ValidString(rel) || strings.ContainsRune(rel, '\\') {
		return ErrBadKey
	}
	for _, r := range rel {
		if r < 0x20 || r == 0x7f {
			return ErrBadKey
		}
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return ErrBadKey
		}
	}
	return nil
}

// getFile downloads bucket/key to the new file p (and the folders above it) and syncs it.
func getFile(ctx context.Context, st Store, bucket, key, p string) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return 0, err
	}
	r, info, err := st.Get(ctx, bucket, key, nil)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if err == nil && n != info.Size {
		err = fmt.Errorf("%s: got %d bytes of %d", key, n, info.Size)
	}
	if err == nil {
		err = f.Sync()
	}
	return n, errors.Join(err, f.Close())
}
