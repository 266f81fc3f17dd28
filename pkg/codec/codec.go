// Package codec opens and creates audio files by their content and extension, over the format
// packages below it (wav, mp3, lame, opus). It is the one place that knows which formats exist.
package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spacecast/spacecast/pkg/audio"
)

// Kind names a container/codec pair spacecast reads or writes.
type Kind string

// The kinds spacecast handles.
const (
	WAV  Kind = "wav"
	MP3  Kind = "mp3"
	Opus Kind = "opus" // Ogg Opus, RFC 7845
)

var (
	// ErrUnknownFormat is returned for input that is none of the formats spacecast reads.
	ErrUnknownFormat = errors.New("not a WAV, MP3 or Ogg Opus file")
	// ErrEmpty is returned for an empty input file.
	ErrEmpty = errors.New("file is empty")
	// ErrTruncated is returned for a file that ends before the audio its header promises.
	ErrTruncated = errors.New("file is truncated (cut short while copying or downloading: get it again)")
	// ErrUnknownExtension is returned for an output name whose extension names no format.
	ErrUnknownExtension = errors.New("unknown output extension (use .mp3, .wav or .opus)")
)

// Sniff tells the kind of a file from its first bytes.
func Sniff(head []byte) (Kind, bool) {
	switch {
	case len(head) >= 12 && (bytes.Equal(head[:4], []byte("RIFF")) || bytes.Equal(head[:4], []byte("RF64"))) && bytes.Equal(head[8:12], []byte("WAVE")):
		return WAV, true
	case len(head) >= 4 && bytes.Equal(head[:4], []byte("OggS")):
		return Opus, true
	case len(head) >= 3 && bytes.Equal(head[:3], []byte("ID3")):
		return MP3, true
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 && head[1]&0x06 == 0x02:
		// Frame sync and Layer III (ISO/IEC 11172-3 §2.4.2.3: layer bits '01').
		return MP3, true
	}
	return "", false
}

// KindOfPath returns the output kind named by a file's extension.
func KindOfPath(path string) (Kind, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".mp3":
		return MP3, nil
	case ".wav", ".wave":
		return WAV, nil
	case ".opus", ".ogg", ".oga":
		return Opus, nil
	}
	return "", fmt.Errorf("%s: %w", path, ErrUnknownExtension)
}

// SniffFile opens path just far enough to tell its kind.
func SniffFile(path string) (Kind, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 16)
	n, err := io.ReadFull(f, head)
	if n == 0 {
		if err == io.EOF {
			return "", ErrEmpty
		}
		return "", err
	}
	k, ok := Sniff(head[:n])
	if !ok {
		return "", ErrUnknownFormat
	}
	return k, nil
}

// Info describes a decoded source.
type Info struct {
	Kind   Kind
	Format audio.Format
	// Frames is the exact decoded length, or -1 when the container does not say.
	Frames int64
	// BitrateKbps is the nominal or average bitrate of compressed input; 0 for PCM.
	BitrateKbps int
	VBR         bool
	Encoder     string
	// DelaySamples and PaddingSamples are the encoder delay and end padding a gapless decoder trims.
	DelaySamples, PaddingSamples int
	// LengthExact is false when the length is an estimate (an MP3 without a LAME tag).
	LengthExact bool
}

// Source is an open, decodable audio file.
type Source struct {
	audio.Stream
	Info Info
	Path string
	f    *os.File
}

// Close releases the file.
func (s *Source) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Read decodes the next frames; an error other than io.EOF names the file.
func (s *Source) Read(p []float32) (int, error) {
	n, err := s.Stream.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", s.Path, err)
	}
	return n, err
}

// Len reports the exact length when known.
func (s *Source) Len() int64 { return s.Info.Frames }

// SeekFrame seeks the decoder when it can.
func (s *Source) SeekFrame(frame int64) error {
	sk, ok := s.Stream.(audio.Seeker)
	if !ok {
		return fmt.Errorf("codec: %s: %s input cannot seek", s.Path, s.Info.Kind)
	}
	return sk.SeekFrame(frame)
}
