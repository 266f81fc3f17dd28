package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/opus"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// packets encodes pcm (48 kHz mono) with libopus and returns its 20 ms packets. Packet i decodes
// to pcm from sample i·960 − lookahead (the encoder's delay, the source file's pre-skip).
func packets(t *testing.T, pcm []float32) (out [][]byte, lookahead int) {
	t.Helper()
	var b bytes.Buffer
	w, err := opus.NewOggWriter(&b, audio.Format{SampleRate: 48000, Channels: 1}, opus.OggWriterOptions{BitrateKbps: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := ogg.NewOpusReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, _, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return out, int(r.Head().PreSkip)
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), p...))
	}
}

func TestTrackWriterTimeline(t *testing.T) {
	const pkt = 960                                                      // 20 ms
	speech, lookahead := packets(t, testutil.Chirp(48000*4, 48000, 0.4)) // 200 packets
	quiet, _ := packets(t, make([]float32, 48000))
	silence := quiet[10]
	start := int64(48000 * 7) // the speaker joined 7 s into the session
	at := func(i int) int64 { return start + int64(i)*pkt }

	dir := t.TempDir()
	path := filepath.Join(dir, "t.opus")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw, err := NewTrackWriter(f, 1, []TrackOption{WithSilence(silence, time.Second)}, ogg.WithMaxPageDuration(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var shift int64
	for i, p := range speech {
		switch i {
		case 50: // 300 ms of mute: filled with silence, no anchor
			shift += 300 * 48
		case 100: // 5 s of network outage: an anchor
			shift += 5 * 48000
		case 150: // a clock correction 30 ms back (the track ran ahead): an anchor, never silence
			shift -= 30 * 48
		case 175: // 5 ms of jitter mid-speech: within tolerance, nothing
			shift += 5 * 48
		}
		write := tw.WriteContiguous // packets that follow each other in the stream
		if i == 0 || i == 50 || i == 100 {
			write = tw.WritePacket // after a pause: re-synced to the millisecond
		}
		if err := write(p, at(i)+shift); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	m100 := int64(100*pkt+300*48) - PreSkip // media sample of packet 100 (after 300 ms of fill)
	m150 := m100 + 50*pkt
	want := []session.Anchor{
		{MediaSample: 0, SessionTicks: start + PreSkip},
		{MediaSample: m100, SessionTicks: at(100) + 300*48 + 5*48000},
		{MediaSample: m150, SessionTicks: at(150) + 300*48 + 5*48000 - 30*48},
	}
	got := tw.Timeline()
	if len(got) != len(want) {
		t.Fatalf("timeline %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("anchor %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if tw.Filled() != 300*48 {
		t.Errorf("filled %d samples of silence, want %d", tw.Filled(), 300*48)
	}
	// An independent decoder reads the file to exactly the length the writer reports.
	if dec := testutil.OpusdecDecode(t, path); int64(len(dec)) != tw.Samples() {
		t.Errorf("opusdec decodes %d samples, writer says %d", len(dec), tw.Samples())
	}

	// Read back through the session reader: packet 120's audio must play where it was sent.
	m := &session.Manifest{Format: session.FormatName, Version: 1, ClockRate: session.ClockRate,
		Participants: []session.Participant{{Identity: "a"}},
		Tracks:       []session.Track{{ID: "t", Participant: "a", File: "t.opus", Codec: "opus", Channels: 1, Timeline: got}}}
	s := &session.Session{Dir: dir, Manifest: m}
	ts, err := s.OpenTrack(&m.Tracks[0])
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	placed, err := audio.ReadAll(ts)
	if err != nil {
		t.Fatal(err)
	}
	ref := testutil.Chirp(48000*4, 48000, 0.4)
	for _, i := range []int{20, 120, 160, 190} {
		var sh int64
		for _, c := range []struct {
			from int
			by   int64
		}{{50, 300 * 48}, {100, 5 * 48000}, {150, -30 * 48}, {175, 5 * 48}} {
			if i >= c.from {
				sh += c.by
			}
		}
		if i >= 175 {
			sh -= 5 * 48 // 5 ms late is under a silence packet and within tolerance: played 5 ms early
		}
		pos := at(i) + sh - ts.Start()
		seg := placed[pos : pos+4800]
		from := i*pkt - lookahead
		lag, corr := testutil.Lag(ref[from:from+4800], seg, 480)
		// A 32 kbps codec blurs the chirp's fine phase: the peak may sit a few samples off. Any
		// real misplacement is a packet (960), a pre-skip (312, 3840) or a gap: far more than 0.5 ms.
		if lag < -24 || lag > 24 || corr < 0.8 {
			t.Errorf("packet %d plays %d samples off (correlation %.2f), want within 0.5 ms", i, lag, corr)
		}
	}
}
