package codec

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/spacecast/spacecast/internal/memfile"
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
	var mem memfile.File
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
		dec, err = mp3.NewDecoder(bytes.NewReader(mem.Bytes()))
	case Opus:
		dec, err = opus.NewOggStream(bytes.NewReader(mem.Bytes()))
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
