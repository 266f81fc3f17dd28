package sessionstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// Reader is what reading a session where it lies needs of a bucket; *objstore.Client is one.
type Reader interface {
	Get(ctx context.Context, bucket, key string, r *objstore.Range) (io.ReadCloser, objstore.Object, error)
	List(ctx context.Context, bucket, prefix string) iter.Seq2[objstore.Object, error]
}

// Open reads the finalized session stored under src where it lies, without copying it: one
// listing of its keys (checked: a bucket is outside input) and a GET of manifest.json. The
// session's files (session.Session.Files) are then read from the bucket as they are needed: a
// file read in order is one streaming GET, a read at an offset a ranged GET of a window around it
// (see File). A place with files but no manifest (a push that did not finish) is refused with
// ErrIncomplete, an empty one with ErrNoSession, a session not finalized with
// session.ErrNotFinalized, as Pull refuses them. ctx bounds every later read of the session too.
func Open(ctx context.Context, st Reader, src objstore.URL) (*session.Session, error) {
	fail := func(err error) (*session.Session, error) {
		return nil, &Error{Op: "read", URL: src.String(), Err: err}
	}
	if src.Prefix == "" {
		return fail(ErrNoName)
	}
	manifest, objs, err := listSession(ctx, st, src)
	if err != nil {
		return fail(err)
	}
	b := &Bucket{ctx: ctx, st: st, src: src, objs: map[string]objstore.Object{}}
	for _, o := range append(objs, *manifest) {
		rel := strings.TrimPrefix(o.Key, src.Dir())
		b.objs[rel] = o
		b.list = append(b.list, session.FileInfo{Path: rel, Size: o.Size, ModTime: o.LastModified, Perm: 0o644})
	}
	slices.SortFunc(b.list, func(a, b session.FileInfo) int { return strings.Compare(a.Path, b.Path) })
	s, err := session.OpenFiles(b, src.String())
	if err != nil {
		return fail(err)
	}
	if !s.Manifest.Finalized {
		return fail(session.ErrNotFinalized)
	}
	return s, nil
}

// Bucket is a session's files in a bucket, as session.Files: what one listing found under
// s3://BUCKET/PREFIX/NAME/, read with GETs.
type Bucket struct {
	ctx  context.Context
	st   Reader
	src  objstore.URL
	objs map[string]objstore.Object // by slash path below src
	list []session.FileInfo
}

var _ session.Files = (*Bucket)(nil)

// Name is the file's s3:// URL.
func (b *Bucket) Name(rel string) string {
	return objstore.URL{Bucket: b.src.Bucket, Prefix: b.src.Key(rel)}.String()
}

// List is what the listing found, in path order.
func (b *Bucket) List() ([]session.FileInfo, error) { return b.list, nil }

// Open opens the file rel; no request is made until it is read. A file the listing did not find
// is an *fs.PathError matching fs.ErrNotExist.
func (b *Bucket) Open(rel string) (session.File, error) {
	o, ok := b.objs[rel]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: b.Name(rel), Err: fs.ErrNotExist}
	}
	return NewFile(b.ctx, b.st, b.src.Bucket, o.Key, o.Size), nil
}

// Sizes of File's requests.
const (
	// windowBytes is how much a ReadAt outside the window fetches: the Ogg reader checks every
	// page header of a track with small ReadAts, one GET each would be thousands.
	windowBytes = 1 << 20
	// skipBytes is how far a Seek forward may be read through on the open stream instead of
	// opening another.
	skipBytes = 256 << 10
	// maxRetries is how many times a read that failed (a broken connection, an early end) is
	// tried again, from where it stopped, before its error is returned.
	maxRetries = 3
)

// retryWait is the pause before the first retry; it doubles each time.
const retryWait = 200 * time.Millisecond

// File is an object of a bucket read like a file: Read streams it with one GET from the current
// position (opened at the first Read, again after a Seek elsewhere or a broken stream); ReadAt
// serves from a window of windowBytes fetched with a ranged GET. Memory is the window and the
// stream's buffers, whatever the object's size. A failed request is tried again maxRetries times,
// from where it stopped. ReadAt may be called from several goroutines; Read and Seek may not.
type File struct {
	ctx         context.Context
	st          Reader
	bucket, key string
	size        int64

	pos     int64         // where Read reads next
	body    io.ReadCloser // the open stream, nil when none
	bodyPos int64         // where body reads next

	mu     sync.Mutex // guards win and winOff
	win    []byte
	winOff int64

	closed bool
}

var _ session.File = (*File)(nil)

// NewFile is bucket/key, of size bytes (as listed), read with st. ctx bounds every request.
func NewFile(ctx context.Context, st Reader, bucket, key string, size int64) *File {
	return &File{ctx: ctx, st: st, bucket: bucket, key: key, size: size}
}

// Read reads from the stream at the current position.
func (f *File) Read(p []byte) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if f.pos >= f.size {
		return 0, f.end()
	}
	var last error
	for try := 0; try <= maxRetries; try++ {
		if try > 0 {
			if err := f.wait(try, last); err != nil {
				return 0, err
			}
		}
		if err := f.stream(); err != nil {
			last = err
			continue
		}
		n, err := f.body.Read(p)
		f.pos += int64(n)
		f.bodyPos += int64(n)
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, io.EOF) && f.pos >= f.size:
			f.drop()
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		case errors.Is(err, io.EOF):
			err = fmt.Errorf("%s: the stream ended at byte %d of %d: %w", f.key, f.pos, f.size, io.ErrUnexpectedEOF)
		}
		f.drop()
		if n > 0 {
			return n, nil // the next Read opens the stream again from here
		}
		if f.pos >= f.size {
			return 0, err // it failed after its last byte (a checksum of the whole object): nothing to read again
		}
		last = err
	}
	return 0, last
}

// end closes a stream read to the object's size, and returns io.EOF, or the error its end gave
// (the check of the whole object's checksum, when the store sent one).
func (f *File) end() error {
	if f.body == nil {
		return io.EOF
	}
	var one [1]byte
	n, err := f.body.Read(one[:])
	f.drop()
	if n == 0 && err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return io.EOF
}

// stream makes sure body reads from pos: it keeps the open stream, reads through a short stretch
// to a position a little ahead, or opens another.
func (f *File) stream() error {
	if f.body != nil && f.pos > f.bodyPos && f.pos-f.bodyPos <= skipBytes {
		n, err := io.CopyN(io.Discard, f.body, f.pos-f.bodyPos)
		f.bodyPos += n
		if err != nil {
			f.drop()
		}
	}
	if f.body != nil && f.bodyPos == f.pos {
		return nil
	}
	f.drop()
	var r *objstore.Range
	if f.pos > 0 {
		r = &objstore.Range{Offset: f.pos}
	}
	body, _, err := f.st.Get(f.ctx, f.bucket, f.key, r)
	if err != nil {
		return err
	}
	f.body, f.bodyPos = body, f.pos
	return nil
}

// drop closes the open stream, if any.
func (f *File) drop() {
	if f.body != nil {
		f.body.Close()
		f.body = nil
	}
}

// wait pauses before retry try of a request that failed with err; it returns err itself when a
// retry cannot help (the object is gone, access denied, the read was cancelled).
func (f *File) wait(try int, err error) error {
	if !retryable(err) {
		return err
	}
	t := time.NewTimer(retryWait << (try - 1))
	defer t.Stop()
	select {
	case <-f.ctx.Done():
		return errors.Join(err, f.ctx.Err())
	case <-t.C:
		return nil
	}
}

// Seek sets where Read reads next; it makes no request.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	default:
		return 0, fmt.Errorf("%s: seek: whence %d", f.key, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("%s: seek to %d: before the start", f.key, offset)
	}
	f.pos = offset
	return offset, nil
}

// ReadAt reads len(p) bytes at off: from the window when it holds them, else from a new window
// fetched there with a ranged GET.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("%s: read at %d: before the start", f.key, off)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= f.size {
			return n, io.EOF
		}
		if at < f.winOff || at >= f.winOff+int64(len(f.win)) {
			if err := f.fill(at, len(p)-n); err != nil {
				return n, err
			}
		}
		n += copy(p[n:], f.win[at-f.winOff:])
	}
	return n, nil
}

// fill fetches the window at off: windowBytes, or want bytes if more, up to the end.
func (f *File) fill(off int64, want int) error {
	length := min(max(int64(want), windowBytes), f.size-off)
	if int64(cap(f.win)) < length {
		f.win = make([]byte, length)
	}
	f.win = f.win[:0]
	var last error
	for try := 0; try <= maxRetries; try++ {
		if try > 0 {
			if err := f.wait(try, last); err != nil {
				return err
			}
		}
		body, _, err := f.st.Get(f.ctx, f.bucket, f.key, &objstore.Range{Offset: off, Length: length})
		if err != nil {
			last = err
			continue
		}
		n, err := io.ReadFull(body, f.win[:length])
		body.Close()
		if err == nil {
			f.win, f.winOff = f.win[:n], off
			return nil
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%s: bytes %d-%d: got %d: %w", f.key, off, off+length-1, n, io.ErrUnexpectedEOF)
		}
		last = err
	}
	return last
}

// Close closes the open stream; the File reads no more.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.drop()
	f.win = nil
	return nil
}
