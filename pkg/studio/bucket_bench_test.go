package studio_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/sessionstore"
	"github.com/spacecast/spacecast/pkg/studio"
)

// BenchmarkMixBucket mixes one session to a 96 kbps MP3 from its folder (disk) and from a real
// S3-compatible server on 127.0.0.1 (s3: versitygw, a separate process, the session pushed there
// first), the way 'spacecast mix DIR' and 'spacecast mix s3://…' do. The session is
// $SPACECAST_BENCH_SESSION (the 3-hour one: bash scripts/bench.sh --session-only), else the demo
// session. Metrics: x_realtime, seconds of mix per second of wall time; cpu_s/op, the CPU time
// (user and system) of this process per mix, which a loaded machine changes less than the wall
// time; server_cpu_s/op, the CPU time of the S3 server (a child process) per mix; peak_rss_MiB, the
// process's peak resident set during the mixes alone (reset after the push); GETs/op and
// MiB_read/op, what the mix asked of the store.
func BenchmarkMixBucket(b *testing.B) {
	dir := os.Getenv("SPACECAST_BENCH_SESSION")
	if dir == "" {
		dir = filepath.Join("..", "..", "testdata", "demo", "session")
	}
	for _, where := range []string{"disk", "s3"} {
		b.Run(where, func(b *testing.B) {
			opts := studio.DefaultMixOptions()
			opts.Inputs = []string{dir}
			opts.Output = filepath.Join(b.TempDir(), "mix.mp3")
			opts.BitrateKbps = 96
			var gets, bytesRead atomic.Int64
			if where == "s3" {
				srv := s3server.Start(b)
				for _, kv := range srv.Env(b.TempDir()) {
					if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
						b.Setenv(k, v)
					}
				}
				ctx := context.Background()
				push, err := objstore.New(ctx, objstore.Config{})
				if err != nil {
					b.Fatal(err)
				}
				u := objstore.URL{Bucket: srv.Bucket, Prefix: "bench/" + filepath.Base(dir)}
				if _, err := sessionstore.Push(ctx, push, dir, u, sessionstore.Options{}); err != nil {
					b.Fatal(err)
				}
				c := &counting{push, &gets, &bytesRead}
				if opts.Session, err = sessionstore.Open(ctx, c, u); err != nil {
					b.Fatal(err)
				}
				opts.Inputs = nil
				gets.Store(0)
				bytesRead.Store(0)
			}
			resetPeakRSS(b)
			cpu0, srv0 := cpuSeconds(b), childCPUSeconds(b)
			var seconds float64
			n := 0
			for b.Loop() {
				res, err := studio.Mix(context.Background(), opts, nil)
				if err != nil {
					b.Fatal(err)
				}
				seconds += res.Duration.Seconds()
				n++
			}
			b.ReportMetric(seconds/b.Elapsed().Seconds(), "x_realtime")
			b.ReportMetric((cpuSeconds(b)-cpu0)/float64(n), "cpu_s/op")
			b.ReportMetric((childCPUSeconds(b)-srv0)/float64(n), "server_cpu_s/op")
			b.ReportMetric(peakRSSMiB(b), "peak_rss_MiB")
			b.ReportMetric(float64(gets.Load())/float64(n), "GETs/op")
			b.ReportMetric(float64(bytesRead.Load())/float64(n)/(1<<20), "MiB_read/op")
		})
	}
}

// counting counts the GET requests made through it and the bytes of their answers.
type counting struct {
	*objstore.Client
	gets, bytes *atomic.Int64
}

func (c *counting) Get(ctx context.Context, bucket, key string, r *objstore.Range) (io.ReadCloser, objstore.Object, error) {
	c.gets.Add(1)
	body, o, err := c.Client.Get(ctx, bucket, key, r)
	if err != nil {
		return nil, o, err
	}
	return &countingBody{body, c.bytes}, o, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// cpuSeconds is the user and system CPU time this process has used.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// childCPUSeconds is the user and system CPU time used so far by the running children of this
// process (the S3 server), from /proc/PID/stat (proc(5): fields 4 ppid, 14 utime, 15 stime, in
// clock ticks of 100 Hz on Linux).
func childCPUSeconds(b *testing.B) float64 {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		b.Fatal(err)
	}
	self, total := os.Getpid(), 0.0
	for _, p := range stats {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		// The command name (field 2) is in parentheses and may hold spaces: split after it.
		i := bytes.LastIndexByte(raw, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(raw[i+1:])) // f[0] is field 3
		if len(f) < 13 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != self {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		total += (ut + st) / 100
	}
	return total
}

// resetPeakRSS starts the kernel's peak resident set (VmHWM) again from now (proc(5),
// /proc/PID/clear_refs: 5).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatalf("reset the peak RSS: %v", err)
	}
}

// peakRSSMiB is VmHWM of /proc/self/status in MiB.
func peakRSSMiB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			kib, err := strconv.ParseFloat(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kib / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
