package mp3

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// TestDecoderMatchesFFmpegAndMpg123 decodes every encoder variant and checks the exact length,
// the channel count, a cross-correlation lag of exactly 0 and the sample agreement against
// ffmpeg's and mpg123's gapless decodes.
func TestDecoderMatchesFFmpegAndMpg123(t *testing.T) {
	for _, s := range sources {
		t.Run(s.name, func(t *testing.T) {
			path := s.encode(t)
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			d, err := NewDecoder(fh)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Format(); got != (audio.Format{SampleRate: s.rate, Channels: s.ch}) {
				t.Fatalf("format %v, want %d Hz %d ch", got, s.rate, s.ch)
			}
			got, err := audio.ReadAll(d)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(got)/s.ch) != d.Len() {
				t.Errorf("decoded %d samples, Len says %d", len(got)/s.ch, d.Len())
			}
			ff := testutil.FFmpegDecode(t, path, 0, 0)
			mp := testutil.Mpg123Decode(t, path, s.ch)
			// The judges disagree with each other on MPEG-2 (measured 29.7 dB for 64k joint
			// stereo at 24 kHz), so we must agree with mpg123 to 60 dB and with ffmpeg as well
			// as mpg123 does, less 1 dB.
			judges := []struct {
				name   string
				ref    []float32
				minSNR float64
			}{
				{"mpg123", mp, 60},
				{"ffmpeg", ff, min(60, snrDB(ff, mp)-1)},
			}
			for _, j := range judges {
				judge, ref := j.name, j.ref
				if len(ref) != len(got) {
					t.Errorf("%s: %d samples, we decode %d", judge, len(ref)/s.ch, len(got)/s.ch)
				}
				a, b := testutil.Mono(ref, s.ch), testutil.Mono(got, s.ch)
				mid := len(a) / 2
				lag, corr := testutil.Lag(a[mid-4096:mid+4096], b[mid-4096+1000:mid+4096-1000], 1200)
				if lag != 1000 {
					t.Errorf("%s: lag %d samples, want 0 (corr %.3f)", judge, lag-1000, corr)
				}
				if snr := snrDB(ref, got); snr < j.minSNR {
					t.Errorf("%s: SNR %.1f dB against our decode, want ≥ %.1f", judge, snr, j.minSNR)
				}
			}
		})
	}
}

// TestDecoderSeek seeks to samples across the file, including frame boundaries and the ends, and
// checks that what follows equals the same stretch of a decode from the start, bit for bit.
func TestDecoderSeek(t *testing.T) {
	for _, s := range []source{sources[0], sources[2], sources[3], sources[7]} {
		t.Run(s.name, func(t *testing.T) {
			path := s.encode(t)
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			d, err := NewDecoder(fh)
			if err != nil {
				t.Fatal(err)
			}
			all, err := audio.ReadAll(d)
			if err != nil {
				t.Fatal(err)
			}
			ch := int64(s.ch)
			spf := int64(d.File().SamplesPerFrame)
			for _, at := range []int64{0, 1, spf - 1, spf, 3*spf + 17, d.Len() / 2, d.Len() - 2000, d.Len() - 1, d.Len()} {
				if err := d.SeekFrame(at); err != nil {
					t.Fatalf("SeekFrame(%d): %v", at, err)
				}
				buf := make([]float32, 1500*ch)
				n, err := audio.ReadFull(d, buf)
				if want := min(1500, d.Len()-at) * ch; int64(n) != want {
					t.Errorf("after SeekFrame(%d): read %d samples, want %d (%v)", at, int64(n)/ch, want/ch, err)
				}
				if dd := maxDiff(all[at*ch:], buf[:n]); dd != 0 {
					t.Errorf("after SeekFrame(%d): differs from the straight decode by up to %g", at, dd)
				}
			}
			if err := d.SeekFrame(d.Len() + 1); err == nil {
				t.Error("SeekFrame past the end succeeded")
			}
		})
	}
}

// TestDecoderBadInput checks the errors for inputs that are not MP3 and that a truncated file
// decodes what is there.
func TestDecoderBadInput(t *testing.T) {
	path := sources[0].encode(t)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m25, err := os.ReadFile(mpeg25.encode(t))
	if err != nil {
		t.Fatal(err)
	}
	s22 := source{"22.05 kHz", 22050, 1, 1, "lame", []string{"--quiet", "-b", "32", "-m", "m", "--resample", "22.05"}, true}
	m22, err := os.ReadFile(s22.encode(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		minLen  int64 // for inputs that decode: at least this many samples
	}{
		{"MPEG-2.5 is refused: go-mp3 cannot decode it", m25, ErrUnsupported, 0},
		{"padded 32 kbit/s 22.05 kHz frames are refused: go-mp3 misreads their size", m22, ErrUnsupported, 0},
		{"an empty file is not MP3", nil, ErrNotMP3, 0},
		{"text is not MP3", []byte(strings.Repeat("hello, world\n", 200)), ErrNotMP3, 0},
		{"a lone ID3v2 tag is not MP3", id3Prefix(), ErrNotMP3, 0},
		{"a file cut in the middle of a frame plays the whole frames before the cut", good[:len(good)/2+100], nil, 44100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDecoder(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewDecoder: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			pcm, err := audio.ReadAll(d)
			if err != nil {
				t.Fatal(err)
			}
			if n := int64(len(pcm) / d.Format().Channels); n < tt.minLen || n > d.Len() {
				t.Errorf("decoded %d samples, want between %d and Len %d", n, tt.minLen, d.Len())
			}
		})
	}
}
