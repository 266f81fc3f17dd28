package demo_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/demo"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/room/whep"
	"github.com/spacecast/spacecast/pkg/session"
)

const rate = 8000 // the judge compares audio at 8 kHz: plenty for speech, cheap to correlate

// mediaAt maps a session tick to the track file's media sample by the timeline in force there.
func mediaAt(tr session.Track, ticks int64) int64 {
	a := tr.Timeline[0]
	for _, b := range tr.Timeline {
		if b.SessionTicks <= ticks {
			a = b
		}
	}
	return a.MediaSample + ticks - a.SessionTicks
}

func rms(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

// loudest is the start of the loudest n-sample window of x[from:to], on a 50 ms grid.
func loudest(x []float32, from, to, n int) int {
	best, at := -1.0, -1
	for i := max(from, 0); i+n <= min(to, len(x)); i += rate / 20 {
		if r := rms(x[i : i+n]); r > best {
			best, at = r, i
		}
	}
	return at
}

// match finds where b lies in a around centre: the lag (samples) in [-maxLag, maxLag] with the
// highest normalised correlation, and that correlation.
func match(a, b []float32, centre, maxLag int) (lag int, corr float64) {
	corr = -2
	var eb float64
	for _, v := range b {
		eb += float64(v) * float64(v)
	}
	for l := -maxLag; l <= maxLag; l++ {
		j := centre + l
		if j < 0 || j+len(b) > len(a) {
			continue
		}
		var s, ea float64
		for i, v := range b {
			s += float64(a[j+i]) * float64(v)
			ea += float64(a[j+i]) * float64(a[j+i])
		}
		if ea == 0 || eb == 0 {
			continue
		}
		if c := s / math.Sqrt(ea*eb); c > corr {
			lag, corr = l, c
		}
	}
	return lag, corr
}

// TestRecordDemoRoom records a 30-second demo room through WHEP into a real capture.Recorder until
// the room ends, and judges the session with ffmpeg against what the room says it played: each
// stint's speech lies in its speaker's file at the session time it was sent (within 22 ms), the
// speaker who left is silent while away, and every speaker is heard in the live mix.
func TestRecordDemoRoom(t *testing.T) {
	t.Parallel()
	testutil.Require(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	src := os.DirFS("../../testdata/demo/session") // the bundled files, where ffmpeg can read them
	r, err := demo.StartRoom(ctx, demo.RoomOptions{Session: src, Length: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dir := filepath.Join(t.TempDir(), "s")
	rec, err := capture.Create(capture.Options{Dir: dir, Room: session.Room{Name: "demo", Protocol: "whep", URL: r.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := whep.Dial(ctx, r.URL(), whep.Options{RTC: rtc.Options{Loopback: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	runErr := make(chan error, 1)
	go func() { runErr <- conn.Run(ctx, rec) }()
	select {
	case err := <-runErr:
		if !errors.Is(err, room.ErrRoomClosed) {
			t.Fatalf("Run: %v, want room.ErrRoomClosed when the room ends", err)
		}
	case <-time.After(r.Length() + 15*time.Second):
		t.Fatal("the room did not end")
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	<-r.Done()
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if d := r.StartedAt().Sub(rec.Start()); d < 0 || d > 3*time.Second {
		t.Errorf("the room started %v after the recorder", d)
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Manifest
	plays := r.Plays()
	if len(plays) != len(r.Script()) {
		t.Fatalf("played %d of %d stints", len(plays), len(r.Script()))
	}
	tracks := map[string]session.Track{}
	for _, tr := range m.Tracks {
		if _, dup := tracks[tr.Participant]; dup {
			t.Errorf("%s has more than one track: %+v", tr.Participant, m.Tracks)
		}
		tracks[tr.Participant] = tr
	}
	// No clock jumps: every anchor follows the one before within capture's 20 ms tolerance (+5 ms),
	// since the room's clocks run true and its pauses are filled with silence.
	for _, tr := range m.Tracks {
		for i := 1; i < len(tr.Timeline); i++ {
			a, b := tr.Timeline[i-1], tr.Timeline[i]
			if jump := session.Duration((b.SessionTicks - a.SessionTicks) - (b.MediaSample - a.MediaSample)); jump < -25*time.Millisecond || jump > 25*time.Millisecond {
				t.Errorf("%s's timeline jumps %v at %.2f s: %+v", tr.Participant, jump, session.Duration(b.SessionTicks).Seconds(), tr.Timeline)
			}
		}
	}
	for _, sp := range r.Speakers() {
		if _, ok := tracks[sp.Identity]; !ok || m.Participant(sp.Identity) == nil {
			t.Errorf("%s (%s) is missing from the recording", sp.Identity, sp.Name)
		}
	}

	decoded := map[string][]float32{}
	decode := func(path string) []float32 {
		if x, ok := decoded[path]; ok {
			return x
		}
		x := testutil.FFmpegDecode(t, path, rate, 1)
		decoded[path] = x
		return x
	}
	start := rec.Start()
	toTick := func(at time.Time) int64 { return session.Ticks(at.Sub(start)) }
	for i, p := range plays {
		tr, ok := tracks[p.Speaker]
		if !ok {
			continue
		}
		orig := decode(filepath.Join("../../testdata/demo/session", p.File))
		got := decode(s.Path(tr.File))
		// The loudest second of what was sent, away from the stint's edges.
		from := int((p.FirstSample+int64(0.3*48000))/6) + 0
		to := int((p.FirstSample + p.Sent - int64(0.3*48000)) / 6)
		w := loudest(orig, from, to, rate)
		if w < 0 {
			t.Errorf("play %d (%s): too short to judge", i, p.Speaker)
			continue
		}
		piece := orig[w : w+rate]
		when := p.At(int64(w) * 6) // wall-clock time the piece was sent
		centre := int(mediaAt(tr, toTick(when)) / 6)
		lag, corr := match(got, piece, centre, rate/10)
		off := time.Duration(lag) * time.Second / rate
		t.Logf("%-6s stint at %6.2f s: %s at %.2f s sent at %.3f s on the session clock, found %+.1f ms off (correlation %.3f, level %.1f dBFS)",
			p.Speaker, p.At(p.FirstSample).Sub(start).Seconds(), p.File, float64(w)/rate, when.Sub(start).Seconds(),
			float64(off)/1e6, corr, 20*math.Log10(rms(piece)))
		// capture keeps a packet where the timeline puts it while that is within 20 ms of where it
		// belongs (a pause filled with whole 20 ms silence packets leaves up to 20 ms): 22 ms allows
		// for the network and the judge.
		if corr < 0.9 || off < -22*time.Millisecond || off > 22*time.Millisecond {
			t.Errorf("%s: the speech sent at %.3f s is not in %s within 22 ms (best %+v, correlation %.3f)",
				p.Speaker, when.Sub(start).Seconds(), tr.File, off, corr)
		}
	}

	// Away means silent: between a speaker's stints the file holds nothing audible.
	for i, p := range plays {
		for _, q := range plays[i+1:] {
			if q.Speaker != p.Speaker {
				continue
			}
			tr := tracks[p.Speaker]
			got := decode(s.Path(tr.File))
			a := int(mediaAt(tr, toTick(p.End.Add(300*time.Millisecond))) / 6)
			b := int(mediaAt(tr, toTick(q.Start.Add(-300*time.Millisecond))) / 6)
			if b-a < rate {
				t.Errorf("%s's pause is %d samples in the file", p.Speaker, b-a)
				break
			}
			if level := 20 * math.Log10(rms(got[max(a, 0):min(b, len(got))])+1e-12); level > -60 {
				t.Errorf("%s is away from %.2f s to %.2f s but the file holds %.1f dBFS there", p.Speaker,
					p.End.Sub(start).Seconds(), q.Start.Sub(start).Seconds(), level)
			}
			t.Logf("%s away %.2f s → %.2f s", p.Speaker, p.End.Sub(start).Seconds(), q.Start.Sub(start).Seconds())
			break
		}
	}

	// The live mix holds every speaker: a second where the speaker talks and nobody else does is
	// in the mix, where it was sent.
	mix := decode(s.Path(m.Mix.File))
	level := func(q demo.Play, at time.Time) float64 { // what q sent in the second from at
		x := int((q.FirstSample + toTick(at) - toTick(q.Start)) / 6)
		orig := decode(filepath.Join("../../testdata/demo/session", q.File))
		end := int((q.FirstSample + q.Sent) / 6)
		a, b := max(x, int(q.FirstSample/6), 0), min(x+rate, end, len(orig))
		if a >= b {
			return 0
		}
		return rms(orig[a:b]) * float64(b-a) / rate
	}
	heard := map[string]float64{}
	for i, p := range plays {
		orig := decode(filepath.Join("../../testdata/demo/session", p.File))
		for w := int(p.FirstSample/6) + rate/5; w+rate <= int((p.FirstSample+p.Sent)/6) && w+rate <= len(orig); w += rate / 4 {
			own := rms(orig[w : w+rate])
			at := p.At(int64(w) * 6)
			others := 0.0
			for j, q := range plays {
				if j != i && q.Speaker != p.Speaker {
					others = max(others, level(q, at))
				}
			}
			if own < 0.01 || others > own/30 {
				continue // too quiet, or not alone
			}
			centre := int(toTick(at) / 6)
			_, corr := match(mix, orig[w:w+rate], centre, rate/40)
			heard[p.Speaker] = max(heard[p.Speaker], corr)
		}
	}
	for _, sp := range r.Speakers() {
		t.Logf("%s in the mix: correlation %.3f", sp.Identity, heard[sp.Identity])
		if heard[sp.Identity] < 0.9 {
			t.Errorf("%s is not heard in the mix (best correlation %.3f)", sp.Identity, heard[sp.Identity])
		}
	}
}

// TestBundledRoom plays the session embedded in the binary (what `spacecast demo` uses), shortened
// to 4 s, into a recorder: every speaker is heard and the room ends by itself.
func TestBundledRoom(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := demo.StartRoom(ctx, demo.RoomOptions{Length: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	conn, err := whep.Dial(ctx, r.URL(), whep.Options{RTC: rtc.Options{Loopback: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rec, err := capture.Create(capture.Options{Dir: filepath.Join(t.TempDir(), "s")})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Run(ctx, rec); !errors.Is(err, room.ErrRoomClosed) {
		t.Fatalf("Run: %v, want room.ErrRoomClosed", err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(rec.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Manifest.Tracks) != 3 || len(r.Plays()) != len(r.Script()) {
		t.Errorf("%d tracks, %d of %d stints played", len(s.Manifest.Tracks), len(r.Plays()), len(r.Script()))
	}
	for _, tr := range s.Manifest.Tracks {
		if tr.Samples < 4800 {
			t.Errorf("%s: %d samples", tr.Participant, tr.Samples)
		}
	}
}

// TestRoomStaysLocal: the demo room refuses to listen beyond loopback.
func TestRoomStaysLocal(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "nonsense"} {
		if r, err := demo.StartRoom(context.Background(), demo.RoomOptions{Addr: addr}); err == nil {
			r.Close()
			t.Errorf("listened on %q", addr)
		} else {
			t.Logf("%s: %v", addr, err)
		}
	}
}
