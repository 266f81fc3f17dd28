package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/internal/testutil/lkserver"
	"github.com/spacecast/spacecast/internal/testutil/lkspeaker"
	"github.com/spacecast/spacecast/internal/testutil/natsserver"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/session"
)

// BenchmarkWorkerRooms measures how many rooms one `spacecast worker` records at once per core:
// SPACECAST_BENCH_ROOMS rooms (default 25) of 4 speakers each, every speaker an Opus tone sent at
// real time over loopback WebRTC from this process (one WHEP server per room), submitted as
// record jobs to a real nats-server and recorded by one worker process into a real
// S3-compatible server (versitygw) for 30 s each: pieces every 5 s, then each finished session.
// The worker's own CPU time (user + system, from /proc/PID/stat) between the first job's
// submission and the last job's end, divided by rooms and by the recorded length, is the
// figure; every session is then read back from the bucket and each of its 4 tracks must hold
// the whole length, so a worker that fell behind real time fails the benchmark instead of
// reporting a figure. Memory per room is the worker's peak RSS while recording, less its RSS
// before the first job, divided by rooms. Run with -benchtime 1x.
func BenchmarkWorkerRooms(b *testing.B) {
	const speakers = 4
	const length = 30 * time.Second
	rooms := 25
	if s := os.Getenv("SPACECAST_BENCH_ROOMS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("SPACECAST_BENCH_ROOMS=%q: want a number of rooms", s)
		}
		rooms = n
	}
	bin := spacecastBinary(b)
	ns := natsserver.Start(b)
	s3 := s3server.Start(b)
	env := append(s3.Env(b.TempDir()), "XDG_CACHE_HOME="+b.TempDir())
	iter := 0
	for b.Loop() {
		iter++
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		// The rooms: a WHEP server of 4 tone tracks each.
		var wg sync.WaitGroup
		urls := make([]string, rooms)
		for r := range rooms {
			var tracks []webrtc.TrackLocal
			for i := range speakers {
				tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", fmt.Sprintf("r%02ds%d", r, i))
				if err != nil {
					b.Fatal(err)
				}
				tracks = append(tracks, tr)
				wg.Add(1)
				go func() {
					defer wg.Done()
					rtptone.Send(ctx, tr, rtptone.Tone{Freq: 200 + 50*float64(i), Duration: 3 * length, Seed: uint64(r*speakers + i)})
				}()
			}
			url, hs := serveWHEP(b, tracks)
			defer hs.Close()
			urls[r] = url
		}
		// The worker.
		w := exec.Command(bin, "worker", "--nats", ns.URL, "--store", "s3://"+s3.Bucket+"/bench",
			"--spool", b.TempDir(), "--name", "bench", "--max-rooms", strconv.Itoa(rooms),
			"--listen", "127.0.0.1:0", "--loopback", "--quiet")
		w.Env = env
		var wout bytes.Buffer
		w.Stdout, w.Stderr = &wout, &wout
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		q, err := fleet.Connect(ctx, ns.URL, "", "bench")
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second) // the worker's start-up is not measured: it settles first
		rssBefore := procRSS(b, w.Process.Pid)
		peaks := sampleRSS(w.Process.Pid)
		cpuBefore := procCPU(b, w.Process.Pid)
		var ids []fleet.JobID
		for r, u := range urls {
			id, _, err := q.Submit(ctx, fleet.Job{Record: &fleet.RecordJob{
				URL: u, Protocol: "whep", Consent: "assume",
				Session:  fmt.Sprintf("s3://%s/bench/%d-room%02d", s3.Bucket, iter, r),
				Duration: fleet.Duration(length),
			}})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		var sessions []string
		for _, id := range ids {
			st := waitJob(ctx, b, q, id)
			if st.State != fleet.Done {
				b.Fatalf("job %s: %s (%s)\nworker:\n%s", id, st.State, st.Reason, wout.Bytes())
			}
			sessions = append(sessions, st.Session)
		}
		cpu := procCPU(b, w.Process.Pid) - cpuBefore
		anon, _ := peaks()
		_ = w.Process.Signal(syscall.SIGTERM)
		_ = w.Wait()
		q.Close()
		cancel()
		wg.Wait()
		// Every room recorded in full, read back from the bucket.
		for i, u := range sessions {
			dir := filepath.Join(b.TempDir(), strconv.Itoa(i))
			pull := exec.Command(bin, "pull", u, dir)
			pull.Env = env
			if out, err := pull.CombinedOutput(); err != nil {
				b.Fatalf("pull %s: %v\n%s", u, err, out)
			}
			s, err := session.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			checkTracks(b, u, s.Manifest, speakers, length)
		}
		perRoom := cpu.Seconds() / length.Seconds() / float64(rooms)
		b.ReportMetric(perRoom*100, "cpu%/room")
		b.ReportMetric(1/perRoom, "rooms/core")
		b.ReportMetric(float64(rooms), "rooms")
		b.ReportMetric((anon-rssBefore)/float64(rooms), "MiB/room")
		b.ReportMetric(anon, "worker-peak-anon-MiB")
	}
}

func checkTracks(b *testing.B, name string, m *session.Manifest, speakers int, length time.Duration) {
	if len(m.Tracks) != speakers {
		b.Fatalf("%s: %d tracks of %d speakers", name, len(m.Tracks), speakers)
	}
	for _, t := range m.Tracks {
		if d := session.Duration(t.Samples); d < length-2*time.Second {
			b.Fatalf("%s: %s: %v recorded in a %v room", name, t.Participant, d, length)
		}
	}
}

// waitJob waits until the job is finished.
func waitJob(ctx context.Context, b *testing.B, q *fleet.Queue, id fleet.JobID) fleet.Status {
	for {
		st, err := q.Get(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if st.State.Finished() {
			return st
		}
		select {
		case <-ctx.Done():
			b.Fatalf("job %s: still %s", id, st.State)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// procCPU is the process's user + system CPU time so far (proc(5), /proc/PID/stat fields 14, 15).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces: count from the last ')'.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, raw)
	}
	const clkTck = 100 // sysconf(_SC_CLK_TCK) on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}

// procRSS is the process's RssAnon now, in MiB.
func procRSS(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("/proc/%d/status: no RssAnon", pid)
	return 0
}

// BenchmarkWebhookToFirstAudio measures the delay from a LiveKit room's start to its first audio
// on a worker's disk: a real livekit-server sends its webhooks to `spacecast webhook` (a
// process), which queues a record job on a real nats-server; a `spacecast worker` process takes
// it, joins the room and writes into its spool. Each iteration, a pion speaker opens a new room
// and publishes a tone; the clock runs from just before its join (which starts the room and
// the webhook) to the first Ogg page with audio (granule position above 0) in one of the
// worker's track files. Reports the median and the slowest room. Run with -benchtime 10x.
func BenchmarkWebhookToFirstAudio(b *testing.B) {
	bin := spacecastBinary(b)
	ns := natsserver.Start(b)
	s3 := s3server.Start(b)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hookAddr := l.Addr().String()
	l.Close()
	lk := lkserver.Start(b, lkserver.Config{Webhook: &lkserver.Webhook{URLs: []string{"http://" + hookAddr + webhookPath}}})
	env := append(s3.Env(b.TempDir()), "XDG_CACHE_HOME="+b.TempDir(), "LK_BENCH_SECRET="+lk.APISecret)
	start := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = env
		var out lockedBuffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_ = c.Process.Signal(syscall.SIGTERM)
			if err := c.Wait(); err != nil && b.Failed() {
				b.Logf("%s: %v\n%s", args[0], err, out.String())
			}
		})
		return c
	}
	start("webhook", "--nats", ns.URL, "--listen", hookAddr, "--livekit-url", lk.URL, "--api-key", lk.APIKey,
		"--api-secret-from", "env:LK_BENCH_SECRET", "--store", "s3://"+s3.Bucket+"/auto", "--record-all", "--quiet")
	spool := b.TempDir()
	start("worker", "--nats", ns.URL, "--store", "s3://"+s3.Bucket+"/auto", "--spool", spool, "--name", "bench",
		"--max-rooms", "100", "--listen", "127.0.0.1:0", "--loopback", "--quiet")
	time.Sleep(2 * time.Second) // both started: not measured

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var delays []time.Duration
	n := 0
	for b.Loop() {
		n++
		room := fmt.Sprintf("bench-%03d", n)
		tok, err := lkspeaker.Token(lk.APIKey, lk.APISecret, room, "speaker-"+room, "Speaker", 10*time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		before := audioFiles(spool)
		t0 := time.Now()
		sp, err := lkspeaker.Join(ctx, lk.URL, tok, rtc.Options{Loopback: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(sp.Close)
		tr, err := sp.Publish(ctx, "audio")
		if err != nil {
			b.Fatal(err)
		}
		go rtptone.Send(ctx, tr, rtptone.Tone{Freq: 440, Duration: 10 * time.Minute, Seed: uint64(n)})
		for deadline := t0.Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
			if f := newAudio(spool, before); f != "" {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("room %s: no audio in the worker's spool within a minute", room)
			}
		}
		delays = append(delays, time.Since(t0))
	}
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2].Milliseconds()), "ms-median")
	b.ReportMetric(float64(delays[len(delays)-1].Milliseconds()), "ms-max")
}

// audioFiles lists the Ogg track files under the spool.
func audioFiles(spool string) map[string]bool {
	m := map[string]bool{}
	_ = filepath.WalkDir(spool, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".opus") && filepath.Base(filepath.Dir(p)) == "tracks" {
			m[p] = true
		}
		return nil
	})
	return m
}

// newAudio is a track file not in before that holds audio: its last complete Ogg page has a
// granule position above 0 (the header pages have 0).
func newAudio(spool string, before map[string]bool) string {
	for p := range audioFiles(spool) {
		if before[p] {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		g, _, err := ogg.LastGranule(f)
		f.Close()
		if err == nil && g > 0 {
			return p
		}
	}
	return ""
}
