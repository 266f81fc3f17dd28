package mp3

import (
	"fmt"
	"io"
)

// Probe is Scan for long constant-bitrate files: when the file starts with an Info tag (LAME's
// tag for CBR) that gives the frame count, and the frames sit exactly where a constant bitrate
// puts them (checked at the middle and at the end), Probe returns a File without a frame index
// (Frames is nil) after a few small reads, and Cut finds the frames it needs arithmetically.
// Any other file gets a full Scan. A File from Probe can be cut but not decoded; Scan it for that.
//
// The check cannot see junk that is a whole number of frames long inserted mid-stream and then
// removed from the end; such a file would be cut in the wrong place, which a Scan avoids.
func Probe(r io.ReaderAt, size int64) (*File, error) {
	f, w, pos, err := readHead(r, size)
	if err != nil {
		return nil, err
	}
	end := w.end
	if x := f.Xing; x == nil || !x.Info || !x.HasFrames() || x.Frames == 0 || pos+HeaderSize > end {
		return Scan(r, size)
	}
	b, err := w.get(pos, HeaderSize)
	if err != nil {
		return nil, err
	}
	h, err := ParseHeader(b)
	if err != nil || !h.sameStream(f.Header) {
		return Scan(r, size)
	}
	c := &cbrIndex{w: window{r: r, end: end}, start: pos, n: int(f.Xing.Frames), h: h}
	_, err1 := c.frames(c.n/2, c.n/2+1)
	last, err2 := c.frames(c.n-1, c.n)
	if err1 != nil || err2 != nil || last[0].Offset+int64(last[0].Size) != end {
		return Scan(r, size)
	}
	f.cbr = c
	f.frameCount = c.n
	f.finish(h, int64(c.n), int64(c.n)*int64(h.FrameSize())) // average size: close enough for Bitrate
	return f, nil
}

// cbrIndex finds the frames of a constant-bitrate stream by arithmetic: frame k starts at
// start + k·N bytes, N = 144·bitrate/fs (72 for MPEG-2/2.5) as a fraction, because an encoder
// pads frames to keep that average (§2.4.2.3, padding_bit); LAME stays within a byte of it.
type cbrIndex struct {
	w     window
	start int64
	n     int
	h     Header
}

// slack is how far from its predicted place a frame may start.
const slack = 8

func (c *cbrIndex) predict(k int) int64 {
	num := int64(144 * c.h.Bitrate())
	if c.h.LSF() {
		num /= 2
	}
	return c.start + int64(k)*num/int64(c.h.SampleRate())
}

// frames indexes frames [a, b): it finds frame a near its predicted place and walks on from
// there, requiring every header to be of the same stream and bitrate.
func (c *cbrIndex) frames(a, b int) ([]Frame, error) {
	if a < 0 || b > c.n || a >= b {
		return nil, fmt.Errorf("mp3: frames [%d, %d) of %d", a, b, c.n)
	}
	p := c.predict(a)
	pos := int64(-1)
	for d := int64(0); d <= slack && pos < 0; d++ {
		for _, q := range []int64{p - d, p + d} {
			if q >= c.start && c.chains(q) {
				pos = q
				break
			}
		}
	}
	if pos < 0 {
		return nil, fmt.Errorf("%w: frame %d is not within %d bytes of byte %d, where a constant bitrate puts it", ErrCorrupt, a, slack, p)
	}
	out := make([]Frame, 0, b-a)
	for k := a; k < b; k++ {
		fb, err := c.w.get(pos, c.h.MainDataOffset())
		if err != nil {
			return nil, err
		}
		h, err := ParseHeader(fb)
		if err != nil || h.BitrateIndex() != c.h.BitrateIndex() || !h.sameStream(c.h) {
			return nil, fmt.Errorf("%w: frame %d at byte %d is not a frame of this CBR stream", ErrCorrupt, k, pos)
		}
		si, err := ParseSideInfo(h, fb[h.MainDataOffset()-h.SideInfoSize():])
		if err != nil {
			return nil, fmt.Errorf("mp3: frame %d at byte %d: %w", k, pos, err)
		}
		out = append(out, Frame{Offset: pos, Header: h, Size: h.FrameSize(), MainDataBegin: si.MainDataBegin, MainDataBytes: si.MainDataBytes()})
		pos += int64(h.FrameSize())
	}
	return out, nil
}

// chains reports whether a header of the stream is at q and the next frame's header (or the end
// of the audio) follows it.
func (c *cbrIndex) chains(q int64) bool {
	b, err := c.w.get(q, HeaderSize)
	if err != nil {
		return false
	}
	h, err := ParseHeader(b)
	if err != nil || h.BitrateIndex() != c.h.BitrateIndex() || !h.sameStream(c.h) {
		return false
	}
	next := q + int64(h.FrameSize())
	if next == c.w.end {
		return true
	}
	nb, err := c.w.get(next, HeaderSize)
	if err != nil {
		return false
	}
	h2, err := ParseHeader(nb)
	return err == nil && h2.sameStream(h)
}

// minSlot is the smallest main-data area of the stream's frames.
func (c *cbrIndex) minSlot() int {
	return c.h.WithBitrateIndex(c.h.BitrateIndex(), false).FrameSize() - c.h.MainDataOffset()
}
