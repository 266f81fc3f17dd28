package codec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/codec/lame"
	"github.com/spacecast/spacecast/pkg/codec/opus"
	"github.com/spacecast/spacecast/pkg/codec/wav"
)

// EncodeOptions are the knobs of the encoders Create picks from.
type EncodeOptions struct {
	// BitrateKbps for MP3 (CBR) and Opus; 0 picks a speech-friendly default per channel count.
	BitrateKbps int
	// Tag is written as an ID3v2 tag in front of MP3 audio (title, artwork, chapters).
	Tag *id3.Tag
	// WAVBits is 16 (default), 24, or 32 (float).
	WAVBits int
}

// DefaultBitrateKbps is what Create uses when EncodeOptions.BitrateKbps is 0.
func DefaultBitrateKbps(k Kind, channels int) int {
	switch k {
	case MP3:
		if channels == 1 {
			return 64
		}
		return 128
	case Opus:
		if channels == 1 {
			return 32
		}
		return 64
	}
	return 0
}

// mp3Quality is LAME's algorithm quality: 3 is LAME's own default (and what ffmpeg uses); 2 costs
// twice the time for no difference a podcast listener hears.
const mp3Quality = 3

// newEncoder makes the encoder for kind writing to w; prefix goes before MP3 audio.
func newEncoder(kind Kind, w io.WriteSeeker, f audio.Format, opts EncodeOptions, prefix []byte) (encoder, error) {
	switch kind {
	case MP3:
		return lame.NewWriter(w, f, lame.Options{BitrateKbps: opts.BitrateKbps, Quality: mp3Quality, Prefix: prefix})
	case WAV:
		bits := opts.WAVBits
		if bits == 0 {
			bits = 16
		}
		return wav.NewWriter(w, f, bits)
	case Opus:
		return opus.NewOggWriter(w, f, opus.OggWriterOptions{BitrateKbps: opts.BitrateKbps})
	}
	return nil, fmt.Errorf("codec: %w: %s", ErrUnknownExtension, kind)
}

type encoder interface {
	Write(samples []float32) error
	Close() error
}

// Output is an audio file being written. Nothing appears at its path until Commit: the audio goes
// to a temporary file beside it, which Commit syncs and renames into place, so a failure or an
// interrupt never leaves a half-written file where a good one stood. Abort removes the temporary file.
type Output struct {
	Path   string
	Kind   Kind
	format audio.Format
	tmp    *os.File
	enc    encoder
	done   bool // committed or aborted

	finished  bool // the encoder was closed
	finishErr error
}

// Create starts an output of the kind named by path's extension.
func Create(path string, f audio.Format, opts EncodeOptions) (*Output, error) {
	kind, err := KindOfPath(path)
	if err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("codec: %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part*")
	if err != nil {
		return nil, fmt.Errorf("codec: create %s: %w", path, err)
	}
	o := &Output{Path: path, Kind: kind, format: f, tmp: tmp}
	if opts.BitrateKbps == 0 {
		opts.BitrateKbps = DefaultBitrateKbps(kind, f.Channels)
	}
	var prefix []byte
	if kind == MP3 && opts.Tag != nil {
		if prefix, err = opts.Tag.Marshal(); err != nil {
			o.Abort()
			return nil, fmt.Errorf("codec: %s: id3 tag: %w", path, err)
		}
	}
	// Not straight into o.enc: a failed constructor returns a typed nil pointer, which in the
	// interface is not nil, and Abort would call Close on it.
	enc, err := newEncoder(kind, tmp, f, opts, prefix)
	if err != nil {
		o.Abort()
		return nil, fmt.Errorf("codec: %s: %w", path, err)
	}
	o.enc = enc
	return o, nil
}

// Format is the PCM format Write expects.
func (o *Output) Format() audio.Format { return o.format }

// Write encodes interleaved samples.
func (o *Output) Write(p []float32) error {
	if err := o.enc.Write(p); err != nil {
		return fmt.Errorf("codec: write %s: %w", o.Path, err)
	}
	return nil
}

// Finish flushes the encoder and syncs the temporary file without moving it into place, so the
// caller can check what was written (TempPath) before it commits or aborts.
func (o *Output) Finish() error {
	if o.finished {
		return o.finishErr
	}
	o.finished = true
	err := o.enc.Close()
	if err == nil {
		err = o.tmp.Sync()
	}
	o.finishErr = errors.Join(err, o.tmp.Close())
	if o.finishErr != nil {
		o.finishErr = fmt.Errorf("codec: finish %s: %w", o.Path, o.finishErr)
	}
	return o.finishErr
}

// TempPath is where the output is being written until Commit.
func (o *Output) TempPath() string { return o.tmp.Name() }

// Commit finishes the encoder, syncs the file and renames it into place.
func (o *Output) Commit() error {
	if o.done {
		return nil
	}
	err := o.Finish()
	o.done = true
	if err == nil {
		if err = os.Rename(o.tmp.Name(), o.Path); err != nil {
			err = fmt.Errorf("codec: finish %s: %w", o.Path, err)
		}
	}
	if err != nil {
		os.Remove(o.tmp.Name())
	}
	return err
}

// Abort drops the output; the destination path is left as it was. Safe to call after Commit.
func (o *Output) Abort() {
	if o.done {
		return
	}
	o.done = true
	if !o.finished {
		o.finished = true
		if o.enc != nil {
			o.enc.Close()
		}
		o.tmp.Close()
	}
	os.Remove(o.tmp.Name())
}

// Copy encodes s into o until s ends, checking ctx between blocks and reporting frames done.
// It does not Commit.
func Copy(ctx context.Context, o *Output, s audio.Stream, advance func(frames int64)) (frames int64, err error) {
	if s.Format() != o.format {
		return 0, fmt.Errorf("codec: %s: %v stream into a %v output: %w", o.Path, s.Format(), o.format, audio.ErrFormatMismatch)
	}
	ch := o.format.Channels
	buf := make([]float32, 8192*ch)
	for {
		if err := ctx.Err(); err != nil {
			return frames, err
		}
		n, rerr := s.Read(buf)
		if n > 0 {
			if err := o.Write(buf[:n]); err != nil {
				return frames, err
			}
			frames += int64(n / ch)
			if advance != nil {
				advance(int64(n / ch))
			}
		}
		if rerr == io.EOF {
			return frames, nil
		}
		if rerr != nil {
			return frames, rerr
		}
	}
}
