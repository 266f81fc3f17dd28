package opus

import (
	"bytes"
	"os"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// FuzzOggStream decodes arbitrary bytes as Ogg Opus and seeks in them: errors are fine, panics,
// hangs and output beyond Len are not.
func FuzzOggStream(f *testing.F) {
	path := encodeOurs(f, testutil.Chirp(4800, 48000, 0.5), audio.Format{SampleRate: 48000, Channels: 1}, OggWriterOptions{BitrateKbps: 32, MaxPageDuration: 4e7})
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, int64(1000))
	f.Add(b[:len(b)*2/3], int64(0))
	f.Fuzz(func(t *testing.T, b []byte, seek int64) {
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
