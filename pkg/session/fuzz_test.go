package session

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/pkg/audio"
)

// silence is a decoder stand-in: frames frames of silence.
type silence struct {
	f      audio.Format
	frames int64
}

func (s *silence) Format() audio.Format { return s.f }

func (s *silence) Read(p []float32) (int, error) {
	n := min(int64(len(p)/s.f.Channels), s.frames)
	if n == 0 {
		return 0, io.EOF
	}
	clear(p[:n*int64(s.f.Channels)])
	s.frames -= n
	return int(n) * s.f.Channels, nil
}

// maxFuzzFrames bounds the frames one fuzz input may place (about 20 s at 48 kHz), so that a
// valid manifest with long tracks is checked by arithmetic alone and the target stays fast.
const maxFuzzFrames = 1 << 20

// FuzzManifestTimeline parses a manifest and places its tracks on the session clock. Whatever
// it holds, a manifest that parses keeps every anchor within its duration and the duration within
// MaxTicks; mapping any media sample stays far from int64 overflow; and a TrackStream over the
// track (fed by a silent stand-in for the file, Samples long) ends, yields no more frames than
// its anchors reach, and makes progress on every read. The stream runs only when that reach is at
// most maxFuzzFrames, which bounds the work.
func FuzzManifestTimeline(f *testing.F) {
	demo, err := os.ReadFile("../../testdata/demo/session/manifest.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(demo)
	f.Add([]byte(strings.Replace(string(demo), `"session_ticks": 2738872`, `"session_ticks": 4611686018427387904`, 1)))
	f.Add([]byte(strings.Replace(string(demo), `"session_ticks": 0`, `"session_ticks": -480000`, 1)))
	f.Add([]byte(strings.Replace(string(demo), `"duration_ticks": 5275387`, `"duration_ticks": 1e18`, 1)))
	f.Add([]byte(`{"format":"spacecast-session","version":1,"clock_rate":48000,"duration_ticks":96000,` +
		`"participants":[{"identity":"a"}],"tracks":[{"id":"t","participant":"a","file":"t.opus","codec":"opus","channels":1,` +
		`"timeline":[{"media_sample":0,"session_ticks":48000},{"media_sample":480,"session_ticks":0},{"media_sample":960,"session_ticks":96000}],"samples":4800}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if m.DurationTicks < 0 || m.DurationTicks > MaxTicks {
			t.Fatalf("duration_ticks %d accepted", m.DurationTicks)
		}
		if d := Duration(m.DurationTicks); d < 0 || Ticks(d) != m.DurationTicks {
			t.Fatalf("duration %d ticks converts to %v and back to %d", m.DurationTicks, d, Ticks(d))
		}
		for i := range m.Tracks {
			tr := &m.Tracks[i]
			for _, a := range tr.Timeline {
				if a.SessionTicks < -MaxLead || a.SessionTicks > m.DurationTicks+maxPreSkip || a.MediaSample < 0 || a.MediaSample > MaxTicks {
					t.Fatalf("track %q: anchor %+v accepted in a session of %d ticks", tr.ID, a, m.DurationTicks)
				}
			}
			for _, media := range []int64{0, tr.Samples, tr.Timeline[len(tr.Timeline)-1].MediaSample, MaxTicks} {
				if s := tr.SessionTicks(media); s < -MaxTicks || s > 2*MaxTicks {
					t.Fatalf("track %q: media sample %d maps to tick %d", tr.ID, media, s)
				}
			}
			placeTrack(t, tr)
		}
	})
}

// placeTrack reads a TrackStream over a silent file of tr.Samples frames, when the frames it
// would yield are few enough, and checks their count.
func placeTrack(t *testing.T, tr *Track) {
	start := tr.Timeline[0].SessionTicks
	end := start
	if tr.Samples > 0 {
		end = tr.SessionTicks(tr.Samples-1) + 1
	}
	// Silence runs up to each anchor in turn and the file's samples follow: no more than this.
	reach := tr.Samples
	for _, a := range tr.Timeline {
		reach = max(reach, a.SessionTicks-start+tr.Samples)
	}
	if tr.Samples > maxFuzzFrames || reach > maxFuzzFrames {
		return
	}
	f := audio.Format{SampleRate: ClockRate, Channels: 1}
	ts := &TrackStream{track: tr, dec: &silence{f, tr.Samples}, f: f, tick: start, next: 1, end: end, samples: tr.Samples}
	buf := make([]float32, 4096)
	var got int64
	for reads := 0; ; reads++ {
		if reads > maxFuzzFrames/len(buf)+len(tr.Timeline)+2 {
			t.Fatalf("track %q: no end after %d reads", tr.ID, reads)
		}
		n, err := ts.Read(buf)
		got += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("track %q: %v", tr.ID, err)
		}
		if n == 0 {
			t.Fatalf("track %q: a read made no progress at tick %d", tr.ID, ts.tick)
		}
	}
	if got > reach {
		t.Fatalf("track %q: the stream yielded %d frames, the timeline reaches %d", tr.ID, got, reach)
	}
}
