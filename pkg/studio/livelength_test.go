package studio

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// TestLiveLengthRefusesForgedGranule reads the length of a live mix (clip --last) whose one audio
// page claims granule position 2^62: before, that became a length of 2^62 samples, and its
// conversion to a time overflowed.
func TestLiveLengthRefusesForgedGranule(t *testing.T) {
	var b bytes.Buffer
	w, err := ogg.NewOpusWriter(&b, ogg.OpusHead{Version: 1, Channels: 1, PreSkip: 3840}, ogg.OpusTags{Vendor: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := w.WritePacket([]byte{0xf8, 0xff, 0xfe}); err != nil { // 20 ms CELT
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file := b.Bytes()
	var out []byte
	for len(file) > 0 {
		p, n, err := ogg.ParsePage(file)
		if err != nil {
			t.Fatal(err)
		}
		file = file[n:]
		if len(file) == 0 {
			p.Granule = math.MaxInt64 / 2
		}
		if out, err = ogg.AppendPage(out, &p); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "mix.opus")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := liveLength(session.Dir(filepath.Dir(path)), filepath.Base(path)); !errors.Is(err, ogg.ErrGranule) {
		t.Fatalf("liveLength = %d, %v; want ErrGranule", n, err)
	}
}
