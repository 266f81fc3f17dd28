package sessionstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
)

// fakeBucket is a Reader over objects in memory, with failures on demand: the first breaks bodies
// it hands out stop with errBroken after breakAfter bytes.
type fakeBucket struct {
	mu         sync.Mutex
	objs       map[string][]byte
	gets       int
	ranges     []string
	breaks     int
	breakAfter int64
	getErr     error // returned by every Get when set
}

var errBroken = errors.New("connection reset by peer")

func (b *fakeBucket) Get(ctx context.Context, bucket, key string, r *objstore.Range) (io.ReadCloser, objstore.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gets++
	if b.getErr != nil {
		return nil, objstore.Object{}, b.getErr
	}
	data, ok := b.objs[key]
	if !ok {
		return nil, objstore.Object{}, &objstore.Error{Op: "get", Bucket: bucket, Key: key, Kind: objstore.ErrNotFound}
	}
	o := objstore.Object{Key: key, Size: int64(len(data))}
	body := data
	if r != nil {
		b.ranges = append(b.ranges, fmt.Sprintf("%d+%d", r.Offset, r.Length))
		end := int64(len(data))
		if r.Length > 0 {
			end = min(end, r.Offset+r.Length)
		}
		body = data[r.Offset:end]
	} else {
		b.ranges = append(b.ranges, "all")
	}
	var rd io.Reader = bytes.NewReader(body)
	if b.breaks > 0 {
		b.breaks--
		rd = io.MultiReader(io.LimitReader(rd, b.breakAfter), errReader{errBroken})
	}
	return io.NopCloser(rd), o, nil
}

func (b *fakeBucket) List(ctx context.Context, bucket, prefix string) iter.Seq2[objstore.Object, error] {
	return func(yield func(objstore.Object, error) bool) {
		for _, k := range slices.Sorted(func(y func(string) bool) {
			for k := range b.objs {
				if !y(k) {
					return
				}
			}
		}) {
			if strings.HasPrefix(k, prefix) && !yield(objstore.Object{Key: k, Size: int64(len(b.objs[k]))}, nil) {
				return
			}
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestFileReads: a File gives the object's bytes however it is read, and with few requests.
func TestFileReads(t *testing.T) {
	data := randomBytes(3*windowBytes + 12345)
	size := int64(len(data))
	cases := []struct {
		name string
		// read reads the file and returns what it read, to compare with want.
		read     func(t *testing.T, f *File) []byte
		want     []byte
		wantGets int
	}{
		{"read in order is one streaming GET", func(t *testing.T, f *File) []byte {
			b, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, data, 1},
		{"a seek to the tail and back opens one stream at each place", func(t *testing.T, f *File) []byte {
			if _, err := f.Seek(-1000, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			tail, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tail, data[size-1000:]) {
				t.Fatal("the tail differs")
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, data, 2},
		{"a short seek forward reads through on the open stream", func(t *testing.T, f *File) []byte {
			head := make([]byte, 10)
			if _, err := io.ReadFull(f, head); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(skipBytes, io.SeekCurrent); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			return slices.Concat(head, rest)
		}, append(slices.Clone(data[:10]), data[10+skipBytes:]...), 1},
		{"small reads at offsets in order cost one GET per window", func(t *testing.T, f *File) []byte {
			var out []byte
			buf := make([]byte, 27)
			for off := int64(0); off < size; off += 27 {
				n, err := f.ReadAt(buf, off)
				if err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == size) {
					t.Fatalf("ReadAt %d: %d, %v", off, n, err)
				}
				out = append(out, buf[:n]...)
			}
			return out
		}, data, 4},
		{"a read at an offset larger than the window fetches it whole", func(t *testing.T, f *File) []byte {
			b := make([]byte, 2*windowBytes)
			if _, err := f.ReadAt(b, 5); err != nil {
				t.Fatal(err)
			}
			return b
		}, data[5 : 5+2*windowBytes], 1},
		{"a read at an offset across the end gives what there is and io.EOF", func(t *testing.T, f *File) []byte {
			b := make([]byte, 100)
			n, err := f.ReadAt(b, size-40)
			if n != 40 || !errors.Is(err, io.EOF) {
				t.Fatalf("ReadAt across the end: %d, %v; want 40, io.EOF", n, err)
			}
			if n, err := f.ReadAt(b, size+1); n != 0 || !errors.Is(err, io.EOF) {
				t.Fatalf("ReadAt past the end: %d, %v; want 0, io.EOF", n, err)
			}
			return b[:n]
		}, data[size-40:], 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fb := &fakeBucket{objs: map[string][]byte{"k": data}}
			f := NewFile(context.Background(), fb, "b", "k", size)
			got := c.read(t, f)
			if !bytes.Equal(got, c.want) {
				t.Fatalf("read %d bytes that differ from the object's %d", len(got), len(c.want))
			}
			if fb.gets != c.wantGets {
				t.Errorf("%d GETs (%v), want %d", fb.gets, fb.ranges, c.wantGets)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Read after Close: %v, want fs.ErrClosed", err)
			}
		})
	}
}

// TestFileRetries: a stream that breaks is opened again from where it stopped, a bounded number of
// times; errors a retry cannot help are returned at once.
func TestFileRetries(t *testing.T) {
	data := randomBytes(windowBytes + 777)
	cases := []struct {
		name       string
		breaks     int
		breakAfter int64
		getErr     error
		readAt     bool
		wantErr    error
		wantGets   int
	}{
		{"a stream broken three times after some bytes still gives every byte", 3, 100000, nil, false, nil, 4},
		{"a stream that breaks before any byte is tried 1+maxRetries times, then fails", 100, 0, nil, false, errBroken, 1 + maxRetries},
		{"a stream that fails after its last byte (the whole object's checksum) fails at once", 1, int64(len(data)), nil, false, errBroken, 1},
		{"a window broken twice is fetched again", 2, 1000, nil, true, nil, 3},
		{"a window that keeps breaking fails after 1+maxRetries GETs", 100, 10, nil, true, errBroken, 1 + maxRetries},
		{"a missing object is not asked for again", 0, 0, &objstore.Error{Op: "get", Kind: objstore.ErrNotFound}, false, objstore.ErrNotFound, 1},
		{"refused credentials are not tried again", 0, 0, &objstore.Error{Op: "get", Kind: objstore.ErrAuth}, true, objstore.ErrAuth, 1},
	}
	for _, c := range cases {
		// In a bubble of fake time (testing/synctest): the pauses between retries pass at once.
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fb := &fakeBucket{objs: map[string][]byte{"k": data}, breaks: c.breaks, breakAfter: c.breakAfter, getErr: c.getErr}
				f := NewFile(t.Context(), fb, "b", "k", int64(len(data)))
				defer f.Close()
				var got []byte
				var err error
				if c.readAt {
					got = make([]byte, 5000)
					var n int
					n, err = f.ReadAt(got, 1)
					got = got[:n]
				} else {
					got, err = io.ReadAll(f)
				}
				if c.wantErr != nil {
					if !errors.Is(err, c.wantErr) {
						t.Fatalf("error %v, want %v", err, c.wantErr)
					}
				} else {
					want := data
					if c.readAt {
						want = data[1:5001]
					}
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("read %d bytes, %v; want the object's %d", len(got), err, len(want))
					}
				}
				if fb.gets != c.wantGets {
					t.Errorf("%d GETs, want %d", fb.gets, c.wantGets)
				}
			})
		})
	}
}

// TestFileMemoryFlat: streaming a 64 MiB object allocates a small, fixed amount, not the object.
func TestFileMemoryFlat(t *testing.T) {
	const size = 64 << 20
	fb := &zeroBucket{size: size}
	f := NewFile(context.Background(), fb, "b", "k", size)
	defer f.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := io.Copy(io.Discard, f)
	if err != nil || n != size {
		t.Fatalf("read %d, %v", n, err)
	}
	for off := int64(0); off < size; off += 4096 {
		var b [27]byte
		if _, err := f.ReadAt(b[:], off); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("reading a %d MiB object allocated %d bytes, want under 4 MiB", size>>20, got)
	}
}

// zeroBucket holds one object of zeros, made as it is read.
type zeroBucket struct{ size int64 }

func (z *zeroBucket) Get(_ context.Context, _, key string, r *objstore.Range) (io.ReadCloser, objstore.Object, error) {
	n := z.size
	if r != nil {
		n -= r.Offset
		if r.Length > 0 {
			n = min(n, r.Length)
		}
	}
	return io.NopCloser(io.LimitReader(zeros{}, n)), objstore.Object{Key: key, Size: z.size}, nil
}

func (z *zeroBucket) List(context.Context, string, string) iter.Seq2[objstore.Object, error] {
	return func(func(objstore.Object, error) bool) {}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// demoBucket is the demo session's files under shows/demo/ of a fakeBucket.
func demoBucket(t *testing.T) *fakeBucket {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "demo", "session")
	fb := &fakeBucket{objs: map[string][]byte{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		fb.objs["shows/demo/"+filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return fb
}

// TestOpen: a session in a bucket opens where it lies when it is whole and finalized, and is
// refused as pull refuses it otherwise.
func TestOpen(t *testing.T) {
	src := objstore.URL{Bucket: "b", Prefix: "shows/demo"}
	cases := []struct {
		name    string
		change  func(fb *fakeBucket)
		wantErr error
	}{
		{"a whole finalized session opens", func(*fakeBucket) {}, nil},
		{"files without a manifest are an incomplete session", func(fb *fakeBucket) { delete(fb.objs, "shows/demo/manifest.json") }, ErrIncomplete},
		{"nothing under the name is no session", func(fb *fakeBucket) { clear(fb.objs) }, ErrNoSession},
		{"a session not finalized is refused", func(fb *fakeBucket) {
			m := fb.objs["shows/demo/manifest.json"]
			fb.objs["shows/demo/manifest.json"] = bytes.Replace(m, []byte(`"finalized": true`), []byte(`"finalized": false`), 1)
		}, session.ErrNotFinalized},
		{"a key that climbs out of the session is refused", func(fb *fakeBucket) { fb.objs["shows/demo/../x"] = []byte("x") }, ErrBadKey},
		{"a manifest that is not JSON is refused", func(fb *fakeBucket) { fb.objs["shows/demo/manifest.json"] = []byte("{") }, session.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fb := demoBucket(t)
			c.change(fb)
			s, err := Open(context.Background(), fb, src)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("Open: %v, want %v", err, c.wantErr)
				}
				if !strings.Contains(err.Error(), "s3://b/shows/demo") {
					t.Errorf("the error %q does not name the session's URL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Location() != "s3://b/shows/demo" || s.Dir != "" {
				t.Errorf("Location %q, Dir %q", s.Location(), s.Dir)
			}
			ts, err := s.OpenTrack(&s.Manifest.Tracks[0])
			if err != nil {
				t.Fatal(err)
			}
			defer ts.Close()
			if _, err := ts.Read(make([]float32, 960)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Files().Open("tracks/nope.opus"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "s3://b/shows/demo/tracks/nope.opus") {
				t.Errorf("opening a file not listed: %v, want fs.ErrNotExist naming its URL", err)
			}
			if err := s.Save(); !errors.Is(err, session.ErrReadOnly) {
				t.Errorf("Save of a session in a bucket: %v, want ErrReadOnly", err)
			}
		})
	}
}

// FuzzOpen: whatever keys and manifest a bucket holds, Open never panics, and a session it opens
// names only clean paths below its place.
func FuzzOpen(f *testing.F) {
	manifest, err := os.ReadFile(filepath.Join("..", "..", "testdata", "demo", "session", "manifest.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("tracks/ada-1.opus\ntracks/brook-1.opus", manifest)
	f.Add("../x\n./y\na//b", manifest)
	f.Add("tracks/\x00\nc\\d", []byte(`{"format":"spacecast-session"}`))
	f.Fuzz(func(t *testing.T, keys string, m []byte) {
		fb := &fakeBucket{objs: map[string][]byte{"p/s/manifest.json": m}}
		for _, k := range strings.Split(keys, "\n") {
			fb.objs["p/s/"+k] = []byte("x")
		}
		s, err := Open(context.Background(), fb, objstore.URL{Bucket: "b", Prefix: "p/s"})
		if err != nil {
			return
		}
		files, _ := s.Files().List()
		for _, fi := range files {
			if checkRel(fi.Path) != nil {
				t.Fatalf("Open listed %q", fi.Path)
			}
		}
	})
}
