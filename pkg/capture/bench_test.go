package capture

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	hopus "gopkg.in/hraban/opus.v2"

	"github.com/spacecast/spacecast/pkg/session"
)

// simRoom drives a Recorder on a simulated clock: speakers' packets arrive as fast as the CPU
// takes them, through the same jitter buffers, track writers, decoders and live mix as a room.
type simRoom struct {
	rec    *Recorder
	now    atomic.Int64 // simulated nanoseconds since start
	start  time.Time
	tracks []*track
	pkts   [][]byte // one speaker's 20 ms packets, looped
	seq    uint16
	ts     uint32
	stop   chan struct{}
}

func newSimRoom(tb testing.TB, speakers int) *simRoom {
	sr := &simRoom{start: time.Now(), stop: make(chan struct{})}
	now := func() time.Time { return sr.start.Add(time.Duration(sr.now.Load())) }
	rec, err := Create(Options{Dir: filepath.Join(tb.TempDir(), "s"), Room: session.Room{Name: "sim", Protocol: "test"}, Now: now, manual: true})
	if err != nil {
		tb.Fatal(err)
	}
	sr.rec = rec
	// Ten seconds of a voice-like signal (a gliding tone with syllable-rate envelope) at 32 kb/s.
	enc, err := hopus.NewEncoder(48000, 1, hopus.AppVoIP)
	if err != nil {
		tb.Fatal(err)
	}
	enc.SetBitrate(32000)
	pcm := make([]float32, 960)
	buf := make([]byte, 1500)
	for i := 0; i < 500; i++ {
		for j := range pcm {
			t := float64(i*960+j) / 48000
			env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
			pcm[j] = float32(0.2 * env * math.Sin(2*math.Pi*(150+50*math.Sin(t))*t*3))
		}
		n, err := enc.EncodeFloat32(pcm, buf)
		if err != nil {
			tb.Fatal(err)
		}
		sr.pkts = append(sr.pkts, append([]byte(nil), buf[:n]...))
	}
	for i := range speakers {
		blocked := func(b []byte) (int, error) { <-sr.stop; return 0, fmt.Errorf("closed") }
		if err := rec.AddTrack(Source{Participant: fmt.Sprintf("speaker%02d", i), ID: fmt.Sprint(i), Channels: 1, ReadRTP: blocked}); err != nil {
			tb.Fatal(err)
		}
	}
	sr.tracks = rec.snapshot()
	return sr
}

// second simulates one second of the room: 50 packets per speaker, pumped and mixed every 20 ms.
func (sr *simRoom) second() error {
	var pkt rtp.Packet
	for k := 0; k < 50; k++ {
		sr.now.Add(int64(20 * time.Millisecond))
		at := sr.rec.now()
		payload := sr.pkts[int(sr.seq)%len(sr.pkts)]
		for i, t := range sr.tracks {
			pkt = rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: sr.seq, Timestamp: sr.ts, SSRC: uint32(i + 1)}, Payload: payload}
			sr.rec.push(t, &pkt, at)
		}
		sr.seq++
		sr.ts += 960
		sr.rec.pump(at, false)
		if err := sr.rec.mixTo(at); err != nil {
			return err
		}
	}
	return sr.rec.sync()
}

func (sr *simRoom) close(tb testing.TB) {
	close(sr.stop)
	if err := sr.rec.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkRecorderPerSpeaker: CPU to record one speaker for one second, live mix included,
// measured in a simulated 50-speaker room. cpu%/speaker is the share of one core a speaker costs.
func BenchmarkRecorderPerSpeaker(b *testing.B) {
	const speakers = 50
	sr := newSimRoom(b, speakers)
	defer sr.close(b)
	b.ResetTimer()
	for b.Loop() {
		if err := sr.second(); err != nil {
			b.Fatal(err)
		}
	}
	perSpeakerSecond := float64(b.Elapsed()) / float64(b.N) / speakers
	b.ReportMetric(perSpeakerSecond/1e3, "µs/speaker-second")
	b.ReportMetric(perSpeakerSecond/1e9*100, "cpu%/speaker")
	b.ReportMetric(1e9/perSpeakerSecond, "speakers/core")
}

// BenchmarkRecorderThreeHourRoom records a simulated three-hour room of four speakers (faster
// than real time) and reports the process's peak resident memory: it must stay flat, far below
// 200 MB. Run with -benchtime 1x.
func BenchmarkRecorderThreeHourRoom(b *testing.B) {
	for b.Loop() {
		sr := newSimRoom(b, 4)
		for range 3 * 3600 {
			if err := sr.second(); err != nil {
				b.Fatal(err)
			}
		}
		sr.close(b)
		b.ReportMetric(float64(session.Duration(sr.rec.w.man.DurationTicks).Hours()), "hours")
	}
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb / 1024
		}
	}
	return -1
}

// TestSimRoomRecordsEverySpeaker keeps the benchmark honest: the simulated room's files hold
// every speaker's packets at the right length.
func TestSimRoomRecordsEverySpeaker(t *testing.T) {
	sr := newSimRoom(t, 3)
	for range 5 {
		if err := sr.second(); err != nil {
			t.Fatal(err)
		}
	}
	sr.close(t)
	for _, tr := range sr.rec.w.man.Tracks {
		if d := session.Duration(tr.Samples); d < 4700*time.Millisecond || d > 5*time.Second {
			t.Errorf("%s: %v recorded of 5 s sent", tr.Participant, d)
		}
	}
}
