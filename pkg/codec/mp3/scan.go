package mp3

import (
	"errors"
	"fmt"
	"io"

	"github.com/spacecast/spacecast/pkg/audio"
)

// decoderDelay is the delay, in samples, of the Layer III synthesis (hybrid) filterbank that
// decoders following LAME's convention (ffmpeg, mpg123) add to the encoder delay: 528 + 1.
const decoderDelay = 529

// Frame is one audio frame in a File's index.
type Frame struct {
	Offset        int64  // byte offset of the header in the file
	Header        Header // the frame's header
	Size          int    // frame length in bytes, header included
	MainDataBegin int    // side info main_data_begin: bytes of main data before the header
	MainDataBytes int    // the frame's own main data (all part2_3_length), in whole bytes
}

// slotBytes is the frame's main-data area: the bytes after header, CRC and side info.
func (f *Frame) slotBytes() int { return f.Size - f.Header.MainDataOffset() }

// File is the index of an MP3 file: framing, tags and the gapless timeline (see the package doc).
type File struct {
	Header          Header // header of the first audio frame
	SampleRate      int
	Channels        int
	SamplesPerFrame int
	// Frames indexes the audio frames, the Xing/Info/VBRI frame excluded. It is nil in a File
	// from Probe, which finds frames on demand; FrameCount is right for both.
	Frames []Frame

	// Samples is the gapless length; Skip is how many decoded samples precede sample 0.
	Samples int64
	Skip    int
	// EncoderDelay and EncoderPadding come from the LAME tag (0 without one).
	EncoderDelay, EncoderPadding int
	// DelayGuessed is set when there is no LAME tag: the encoder delay is unknown and decoders
	// play everything (Skip 0); LAME's usual 576 + 529 samples would be a guess.
	DelayGuessed bool

	VBR            bool // the bitrate changes, or a Xing (not Info) tag says so
	Bitrate        int  // average over the audio frames, bit/s
	NominalBitrate int  // the first audio frame's bitrate, bit/s
	Encoder        string

	Xing     *XingTag  // nil when absent
	VBRI     *VBRITag  // nil when absent
	TagFrame ByteRange // the Xing/Info/VBRI frame; empty when absent
	ID3v2    ByteRange // ID3v2 tags at the start; empty when absent
	Tail     ByteRange // ID3v1/APE/Lyrics3 tags at the end; empty when absent
	Junk     int64     // bytes skipped between frames to resynchronise

	frameCount int
	cbr        *cbrIndex // set by Probe instead of Frames
}

// FrameCount is the number of audio frames.
func (f *File) FrameCount() int { return f.frameCount }

// frames returns frames [a, b), from the index or, for a File from Probe, from the file.
func (f *File) frames(a, b int) ([]Frame, error) {
	if f.cbr != nil {
		return f.cbr.frames(a, b)
	}
	return f.Frames[a:b], nil
}

// reservoirStart is a frame early enough that the frames from it to frame k hold a full bit
// reservoir (511 or 255 bytes) before frame k.
func (f *File) reservoirStart(k int) int {
	if f.cbr != nil {
		return max(0, k-(maxReservoir(f.Header)+f.cbr.minSlot()-1)/f.cbr.minSlot())
	}
	s := k
	for have := 0; s > 0 && have < maxReservoir(f.Header); {
		s--
		have += f.Frames[s].slotBytes()
	}
	return s
}

// Format is the PCM format a decoder of f produces.
func (f *File) Format() audio.Format {
	return audio.Format{SampleRate: f.SampleRate, Channels: f.Channels}
}

// Scan indexes every audio frame of an MP3 file without decoding it: ID3v2 at the start and the
// tags at the end are skipped, junk between frames is skipped by resynchronising (a candidate
// header counts only when the next frame's header follows it), and a Xing/Info/VBRI frame is
// parsed and left out of the audio frames. It reads through a buffer, so r is best an *os.File
// or a bytes.Reader; size is the file's length.
func Scan(r io.ReaderAt, size int64) (*File, error) {
	f, w, pos, err := readHead(r, size)
	if err != nil {
		return nil, err
	}
	end, first := w.end, f.Header
	var bytes int64
	for pos < end {
		b, err := w.get(pos, HeaderSize)
		if err != nil {
			return nil, err
		}
		h, herr := ParseHeader(b)
		ok := herr == nil && h.sameStream(first)
		if ok && pos+int64(h.FrameSize()) > end {
			break // a truncated last frame: decoders drop it too
		}
		if !ok {
			next, at, err := w.sync(pos+1, first)
			if errors.Is(err, ErrNotMP3) {
				break
			}
			if err != nil {
				return nil, err
			}
			f.Junk += at - pos
			h, pos = next, at
		}
		fb, err := w.get(pos, h.MainDataOffset())
		if err != nil {
			return nil, err
		}
		si, err := ParseSideInfo(h, fb[h.MainDataOffset()-h.SideInfoSize():])
		if err != nil {
			return nil, fmt.Errorf("mp3: frame %d at byte %d: %w", len(f.Frames), pos, err)
		}
		f.Frames = append(f.Frames, Frame{
			Offset: pos, Header: h, Size: h.FrameSize(),
			MainDataBegin: si.MainDataBegin, MainDataBytes: si.MainDataBytes(),
		})
		if h.BitrateIndex() != f.Frames[0].Header.BitrateIndex() {
			f.VBR = true
		}
		bytes += int64(h.FrameSize())
		pos += int64(h.FrameSize())
	}
	if len(f.Frames) == 0 {
		return nil, fmt.Errorf("%w: no audio frame after the tag frame", ErrNotMP3)
	}
	f.frameCount = len(f.Frames)
	f.finish(f.Frames[0].Header, int64(len(f.Frames)), bytes)
	return f, nil
}

// readHead finds the tags around the audio, the first frame and the Xing/Info/VBRI frame. It
// returns the File so far, a window over the audio and where the audio frames start.
func readHead(r io.ReaderAt, size int64) (*File, *window, int64, error) {
	id3, err := skipID3v2(r, size)
	if err != nil {
		return nil, nil, 0, err
	}
	end, err := tailTags(r, id3.End, size)
	if err != nil {
		return nil, nil, 0, err
	}
	w := &window{r: r, end: end}
	first, pos, err := w.sync(id3.End, 0)
	if err != nil {
		return nil, nil, 0, err
	}
	f := &File{Header: first, ID3v2: id3, Tail: ByteRange{end, size}, Junk: pos - id3.End}
	if err := f.readTagFrame(w, pos); err != nil {
		return nil, nil, 0, err
	}
	if f.TagFrame.Len() > 0 {
		pos = f.TagFrame.End
	}
	return f, w, pos, nil
}

// readTagFrame parses a Xing/Info or VBRI tag in the first frame, at pos.
func (f *File) readTagFrame(w *window, pos int64) error {
	n := f.Header.FrameSize()
	if pos+int64(n) > w.end {
		return nil
	}
	b, err := w.get(pos, n)
	if err != nil {
		return err
	}
	if x, err := ParseXing(b); err == nil {
		f.Xing = x
	} else if v, err := ParseVBRI(b); err == nil {
		f.VBRI = v
	} else {
		return nil
	}
	f.TagFrame = ByteRange{pos, pos + int64(n)}
	return nil
}

// finish derives the timeline and the summary fields from the index and the tags.
func (f *File) finish(h Header, frames, audioBytes int64) {
	f.Header = h
	f.SampleRate = h.SampleRate()
	f.Channels = h.Channels()
	f.SamplesPerFrame = h.SamplesPerFrame()
	f.NominalBitrate = h.Bitrate()
	raw := frames * int64(f.SamplesPerFrame)
	f.Bitrate = int(audioBytes * 8 * int64(f.SampleRate) / raw)
	f.DelayGuessed = true
	f.Samples = raw
	if f.Xing != nil && !f.Xing.Info {
		f.VBR = true
	}
	if f.Xing == nil || f.Xing.LAME == nil {
		return
	}
	l := f.Xing.LAME
	f.Encoder = l.Encoder
	f.EncoderDelay, f.EncoderPadding = l.Delay, l.Padding
	f.DelayGuessed = false
	f.Skip = l.Delay + decoderDelay
	endRaw := raw
	if f.Xing.HasFrames() {
		// ffmpeg: the last sample played is frames·spf − padding + 529 in the raw decode.
		endRaw = min(raw, int64(f.Xing.Frames)*int64(f.SamplesPerFrame)-int64(l.Padding)+decoderDelay)
	}
	f.Samples = max(0, endRaw-int64(f.Skip))
}

// window reads an io.ReaderAt through a block buffer, so indexing a long file costs one read per
// block instead of one per frame.
type window struct {
	r   io.ReaderAt
	end int64 // end of the audio (start of the tail tags)
	buf []byte
	off int64 // file offset of buf[0]
}

const windowSize = 256 << 10

// get returns n bytes at off, valid until the next call. Bytes beyond w.end are ErrShort.
func (w *window) get(off int64, n int) ([]byte, error) {
	if off < 0 || off+int64(n) > w.end {
		return nil, fmt.Errorf("mp3: read %d bytes at byte %d: %w", n, off, ErrShort)
	}
	if off >= w.off && off+int64(n) <= w.off+int64(len(w.buf)) {
		return w.buf[off-w.off : off-w.off+int64(n)], nil
	}
	m := int64(max(n, windowSize))
	m = min(m, w.end-off)
	if cap(w.buf) < int(m) {
		w.buf = make([]byte, m)
	}
	w.buf = w.buf[:m]
	k, err := w.r.ReadAt(w.buf, off)
	if k < int(m) {
		w.buf = w.buf[:k]
		if err == nil || err == io.EOF {
			err = ErrShort
		}
		return nil, fmt.Errorf("mp3: read at byte %d: %w", off, err)
	}
	w.off = off
	return w.buf[:n], nil
}

// sync finds the first frame header at or after pos that is followed by another header of the
// same stream (or by the end of the audio). like, when non-zero, fixes version and rate.
func (w *window) sync(pos int64, like Header) (Header, int64, error) {
	for ; pos+HeaderSize <= w.end; pos++ {
		b, err := w.get(pos, HeaderSize)
		if err != nil {
			return 0, 0, err
		}
		if b[0] != 0xff {
			continue
		}
		h, err := ParseHeader(b)
		if err != nil || (like != 0 && !h.sameStream(like)) {
			continue
		}
		next := pos + int64(h.FrameSize())
		if next == w.end {
			return h, pos, nil
		}
		if next+HeaderSize > w.end {
			continue
		}
		nb, err := w.get(next, HeaderSize)
		if err != nil {
			return 0, 0, err
		}
		if h2, err := ParseHeader(nb); err == nil && h2.sameStream(h) {
			return h, pos, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: no frame sync found", ErrNotMP3)
}
