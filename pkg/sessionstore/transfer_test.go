package sessionstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

func setup(t *testing.T) (*s3server.Server, *objstore.Client, string) {
	t.Helper()
	srv := s3server.Start(t)
	srv.Setenv(t)
	c, err := objstore.New(context.Background(), objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := testutil.DemoSession(t)
	if err := session.Seal(dir, nil); err != nil {
		t.Fatal(err)
	}
	return srv, c, dir
}

func keys(t *testing.T, c *objstore.Client, bucket, prefix string) []string {
	t.Helper()
	var out []string
	for o, err := range c.List(context.Background(), bucket, prefix) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimPrefix(o.Key, prefix))
	}
	return out
}

// TestPushInterrupted: a push stopped half-way (its context cancelled after the second file)
// leaves files but no manifest in the bucket; pull refuses that as incomplete and writes nothing;
// the next push completes it, and the pulled copy is the session, byte for byte.
func TestPushInterrupted(t *testing.T) {
	srv, c, dir := setup(t)
	dst := objstore.URL{Bucket: srv.Bucket, Prefix: "shows/town-hall"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := sessionstore.Push(ctx, c, dir, dst, sessionstore.Options{OnFile: func(n, of int, rel string, _ int64) {
		if n == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Push cancelled half-way: %v, want context.Canceled", err)
	}
	got := keys(t, c, srv.Bucket, dst.Dir())
	if len(got) != 2 || strings.Contains(strings.Join(got, " "), session.ManifestName) {
		t.Fatalf("after an interrupted push the bucket holds %q, want the first two files and no manifest", got)
	}

	out := filepath.Join(t.TempDir(), "copy")
	_, err = sessionstore.Pull(context.Background(), c, dst, out, sessionstore.Options{})
	if !errors.Is(err, sessionstore.ErrIncomplete) {
		t.Fatalf("Pull of a half-pushed session: %v, want ErrIncomplete", err)
	}
	assertEmpty(t, filepath.Dir(out))

	rep, err := sessionstore.Push(context.Background(), c, dir, dst, sessionstore.Options{})
	if err != nil {
		t.Fatalf("the push after an interrupted one: %v", err)
	}
	if !rep.Sealed || rep.Files != 5 {
		t.Fatalf("Push report %+v", rep)
	}
	if got := keys(t, c, srv.Bucket, dst.Dir()); got[len(got)-1] != "tracks/cyd-1.opus" || len(got) != 5 {
		t.Fatalf("bucket after the second push: %q", got)
	}
	if _, err := sessionstore.Pull(context.Background(), c, dst, out, sessionstore.Options{}); err != nil {
		t.Fatal(err)
	}
	testutil.SameTree(t, "the pulled copy", testutil.TreeHash(t, dir, nil), testutil.TreeHash(t, out, nil))
}

// TestPullInterrupted: a pull stopped half-way leaves neither the folder nor its temporary
// folder behind.
func TestPullInterrupted(t *testing.T) {
	srv, c, dir := setup(t)
	dst := objstore.URL{Bucket: srv.Bucket, Prefix: "town-hall"}
	if _, err := sessionstore.Push(context.Background(), c, dir, dst, sessionstore.Options{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := filepath.Join(t.TempDir(), "copy")
	_, err := sessionstore.Pull(ctx, c, dst, out, sessionstore.Options{OnFile: func(n, of int, rel string, _ int64) {
		if n == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Pull cancelled half-way: %v, want context.Canceled", err)
	}
	assertEmpty(t, filepath.Dir(out))
}

// TestPullChecksSeal: a file changed in the bucket after the push fails the pulled copy's seal:
// the pull names the file and writes nothing.
func TestPullChecksSeal(t *testing.T) {
	srv, c, dir := setup(t)
	dst := objstore.URL{Bucket: srv.Bucket, Prefix: "town-hall"}
	if _, err := sessionstore.Push(context.Background(), c, dir, dst, sessionstore.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(context.Background(), srv.Bucket, dst.Key("tracks/ada-1.opus"), bytes.NewReader([]byte("not opus")), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy")
	_, err := sessionstore.Pull(context.Background(), c, dst, out, sessionstore.Options{})
	if !errors.Is(err, session.ErrSealMismatch) || !strings.Contains(err.Error(), "tracks/ada-1.opus") {
		t.Fatalf("Pull of a changed session: %v, want ErrSealMismatch naming the file", err)
	}
	assertEmpty(t, filepath.Dir(out))
}

// listing is a store whose listing is given: keys S3 servers refuse to store (S3 itself stores
// "a/../x"), for the checks Pull makes before it gets anything.
type listing struct {
	sessionstore.Store
	keys []string
}

func (l listing) List(context.Context, string, string) iter.Seq2[objstore.Object, error] {
	return func(yield func(objstore.Object, error) bool) {
		for _, k := range l.keys {
			if !yield(objstore.Object{Key: k, Size: 2}, nil) {
				return
			}
		}
	}
}

// TestPullRefusesEscapingKeys: a key under the prefix that is no clean path in a folder (one
// that would leave it with "..", an absolute or empty segment, a backslash, a control character)
// is refused before anything is written.
func TestPullRefusesEscapingKeys(t *testing.T) {
	for _, k := range []string{"evil/a/../../../x", "evil//etc/passwd", "evil/./x", `evil/a\b`, "evil/a\x00b", "evil/"} {
		st := listing{keys: []string{"evil/manifest.json", k}}
		out := filepath.Join(t.TempDir(), "copy")
		_, err := sessionstore.Pull(context.Background(), st, objstore.URL{Bucket: "b", Prefix: "evil"}, out, sessionstore.Options{})
		if !errors.Is(err, sessionstore.ErrBadKey) {
			t.Errorf("Pull with the key %q: %v, want ErrBadKey", k, err)
		}
		assertEmpty(t, filepath.Dir(out))
	}
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}

// TestPushPullMultipart: a session with a file larger than the client's part size (a long live
// mix) is pushed in parts and pulled back byte for byte, its seal checked: a store's composite
// checksum of parts changes nothing for a transfer.
func TestPushPullMultipart(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	c, err := objstore.New(context.Background(), objstore.Config{PartSize: objstore.MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	dir := testutil.DemoSession(t)
	big := bytes.Repeat([]byte("a long live mix "), (objstore.MinPartSize+objstore.MinPartSize/2)/16)
	if err := os.WriteFile(filepath.Join(dir, "mix.wav"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := session.Seal(dir, nil); err != nil {
		t.Fatal(err)
	}
	dst := objstore.URL{Bucket: srv.Bucket, Prefix: "shows/long"}
	if _, err := sessionstore.Push(context.Background(), c, dir, dst, sessionstore.Options{}); err != nil {
		t.Fatal(err)
	}
	h, err := c.Head(context.Background(), srv.Bucket, dst.Key("mix.wav"))
	sum := sha256.Sum256(big)
	if err != nil || h.Size != int64(len(big)) || !strings.HasSuffix(h.ETag, `-2"`) || h.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("Head of the big file = %+v, %v; want %d bytes uploaded in 2 parts (ETag ending -2), SHA-256 %x", h, err, len(big), sum)
	}
	out := filepath.Join(t.TempDir(), "copy")
	if _, err := sessionstore.Pull(context.Background(), c, dst, out, sessionstore.Options{}); err != nil {
		t.Fatal(err)
	}
	testutil.SameTree(t, "the pulled copy", testutil.TreeHash(t, dir, nil), testutil.TreeHash(t, out, nil))
}
