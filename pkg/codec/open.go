package codec

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/mp3"
	"github.com/spacecast/spacecast/pkg/codec/opus"
	"github.com/spacecast/spacecast/pkg/codec/wav"
)

// Open opens an audio file for decoding, choosing the decoder by content, not by name.
func Open(path string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	src, err := open(f, path)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return src, nil
}

func open(f *os.File, path string) (*Source, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a folder, not an audio file", path)
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	kind, ok := Sniff(head[:n])
	if !ok {
		// An MP3 may start with junk before its first frame; let the MP3 scanner look.
		kind = MP3
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	src := &Source{Path: path, f: f}
	src.Info.Kind = kind
	src.Info.LengthExact = true
	switch kind {
	case WAV:
		r, err := wav.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if declared, cut := r.Truncated(); cut {
			return nil, fmt.Errorf("%s: %w: its header promises %d frames, %d are there", path, ErrTruncated, declared, r.Len())
		}
		src.Stream = r
		src.Info.Frames = r.Len()
	case Opus:
		r, err := opus.NewOggStream(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		src.Stream = r
		src.Info.Frames = r.Len()
		src.Info.Encoder = r.Tags().Vendor
		src.Info.DelaySamples = int(r.Head().PreSkip)
		src.Info.BitrateKbps = int((st.Size() * 8 / 1000) / max(1, int64(r.Len()/48000)))
		src.Info.VBR = true
	case MP3:
		d, err := mp3.NewDecoder(f)
		if err != nil {
			if !ok {
				return nil, fmt.Errorf("%s: %w", path, ErrUnknownFormat)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		mf := d.File()
		if x := mf.Xing; x != nil && x.HasFrames() && int64(len(mf.Frames)) < int64(x.Frames) {
			return nil, fmt.Errorf("%s: %w: its Xing/Info tag promises %d frames, %d are there", path, ErrTruncated, x.Frames, len(mf.Frames))
		}
		src.Stream = d
		src.Info.Frames = mf.Samples
		src.Info.BitrateKbps = mf.Bitrate / 1000
		src.Info.VBR = mf.VBR
		src.Info.Encoder = mf.Encoder
		src.Info.DelaySamples = mf.EncoderDelay
		src.Info.PaddingSamples = mf.EncoderPadding
		src.Info.LengthExact = !mf.DelayGuessed
	}
	src.Info.Format = src.Stream.Format()
	return src, nil
}

var _ audio.Stream = (*Source)(nil)
