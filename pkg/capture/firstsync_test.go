package capture

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// TestFirstAudioSyncedAtOnce: a speaker's first audio reaches the disk (a page with a granule
// position, and the manifest naming the file) on the timer loop's tick that writes it, not up to
// SyncInterval later; after that, the loop syncs every SyncInterval as before.
func TestFirstAudioSyncedAtOnce(t *testing.T) {
	sr := newSimRoom(t, 0)
	in := make(chan []byte, 10)
	if err := sr.rec.AddTrack(chanSource("gus", in)); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: 7}, Payload: sr.pkts[i]}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		in <- b
	}
	for len(in) > 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the reader has handed the last packet to its buffer
	c := loopClock{last: sr.rec.now(), lastSync: sr.rec.now()}
	audio := func() int64 {
		for _, tr := range sr.rec.snapshot() {
			tr.mu.Lock()
			f := tr.file
			tr.mu.Unlock()
			if f == nil {
				continue
			}
			r, err := os.Open(f.f.Name())
			if err != nil {
				t.Fatal(err)
			}
			g, _, err := ogg.LastGranule(r)
			r.Close()
			if err == nil {
				return g
			}
		}
		return 0
	}
	var at time.Duration
	for at = 0; at < 500*time.Millisecond && audio() <= 0; at += 10 * time.Millisecond {
		sr.now.Add(int64(10 * time.Millisecond))
		sr.rec.step(&c, sr.rec.now())
	}
	if g := audio(); g <= 0 {
		t.Fatalf("no audio on disk %v after the packets arrived (SyncInterval %v)", at, sr.rec.opts.SyncInterval)
	}
	b, err := os.ReadFile(filepath.Join(sr.rec.Dir(), session.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Tracks) != 1 {
		t.Errorf("the manifest on disk names %d tracks once the first audio is there, want 1", len(m.Tracks))
	}
	close(in)
	sr.close(t)
}
