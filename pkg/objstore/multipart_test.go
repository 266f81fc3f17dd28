package objstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/objstore"
)

const mib = 1 << 20

// requestKind names an S3 request by its method and query: what a multipart upload sends.
func requestKind(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "create"
	case r.Method == http.MethodPut && q.Has("partNumber") && q.Has("uploadId"):
		return "part"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "complete"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "abort"
	case r.Method == http.MethodPut:
		return "put"
	}
	return "other"
}

// counter counts the requests of each kind on their way to the server; hook, when set, sees each
// request first (with its kind's count so far, this one included) and may answer it instead.
type counter struct {
	mu   sync.Mutex
	n    map[string]int
	hook func(r *http.Request, kind string, n int) (*http.Response, error)
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	kind := requestKind(r)
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[kind]++
	n := c.n[kind]
	c.mu.Unlock()
	if c.hook != nil {
		if resp, err := c.hook(r, kind, n); resp != nil || err != nil {
			return resp, err
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (c *counter) count(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[kind]
}

// partClient is a client of srv with parts of partSize whose requests go through count.
func partClient(t testing.TB, srv *s3server.Server, partSize int64, count *counter) *objstore.Client {
	t.Helper()
	c, err := objstore.New(context.Background(), objstore.Config{PartSize: partSize, HTTPClient: &http.Client{Transport: count}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// seekOnly hides every method of its reader but Read and Seek: a body Put cannot read at offsets.
type seekOnly struct{ io.ReadSeeker }

// damaged flips one bit of the first byte read through it: a part damaged on the way.
type damaged struct {
	io.ReadCloser
	done bool
}

func (d *damaged) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if n > 0 && !d.done {
		p[0] ^= 1
		d.done = true
	}
	return n, err
}

// damage sends r with its body damaged.
func damage(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Body = &damaged{ReadCloser: r.Body}
	return http.DefaultTransport.RoundTrip(r2)
}

// leftUploads lists the bucket's incomplete multipart uploads with the aws CLI, an independent
// client.
func leftUploads(t *testing.T, srv *s3server.Server) []string {
	t.Helper()
	cmd := exec.Command(testutil.Require(t, "aws"), "s3api", "list-multipart-uploads", "--bucket", srv.Bucket, "--output", "json")
	cmd.Env = srv.Env(t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws s3api list-multipart-uploads: %v\n%s", err, out)
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil
	}
	var l struct {
		Uploads []struct {
			Key      string
			UploadID string `json:"UploadId"`
		}
	}
	if err := json.Unmarshal(out, &l); err != nil {
		t.Fatalf("aws s3api list-multipart-uploads: %v\n%s", err, out)
	}
	var keys []string
	for _, u := range l.Uploads {
		keys = append(keys, u.Key+" "+u.UploadID)
	}
	return keys
}

// nothingLeft checks that a failed upload of key was aborted (more than once when a part came in
// after the abort) and left neither the object nor an incomplete upload (as the aws CLI lists
// them).
func nothingLeft(t *testing.T, srv *s3server.Server, c *objstore.Client, count *counter, key string) {
	t.Helper()
	if n := count.count("abort"); n < 1 || n > 3 {
		t.Errorf("%d abort requests, want 1 to 3", n)
	} else if n > 1 {
		t.Logf("%d abort requests", n)
	}
	if _, err := c.Head(context.Background(), srv.Bucket, key); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Head after a failed upload: %v, want ErrNotFound", err)
	}
	if left := leftUploads(t, srv); len(left) != 0 {
		t.Errorf("incomplete uploads left: %q", left)
	}
}

// getAll reads the whole of bucket/key.
func getAll(t *testing.T, c *objstore.Client, bucket, key string) []byte {
	t.Helper()
	r, _, err := c.Get(context.Background(), bucket, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMultipartPut: a body larger than the part size goes up in parts (counted on the way to the
// server), reads back byte for byte, and Head reports its SHA-256, which the store itself keeps
// only as a checksum of the parts' checksums (as the aws CLI sees it); a body of exactly one part
// size is one PUT. Whatever the body (a file, a reader without ReadAt), the parts are the same.
func TestMultipartPut(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	ctx := context.Background()
	data := randomBytes(t, 12*mib)
	file := filepath.Join(t.TempDir(), "mix.wav")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		size  int
		body  func() io.ReadSeeker
		parts int // 0: one PUT
	}{
		{"a 12 MiB body read at offsets goes up in three parts of 5, 5 and 2 MiB", 12 * mib,
			func() io.ReadSeeker { return bytes.NewReader(data) }, 3},
		{"a 12 MiB file goes up in the same three parts", 12 * mib,
			func() io.ReadSeeker {
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				return f
			}, 3},
		{"a body that can only Seek and Read is read one part at a time, in the same three parts", 12 * mib,
			func() io.ReadSeeker { return seekOnly{bytes.NewReader(data)} }, 3},
		{"a body of exactly the part size is one PUT", 5 * mib,
			func() io.ReadSeeker { return bytes.NewReader(data[:5*mib]) }, 0},
		{"a body one byte over the part size is two parts", 5*mib + 1,
			func() io.ReadSeeker { return bytes.NewReader(data[:5*mib+1]) }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := data[:tc.size]
			sum := sha256.Sum256(want)
			count := &counter{}
			c := partClient(t, srv, 5*mib, count)
			key := "big/" + strings.ReplaceAll(tc.name, " ", "-")
			o, err := c.Put(ctx, srv.Bucket, key, tc.body(), objstore.PutOptions{ContentType: "audio/wav"})
			if err != nil {
				t.Fatal(err)
			}
			if o.Size != int64(tc.size) || o.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("Put = %+v, want %d bytes with SHA-256 %x", o, tc.size, sum)
			}
			wantCreate, wantPut := 1, 0
			if tc.parts == 0 {
				wantCreate, wantPut = 0, 1
			}
			for kind, want := range map[string]int{"create": wantCreate, "part": tc.parts, "complete": wantCreate, "put": wantPut, "abort": 0} {
				if got := count.count(kind); got != want {
					t.Errorf("%d %s requests, want %d", got, kind, want)
				}
			}

			if got := getAll(t, c, srv.Bucket, key); !bytes.Equal(got, want) {
				t.Fatalf("Get: %d bytes, not the %d put", len(got), len(want))
			}
			h, err := c.Head(ctx, srv.Bucket, key)
			if err != nil || h.Size != int64(tc.size) || h.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("Head = %+v, %v; want %d bytes with SHA-256 %x", h, err, tc.size, sum)
			}
			if tc.parts == 0 {
				return
			}
			cmd := exec.Command(testutil.Require(t, "aws"), "s3api", "head-object", "--bucket", srv.Bucket, "--key", key, "--checksum-mode", "ENABLED", "--output", "json")
			cmd.Env = srv.Env(t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("aws s3api head-object: %v\n%s", err, out)
			}
			var head struct {
				ContentType    string
				ChecksumSHA256 string
				Metadata       map[string]string
			}
			if err := json.Unmarshal(out, &head); err != nil {
				t.Fatalf("aws s3api head-object: %v\n%s", err, out)
			}
			if head.ContentType != "audio/wav" || head.Metadata["sha256"] != hex.EncodeToString(sum[:]) {
				t.Errorf("aws s3api head-object: %s\nwant Content-Type audio/wav and the SHA-256 in the metadata", out)
			}
			t.Logf("the store's own checksum of the object in %d parts: %q", tc.parts, head.ChecksumSHA256)
		})
	}
}

// TestMultipartPartRetried: a part that reaches the store damaged once (the store refuses it:
// its SHA-256 does not match) is sent again, and the upload completes byte for byte.
func TestMultipartPartRetried(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	ctx := context.Background()
	data := randomBytes(t, 12*mib)
	count := &counter{hook: func(r *http.Request, kind string, n int) (*http.Response, error) {
		if kind == "part" && n == 2 {
			return damage(r)
		}
		return nil, nil
	}}
	c := partClient(t, srv, 5*mib, count)
	if _, err := c.Put(ctx, srv.Bucket, "retried", bytes.NewReader(data), objstore.PutOptions{}); err != nil {
		t.Fatalf("Put with one part damaged once: %v", err)
	}
	if n := count.count("part"); n != 4 {
		t.Errorf("%d part requests, want 4 (three parts, one sent twice)", n)
	}
	if got := getAll(t, c, srv.Bucket, "retried"); !bytes.Equal(got, data) {
		t.Fatalf("Get: %d bytes, not the %d put", len(got), len(data))
	}
}

// TestMultipartDamagedPart: the store checks each part's SHA-256: a part damaged on every attempt
// is refused every time, Put gives up after three attempts with ErrChecksum naming the part, and
// neither the object nor any part is left in the bucket.
func TestMultipartDamagedPart(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	ctx := context.Background()
	data := randomBytes(t, 12*mib)
	var damagedPart string
	var attempts int
	var mu sync.Mutex
	count := &counter{hook: func(r *http.Request, kind string, n int) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		if kind == "part" && (damagedPart == "" || r.URL.Query().Get("partNumber") == damagedPart) {
			damagedPart = r.URL.Query().Get("partNumber")
			attempts++
			return damage(r)
		}
		return nil, nil
	}}
	c := partClient(t, srv, 5*mib, count)
	_, err := c.Put(ctx, srv.Bucket, "damaged", bytes.NewReader(data), objstore.PutOptions{})
	if !errors.Is(err, objstore.ErrChecksum) || !strings.Contains(err.Error(), "part "+damagedPart+" of 3") {
		t.Fatalf("Put with part %s damaged every time: %v, want ErrChecksum naming the part", damagedPart, err)
	}
	t.Log(err)
	if attempts != 3 {
		t.Errorf("part %s sent %d times, want 3", damagedPart, attempts)
	}
	nothingLeft(t, srv, c, count, "damaged")
}

// TestMultipartFileChanged: a file changed after Put hashed its parts (here when the upload
// starts) is refused by the store part by part (ErrChecksum naming the changed part): no object
// whose metadata SHA-256 is not its content's, and no part left behind.
func TestMultipartFileChanged(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "mix.wav")
	if err := os.WriteFile(file, randomBytes(t, 12*mib), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := &counter{hook: func(r *http.Request, kind string, n int) (*http.Response, error) {
		if kind == "create" {
			w, err := os.OpenFile(file, os.O_WRONLY, 0)
			if err != nil {
				return nil, err
			}
			defer w.Close()
			if _, err := w.WriteAt([]byte("changed"), 7*mib); err != nil { // in part 2
				return nil, err
			}
		}
		return nil, nil
	}}
	c := partClient(t, srv, 5*mib, count)
	_, err = c.Put(ctx, srv.Bucket, "changed", f, objstore.PutOptions{})
	if !errors.Is(err, objstore.ErrChecksum) || !strings.Contains(err.Error(), "part 2 of 3") {
		t.Fatalf("Put of a file changed during the upload: %v, want ErrChecksum naming part 2", err)
	}
	nothingLeft(t, srv, c, count, "changed")
}

// TestMultipartCancel: an upload interrupted half-way (its context cancelled while the upload is
// listed as under way) returns context.Canceled and aborts the upload: nothing left in the bucket,
// as the aws CLI lists it.
func TestMultipartCancel(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	root := srv.Client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := randomBytes(t, 12*mib)
	var during int
	count := &counter{hook: func(r *http.Request, kind string, n int) (*http.Response, error) {
		if kind == "part" && n == 2 {
			l, err := root.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(srv.Bucket)})
			if err != nil {
				return nil, err
			}
			during = len(l.Uploads)
			cancel()
		}
		return nil, nil
	}}
	c := partClient(t, srv, 5*mib, count)
	_, err := c.Put(ctx, srv.Bucket, "cancelled", bytes.NewReader(data), objstore.PutOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put cancelled half-way: %v, want context.Canceled", err)
	}
	if during != 1 {
		t.Fatalf("%d uploads listed during the upload, want 1 (else the check below proves nothing)", during)
	}
	nothingLeft(t, srv, c, count, "cancelled")
}

// TestPartSize: a part size outside S3's limits is refused by New with ErrPartSize, naming the
// size and the limits; the limits themselves and 0 (the default) are taken.
func TestPartSize(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	for _, tc := range []struct {
		name string
		size int64
		ok   bool
	}{
		{"0 takes the default", 0, true},
		{"S3's 5 MiB minimum is taken", objstore.MinPartSize, true},
		{"S3's 5 GiB maximum is taken", objstore.MaxPartSize, true},
		{"one byte under 5 MiB is refused", objstore.MinPartSize - 1, false},
		{"1 MiB is refused", mib, false},
		{"one byte over 5 GiB is refused", objstore.MaxPartSize + 1, false},
		{"a negative size is refused", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := objstore.New(context.Background(), objstore.Config{PartSize: tc.size})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, objstore.ErrPartSize) || !strings.Contains(err.Error(), "5 MiB") || !strings.Contains(err.Error(), "5 GiB") {
				t.Fatalf("New with parts of %d bytes: %v, want ErrPartSize naming the limits", tc.size, err)
			}
			t.Log(err)
		})
	}
}

// TestPartSizeFor: the parts of a huge body grow so that there are at most 10,000 of them, in
// whole MiB; otherwise the configured size stays.
func TestPartSizeFor(t *testing.T) {
	for _, tc := range []struct {
		name       string
		size, base int64
		want       int64
	}{
		{"a body of a few parts keeps the part size", 12 * mib, 5 * mib, 5 * mib},
		{"10,000 parts exactly keep the part size", 10_000 * 64 * mib, 64 * mib, 64 * mib},
		{"one byte more grows the parts by a MiB", 10_000*64*mib + 1, 64 * mib, 65 * mib},
		{"S3's largest object (5 TiB) in parts of 64 MiB needs 525 MiB parts", objstore.MaxObjectBytes, 64 * mib, 525 * mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := objstore.PartSizeFor(tc.size, tc.base)
			if got != tc.want {
				t.Fatalf("PartSizeFor(%d, %d) = %d, want %d", tc.size, tc.base, got, tc.want)
			}
			if parts := (tc.size + got - 1) / got; parts > objstore.MaxParts || got > objstore.MaxPartSize {
				t.Fatalf("%d parts of %d bytes: over S3's limits", parts, got)
			}
		})
	}
}

// BenchmarkPut256MiB: uploading a 256 MiB body to a local versitygw (loopback, local disk: our
// overhead and the server's, not a network's) in one PUT and in parts. client-cpu-ms/op is the
// CPU time of this process alone (hashing, the SDK, HTTP), without the server's; complete-ms/op
// the time the server takes to answer CompleteMultipartUpload.
func BenchmarkPut256MiB(b *testing.B) {
	srv := s3server.Start(b)
	// As srv.Setenv does for a test: the server's AWS_ variables, no other.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			b.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for _, kv := range srv.Env(b.TempDir()) {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			b.Setenv(k, v)
		}
	}
	data := randomBytes(b, 256*mib)
	for _, bc := range []struct {
		name     string
		partSize int64
	}{
		{"one PUT", objstore.MaxPartSize},
		{"parts of 64 MiB", objstore.DefaultPartSize},
		{"parts of 16 MiB", 16 * mib},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var complete atomic.Int64 // ns spent in CompleteMultipartUpload requests
			c := partClient(b, srv, bc.partSize, &counter{hook: func(r *http.Request, kind string, _ int) (*http.Response, error) {
				if kind != "complete" {
					return nil, nil
				}
				t0 := time.Now()
				defer func() { complete.Add(int64(time.Since(t0))) }()
				return http.DefaultTransport.RoundTrip(r)
			}})
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				if _, err := c.Put(context.Background(), srv.Bucket, "bench", bytes.NewReader(data), objstore.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "client-cpu-ms/op")
			b.ReportMetric(float64(time.Duration(complete.Load()).Milliseconds())/float64(b.N), "complete-ms/op")
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestMultipartAbortFails: when the abort after a failure fails too, the error says the parts
// stay stored and names the upload, and the aws CLI does list it (so the checks that nothing is
// left, above, can see what is).
func TestMultipartAbortFails(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	data := randomBytes(t, 12*mib)
	count := &counter{hook: func(r *http.Request, kind string, n int) (*http.Response, error) {
		switch kind {
		case "part":
			return damage(r)
		case "abort":
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
				Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
		}
		return nil, nil
	}}
	c := partClient(t, srv, 5*mib, count)
	_, err := c.Put(context.Background(), srv.Bucket, "stuck", bytes.NewReader(data), objstore.PutOptions{})
	if !errors.Is(err, objstore.ErrChecksum) || !strings.Contains(err.Error(), "could not be aborted") {
		t.Fatalf("Put whose abort fails: %v, want ErrChecksum saying the upload could not be aborted", err)
	}
	t.Log(err)
	left := leftUploads(t, srv)
	if len(left) != 1 || !strings.HasPrefix(left[0], "stuck ") || !strings.Contains(err.Error(), strings.TrimPrefix(left[0], "stuck ")) {
		t.Fatalf("incomplete uploads left: %q; want the one the error names", left)
	}
}

// TestMultipartConditional: an upload in parts carries its conditions to the request that
// completes it: a create-only Put (If-None-Match: *) of a key that holds an object is refused
// with ErrPrecondition, its parts aborted and the object unchanged; an If-Match with the current
// ETag replaces it, and with a stale one is refused. In the versioned bucket the version stored
// comes back in the result.
func TestMultipartConditional(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	ctx := context.Background()
	data := randomBytes(t, 6*mib)
	count := &counter{}
	c := partClient(t, srv, 5*mib, count)
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		first, err := c.Put(ctx, b, "big", bytes.NewReader(data), objstore.PutOptions{IfNoneMatch: true})
		if err != nil {
			t.Fatalf("%s: create-only Put of a new key: %v", b, err)
		}
		if (b == srv.LockedBucket) != (first.VersionID != "" && first.VersionID != "null") {
			t.Errorf("%s: Put's VersionID %q", b, first.VersionID)
		}
		aborts := count.count("abort")
		if _, err := c.Put(ctx, b, "big", bytes.NewReader(data[1:]), objstore.PutOptions{IfNoneMatch: true}); !errors.Is(err, objstore.ErrPrecondition) {
			t.Fatalf("%s: create-only Put in parts over an object: %v, want ErrPrecondition", b, err)
		}
		if count.count("abort") == aborts {
			t.Errorf("%s: the refused upload was not aborted", b)
		}
		if h, err := c.Head(ctx, b, "big"); err != nil || h.ETag != first.ETag {
			t.Fatalf("%s: after the refused create: %+v, %v; want the first object", b, h, err)
		}
		second, err := c.Put(ctx, b, "big", bytes.NewReader(data[2:]), objstore.PutOptions{IfMatch: first.ETag})
		if err != nil {
			t.Fatalf("%s: Put in parts with the current ETag: %v", b, err)
		}
		if _, err := c.Put(ctx, b, "big", bytes.NewReader(data[3:]), objstore.PutOptions{IfMatch: first.ETag}); !errors.Is(err, objstore.ErrPrecondition) {
			t.Fatalf("%s: Put in parts with a stale ETag: %v, want ErrPrecondition", b, err)
		}
		if h, err := c.Head(ctx, b, "big"); err != nil || h.ETag != second.ETag || h.Size != int64(len(data)-2) {
			t.Fatalf("%s: after the refused replace: %+v, %v; want the second object", b, h, err)
		}
	}
}
