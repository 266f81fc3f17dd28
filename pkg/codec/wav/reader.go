package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/spacecast/spacecast/pkg/audio"
)

// Reader decodes a WAV file's data chunk as an audio.Stream.
type Reader struct {
	r       io.ReadSeeker
	enc     encoding
	dataOff int64 // file offset of the first sample
	frames  int64 // whole frames in the data chunk (as far as the file really goes)
	// declared is the frame count the data chunk's header promises (-1 when it does not say).
	declared int64
	pos      int64 // next frame
	buf      []byte
}

// Truncated reports whether the file ends before the data its header promises.
func (r *Reader) Truncated() (declared int64, truncated bool) {
	return r.declared, r.declared > r.frames
}

var (
	_ audio.Stream   = (*Reader)(nil)
	_ audio.Lengther = (*Reader)(nil)
	_ audio.Seeker   = (*Reader)(nil)
)

// NewReader parses the RIFF header and the chunks before the samples: fmt is decoded, unknown
// chunks are skipped (with their pad byte when odd-sized). A data size of 0 or 0xFFFFFFFF (left
// by streaming writers) means "to the end of the file", and a data chunk that claims more than
// the file holds is read as far as it goes.
func NewReader(r io.ReadSeeker) (*Reader, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("wav: find size: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("wav: rewind: %w", err)
	}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("wav: %w: %d bytes", ErrNotWAV, size)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("wav: %w: starts with %q", ErrNotWAV, hdr[0:4])
	}
	off := int64(12)
	var enc *encoding
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if enc == nil {
				return nil, fmt.Errorf("wav: %w: no fmt chunk", ErrBadFormat)
			}
			return nil, fmt.Errorf("wav: no data chunk: %w", noEOF(err))
		}
		off += 8
		id, n := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:]))
		switch id {
		case "fmt ":
			if n > 1<<16 {
				return nil, fmt.Errorf("wav: %w: fmt chunk of %d bytes", ErrBadFormat, n)
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, fmt.Errorf("wav: %w: fmt chunk: %w", ErrBadFormat, noEOF(err))
			}
			e, err := parseFmt(b)
			if err != nil {
				return nil, err
			}
			enc = &e
		case "data":
			if enc == nil {
				return nil, fmt.Errorf("wav: %w: data chunk before fmt", ErrBadFormat)
			}
			avail := size - off
			declared := n / int64(enc.block)
			if n == 0 || n == 0xFFFFFFFF {
				declared = -1 // a streaming writer that never came back to fill in the size
			}
			if declared < 0 || n > avail {
				n = avail
			}
			return &Reader{r: r, enc: *enc, dataOff: off, frames: n / int64(enc.block), declared: declared}, nil
		}
		off += n + n&1 // RIFF chunks are padded to even sizes
		if off > size {
			return nil, fmt.Errorf("wav: chunk %q of %d bytes runs past the end: %w", id, n, io.ErrUnexpectedEOF)
		}
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			return nil, fmt.Errorf("wav: skip chunk %q: %w", id, err)
		}
	}
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Format returns the file's rate and channel count.
func (r *Reader) Format() audio.Format { return r.enc.format }

// Len returns the number of whole frames in the data.
func (r *Reader) Len() int64 { return r.frames }

// BitsPerSample returns the stored sample size; Float reports IEEE float samples.
func (r *Reader) BitsPerSample() int { return r.enc.bits }

// Float reports whether samples are IEEE float.
func (r *Reader) Float() bool { return r.enc.float }

// SeekFrame moves to frame f.
func (r *Reader) SeekFrame(f int64) error {
	if f < 0 || f > r.frames {
		return fmt.Errorf("wav: %w: frame %d of %d", ErrSeekRange, f, r.frames)
	}
	if _, err := r.r.Seek(r.dataOff+f*int64(r.enc.block), io.SeekStart); err != nil {
		return fmt.Errorf("wav: seek to frame %d: %w", f, err)
	}
	r.pos = f
	return nil
}

// maxChunk bounds one underlying read, so Read's buffer stays small whatever len(p) is.
const maxChunk = 64 << 10

// Read decodes up to len(p)/channels frames into p.
func (r *Reader) Read(p []float32) (int, error) {
	ch := r.enc.format.Channels
	if len(p)%ch != 0 {
		return 0, fmt.Errorf("wav: read into %d samples, not a multiple of %d channels", len(p), ch)
	}
	frames := min(int64(len(p)/ch), r.frames-r.pos, int64(maxChunk/r.enc.block))
	if frames <= 0 {
		if r.pos >= r.frames {
			return 0, io.EOF
		}
		return 0, nil
	}
	nb := int(frames) * r.enc.block
	if cap(r.buf) < nb {
		r.buf = make([]byte, nb, max(nb, maxChunk))
	}
	b := r.buf[:nb]
	if _, err := io.ReadFull(r.r, b); err != nil {
		return 0, fmt.Errorf("wav: read frame %d: %w", r.pos, noEOF(err))
	}
	n := int(frames) * ch
	decode(p[:n], b, r.enc)
	r.pos += frames
	return n, nil
}

// decode converts little-endian samples to float32 in [-1, 1): integers are divided by 2^(bits-1)
// (8-bit samples are unsigned, offset 128), the convention ffmpeg and sox share.
func decode(dst []float32, b []byte, e encoding) {
	switch {
	case e.float && e.bits == 32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case e.float:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case e.bits == 8:
		for i := range dst {
			dst[i] = float32(int(b[i])-128) / 128
		}
	case e.bits == 16:
		for i := range dst {
			dst[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:]))) / (1 << 15)
		}
	case e.bits == 24:
		for i := range dst {
			v := int32(uint32(b[3*i])<<8|uint32(b[3*i+1])<<16|uint32(b[3*i+2])<<24) >> 8
			dst[i] = float32(v) / (1 << 23)
		}
	case e.bits == 32:
		for i := range dst {
			dst[i] = float32(float64(int32(binary.LittleEndian.Uint32(b[4*i:]))) / (1 << 31))
		}
	}
}
