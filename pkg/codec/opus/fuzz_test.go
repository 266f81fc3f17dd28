package opus

import (
	"bytes"
	"os"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// FuzzOggStream decodes damaged real streams, and arbitrary bytes, as Ogg Opus and seeks in them:
// errors are fine, panics, hangs and output beyond Len are not.
//
// The input is an edit of a real stream, not the stream (as FuzzDecode's in pkg/codec/mp3): which
// picks one of our files (or, at rawInput, takes edits itself as the whole input, of any length,
// so every byte string the target took before is still reachable), edits is at most
// testutil.MaxEdits bytes of testutil.ApplyEdits operations on it, and with fixCRC every page's
// checksum is made right after the edits, so that they reach the Opus decoder behind the page
// parser. With whole files as input the fuzzer stalled minimizing them for seconds at a time.
func FuzzOggStream(f *testing.F) {
	path := encodeOurs(f, testutil.Chirp(4800, 48000, 0.5), audio.Format{SampleRate: 48000, Channels: 1}, OggWriterOptions{BitrateKbps: 32, MaxPageDuration: 4e7})
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	files := [][]byte{b, b[:len(b)*2/3]}
	for i := range files {
		f.Add(uint8(i), []byte{}, false, int64(1000))
		f.Add(uint8(i), []byte{testutil.EditSet, 0, 2, 0x7f, testutil.EditDelete, 0, 3, 0}, true, int64(0))
	}
	f.Fuzz(func(t *testing.T, which uint8, edits []byte, fixCRC bool, seek int64) {
		b := edits
		if which != rawInput {
			if len(edits) > testutil.MaxEdits {
				return
			}
			b = testutil.ApplyEdits(files[int(which)%len(files)], edits)
		}
		if fixCRC {
			b = testutil.FixOggCRCs(bytes.Clone(b))
		}
		s, err := NewOggStream(bytes.NewReader(b))
		if err != nil {
			return
		}
		buf := make([]float32, 1024*s.Format().Channels)
		var n int64
		for {
			m, err := s.Read(buf)
			n += int64(m / s.Format().Channels)
			if err != nil || m == 0 {
				break
			}
		}
		if n > s.Len() {
			t.Fatalf("read %d frames, Len %d", n, s.Len())
		}
		if s.SeekFrame(seek) == nil {
			s.Read(buf)
		}
	})
}

// rawInput as FuzzOggStream's which means: the edits are the input.
const rawInput = 255
