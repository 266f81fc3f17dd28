package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/spacecast/spacecast/internal/testutil/rtptone"
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
	const speakers = 16
	const length = 15 * time.Second
	bin := spacecastBinary(b)
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
		url := "http://" + ln.Addr().String() + "/whep"
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
		cmd := exec.Command(bin, "record", url, "--consent", "assume", "--loopback", "-o", dir, "--duration", length.String(), "--quiet")
		out, err := cmd.CombinedOutput()
		cancel()
		wg.Wait()
		hs.Close()
		if err != nil {
			b.Fatalf("record: %v\n%s", err, out)
		}
		s, err := session.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
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
	}
}
