package browser

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// toneWAV returns the bytes of a 16-bit WAV written by testutil (not by the code under test).
func toneWAV(t testing.TB, frames, rate, channels int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone.wav")
	testutil.WriteWAV16(t, path, testutil.Sine(frames, rate, channels, 440, 0.5), rate, channels)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withChunk inserts a chunk between the fmt and data chunks of a canonical 44-byte-header WAV.
func withChunk(b []byte, id string, body []byte) []byte {
	var c []byte
	c = append(c, id...)
	c = binary.LittleEndian.AppendUint32(c, uint32(len(body)))
	c = append(c, body...)
	if len(body)%2 == 1 {
		c = append(c, 0)
	}
	out := append(append(append([]byte{}, b[:36]...), c...), b[36:]...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func TestParseWAV(t *testing.T) {
	good := toneWAV(t, 480, 48000, 1)
	stereo := toneWAV(t, 441, 44100, 2)
	set := func(b []byte, off int, v uint16) []byte {
		b = append([]byte{}, b...)
		binary.LittleEndian.PutUint16(b[off:], v)
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		frames  int
		wantErr string
	}{
		{"a mono 48 kHz 16-bit file is accepted with its frame count", good, 480, ""},
		{"a stereo 44.1 kHz file counts frames, not samples", stereo, 441, ""},
		{"an odd-sized LIST chunk before the data is skipped with its pad byte", withChunk(good, "LIST", []byte("INFOx")), 480, ""},
		{"a data chunk cut short still plays: the frames present count", good[:44+200], 100, ""},
		{"an empty input is not a WAV file", nil, 0, "no RIFF/WAVE header"},
		{"an MP3 is not a WAV file", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb"), 0, "no RIFF/WAVE header"},
		{"a compressed format tag is refused", set(good, 20, 0x55), 0, "not PCM"},
		{"zero channels are refused", set(good, 22, 0), 0, "0 channels"},
		{"12 bits a sample are refused", set(good, 34, 12), 0, "12 bits"},
		{"a header without chunks has no fmt chunk", good[:12], 0, "no fmt chunk"},
		{"a fmt chunk without data has no data chunk", good[:36], 0, "no data chunk"},
		{"an empty data chunk has no audio", good[:44], 0, "no audio"},
		{"a fmt chunk claiming more bytes than the file holds is named", set(good, 16, 4000), 0, `chunk "fmt "`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := parseWAV(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.dataFrames != tc.frames {
				t.Errorf("frames = %d, want %d", w.dataFrames, tc.frames)
			}
		})
	}
}

// FuzzParseWAV: any bytes give an answer or an error, never a panic, and an accepted file's data
// fits inside it.
func FuzzParseWAV(f *testing.F) {
	good := toneWAV(f, 64, 48000, 1)
	f.Add(good)
	f.Add(toneWAV(f, 33, 8000, 2))
	f.Add(withChunk(good, "LIST", []byte("INFOabc")))
	f.Add(good[:40])
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := parseWAV(b)
		if err != nil {
			return
		}
		if w.dataFrames <= 0 || w.dataBytes > len(b) || w.channels < 1 || w.rate <= 0 {
			t.Fatalf("accepted %d bytes as %+v", len(b), w)
		}
	})
}
