package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/mp3"
	"github.com/spacecast/spacecast/pkg/codec/opus"
)

// RoundTrip encodes pcm as kind would be written and decodes it again, in memory, returning what
// a gapless decoder plays (the same length as pcm). Callers use it to learn what an encoder does
// to loudness and peaks on a few seconds of audio before writing hours of it. WAV returns pcm.
func RoundTrip(kind Kind, f audio.Format, opts EncodeOptions, pcm []float32) ([]float32, error) {
	if kind == WAV {
		return pcm, nil
	}
	opts.Tag = nil
	var mem memFile
	if opts.BitrateKbps == 0 {
		opts.BitrateKbps = DefaultBitrateKbps(kind, f.Channels)
	}
	enc, err := newEncoder(kind, &mem, f, opts, nil)
	if err != nil {
		return nil, err
	}
	if err := enc.Write(pcm); err != nil {
		return nil, errors.Join(err, enc.Close())
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	var dec audio.Stream
	switch kind {
	case MP3:
		dec, err = mp3.NewDecoder(bytes.NewReader(mem.b))
	case Opus:
		dec, err = opus.NewOggStream(bytes.NewReader(mem.b))
	}
	if err != nil {
		return nil, fmt.Errorf("codec: round trip through %s: %w", kind, err)
	}
	out, err := audio.ReadAll(dec)
	if err != nil {
		return nil, fmt.Errorf("codec: round trip through %s: %w", kind, err)
	}
	return out, nil
}

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if need := m.off + int64(len(p)); need > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, need-int64(len(m.b)))...)
	}
	n := copy(m.b[m.off:], p)
	m.off += int64(n)
	return n, nil
}

func (m *memFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += m.off
	case io.SeekEnd:
		offset += int64(len(m.b))
	}
	if offset < 0 {
		return 0, fmt.Errorf("codec: seek to %d", offset)
	}
	m.off = offset
	return offset, nil
}
