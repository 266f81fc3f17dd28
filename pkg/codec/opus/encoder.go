package opus

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"

	hopus "gopkg.in/hraban/opus.v2"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/ogg"
)

// Application tells libopus what the signal is (RFC 6716 §2.1.8 modes follow from it).
type Application int

const (
	// ApplicationAudio favours fidelity: music, mixed programme.
	ApplicationAudio Application = iota
	// ApplicationVoIP favours speech intelligibility at low bitrates.
	ApplicationVoIP
)

// OggWriterOptions configures NewOggWriter. The zero value is libopus's default bitrate,
// ApplicationAudio, no comments and 1 s pages.
type OggWriterOptions struct {
	BitrateKbps     int           // 0: libopus's default for the rate and channels
	Application     Application   // ApplicationAudio or ApplicationVoIP
	Comments        []string      // "KEY=value" comments for OpusTags (RFC 7845 §5.2)
	MaxPageDuration time.Duration // 0: ogg.DefaultMaxPageDuration
}

// frameDuration is the encoder's frame: 20 ms, the Opus default and the best quality per bit for speech.
const frameDuration = 20 * time.Millisecond

// OggWriter encodes PCM to an Ogg Opus stream. Decoders give back exactly the frames written,
// aligned: pre-skip is the encoder's own lookahead (RFC 7845 §4.2) and the final granule trims
// the padding of the last frame (§4.4).
type OggWriter struct {
	ow        *ogg.OpusWriter
	enc       *hopus.Encoder
	format    audio.Format
	scale     int64     // 48 kHz samples per input sample
	lookahead int64     // encoder delay, input samples
	frame     []float32 // one frame being filled
	fill      int       // samples (interleaved) in frame
	pkt       []byte
	frames    int64 // input frames written
	encoded   int64 // input frames encoded (whole frames, padding included)
	err       error
	closed    bool
}

// NewOggWriter writes the Ogg Opus headers to w and returns a writer taking interleaved PCM in
// format f: 48 kHz, or 8/12/16/24 kHz which libopus encodes natively (the head records the rate),
// mono or stereo.
func NewOggWriter(w io.Writer, f audio.Format, opts OggWriterOptions) (*OggWriter, error) {
	switch f.SampleRate {
	case 8000, 12000, 16000, 24000, 48000:
	default:
		return nil, fmt.Errorf("opus: %w: %d Hz", ErrFormat, f.SampleRate)
	}
	if f.Channels != 1 && f.Channels != 2 {
		return nil, fmt.Errorf("opus: %w: %d channels", ErrFormat, f.Channels)
	}
	app := hopus.AppAudio
	if opts.Application == ApplicationVoIP {
		app = hopus.AppVoIP
	}
	enc, err := hopus.NewEncoder(f.SampleRate, f.Channels, app)
	if err != nil {
		return nil, fmt.Errorf("opus: new encoder: %w", err)
	}
	if opts.BitrateKbps > 0 {
		if err := enc.SetBitrate(opts.BitrateKbps * 1000); err != nil {
			return nil, fmt.Errorf("opus: bitrate %d kb/s: %w", opts.BitrateKbps, err)
		}
	}
	la, err := lookahead(f.SampleRate, f.Channels, app)
	if err != nil {
		return nil, err
	}
	scale := int64(DecodeRate / f.SampleRate)
	head := ogg.OpusHead{
		Version:         1,
		Channels:        uint8(f.Channels),
		PreSkip:         uint16(int64(la) * scale),
		InputSampleRate: uint32(f.SampleRate),
	}
	tags := ogg.OpusTags{Vendor: "spacecast (" + hopus.Version() + ")", Comments: opts.Comments}
	var wopts []ogg.WriterOption
	if opts.MaxPageDuration > 0 {
		wopts = append(wopts, ogg.WithMaxPageDuration(opts.MaxPageDuration))
	}
	ow, err := ogg.NewOpusWriter(w, head, tags, wopts...)
	if err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	return &OggWriter{
		ow:        ow,
		enc:       enc,
		format:    f,
		scale:     scale,
		lookahead: int64(la),
		frame:     make([]float32, int(f.Frames(frameDuration))*f.Channels),
		pkt:       make([]byte, 4000), // RFC 6716 §3.4: a 20 ms frame is at most 1275 bytes
	}, nil
}

// PreSkip returns the pre-skip written to the head, in 48 kHz samples.
func (w *OggWriter) PreSkip() int { return int(w.lookahead * w.scale) }

// Write encodes interleaved samples; len(samples) must be a multiple of the channel count.
func (w *OggWriter) Write(samples []float32) error {
	if w.closed {
		return fmt.Errorf("opus: %w", ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	if len(samples)%w.format.Channels != 0 {
		return fmt.Errorf("opus: write of %d samples, not a multiple of %d channels", len(samples), w.format.Channels)
	}
	w.frames += int64(len(samples) / w.format.Channels)
	for len(samples) > 0 {
		m := copy(w.frame[w.fill:], samples)
		w.fill += m
		samples = samples[m:]
		if w.fill == len(w.frame) {
			if err := w.encodeFrame(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *OggWriter) encodeFrame() error {
	n, err := w.enc.EncodeFloat32(w.frame, w.pkt)
	if err == nil {
		err = w.ow.WritePacket(w.pkt[:n])
	}
	if err != nil {
		w.err = fmt.Errorf("opus: encode frame at %.3f s: %w", w.format.Seconds(w.encoded), err)
		return w.err
	}
	w.fill = 0
	w.encoded += int64(len(w.frame) / w.format.Channels)
	return nil
}

// Flush writes out the Ogg page being filled, so everything encoded but the most recent packet is
// in the underlying writer (a live recording calls it every second).
func (w *OggWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.ow.Flush(); err != nil {
		return fmt.Errorf("opus: %w", err)
	}
	return nil
}

// Close pads and encodes the last frame, encodes until the lookahead has come out, and ends the
// stream so decoders stop after exactly the frames written. It does not close the underlying writer.
func (w *OggWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	for w.fill > 0 || w.encoded < w.frames+w.lookahead {
		clear(w.frame[w.fill:])
		w.fill = len(w.frame)
		if err := w.encodeFrame(); err != nil {
			return err
		}
	}
	if err := w.ow.CloseWithEnd(w.frames * w.scale); err != nil {
		return fmt.Errorf("opus: end stream: %w", err)
	}
	return nil
}

// SilencePacket returns a 20 ms mono Opus packet that decodes to digital silence: what a recorder
// writes where a sender paused (DTX, mute) so the file stays continuous. The packet is encoded
// once per process (an encoder and five frames: most of a recorder's start-up time); each call
// returns its own copy.
func SilencePacket() ([]byte, error) {
	pkt, err := silence()
	return bytes.Clone(pkt), err
}

var silence = sync.OnceValues(encodeSilence)

func encodeSilence() ([]byte, error) {
	enc, err := hopus.NewEncoder(DecodeRate, 1, hopus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus: new encoder: %w", err)
	}
	pcm := make([]float32, DecodeRate/50)
	pkt := make([]byte, 1500)
	var n int
	// The first frames carry the encoder's start-up; a few frames in, silence is steady.
	for range 5 {
		if n, err = enc.EncodeFloat32(pcm, pkt); err != nil {
			return nil, fmt.Errorf("opus: encode silence: %w", err)
		}
	}
	return append([]byte(nil), pkt[:n]...), nil
}
