package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/room/whep/whepserver"
	"github.com/spacecast/spacecast/pkg/session"
)

// BenchmarkRecordCPUPerSpeaker measures what `spacecast record` costs per speaker over real
// WebRTC: 16 speakers (WHEP's most tracks per session here) sending Opus tones at real time over
// loopback from this process, the recorder a separate process recording them for 15 s. The
// recorder's own CPU time (user + system, from the kernel) divided by speakers and seconds is the
// figure: pion's UDP, SRTP and interceptors included, with the live mix and the once-a-second syncs.
// Run with -benchtime 1x.
func BenchmarkRecordCPUPerSpeaker(b *testing.B) {
	benchRecord(b, func(dir string) ([]string, []string, func() *session.Session) {
		return []string{"-o", dir}, nil, func() *session.Session {
			s, err := session.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
	})
}

// BenchmarkRecordCPUPerSpeakerS3 is BenchmarkRecordCPUPerSpeaker recording into a bucket of a
// real S3-compatible server on loopback (-o s3://…): the spool, and every 5 s the new bytes of the
// 16 tracks and the mix in pieces, then the finished session uploaded whole and the pieces
// deleted, all within the recorder's CPU time. The difference to BenchmarkRecordCPUPerSpeaker is
// the CPU cost of uploading per speaker. Run with -benchtime 1x.
func BenchmarkRecordCPUPerSpeakerS3(b *testing.B) {
	srv := s3server.Start(b)
	env := append(srv.Env(b.TempDir()), "XDG_CACHE_HOME="+b.TempDir())
	n := 0
	benchRecord(b, func(string) ([]string, []string, func() *session.Session) {
		n++
		url := fmt.Sprintf("s3://%s/bench/%d", srv.Bucket, n)
		return []string{"-o", url}, env, func() *session.Session {
			dir := filepath.Join(b.TempDir(), "pulled")
			pull := exec.Command(spacecastBinary(b), "pull", url, dir)
			pull.Env = env
			if out, err := pull.CombinedOutput(); err != nil {
				b.Fatalf("pull: %v\n%s", err, out)
			}
			s, err := session.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
	})
}

// benchRecord runs the recorder on 16 speakers for 15 s; out gives its output arguments, its
// environment (nil: the test's) and how to open the session it made. The recorder is this
// checkout's spacecast, or the binary SPACECAST_BENCH_BINARY names (another commit's build,
// measured by the same harness).
func benchRecord(b *testing.B, out func(dir string) (args, env []string, open func() *session.Session)) {
	const speakers = 16
	const length = 15 * time.Second
	bin := os.Getenv("SPACECAST_BENCH_BINARY")
	if bin == "" {
		bin = spacecastBinary(b)
	}
	for b.Loop() {
		var tracks []webrtc.TrackLocal
		var rtpTracks []*webrtc.TrackLocalStaticRTP
		for i := range speakers {
			tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", fmt.Sprintf("speaker%02d", i))
			if err != nil {
				b.Fatal(err)
			}
			tracks = append(tracks, tr)
			rtpTracks = append(rtpTracks, tr)
		}
		url, hs := serveWHEP(b, tracks)
		dir := filepath.Join(b.TempDir(), "s")
		ctx, cancel := context.WithTimeout(context.Background(), 2*length)
		var wg sync.WaitGroup
		for i, tr := range rtpTracks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rtptone.Send(ctx, tr, rtptone.Tone{Freq: 200 + 50*float64(i), Duration: length + 5*time.Second, Seed: uint64(i)})
			}()
		}
		outArgs, env, open := out(dir)
		cmd := exec.Command(bin, append([]string{"record", url, "--consent", "assume", "--loopback", "--duration", length.String(), "--quiet"}, outArgs...)...)
		cmd.Env = env
		var output bytes.Buffer
		cmd.Stdout, cmd.Stderr = &output, &output
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		peaks := sampleRSS(cmd.Process.Pid)
		err := cmd.Wait()
		anon, file := peaks()
		cancel()
		wg.Wait()
		hs.Close()
		if err != nil {
			b.Fatalf("record: %v\n%s", err, output.Bytes())
		}
		s := open()
		if len(s.Manifest.Tracks) != speakers {
			b.Fatalf("recorded %d tracks of %d speakers", len(s.Manifest.Tracks), speakers)
		}
		for _, t := range s.Manifest.Tracks {
			if d := session.Duration(t.Samples); d < length-2*time.Second {
				b.Fatalf("%s: %v recorded in a %v room", t.Participant, d, length)
			}
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		perSpeaker := cpu.Seconds() / length.Seconds() / speakers
		b.ReportMetric(perSpeaker*100, "cpu%/speaker")
		b.ReportMetric(1/perSpeaker, "speakers/core")
		b.ReportMetric(float64(ru.Maxrss)/1024, "recorder-peak-RSS-MiB")
		if anon < 0 || file < 0 {
			b.Fatalf("no RssAnon or RssFile read from /proc/%d/status while the recorder ran", cmd.Process.Pid)
		}
		b.ReportMetric(anon, "recorder-peak-anon-MiB")
		b.ReportMetric(file, "recorder-peak-file-MiB")
	}
}

// sampleRSS reads the RssAnon and RssFile lines of /proc/PID/status (proc(5)) every 100 ms until
// the returned function is called, which gives the highest of each in MiB (-1 when none was
// read). The kernel's peak (rusage's maxrss, VmHWM) counts both: anonymous memory (heap, stacks,
// the runtime's) and the pages of the binary and libraries mapped from the page cache, which
// grow with the binary's size and are clean, shared and reclaimable (docs/benchmarks.md).
func sampleRSS(pid int) (peaks func() (anon, file float64)) {
	anon, file := -1.0, -1.0
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				continue
			}
			for line := range bytes.Lines(status) {
				name, kb, ok := bytes.Cut(line, []byte(":"))
				if !ok {
					continue
				}
				var peak *float64
				switch string(name) {
				case "RssAnon":
					peak = &anon
				case "RssFile":
					peak = &file
				default:
					continue
				}
				v, err := strconv.ParseFloat(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(kb), []byte("kB")))), 64)
				if err == nil {
					*peak = max(*peak, v/1024)
				}
			}
		}
	}()
	return func() (float64, float64) {
		close(stop)
		<-done
		return anon, file
	}
}

// serveWHEP serves the tracks as a WHEP endpoint on loopback; it returns its URL and the server,
// which the caller closes.
func serveWHEP(b *testing.B, tracks []webrtc.TrackLocal) (string, *http.Server) {
	srv, err := whepserver.New(whepserver.Options{Tracks: tracks, RTC: rtc.Options{Loopback: true}})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	return "http://" + ln.Addr().String() + "/whep", hs
}
