package mp3

import (
	"errors"
	"fmt"
	"io"

	gomp3 "github.com/hajimehoshi/go-mp3"

	"github.com/spacecast/spacecast/pkg/audio"
)

// Decoder is a gapless MP3 decoder: go-mp3 does the Layer III decoding, this type feeds it only
// the audio frames (no tags, no Info frame, no junk), trims the encoder delay and padding the
// LAME tag records, restores mono, and seeks exactly by decoding from a few frames early.
//
// go-mp3 v0.3.4 cannot decode MPEG-2.5, and it computes the size of a padded MPEG-2 frame as
// (⌊144·bitrate/fs⌋+1)/2, one byte short when ⌊144·bitrate/fs⌋ is even (22.05 kHz at 8, 32, 40,
// 80 or 160 kbit/s, for example): it then misreads every later frame (measured: SNR −0.7 dB
// against mpg123 for a 32 kbit/s 22.05 kHz file). NewFileDecoder refuses both with ErrUnsupported
// rather than play noise.
type Decoder struct {
	file *File
	fr   frameReader
	dec  *gomp3.Decoder
	pos  int64 // next sample to return, on the gapless timeline
	drop int64 // decoded samples still to discard before pos
	pcm  []byte
}

var (
	_ audio.Stream   = (*Decoder)(nil)
	_ audio.Lengther = (*Decoder)(nil)
	_ audio.Seeker   = (*Decoder)(nil)
)

// NewDecoder scans r (see Scan) and returns a decoder positioned at sample 0.
func NewDecoder(r io.ReadSeeker) (*Decoder, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("mp3: find the input's size: %w", err)
	}
	ra, ok := r.(io.ReaderAt)
	if !ok {
		ra = &seekReaderAt{r: r}
	}
	f, err := Scan(ra, size)
	if err != nil {
		return nil, err
	}
	return NewFileDecoder(ra, f)
}

// NewFileDecoder returns a decoder of an already scanned file.
func NewFileDecoder(r io.ReaderAt, f *File) (*Decoder, error) {
	if f.Frames == nil {
		return nil, fmt.Errorf("mp3: decode: the file has no frame index (it came from Probe; use Scan)")
	}
	if f.Header.Version() == MPEG25 {
		return nil, fmt.Errorf("%w: go-mp3 does not decode MPEG-2.5 (%d Hz)", ErrUnsupported, f.SampleRate)
	}
	for i := range f.Frames {
		if h := f.Frames[i].Header; h.LSF() && h.Padding() && 144*h.Bitrate()/h.SampleRate()%2 == 0 {
			return nil, fmt.Errorf("%w: go-mp3 misreads the size of padded %d kbit/s %d Hz frames (frame %d)",
				ErrUnsupported, h.Bitrate()/1000, h.SampleRate(), i)
		}
	}
	d := &Decoder{file: f, fr: frameReader{r: r, frames: f.Frames}, pcm: make([]byte, 4*1152*2)}
	if err := d.SeekFrame(0); err != nil {
		return nil, err
	}
	return d, nil
}

// File is the index the decoder plays.
func (d *Decoder) File() *File { return d.file }

// Format is the source's rate and channel count.
func (d *Decoder) Format() audio.Format { return d.file.Format() }

// Len is the exact gapless length in samples per channel.
func (d *Decoder) Len() int64 { return d.file.Samples }

// SeekFrame moves to a sample on the gapless timeline. It restarts go-mp3 enough frames early
// that the bit reservoir and the filterbank overlap are primed, then discards up to the target.
func (d *Decoder) SeekFrame(frame int64) error {
	f := d.file
	if frame < 0 || frame > f.Samples {
		return fmt.Errorf("mp3: seek to sample %d outside [0, %d]", frame, f.Samples)
	}
	raw := frame + int64(f.Skip)
	k := int(raw / int64(f.SamplesPerFrame))
	d.pos, d.dec = frame, nil
	if frame == f.Samples || k >= len(f.Frames) {
		return nil // at the end: Read reports io.EOF
	}
	start, blind := primeStart(f, k)
	d.drop = raw - int64(start)*int64(f.SamplesPerFrame)
	d.fr.seek(start, blind)
	dec, err := guard(frame, func() (*gomp3.Decoder, error) { return gomp3.NewDecoder(&d.fr) })
	if err != nil {
		return fmt.Errorf("mp3: start decoding at frame %d: %w", start, err)
	}
	d.dec = dec
	return nil
}

// primeStart returns the frame to start decoding from so that frame k decodes exactly, and the
// end of the "blind" frames before the primers. Two granules before k prime the filterbank (the
// IMDCT overlap and the polyphase history); before them, blind frames only fill go-mp3's bit
// reservoir: their side information is zeroed except main_data_begin, so they decode to silence
// instead of misreading data whose reservoir is missing (go-mp3 would decode garbage or fail).
func primeStart(f *File, k int) (start, blindEnd int) {
	p := k - 2/f.Header.Granules()
	if p <= 0 {
		return 0, 0
	}
	s := p
	for have := 0; s > 0 && have < f.Frames[p].MainDataBegin; {
		s--
		have += f.Frames[s].slotBytes()
	}
	return s, p
}

// Read fills p with interleaved float32 samples.
func (d *Decoder) Read(p []float32) (int, error) {
	ch := d.file.Channels
	want := min(int64(len(p)/ch), d.file.Samples-d.pos)
	if want <= 0 || d.dec == nil {
		return 0, io.EOF
	}
	n := 0
	for int64(n) < want {
		m := len(d.pcm) / 4
		if d.drop == 0 {
			m = min(m, int(want)-n)
		} else {
			m = int(min(int64(m), d.drop))
		}
		k, err := guard(d.pos, func() (int, error) { return io.ReadFull(d.dec, d.pcm[:4*m]) })
		k /= 4
		if d.drop > 0 {
			d.drop -= int64(k)
		} else {
			convert(p[n*ch:], d.pcm[:4*k], ch)
			n += k
			d.pos += int64(k)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// Fewer frames than the tag promised (a truncated file): stop here.
			d.dec = nil
			if n == 0 {
				return 0, io.EOF
			}
			return n * ch, nil
		}
		if err != nil {
			d.dec = nil
			return n * ch, fmt.Errorf("mp3: decode near sample %d: %w", d.pos, err)
		}
	}
	return n * ch, nil
}

// guard runs a call into go-mp3, which indexes its tables with values read from the stream
// and panics on some damaged frames (found by FuzzDecode); the panic becomes ErrCorrupt.
func guard[T any](at int64, call func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: go-mp3 failed near sample %d: %v", ErrCorrupt, at, r)
		}
	}()
	return call()
}

// convert turns go-mp3's 16-bit little-endian stereo into float32 with ch channels (go-mp3
// duplicates a mono source into both channels; the left one is kept).
func convert(dst []float32, pcm []byte, ch int) {
	const scale = 1.0 / 32768
	for i, j := 0, 0; i+4 <= len(pcm); i += 4 {
		dst[j] = float32(int16(uint16(pcm[i])|uint16(pcm[i+1])<<8)) * scale
		if ch == 2 {
			dst[j+1] = float32(int16(uint16(pcm[i+2])|uint16(pcm[i+3])<<8)) * scale
		}
		j += ch
	}
}

// frameReader presents a run of indexed frames as one contiguous stream, one frame per ReadAt.
type frameReader struct {
	r      io.ReaderAt
	frames []Frame
	next   int    // index of the next frame to load
	blind  int    // frames before this one are fed with their side info zeroed
	buf    []byte // rest of the current frame
	store  [2048]byte
}

func (fr *frameReader) seek(i, blind int) { fr.next, fr.blind, fr.buf = i, blind, nil }

func (fr *frameReader) Read(p []byte) (int, error) {
	if len(fr.buf) == 0 {
		if fr.next >= len(fr.frames) {
			return 0, io.EOF
		}
		f := &fr.frames[fr.next]
		b := fr.store[:f.Size]
		if _, err := fr.r.ReadAt(b, f.Offset); err != nil {
			return 0, fmt.Errorf("mp3: read frame %d at byte %d: %w", fr.next, f.Offset, err)
		}
		if fr.next < fr.blind {
			blindSideInfo(f.Header, b)
		}
		fr.next++
		fr.buf = b
	}
	n := copy(p, fr.buf)
	fr.buf = fr.buf[n:]
	return n, nil
}

// seekReaderAt adapts an io.ReadSeeker to io.ReaderAt for a single goroutine.
type seekReaderAt struct{ r io.ReadSeeker }

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(s.r, p)
}

// blindSideInfo zeroes a frame's side information except main_data_begin (9 bits in MPEG-1, 8 in
// MPEG-2/2.5, §2.4.1.7): the frame then carries no main data of its own and decodes to silence,
// while its slot still feeds the bit reservoir of the frames after it.
func blindSideInfo(h Header, frame []byte) {
	si := frame[h.MainDataOffset()-h.SideInfoSize() : h.MainDataOffset()]
	if h.LSF() {
		clear(si[1:])
		return
	}
	si[1] &= 0x80
	clear(si[2:])
}
