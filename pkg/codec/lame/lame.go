// Package lame encodes PCM to MP3 through libmp3lame and writes the LAME/Info tag that makes the file gapless.
//
// libmp3lame (LGPL) is linked dynamically. LAME reserves the first frame of its output for the Xing/LAME
// tag and fills it in only on request: a file whose first frame is left zeroed decodes 1152 samples of
// silence plus the 576 + 529 samples of codec delay that the tag would have told the decoder to drop.
// Writer.Close asks for the finished tag (lame_get_lametag_frame) and seeks back to write it over the
// reserved frame, so ffmpeg and mpg123 decode exactly the samples that were written, at the same time.
package lame

/*
#cgo LDFLAGS: -lmp3lame
#include <stdarg.h>
#include <stdlib.h>
#include <lame/lame.h>

// LAME's default report functions print to stderr; a library must not.
static void spacecast_lame_quiet(const char *format, va_list ap) {
	(void)format;
	(void)ap;
}

static void spacecast_lame_silence(lame_t gf) {
	lame_set_errorf(gf, spacecast_lame_quiet);
	lame_set_debugf(gf, spacecast_lame_quiet);
	lame_set_msgf(gf, spacecast_lame_quiet);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"unsafe"

	"github.com/spacecast/spacecast/pkg/audio"
)

// DecoderDelay is the delay, in samples per channel, of a standard MPEG Layer III decoder's
// synthesis filterbank (528 + 1). LAME's tag records only the encoder's delay; gapless decoders
// add this themselves.
const DecoderDelay = 529

// chunkFrames bounds the frames handed to LAME per call so the output buffer has a fixed size.
const chunkFrames = 4 * 1152

// mp3BufSize is LAME's documented worst case for chunkFrames input: 1.25 * n + 7200 bytes
// (lame.h, lame_encode_buffer). The same size covers lame_encode_flush's 7200 bytes.
const mp3BufSize = chunkFrames*5/4 + 7200

// Writer encodes interleaved float32 PCM to an MP3 stream.
//
// A Writer is not safe for concurrent use. Close must be called to finish the file; it also frees
// the C encoder state (which a Writer dropped without Close frees when it is garbage collected).
type Writer struct {
	w        io.WriteSeeker
	gf       C.lame_t
	format   audio.Format
	cleanup  runtime.Cleanup // frees gf if the Writer is dropped without Close
	buf      []byte
	pcm      []float32 // sanitised copy of the chunk handed to LAME
	tagOff   int64     // absolute offset of the reserved first frame
	pos      int64     // absolute offset of the next byte written
	frames   int64     // frames (samples per channel) accepted
	err      error     // sticky error: once the output is broken every call reports it
	closed   bool
	closeErr error
	delay    int
	padding  int
}

// NewWriter returns a Writer that encodes PCM of format f to w, starting at w's current offset.
// opts.Prefix is written immediately; the MP3 frames follow it.
func NewWriter(w io.WriteSeeker, f audio.Format, opts Options) (*Writer, error) {
	s, err := opts.resolve(f)
	if err != nil {
		return nil, err
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("lame: find start offset: %w", err)
	}
	gf := C.lame_init()
	if gf == nil {
		return nil, fmt.Errorf("%w: lame_init returned NULL", ErrLAME)
	}
	C.spacecast_lame_silence(gf)
	if err := configure(gf, f, s); err != nil {
		C.lame_close(gf)
		return nil, err
	}
	lw := &Writer{
		w:      w,
		gf:     gf,
		format: f,
		buf:    make([]byte, mp3BufSize),
		pcm:    make([]float32, chunkFrames*f.Channels),
		pos:    start,
	}
	if len(opts.Prefix) > 0 {
		if err := lw.write(opts.Prefix); err != nil {
			C.lame_close(gf)
			lw.gf = nil
			return nil, fmt.Errorf("lame: write prefix: %w", err)
		}
	}
	lw.tagOff = lw.pos
	lw.delay = int(C.lame_get_encoder_delay(gf))
	lw.cleanup = runtime.AddCleanup(lw, func(gf C.lame_t) { C.lame_close(gf) }, gf)
	return lw, nil
}

func configure(gf C.lame_t, f audio.Format, s settings) error {
	var err error
	set := func(name string, rc C.int) {
		if rc != 0 && err == nil {
			err = fmt.Errorf("%w: lame_set_%s returned %d", ErrLAME, name, int(rc))
		}
	}
	set("in_samplerate", C.lame_set_in_samplerate(gf, C.int(f.SampleRate)))
	set("out_samplerate", C.lame_set_out_samplerate(gf, C.int(f.SampleRate)))
	set("num_channels", C.lame_set_num_channels(gf, C.int(f.Channels)))
	set("mode", C.lame_set_mode(gf, lameMode(s.mode)))
	set("quality", C.lame_set_quality(gf, C.int(s.quality)))
	if s.vbr {
		set("VBR", C.lame_set_VBR(gf, C.vbr_default))
		set("VBR_q", C.lame_set_VBR_q(gf, C.int(s.vbrQuality)))
	} else {
		set("VBR", C.lame_set_VBR(gf, C.vbr_off))
		set("brate", C.lame_set_brate(gf, C.int(s.bitrateKbps)))
	}
	// The Xing/LAME tag is the point of this package; LAME's own ID3 writing is not: the caller's
	// Prefix carries the tag, and an automatic ID3v1 would trail the audio.
	set("bWriteVbrTag", C.lame_set_bWriteVbrTag(gf, 1))
	C.lame_set_write_id3tag_automatic(gf, 0)
	if err != nil {
		return err
	}
	if rc := C.lame_init_params(gf); rc < 0 {
		return fmt.Errorf("%w: lame_init_params returned %d for %v", ErrLAME, int(rc), f)
	}
	return nil
}

func lameMode(m Mode) C.MPEG_mode {
	switch m {
	case ModeStereo:
		return C.STEREO
	case ModeMono:
		return C.MONO
	}
	return C.JOINT_STEREO
}

// Format returns the format of the PCM the Writer accepts.
func (w *Writer) Format() audio.Format { return w.format }

// Write encodes interleaved samples; len(samples) must be a multiple of the channel count. The
// slice is neither retained nor modified. NaN is encoded as silence and ±Inf as ±1: libmp3lame
// aborts the whole process on a non-finite sample. Write does not allocate.
func (w *Writer) Write(samples []float32) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	ch := w.format.Channels
	if len(samples)%ch != 0 {
		return fmt.Errorf("%w: %d samples for %d channels", ErrPartialFrame, len(samples), ch)
	}
	for len(samples) > 0 {
		n := min(len(samples)/ch, chunkFrames)
		sanitize(w.pcm[:n*ch], samples[:n*ch])
		pcm := (*C.float)(unsafe.Pointer(&w.pcm[0]))
		out := (*C.uchar)(unsafe.Pointer(&w.buf[0]))
		var rc C.int
		if ch == 1 {
			rc = C.lame_encode_buffer_ieee_float(w.gf, pcm, nil, C.int(n), out, C.int(len(w.buf)))
		} else {
			rc = C.lame_encode_buffer_interleaved_ieee_float(w.gf, pcm, C.int(n), out, C.int(len(w.buf)))
		}
		if rc < 0 {
			w.err = fmt.Errorf("%w: encode at frame %d: %s", ErrLAME, w.frames, encodeError(rc))
			return w.err
		}
		if err := w.write(w.buf[:rc]); err != nil {
			w.err = fmt.Errorf("lame: write at byte %d: %w", w.pos, err)
			return w.err
		}
		w.frames += int64(n)
		samples = samples[n*ch:]
	}
	return nil
}

// sanitize copies src to dst, replacing NaN by 0 and infinities by ±1.
func sanitize(dst, src []float32) {
	for i, v := range src {
		switch {
		case math.IsNaN(float64(v)):
			v = 0
		case v > math.MaxFloat32:
			v = 1
		case v < -math.MaxFloat32:
			v = -1
		}
		dst[i] = v
	}
}

// write writes p to the output and advances the offset.
func (w *Writer) write(p []byte) error {
	n, err := w.w.Write(p)
	w.pos += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}

// encodeError explains lame_encode_buffer*'s negative return codes (lame.h).
func encodeError(rc C.int) string {
	switch rc {
	case -1:
		return "output buffer too small"
	case -2:
		return "out of memory"
	case -3:
		return "lame_init_params not called"
	case -4:
		return "psychoacoustic problem"
	}
	return fmt.Sprintf("code %d", int(rc))
}

// Close flushes the encoder, writes the last frames, rewrites the reserved first frame with the
// finished LAME/Info tag, leaves the output positioned after the last frame, and frees the encoder.
// It does not close the underlying writer. Every error met on the way is returned, joined; a second
// Close returns the same result.
func (w *Writer) Close() error {
	if w.closed {
		return w.closeErr
	}
	w.closed = true
	var errs []error
	if w.err != nil {
		errs = append(errs, w.err)
	} else {
		errs = append(errs, w.finish())
	}
	w.cleanup.Stop()
	C.lame_close(w.gf)
	w.gf = nil
	w.closeErr = errors.Join(errs...)
	return w.closeErr
}

// finish flushes LAME and writes the tag frame. It runs only on an output that has not failed.
func (w *Writer) finish() error {
	out := (*C.uchar)(unsafe.Pointer(&w.buf[0]))
	rc := C.lame_encode_flush(w.gf, out, C.int(len(w.buf)))
	if rc < 0 {
		return fmt.Errorf("%w: flush: %s", ErrLAME, encodeError(rc))
	}
	if err := w.write(w.buf[:rc]); err != nil {
		return fmt.Errorf("lame: write last frames at byte %d: %w", w.pos, err)
	}
	w.padding = int(C.lame_get_encoder_padding(w.gf))
	end := w.pos
	size := C.lame_get_lametag_frame(w.gf, out, C.size_t(len(w.buf)))
	if size == 0 {
		return nil // LAME wrote no reserved frame, so there is nothing to fill in
	}
	if int(size) > len(w.buf) {
		return fmt.Errorf("%w: LAME tag frame needs %d bytes", ErrLAME, int(size))
	}
	if w.tagOff+int64(size) > end {
		return fmt.Errorf("%w: LAME tag frame (%d bytes) is longer than the stream (%d bytes)",
			ErrLAME, int(size), end-w.tagOff)
	}
	if _, err := w.w.Seek(w.tagOff, io.SeekStart); err != nil {
		return fmt.Errorf("lame: seek to LAME tag at byte %d: %w", w.tagOff, err)
	}
	w.pos = w.tagOff
	var errs []error
	if err := w.write(w.buf[:size]); err != nil {
		errs = append(errs, fmt.Errorf("lame: write LAME tag at byte %d: %w", w.tagOff, err))
	}
	if _, err := w.w.Seek(end, io.SeekStart); err != nil {
		errs = append(errs, fmt.Errorf("lame: seek back to end at byte %d: %w", end, err))
	}
	w.pos = end
	return errors.Join(errs...)
}

// EncoderDelay is the number of samples per channel LAME puts before the first input sample
// (576 in LAME 3.100), as the LAME tag records it. A gapless decoder drops it plus DecoderDelay.
func (w *Writer) EncoderDelay() int { return w.delay }

// Padding is the number of samples per channel LAME appended after the last input sample to
// fill the final frame, as the LAME tag records it. It is known only after Close.
func (w *Writer) Padding() int { return w.padding }

// Frames is the number of frames (samples per channel) written so far.
func (w *Writer) Frames() int64 { return w.frames }
