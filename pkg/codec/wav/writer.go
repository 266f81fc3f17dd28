package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/spacecast/spacecast/pkg/audio"
)

// Writer encodes an audio stream as a WAV file. Sizes are written as 0xFFFFFFFF (the streaming
// convention: "to the end of the file") until Close patches them, so a crashed write still reads.
type Writer struct {
	w         io.WriteSeeker
	enc       encoding
	dataSize  int64 // bytes of samples written
	headerLen int64
	sizeOffs  struct{ riff, data, fact int64 }
	buf       []byte
	err       error
	closed    bool
}

// NewWriter writes a WAV header for f to w: bits 16 or 24 give integer PCM, 32 gives IEEE float.
func NewWriter(w io.WriteSeeker, f audio.Format, bits int) (*Writer, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	e := encoding{format: f, bits: bits, block: f.Channels * bits / 8, float: bits == 32}
	if bits != 16 && bits != 24 && bits != 32 {
		return nil, fmt.Errorf("wav: %w: writing %d bits (use 16, 24 or 32 for float)", ErrUnsupported, bits)
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("wav: find start: %w", err)
	}
	le := binary.LittleEndian
	h := make([]byte, 0, 58)
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, 0xFFFFFFFF)
	h = append(h, "WAVE"...)
	tag, fmtSize := uint16(tagPCM), uint32(16)
	if e.float {
		tag, fmtSize = tagFloat, 18 // WAVEFORMATEX with cbSize 0
	}
	h = append(h, "fmt "...)
	h = le.AppendUint32(h, fmtSize)
	h = le.AppendUint16(h, tag)
	h = le.AppendUint16(h, uint16(f.Channels))
	h = le.AppendUint32(h, uint32(f.SampleRate))
	h = le.AppendUint32(h, uint32(f.SampleRate*e.block))
	h = le.AppendUint16(h, uint16(e.block))
	h = le.AppendUint16(h, uint16(bits))
	wr := &Writer{w: w, enc: e}
	wr.sizeOffs.riff = start + 4
	if e.float {
		h = le.AppendUint16(h, 0)
		// A fact chunk (frame count) is required for non-PCM data.
		h = append(h, "fact"...)
		h = le.AppendUint32(h, 4)
		wr.sizeOffs.fact = start + int64(len(h))
		h = le.AppendUint32(h, 0xFFFFFFFF)
	}
	h = append(h, "data"...)
	wr.sizeOffs.data = start + int64(len(h))
	h = le.AppendUint32(h, 0xFFFFFFFF)
	if _, err := w.Write(h); err != nil {
		return nil, fmt.Errorf("wav: write header: %w", err)
	}
	wr.headerLen = int64(len(h))
	return wr, nil
}

// Format returns the format being written.
func (w *Writer) Format() audio.Format { return w.enc.format }

// Write encodes interleaved samples, clipping them to [-1, 1].
func (w *Writer) Write(p []float32) error {
	if w.closed {
		return fmt.Errorf("wav: %w", ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	ch := w.enc.format.Channels
	if len(p)%ch != 0 {
		return fmt.Errorf("wav: write of %d samples, not a multiple of %d channels", len(p), ch)
	}
	bps := w.enc.bits / 8
	for len(p) > 0 {
		n := min(len(p), maxChunk/bps/ch*ch)
		if w.headerLen+w.dataSize+int64(n*bps) > math.MaxUint32-1 {
			w.err = fmt.Errorf("wav: %w (%d bytes written)", ErrTooLarge, w.dataSize)
			return w.err
		}
		w.buf = encode(w.buf[:0], p[:n], w.enc)
		if _, err := w.w.Write(w.buf); err != nil {
			w.err = fmt.Errorf("wav: write at frame %d: %w", w.dataSize/int64(w.enc.block), err)
			return w.err
		}
		w.dataSize += int64(len(w.buf))
		p = p[n:]
	}
	return nil
}

// encode appends samples clipped to [-1, 1]; integers are scaled by 2^(bits-1) and rounded, the
// inverse of decode (so 16-bit round trips are exact), with +1.0 clipped to the largest code.
func encode(dst []byte, p []float32, e encoding) []byte {
	le := binary.LittleEndian
	for _, v := range p {
		v = max(-1, min(1, v)) // NaN passes through min/max as NaN; it becomes 0 below
		if v != v {
			v = 0
		}
		switch e.bits {
		case 16:
			dst = le.AppendUint16(dst, uint16(int16(max(-32768, min(32767, math.Round(float64(v)*(1<<15)))))))
		case 24:
			x := int32(max(-(1 << 23), min(1<<23-1, math.Round(float64(v)*(1<<23)))))
			dst = append(dst, byte(x), byte(x>>8), byte(x>>16))
		case 32:
			dst = le.AppendUint32(dst, math.Float32bits(v))
		}
	}
	return dst
}

// Close pads the data chunk to an even size and patches the RIFF, data and fact sizes. It does not
// close the underlying writer. Closing twice is harmless.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.dataSize&1 == 1 {
		if _, err := w.w.Write([]byte{0}); err != nil {
			return fmt.Errorf("wav: write pad byte: %w", err)
		}
	}
	end := w.sizeOffs.riff - 4 + w.headerLen + w.dataSize + w.dataSize&1
	patch := func(off int64, v uint32) error {
		if off == 0 {
			return nil
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], v)
		if _, err := w.w.Seek(off, io.SeekStart); err != nil {
			return err
		}
		_, err := w.w.Write(b[:])
		return err
	}
	riff := uint32(w.headerLen - 8 + w.dataSize + w.dataSize&1)
	err := errors.Join(
		patch(w.sizeOffs.riff, riff),
		patch(w.sizeOffs.data, uint32(w.dataSize)),
		patch(w.sizeOffs.fact, uint32(w.dataSize/int64(w.enc.block))),
	)
	if err == nil {
		_, err = w.w.Seek(end, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("wav: patch sizes: %w", err)
	}
	return nil
}
