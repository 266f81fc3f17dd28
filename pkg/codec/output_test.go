package codec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/pkg/audio"
)

// TestCreateRefusesWithoutPanic: a format an encoder cannot take is an error from Create, with no
// file left behind. The encoder constructors return a typed nil pointer with their error; stored
// in Output's interface field it was not nil, and Abort called Close on it: clip or trim of a
// 44.1 kHz MP3 to .opus panicked.
func TestCreateRefusesWithoutPanic(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    audio.Format
		why  string
	}{
		{"x.opus", audio.Format{SampleRate: 44100, Channels: 2}, "Opus has no 44.1 kHz"},
		{"x.opus", audio.Format{SampleRate: 48000, Channels: 3}, "Opus here takes 1 or 2 channels"},
		{"x.mp3", audio.Format{SampleRate: 7000, Channels: 1}, "MP3 has no 7 kHz"},
	} {
		dir := t.TempDir()
		o, err := Create(filepath.Join(dir, tt.name), tt.f, EncodeOptions{})
		if err == nil {
			o.Abort()
			t.Errorf("%s: Create succeeded", tt.why)
			continue
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: left %v behind", tt.why, entries)
		}
	}
}
