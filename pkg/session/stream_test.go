package session

import (
	"math"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// The demo host's track has a second anchor (she muted): the file's samples after it must play
// later on the session clock, with silence in between, exactly where the manifest says.
func TestTrackStreamPlacesSamplesOnTheSessionClock(t *testing.T) {
	s, err := Open("../../testdata/demo/session")
	if err != nil {
		t.Fatal(err)
	}
	tr := &s.Manifest.Tracks[0]
	if tr.ID != "ada-1" || len(tr.Timeline) != 2 {
		t.Fatalf("the demo's first track should be ada-1 with two anchors, got %s with %d", tr.ID, len(tr.Timeline))
	}
	file := testutil.OpusdecDecode(t, s.Path(tr.File))
	ts, err := s.OpenTrack(tr)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	got, err := audio.ReadAll(ts)
	if err != nil {
		t.Fatal(err)
	}
	a0, a1 := tr.Timeline[0], tr.Timeline[1]
	gap := (a1.SessionTicks - a0.SessionTicks) - a1.MediaSample
	if want := int64(len(file)) + gap; int64(len(got)) != want || ts.Len() != want {
		t.Fatalf("track stream is %d frames (Len %d), want the file's %d plus the %d-tick gap", len(got), ts.Len(), len(file), gap)
	}
	cmp := func(what string, g, w []float32) {
		t.Helper()
		var maxDiff float64
		for i := range w {
			maxDiff = math.Max(maxDiff, math.Abs(float64(g[i]-w[i])))
		}
		if maxDiff > 1e-4 {
			t.Errorf("%s differs from opusdec by up to %g", what, maxDiff)
		}
	}
	m1 := a1.MediaSample
	cmp("audio before the mute", got[:m1], file[:m1])
	for i, v := range got[m1 : m1+gap] {
		if v != 0 {
			t.Fatalf("the muted stretch is not silent at frame %d: %g", m1+int64(i), v)
		}
	}
	cmp("audio after the mute", got[m1+gap:], file[m1:])
}

func TestTrackStreamBackwardCorrectionDropsSamples(t *testing.T) {
	s, err := Open("../../testdata/demo/session")
	if err != nil {
		t.Fatal(err)
	}
	tr := s.Manifest.Tracks[1] // brook-1: one anchor
	file := testutil.OpusdecDecode(t, s.Path(tr.File))
	// A clock correction 480 ticks back at media sample 48000: ticks already played are not played
	// again, so the first 480 samples after the anchor are dropped.
	base := tr.Timeline[0].SessionTicks
	tr.Timeline = []Anchor{{0, base}, {48000, base + 48000 - 480}}
	ts, err := s.OpenTrack(&tr)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	got, err := audio.ReadAll(ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(file)-480 {
		t.Fatalf("got %d frames, want %d (480 dropped)", len(got), len(file)-480)
	}
	for i := 47000; i < 49000; i++ {
		want := i
		if i >= 48000 {
			want = i + 480
		}
		if math.Abs(float64(got[i]-file[want])) > 1e-4 {
			t.Fatalf("frame %d should be file sample %d", i, want)
		}
	}
}

// TestTrackStreamEndsWithItsFile gives a track an anchor right at its file's end, as a manifest
// beside a crashed recording's cut file can: the stream ends with the file, at Len, instead of
// playing silence out towards the anchor (up to 7 days of it, before the fix).
func TestTrackStreamEndsWithItsFile(t *testing.T) {
	s, err := Open("../../testdata/demo/session")
	if err != nil {
		t.Fatal(err)
	}
	tr := s.Manifest.Tracks[1] // brook-1: one anchor
	file := testutil.OpusdecDecode(t, s.Path(tr.File))
	base := tr.Timeline[0].SessionTicks
	tr.Timeline = []Anchor{{0, base}, {int64(len(file)), s.Manifest.DurationTicks}}
	ts, err := s.OpenTrack(&tr)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	got, err := audio.ReadAll(ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(file) || ts.Len() != int64(len(file)) {
		t.Fatalf("got %d frames (Len %d), want the file's %d", len(got), ts.Len(), len(file))
	}
}
