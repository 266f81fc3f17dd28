package ogg

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestRepairCrashedFile cuts a stream mid-page, as a killed recorder leaves it, and checks that
// Repair keeps every whole page, flags the last one end-of-stream, and that the result reads to
// its end without error.
func TestRepairCrashedFile(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewOpusWriter(&buf, OpusHead{Version: 1, Channels: 1, PreSkip: 312, InputSampleRate: 48000}, OpusTags{Vendor: "t"}, WithMaxPageDuration(100e6))
	if err != nil {
		t.Fatal(err)
	}
	pkt := []byte{0x08, 1, 2, 3} // SILK NB 20 ms
	for range 100 {
		if err := w.WritePacket(pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	whole := buf.Len()
	for range 3 {
		w.WritePacket(pkt)
	}
	w.Flush()
	cut := buf.Bytes()[:whole+20] // a page begun but not finished
	path := filepath.Join(t.TempDir(), "crashed.opus")
	if err := os.WriteFile(path, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := Repair(path)
	if err != nil {
		t.Fatal(err)
	}
	// 99 packets are on whole pages (the writer holds the latest packet back until the next one).
	if want := int64(99 * 960); g != want {
		t.Fatalf("granule %d, want %d", g, want)
	}
	b, _ := os.ReadFile(path)
	if len(b) != whole {
		t.Fatalf("repaired file is %d bytes, want the %d whole ones", len(b), whole)
	}
	r, err := NewOpusReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last int64
	for {
		_, gr, err := r.ReadPacket()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("after %d packets: %v", n, err)
			}
			break
		}
		n++
		last = gr
	}
	if last != g || n == 0 {
		t.Fatalf("read %d packets to granule %d, Repair said %d", n, last, g)
	}
	// Repairing a whole file changes nothing.
	before, _ := os.ReadFile(path)
	if g2, err := Repair(path); err != nil || g2 != g {
		t.Fatalf("second repair: %d, %v", g2, err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("second repair changed the file")
	}
}
