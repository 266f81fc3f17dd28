package site

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/codec/mp3"
	"github.com/spacecast/spacecast/pkg/feed"
)

// NotMP3Error is returned for audio that publish cannot put in a feed as it is. Kind is the audio
// format it is (codec.WAV, codec.Opus), or "" when it is not audio spacecast reads at all.
type NotMP3Error struct {
	Path string
	Kind codec.Kind
}

func (e *NotMP3Error) Error() string {
	if e.Kind == "" {
		return fmt.Sprintf("%s is not audio (not an MP3, WAV or Ogg Opus file)", e.Path)
	}
	return fmt.Sprintf("%s is %s file, not an MP3", e.Path, map[codec.Kind]string{codec.WAV: "a WAV", codec.Opus: "an Ogg Opus"}[e.Kind])
}

// Unwrap makes errors.Is(err, ErrNotMP3) and errors.Is(err, ErrBadInput) hold.
func (e *NotMP3Error) Unwrap() []error { return []error{ErrNotMP3, ErrBadInput} }

// ProbeMP3 checks that path is an MP3 file whose frames all arrived and measures it for the
// enclosure: its size in bytes, its exact duration (the LAME tag's encoder delay and padding taken
// off, as gapless players do) and its SHA-256. File is the audio's base name, set by the caller.
func ProbeMP3(path string) (feed.Audio, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return feed.Audio{}, badInput("%s: no such file or folder", path)
	}
	if err != nil {
		return feed.Audio{}, badInput("%w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return feed.Audio{}, errorf("%w", err)
	}
	if st.IsDir() {
		return feed.Audio{}, badInput("%s: a folder that is not a session (no manifest.json)", path)
	}
	if k, err := codec.SniffFile(path); err != nil || k != codec.MP3 {
		if err != nil && !errors.Is(err, codec.ErrUnknownFormat) && !errors.Is(err, codec.ErrEmpty) {
			return feed.Audio{}, errorf("%s: %w", path, err)
		}
		return feed.Audio{}, &NotMP3Error{Path: path, Kind: k}
	}
	idx, err := mp3.Scan(f, st.Size())
	if err != nil {
		if errors.Is(err, mp3.ErrNotMP3) {
			return feed.Audio{}, &NotMP3Error{Path: path}
		}
		return feed.Audio{}, badInput("%s: %w", path, err)
	}
	if idx.Xing != nil && idx.Xing.HasFrames() && int(idx.Xing.Frames) != idx.FrameCount() {
		return feed.Audio{}, badInput("%s: its Xing/Info tag promises %d audio frames, the file holds %d (it was cut short or damaged: make it again)", path, idx.Xing.Frames, idx.FrameCount())
	}
	if idx.Junk > st.Size()/10 {
		return feed.Audio{}, badInput("%s: %d of its %d bytes are not MP3 frames (damaged)", path, idx.Junk, st.Size())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return feed.Audio{}, errorf("%w", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return feed.Audio{}, errorf("read %s: %w", path, err)
	}
	return feed.Audio{
		Bytes:    n,
		Type:     "audio/mpeg",
		Duration: samplesDuration(idx.Samples, idx.SampleRate),
		SHA256:   hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// samplesDuration is n samples at rate as a Duration, exact to the nanosecond without overflow.
func samplesDuration(n int64, rate int) time.Duration {
	r := int64(rate)
	return time.Duration(n/r)*time.Second + time.Duration(n%r)*time.Second/time.Duration(r)
}
