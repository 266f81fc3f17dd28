package capture

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/session"
)

// TestSessionWriterOpen: track files are numbered in the order speakers are first recorded and
// named after them, each with its manifest entry; a folder that holds files is refused.
func TestSessionWriterOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	man := &session.Manifest{}
	w, err := newSessionWriter(dir, man, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		identity, wantFile string
		channels           int
	}{
		{"Ann Lee", "tracks/t1-ann-lee.opus", 1},
		{"", "tracks/t2-speaker.opus", 2},
		{"ann lee", "tracks/t3-ann-lee.opus", 1},
	} {
		tf, err := w.open(c.identity, c.channels)
		if err != nil {
			t.Fatal(err)
		}
		mt := man.Tracks[tf.mi]
		if tf.mi != i || mt.File != c.wantFile || mt.Participant != c.identity || mt.Channels != c.channels || tf.id != mt.ID {
			t.Errorf("track %d: index %d, entry %+v, want file %s for %q", i, tf.mi, mt, c.wantFile, c.identity)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(c.wantFile))); err != nil {
			t.Error(err)
		}
		if err := tf.close(); err != nil {
			t.Error(err)
		}
	}
	if _, err := newSessionWriter(dir, &session.Manifest{}, time.Second); !errors.Is(err, ErrExists) {
		t.Errorf("a second writer in the same folder: %v, want ErrExists", err)
	}
}

// TestTrackFileGaps: the gaps a track file's manifest entry lists.
func TestTrackFileGaps(t *testing.T) {
	loss := func(start, dur int64) session.Gap {
		return session.Gap{StartTicks: start, DurationTicks: dur, Cause: "loss"}
	}
	cases := []struct {
		why  string
		run  func(tf *trackFile)
		now  int64
		want []session.Gap
	}{
		{"a lost packet is a loss gap as long as the packet, before the packet after it",
			func(tf *trackFile) { tf.lossGap(9600, 1, 960) }, 0, []session.Gap{loss(8640, 960)}},
		{"losses that overlap (the timeline moved back) are one gap",
			func(tf *trackFile) { tf.lossGap(9600, 1, 960); tf.lossGap(10000, 2, 960) }, 0, []session.Gap{loss(8640, 2880)}},
		{"losses a packet apart stay two gaps",
			func(tf *trackFile) { tf.lossGap(9600, 1, 960); tf.lossGap(11520, 1, 960) }, 0, []session.Gap{loss(8640, 960), loss(10560, 960)}},
		{"a stretch not recorded that ended is a gap of its cause",
			func(tf *trackFile) { tf.stop(100, "paused"); tf.resume(400) }, 1000,
			[]session.Gap{{StartTicks: 100, DurationTicks: 300, Cause: "paused"}}},
		{"a stretch not recorded that still runs ends now",
			func(tf *trackFile) { tf.stop(100, "not-recording") }, 1000,
			[]session.Gap{{StartTicks: 100, DurationTicks: 900, Cause: "not-recording"}}},
		{"resuming what was never stopped adds nothing",
			func(tf *trackFile) { tf.resume(50) }, 1000, nil},
		{"gaps of every kind are listed in order",
			func(tf *trackFile) { tf.stop(100, "paused"); tf.resume(400); tf.lossGap(1960, 1, 960) }, 2000,
			[]session.Gap{{StartTicks: 100, DurationTicks: 300, Cause: "paused"}, loss(1000, 960)}},
	}
	for _, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			tf := &trackFile{offAt: -1}
			c.run(tf)
			if got := tf.allGaps(nil, c.now); !slices.Equal(got, c.want) {
				t.Errorf("gaps %+v, want %+v", got, c.want)
			}
		})
	}
}
