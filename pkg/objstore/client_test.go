package objstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/objstore"
)

func newClient(t *testing.T, srv *s3server.Server) *objstore.Client {
	t.Helper()
	srv.Setenv(t)
	c, err := objstore.New(context.Background(), objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != srv.Endpoint {
		t.Fatalf("Endpoint() = %q, want %q from AWS_ENDPOINT_URL", c.Endpoint(), srv.Endpoint)
	}
	return c
}

// TestClientRoundTrip: against a real S3-compatible server, what Put uploads comes back from Get
// byte for byte (whole and in ranges), Head and List describe it, and Delete removes it.
func TestClientRoundTrip(t *testing.T) {
	srv := s3server.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	data := bytes.Repeat([]byte("spacecast "), 100_000) // 1 MB
	sum := sha256.Sum256(data)

	o, err := c.Put(ctx, srv.Bucket, "shows/ep1/tracks/a.opus", bytes.NewReader(data), objstore.PutOptions{ContentType: "audio/ogg"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Size != int64(len(data)) || o.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("Put = %+v", o)
	}
	if _, err := c.Put(ctx, srv.Bucket, "shows/ep1/manifest.json", strings.NewReader("{}"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, srv.Bucket, "shows/ep10/manifest.json", strings.NewReader("{}"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	r, info, err := c.Get(ctx, srv.Bucket, "shows/ep1/tracks/a.opus", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get: %d bytes, %v; want the %d bytes put", len(got), err, len(data))
	}
	if info.Size != int64(len(data)) {
		t.Fatalf("Get size %d", info.Size)
	}

	r, info, err = c.Get(ctx, srv.Bucket, "shows/ep1/tracks/a.opus", &objstore.Range{Offset: 5, Length: 10})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(r)
	r.Close()
	if string(got) != "cast space" || info.Size != int64(len(data)) {
		t.Fatalf("ranged Get = %q, size %d", got, info.Size)
	}

	h, err := c.Head(ctx, srv.Bucket, "shows/ep1/tracks/a.opus")
	if err != nil || h.Size != int64(len(data)) {
		t.Fatalf("Head = %+v, %v", h, err)
	}

	var keys []string
	for o, err := range c.List(ctx, srv.Bucket, "shows/ep1/") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	if strings.Join(keys, " ") != "shows/ep1/manifest.json shows/ep1/tracks/a.opus" {
		t.Fatalf("List = %q (ep10 is not under ep1/)", keys)
	}

	if err := c.Delete(ctx, srv.Bucket, "shows/ep1/tracks/a.opus"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Head(ctx, srv.Bucket, "shows/ep1/tracks/a.opus"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Head after Delete: %v, want ErrNotFound", err)
	}
	_, _, err = c.Get(ctx, srv.Bucket, "shows/ep1/tracks/a.opus", nil)
	var oe *objstore.Error
	if !errors.Is(err, objstore.ErrNotFound) || !errors.As(err, &oe) || oe.Bucket != srv.Bucket || oe.Key != "shows/ep1/tracks/a.opus" {
		t.Fatalf("Get after Delete: %v, want ErrNotFound naming bucket and key", err)
	}
	if _, _, err := c.Get(ctx, "no-such-bucket", "x", nil); !errors.Is(err, objstore.ErrNoBucket) {
		t.Fatalf("Get from a missing bucket: %v, want ErrNoBucket", err)
	}
}

// changing reads one content the first time (when Put hashes it) and another after the rewind
// (when it is sent): a file changed under the upload.
type changing struct {
	*bytes.Reader
	second []byte
	seeks  int
}

func (c *changing) Seek(off int64, whence int) (int64, error) {
	c.seeks++
	if c.seeks == 1 {
		c.Reader = bytes.NewReader(c.second)
	}
	return c.Reader.Seek(off, whence)
}

// TestPutChecksumVerified: the server checks the SHA-256 sent with an upload: bytes that differ
// from the ones hashed are refused with ErrChecksum, and nothing is stored.
func TestPutChecksumVerified(t *testing.T) {
	srv := s3server.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	body := &changing{Reader: bytes.NewReader([]byte("the bytes that were hashed")), second: []byte("the bytes that were changed")[:26]}
	_, err := c.Put(ctx, srv.Bucket, "k", body, objstore.PutOptions{})
	if !errors.Is(err, objstore.ErrChecksum) {
		t.Fatalf("Put of changed bytes: %v, want ErrChecksum", err)
	}
	if _, err := c.Head(ctx, srv.Bucket, "k"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Head after a refused Put: %v, want ErrNotFound", err)
	}
}

// TestLegalHold: a legal hold goes on and off an object of a bucket with Object Lock, a held
// object's version cannot be deleted, and a bucket without Object Lock says so (ErrNoObjectLock).
func TestLegalHold(t *testing.T) {
	srv := s3server.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	for _, b := range []string{srv.Bucket, srv.LockedBucket} {
		if _, err := c.Put(ctx, b, "a", strings.NewReader("held"), objstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if on, err := c.ObjectLock(ctx, srv.LockedBucket); err != nil || !on {
		t.Fatalf("ObjectLock(locked) = %v, %v", on, err)
	}
	if on, err := c.ObjectLock(ctx, srv.Bucket); err != nil || on {
		t.Fatalf("ObjectLock(plain) = %v, %v", on, err)
	}
	if held, err := c.LegalHold(ctx, srv.LockedBucket, "a"); err != nil || held {
		t.Fatalf("LegalHold before = %v, %v", held, err)
	}
	if err := c.SetLegalHold(ctx, srv.LockedBucket, "a", true); err != nil {
		t.Fatal(err)
	}
	if held, err := c.LegalHold(ctx, srv.LockedBucket, "a"); err != nil || !held {
		t.Fatalf("LegalHold after set = %v, %v", held, err)
	}
	// The held version cannot be deleted, even by the bucket's owner (the server's root user).
	root := srv.Client()
	h, err := root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(srv.LockedBucket), Key: aws.String("a")})
	if err != nil || h.VersionId == nil {
		t.Fatalf("HeadObject: %v (version %v)", err, h)
	}
	if _, err := root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(srv.LockedBucket), Key: aws.String("a"), VersionId: h.VersionId}); err == nil {
		t.Fatal("a version under a legal hold was deleted")
	}
	if err := c.SetLegalHold(ctx, srv.LockedBucket, "a", false); err != nil {
		t.Fatal(err)
	}
	if held, err := c.LegalHold(ctx, srv.LockedBucket, "a"); err != nil || held {
		t.Fatalf("LegalHold after release = %v, %v", held, err)
	}
	if _, err := root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(srv.LockedBucket), Key: aws.String("a"), VersionId: h.VersionId}); err != nil {
		t.Fatalf("deleting the version after the hold was lifted: %v", err)
	}
	err = c.SetLegalHold(ctx, srv.Bucket, "a", true)
	if !errors.Is(err, objstore.ErrNoObjectLock) {
		t.Fatalf("SetLegalHold on a plain bucket: %v, want ErrNoObjectLock", err)
	}
}

// TestNoSecretInErrors: a wrong secret key is refused by the store as ErrAuth, and the secret
// appears in no error text (nor does one from the environment in a broken configuration).
func TestNoSecretInErrors(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	const secret = "wrong-secret-Zq81kXv0pL3mN7"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	ctx := context.Background()
	c, err := objstore.New(ctx, objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	err = c.Check(ctx, srv.Bucket)
	if !errors.Is(err, objstore.ErrAuth) {
		t.Fatalf("Check with a wrong secret: %v, want ErrAuth", err)
	}
	errs = append(errs, err)
	_, err = c.Put(ctx, srv.Bucket, "k", strings.NewReader("x"), objstore.PutOptions{})
	if !errors.Is(err, objstore.ErrAuth) {
		t.Fatalf("Put with a wrong secret: %v, want ErrAuth", err)
	}
	errs = append(errs, err)
	_, _, err = c.Get(ctx, srv.Bucket, "k", nil)
	errs = append(errs, err)

	// A profile that does not exist; a credential_process that prints the secret and fails.
	_, err = objstore.New(ctx, objstore.Config{Profile: "nobody"})
	if !errors.Is(err, objstore.ErrConfig) {
		t.Fatalf("New with a missing profile: %v, want ErrConfig", err)
	}
	errs = append(errs, err)
	cfg := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfg, []byte("[profile leak]\ncredential_process = /bin/sh -c \"echo "+secret+"; echo "+secret+" >&2; exit 1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("AWS_ACCESS_KEY_ID")
	os.Unsetenv("AWS_SECRET_ACCESS_KEY")
	t.Setenv("AWS_CONFIG_FILE", cfg)
	_, err = objstore.New(ctx, objstore.Config{Profile: "leak"})
	if !errors.Is(err, objstore.ErrNoCredentials) {
		t.Fatalf("New with a failing credential_process: %v, want ErrNoCredentials", err)
	}
	errs = append(errs, err)

	for _, err := range errs {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("an error holds the secret: %v", err)
		}
		t.Logf("%v", err)
	}
}

// TestUnreachable: an endpoint where nothing listens gives ErrUnreachable naming the endpoint.
func TestUnreachable(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	srv.Stop()
	ctx := context.Background()
	c, err := objstore.New(ctx, objstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Check(ctx, srv.Bucket)
	if !errors.Is(err, objstore.ErrUnreachable) || !strings.Contains(err.Error(), srv.Endpoint) {
		t.Fatalf("Check of a stopped server: %v, want ErrUnreachable naming %s", err, srv.Endpoint)
	}
}

// TestListPages: List goes through every page of a listing, in key order: seven keys in pages
// of two are four list requests, counted on the way to the server.
func TestListPages(t *testing.T) {
	srv := s3server.Start(t)
	newClient(t, srv) // the server's environment
	var lists atomic.Int32
	count := roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodGet && r.URL.Query().Has("list-type") {
			lists.Add(1)
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	ctx := context.Background()
	c, err := objstore.New(ctx, objstore.Config{HTTPClient: &http.Client{Transport: count}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetListPageSize(2)
	var want []string
	for i := range 7 {
		k := fmt.Sprintf("p/%02d", i)
		want = append(want, k)
		if _, err := c.Put(ctx, srv.Bucket, k, strings.NewReader("x"), objstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for o, err := range c.List(ctx, srv.Bucket, "p/") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o.Key)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("List in pages of 2 = %q, want %q", got, want)
	}
	if n := lists.Load(); n != 4 {
		t.Errorf("List of 7 keys in pages of 2 sent %d list requests, want 4", n)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestProfile: with no keys or endpoint in the environment, a profile of the shared files gives
// both (the credentials file its keys, the config file its endpoint_url and region), as it does
// for the aws CLI; Config.Profile chooses it, and AWS_PROFILE does the same.
func TestProfile(t *testing.T) {
	srv := s3server.Start(t)
	srv.Setenv(t)
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cfg, "[profile podcast]\nregion = "+s3server.Region+"\nendpoint_url = "+srv.Endpoint+"\n")
	write(creds, "[podcast]\naws_access_key_id = "+s3server.AccessKey+"\naws_secret_access_key = "+s3server.SecretKey+"\n")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION"} {
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	ctx := context.Background()
	for _, how := range []string{"Config.Profile", "AWS_PROFILE"} {
		conf := objstore.Config{Profile: "podcast"}
		if how == "AWS_PROFILE" {
			conf = objstore.Config{}
			t.Setenv("AWS_PROFILE", "podcast")
		}
		c, err := objstore.New(ctx, conf)
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if c.Endpoint() != srv.Endpoint {
			t.Fatalf("%s: endpoint %q, want the profile's %q", how, c.Endpoint(), srv.Endpoint)
		}
		if err := c.Check(ctx, srv.Bucket); err != nil {
			t.Fatalf("%s: %v", how, err)
		}
	}
}

// TestConditionalWrites: a create-only Put (If-None-Match: *) succeeds once and is refused with
// ErrPrecondition while the key holds an object; a Put or DeleteIfMatch with another object's
// ETag is refused and changes nothing; with the current ETag it goes through. The headers and
// metadata an upload set come back from Head and Get.
func TestConditionalWrites(t *testing.T) {
	srv := s3server.Start(t)
	c := newClient(t, srv)
	ctx := context.Background()
	put := func(body string, opt objstore.PutOptions) (objstore.Object, error) {
		return c.Put(ctx, srv.Bucket, "site/.lock", strings.NewReader(body), opt)
	}
	first, err := put("one", objstore.PutOptions{IfNoneMatch: true, ContentType: "application/json",
		CacheControl: "no-store", Metadata: map[string]string{"sha256": "abc"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := put("two", objstore.PutOptions{IfNoneMatch: true}); !errors.Is(err, objstore.ErrPrecondition) {
		t.Fatalf("a second create-only Put: %v, want ErrPrecondition", err)
	}
	if _, err := put("two", objstore.PutOptions{IfMatch: `"0123456789abcdef0123456789abcdef"`}); !errors.Is(err, objstore.ErrPrecondition) {
		t.Fatalf("a Put with another ETag: %v, want ErrPrecondition", err)
	}
	if err := c.DeleteIfMatch(ctx, srv.Bucket, "site/.lock", `"0123456789abcdef0123456789abcdef"`); !errors.Is(err, objstore.ErrPrecondition) {
		t.Fatalf("DeleteIfMatch with another ETag: %v, want ErrPrecondition", err)
	}
	h, err := c.Head(ctx, srv.Bucket, "site/.lock")
	if err != nil {
		t.Fatal(err)
	}
	if h.ETag != first.ETag || h.ContentType != "application/json" || h.CacheControl != "no-store" || h.Metadata["sha256"] != "abc" {
		t.Fatalf("Head after refused writes = %+v, want the first object with its headers", h)
	}
	second, err := put("two", objstore.PutOptions{IfMatch: first.ETag})
	if err != nil {
		t.Fatalf("a Put with the current ETag: %v", err)
	}
	r, g, err := c.Get(ctx, srv.Bucket, "site/.lock", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "two" || g.ETag != second.ETag || len(g.Metadata) != 0 {
		t.Fatalf("Get = %q %+v, want the second object without the first's metadata", b, g)
	}
	if err := c.DeleteIfMatch(ctx, srv.Bucket, "site/.lock", second.ETag); err != nil {
		t.Fatalf("DeleteIfMatch with the current ETag: %v", err)
	}
	if _, err := c.Head(ctx, srv.Bucket, "site/.lock"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Head after DeleteIfMatch: %v, want ErrNotFound", err)
	}
}
