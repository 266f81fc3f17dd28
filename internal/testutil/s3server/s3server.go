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
	"debug/buildinfo"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spacecast/spacecast/internal/testutil"
)

// The server the tests run, and how to get it.
const (
	Version = "v1.8.0"
	Install = "go install github.com/versity/versitygw/cmd/versitygw@" + Version
)

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

	cmd  *exec.Cmd
	done chan struct{}
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
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.Endpoint = "http://" + addr
		s.args = []string{bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
			"--port", addr, "--quiet", "posix", "--versioning-dir", versions, s.Dir}
		if err := s.exec(log); err != nil {
			t.Fatalf("s3server: start %s: %v", bin, err)
		}
		if lastErr = s.waitReady(10 * time.Second); lastErr == nil {
			break
		}
		s.Stop()
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("versitygw log %s, last lines:\n%s", s.LogPath, testutil.TailFile(s.LogPath, 30))
		}
	})
	if lastErr != nil {
		t.Fatalf("s3server: versitygw did not start: %v\n%s", lastErr, testutil.TailFile(s.LogPath, 30))
	}
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
func (s *Server) exec(log *os.File) error {
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	// Dies with the test binary, even when it is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID=", "ROOT_SECRET_ACCESS_KEY=")
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	return nil
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
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *Server) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-s.done:
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

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary finds versitygw ($VERSITYGW, PATH, $(go env GOPATH)/bin) and checks that it is Version.
// When it is missing the test is skipped, or fails when CI is set.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() { binPath, binErr = findBinary() })
	if binErr != nil {
		if os.Getenv("CI") != "" || os.Getenv("VERSITYGW") != "" {
			t.Fatalf("%v (required when CI is set: see scripts/test-setup.sh)", binErr)
		}
		t.Skip(binErr)
	}
	return binPath
}

func findBinary() (string, error) {
	var candidates []string
	if p := os.Getenv("VERSITYGW"); p != "" {
		candidates = append(candidates, p)
	} else {
		if p, err := exec.LookPath("versitygw"); err == nil {
			candidates = append(candidates, p)
		}
		for _, bin := range testutil.GoBinDirs() {
			candidates = append(candidates, filepath.Join(bin, "versitygw"))
		}
	}
	for _, p := range candidates {
		bi, err := buildinfo.ReadFile(p)
		if err != nil {
			continue
		}
		if bi.Main.Path != "github.com/versity/versitygw" || bi.Main.Version != Version {
			return "", fmt.Errorf("s3server: %s is %s %s, the tests need versitygw %s: %s", p, bi.Main.Path, bi.Main.Version, Version, Install)
		}
		return p, nil
	}
	return "", fmt.Errorf("s3server: versitygw not found ($VERSITYGW, PATH, $GOPATH/bin): install it with %s", Install)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("s3server: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
