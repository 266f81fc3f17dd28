package capture

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/session"
)

// TestRecorderDiskFull records onto a 256 KiB tmpfs until it fills: the recorder fails with ENOSPC,
// Close reports it, and the session left behind opens and validates, its manifest naming no more
// than the files hold.
func TestRecorderDiskFull(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		dir := filepath.Join(netns.DiskFull(t, 256), "s")
		rec, err := Create(Options{Dir: dir, Room: session.Room{Name: "full", Protocol: "test"}, Latency: 40 * time.Millisecond, SyncInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		pkts := make(chan []byte)
		if err := rec.AddTrack(chanSource("erin", pkts)); err != nil {
			t.Fatal(err)
		}
		payload := make([]byte, 1000) // a fat 20 ms packet (CELT FB, 400 kb/s) fills the disk fast
		payload[0] = 0xf8
		start := time.Now()
		failed := false
		for i := 0; i < 5000 && !failed; i++ {
			b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: 9}, Payload: payload}).Marshal()
			time.Sleep(time.Until(start.Add(time.Duration(i) * 2 * time.Millisecond)))
			select {
			case pkts <- b:
			case <-rec.Failed():
				failed = true
			}
		}
		close(pkts)
		if !failed {
			t.Fatal("the recorder wrote 5 MB onto a 256 KiB disk without failing")
		}
		err = rec.Close()
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Close: %v, want ENOSPC", err)
		}
		s, err := session.Open(dir)
		if err != nil {
			t.Fatalf("the session left by a full disk does not open: %v", err)
		}
		if len(s.Manifest.Tracks) != 1 || s.Manifest.Finalized {
			t.Fatalf("manifest: %d tracks, finalized %v", len(s.Manifest.Tracks), s.Manifest.Finalized)
		}
	})
}
