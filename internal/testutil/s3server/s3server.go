// Package s3server starts a real S3-compatible server for tests: versitygw (the Versity S3
// Gateway, Apache-2.0) over a temporary folder, listening on 127.0.0.1 only, with two buckets:
// Bucket, a plain one, and LockedBucket, created with Object Lock (so versioned) for legal holds.
// It is a separate process, as a store is to spacecast; its log goes to a file in the test's
// temporary folder, and its tail is shown when the test fails.
//
// When versitygw is missing the test is skipped, or fails when the CI environment variable is set;
// scripts/test-setup.sh installs it.
package s3server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spacecast/spacecast/internal/testutil"
)

// Version is the versitygw the tests run.
const Version = "v1.8.0"

// binary finds it ($VERSITYGW, PATH, $(go env GOPATH)/bin).
var binary = &testutil.GoBinary{Name: "versitygw", Env: "VERSITYGW", Module: "github.com/versity/versitygw",
	Package: "github.com/versity/versitygw/cmd/versitygw", Version: Version}

// Install is the command that installs it.
var Install = binary.Install()

// The root credentials of every server started here, and its region.
const (
	AccessKey = "spacecast-test-access"
	SecretKey = "spacecast-test-secret-5f0c1d2e3b4a"
	Region    = "us-east-1"
)

// Server is a running versitygw.
type Server struct {
	Endpoint     string // http://127.0.0.1:PORT
	Bucket       string // a plain bucket
	LockedBucket string // a bucket with Object Lock (and versioning) enabled
	Dir          string // the folder the buckets live in
	LogPath      string

	proc *testutil.Process
	args []string // versitygw's command line, for Restart
}

// Start starts versitygw on a free port of 127.0.0.1 with the two buckets. It is stopped when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	tmp := t.TempDir()
	s := &Server{Dir: filepath.Join(tmp, "root"), Bucket: "spacecast-test", LockedBucket: "spacecast-locked",
		LogPath: filepath.Join(tmp, "versitygw.log")}
	versions := filepath.Join(tmp, "versions")
	for _, d := range []string{s.Dir, versions} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	log, err := os.Create(s.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	testutil.StartOnFreePort(t, "versitygw", s.LogPath, func(port int) error {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.Endpoint = "http://" + addr
		s.args = []string{bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
			"--port", addr, "--quiet", "posix", "--versioning-dir", versions, s.Dir}
		return s.exec(log)
	}, func() error { return s.waitReady(10 * time.Second) }, s.Stop)
	c := s.Client()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)}); err != nil {
		t.Fatalf("s3server: create bucket %s: %v", s.Bucket, err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.LockedBucket), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatalf("s3server: create bucket %s with Object Lock: %v", s.LockedBucket, err)
	}
	return s
}

// exec starts versitygw with s.args, its output to log.
func (s *Server) exec(log *os.File) (err error) {
	s.proc, err = testutil.StartProcess(s.args, log, append(os.Environ(), "ROOT_ACCESS_KEY_ID=", "ROOT_SECRET_ACCESS_KEY="))
	return err
}

// Restart starts the server again after Stop, on the same port over the same folder: the store
// comes back with what it held, as after an outage.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	log, err := os.OpenFile(s.LogPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	if err := s.exec(log); err != nil {
		t.Fatalf("s3server: restart: %v", err)
	}
	if err := s.waitReady(10 * time.Second); err != nil {
		t.Fatalf("s3server: versitygw did not restart: %v\n%s", err, testutil.TailFile(s.LogPath, 30))
	}
}

// Client is an S3 client of the SDK with the server's root credentials: the tests' own view of
// the bucket, independent of the code under test's configuration.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

// Env is the whole environment for an S3 tool (spacecast, the aws CLI) pointed at this server
// with its credentials, and nowhere else: the process's environment without its AWS_ variables,
// plus the server's, with no shared files and no machine role.
func (s *Server) Env(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, s.awsEnv(dir)...)
}

func (s *Server) awsEnv(dir string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey,
		"AWS_REGION=" + Region,
		"AWS_ENDPOINT_URL=" + s.Endpoint,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Setenv sets the process's environment as Env for the rest of the test (which then cannot be
// parallel): the server's AWS_ variables set, every other AWS_ variable unset.
func (s *Server) Setenv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "") // restored when the test ends
			os.Unsetenv(k)
		}
	}
	for _, kv := range s.awsEnv(t.TempDir()) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Stop stops the server; it is safe to call twice.
func (s *Server) Stop() { s.proc.Stop(os.Interrupt, 5*time.Second) }

func (s *Server) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.proc.Done():
			return fmt.Errorf("versitygw exited")
		default:
		}
		resp, err := client.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Binary finds versitygw and checks that it is Version. When it is missing the test is skipped,
// or fails when CI is set.
func Binary(t testing.TB) string { return binary.Require(t) }
