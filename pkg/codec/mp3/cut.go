package mp3

import (
	"errors"
	"fmt"
	"io"
)

// Range is a half-open range of samples [Start, End) on a file's gapless timeline.
type Range struct{ Start, End int64 }

// Len is the number of samples in the range.
func (r Range) Len() int64 { return r.End - r.Start }

// CutOptions configures Cut.
type CutOptions struct {
	// Prefix is written before everything else, typically an ID3v2 tag the caller made.
	Prefix []byte
}

// Landed says where one kept range went.
type Landed struct {
	Source Range // the source samples actually kept (joins snap to frame boundaries)
	At     int64 // the output sample where they start
}

// CutResult describes a cut's output.
type CutResult struct {
	Samples int64    // the output's exact gapless length
	Bytes   int64    // bytes written, prefix included
	Frames  int      // audio frames after the Info frame (filler and primers included)
	Delay   int      // encoder delay written in the LAME tag
	Padding int      // padding written in the LAME tag
	Ranges  []Landed // one per kept range, in order
}

// maxReservoir is the largest main_data_begin: 511 bytes (9 bits) in MPEG-1, 255 in MPEG-2/2.5.
func maxReservoir(h Header) int {
	if h.LSF() {
		return 255
	}
	return 511
}

// Cut writes the kept ranges of f (read from src) to w as one MP3, without re-encoding. One range
// is a clip, several are a trim whose kept parts are joined in order. The output is opts.Prefix,
// a fresh Info/Xing frame with a LAME tag, then frames:
//
//   - a filler frame whose side information is all zero (it decodes to silence) and whose slot
//     ends with the bit-reservoir bytes the next frames reach back for;
//   - primer frames, the source frames just before the first kept one (two granules), which prime
//     the decoder's filterbank; the LAME delay hides them and the filler;
//   - the kept frames. The first range starts and the last range ends exactly on its sample, by
//     the LAME delay and padding; inner boundaries snap to the nearest frame boundary (the Landed
//     values report where). At each join the reservoir bytes the next frames need are written
//     into the free end of the frame before the join, whose bitrate is raised when its slot is
//     too small (its own main data does not move), so decoders see a valid stream. When even
//     the top bitrate is too small (320 kbit/s sources), the join moves by up to two frames.
//
// After a join, the first granule of the next
// part lacks its true MDCT overlap, so about 1152 samples there differ from the source's decode.
//
// Cut reads only the frames it keeps and a few before each part (the kept ones twice: once for
// the music CRC, once to copy), through src.ReadAt; with a File from Probe it never reads the
// rest of the file.
func Cut(w io.Writer, src io.ReaderAt, f *File, keep []Range, opts CutOptions) (CutResult, error) {
	var res CutResult
	if f.FrameCount() == 0 {
		return res, fmt.Errorf("%w: the file has no audio frames", ErrRange)
	}
	runs, landed, err := planRuns(f, keep)
	if err != nil {
		return res, err
	}
	res.Ranges = landed
	if len(runs) == 0 {
		return res, fmt.Errorf("%w: nothing left to keep after snapping to frames", ErrRange)
	}
	p := &plan{f: f, src: src, landed: landed}
	if err := p.build(runs); err != nil {
		return res, err
	}
	for i := range landed {
		landed[i].At = res.Samples
		res.Samples += landed[i].Source.Len()
	}
	spf := f.SamplesPerFrame
	res.Frames = len(p.sizes)
	res.Delay = (1+runs[0].primers)*spf + int(runs[0].firstRaw-int64(runs[0].first)*int64(spf)) - decoderDelay
	res.Padding = int(int64(res.Frames*spf) - int64(res.Delay) - res.Samples)
	if res.Delay < 0 || res.Delay > 4095 || res.Padding < 0 || res.Padding > 4095 {
		return res, fmt.Errorf("mp3: cut: delay %d or padding %d outside 0..4095", res.Delay, res.Padding)
	}
	info, err := p.infoFrame(res.Delay, res.Padding)
	if err != nil {
		return res, err
	}
	var n int64
	for _, b := range [][]byte{opts.Prefix, info} {
		m, err := w.Write(b)
		n += int64(m)
		if err != nil {
			return res, fmt.Errorf("mp3: cut: write: %w", err)
		}
	}
	m, err := p.copy(w, nil)
	res.Bytes = n + m
	return res, err
}

// run is a stretch of consecutive source frames in the output.
type run struct {
	first, end int   // kept frames [first, end)
	primers    int   // frames before first emitted as primers (first run only)
	firstRaw   int64 // raw decoded sample of the first kept sample (first run only)
	// firstRange and lastRange index the kept ranges the run starts and ends.
	firstRange, lastRange int
}

// planRuns turns sample ranges into frame runs and the source samples each range keeps.
func planRuns(f *File, keep []Range) ([]run, []Landed, error) {
	if len(keep) == 0 {
		return nil, nil, fmt.Errorf("%w: no range to keep", ErrRange)
	}
	spf, skip := int64(f.SamplesPerFrame), int64(f.Skip)
	var runs []run
	landed := make([]Landed, len(keep))
	prevEnd, prevFrame := int64(0), 0
	for i, r := range keep {
		if r.Start < prevEnd || r.End <= r.Start || r.End > f.Samples {
			return nil, nil, fmt.Errorf("%w: range %d [%d, %d) of a %d-sample file (ranges must be non-empty, in order, not overlapping)",
				ErrRange, i, r.Start, r.End, f.Samples)
		}
		prevEnd = r.End
		a, b := r.Start+skip, r.End+skip // raw decoded samples
		fa, fb := int((a+spf/2)/spf), int((b+spf/2)/spf)
		if len(runs) == 0 {
			fa = int(a / spf) // the first kept sample is exact: the delay hides the rest
		} else {
			a = int64(fa) * spf
		}
		if i == len(keep)-1 {
			fb = int((b + spf - 1) / spf) // the last one too: the padding hides the rest
		} else {
			b = int64(fb) * spf
		}
		if fa < prevFrame {
			fa, a = prevFrame, max(a, int64(prevFrame)*spf)
		}
		if b <= a || fb <= fa {
			landed[i].Source = Range{a - skip, a - skip}
			continue
		}
		landed[i].Source = Range{a - skip, b - skip}
		prevFrame = fb
		if n := len(runs); n > 0 && runs[n-1].end == fa {
			runs[n-1].end, runs[n-1].lastRange = fb, i // contiguous in the source: no join
			continue
		}
		rn := run{first: fa, end: fb, firstRange: i, lastRange: i}
		if len(runs) == 0 {
			rn.primers = min(fa, 2/f.Header.Granules())
			rn.firstRaw = a
		}
		runs = append(runs, rn)
	}
	return runs, landed, nil
}

// piece is a part of the output after the Info frame: source bytes or bytes made here.
type piece struct {
	off, n int64  // source byte range, when lit is nil
	lit    []byte // made bytes (the filler, a frame enlarged for a join)
}

// plan is the output laid out as pieces, with every audio frame's size (for the TOC).
type plan struct {
	f      *File
	src    io.ReaderAt
	pieces []piece
	sizes  []int32
	cbr    bool // every output frame has the same bitrate index
	index  int  // that bitrate index

	win      []Frame // the source frames of the run being planned, from winFirst
	winFirst int

	landed []Landed // adjusted when a join has to move
}

// maxJoinShift bounds how many frames a join may move when the frame before it cannot carry the
// next frames' reservoir.
const maxJoinShift = 4

// load makes frames [a, b) available to frame.
func (p *plan) load(a, b int) error {
	fr, err := p.f.frames(a, b)
	if err != nil {
		return fmt.Errorf("mp3: cut: %w", err)
	}
	p.win, p.winFirst = fr, a
	return nil
}

// frame is source frame j, which the last load covered.
func (p *plan) frame(j int) *Frame { return &p.win[j-p.winFirst] }

func (p *plan) build(runs []run) error {
	r0 := runs[0]
	lead := r0.first - r0.primers
	if err := p.load(p.f.reservoirStart(lead), r0.end); err != nil {
		return err
	}
	tail, err := p.reservoir(lead, p.need(lead, r0.end))
	if err != nil {
		return err
	}
	filler, err := fillerFrame(p.frame(lead).Header, tail)
	if err != nil {
		return err
	}
	p.index = p.frame(lead).Header.BitrateIndex()
	p.cbr = true
	p.addLit(filler)
	p.addFrames(lead, r0.end)
	for i := 1; i < len(runs); i++ {
		if err := p.join(&runs[i-1], &runs[i]); err != nil {
			return err
		}
		p.addFrames(runs[i].first, runs[i].end)
	}
	return nil
}

// join prepares the output for run rn following prev: the reservoir bytes rn's first frames
// reach back for are carried by prev's last frame. When even its largest bitrate cannot hold
// them besides its own main data (a 320 kbit/s stream), the join moves by a frame: first prev
// ends a frame earlier (the frame before has less of its own data in its slot), then rn starts
// a frame later; the Landed ranges say so.
func (p *plan) join(prev, rn *run) error {
	spf := int64(p.f.SamplesPerFrame)
	for shift := 0; ; shift++ {
		if err := p.load(p.f.reservoirStart(rn.first), rn.end); err != nil {
			return err
		}
		n := p.need(rn.first, rn.end)
		if n == 0 {
			return nil
		}
		tail, err := p.reservoir(rn.first, n)
		if err != nil {
			return err
		}
		err = p.carry(tail)
		if err == nil || !errors.Is(err, ErrJoin) || shift == maxJoinShift {
			return err
		}
		switch {
		case shift%2 == 0 && prev.end-prev.first > 1:
			p.dropLast()
			prev.end--
			p.landed[prev.lastRange].Source.End -= spf
		case rn.end-rn.first > 1:
			rn.first++
			p.landed[rn.firstRange].Source.Start += spf
		default:
			return err
		}
	}
}

// dropLast removes the last frame from the plan.
func (p *plan) dropLast() {
	size := int64(p.sizes[len(p.sizes)-1])
	p.sizes = p.sizes[:len(p.sizes)-1]
	last := &p.pieces[len(p.pieces)-1]
	if last.lit == nil && last.n > size {
		last.n -= size
		return
	}
	p.pieces = p.pieces[:len(p.pieces)-1]
}

// need is how many main-data bytes from before frame b the frames [b, end) reach back for.
func (p *plan) need(b, end int) int {
	n, avail := 0, 0
	for j := b; j < end && avail < maxReservoir(p.f.Header); j++ {
		n = max(n, p.frame(j).MainDataBegin-avail)
		avail += p.frame(j).slotBytes()
	}
	return n
}

// reservoir reads the last n bytes of the main-data stream before frame b: the tails of the
// slots of the frames before it (ISO/IEC 11172-3 §2.4.2.7, main_data_begin).
func (p *plan) reservoir(b, n int) ([]byte, error) {
	out := make([]byte, n)
	for j := b - 1; j >= p.winFirst && n > 0; j-- {
		fr := p.frame(j)
		k := min(n, fr.slotBytes())
		off := fr.Offset + int64(fr.Size-k)
		if _, err := p.src.ReadAt(out[n-k:n], off); err != nil {
			return nil, fmt.Errorf("mp3: cut: read reservoir of frame %d at byte %d: %w", b, off, err)
		}
		n -= k
	}
	// n > 0 only when the source's first frames reach before the stream: those bytes were never
	// there, and zeros are what a decoder starting at the file's first frame would have.
	return out, nil
}

// fillerFrame makes a frame shaped like h whose side information is zero (no main data of its
// own, main_data_begin 0: it decodes to silence) and whose slot ends with tail. It keeps h's
// bitrate when the slot is big enough, else takes the smallest bitrate that is.
func fillerFrame(h Header, tail []byte) ([]byte, error) {
	h, ok := fit(h.WithBitrateIndex(h.BitrateIndex(), false), len(tail))
	if !ok {
		return nil, fmt.Errorf("mp3: cut: %d reservoir bytes do not fit a %v filler frame", len(tail), h)
	}
	b := make([]byte, h.FrameSize())
	hb := h.Bytes()
	copy(b, hb[:])
	copy(b[len(b)-len(tail):], tail)
	setCRC(h, b)
	return b, nil
}

// fit returns h, or h with the smallest larger bitrate index (no padding), whose main-data
// slot holds n bytes; ok is false when even the top bitrate is too small.
func fit(h Header, n int) (_ Header, ok bool) {
	for i := h.BitrateIndex(); h.FrameSize()-h.MainDataOffset() < n; i++ {
		if i >= 14 {
			return h, false
		}
		h = h.WithBitrateIndex(i+1, false)
	}
	return h, true
}

// setCRC writes the frame's CRC when its header asks for one (§2.4.2.4).
func setCRC(h Header, frame []byte) {
	if h.Protected() {
		c := frameCRC(h, frame)
		frame[4], frame[5] = byte(c>>8), byte(c)
	}
}

// carry puts tail at the end of the last output frame's slot, after that frame's own main data,
// enlarging the frame by raising its bitrate index when needed.
func (p *plan) carry(tail []byte) error {
	last := &p.pieces[len(p.pieces)-1]
	var frame []byte
	if last.lit != nil {
		frame = last.lit
	} else {
		size := int64(p.sizes[len(p.sizes)-1])
		frame = make([]byte, size)
		if _, err := p.src.ReadAt(frame, last.off+last.n-size); err != nil {
			return fmt.Errorf("mp3: cut: read frame at byte %d: %w", last.off+last.n-size, err)
		}
	}
	h, err := ParseHeader(frame)
	if err != nil {
		return fmt.Errorf("mp3: cut: join frame: %w", err)
	}
	si, err := ParseSideInfo(h, frame[h.MainDataOffset()-h.SideInfoSize():])
	if err != nil {
		return fmt.Errorf("mp3: cut: join frame: %w", err)
	}
	// The frame's own main data inside its slot (a consistent stream ends it there; a broken
	// one may claim more, which is clamped).
	own := min(max(0, si.MainDataBytes()-si.MainDataBegin), h.FrameSize()-h.MainDataOffset())
	nh, ok := fit(h, own+len(tail))
	if !ok {
		return fmt.Errorf("%w: %d reservoir bytes after %d of main data overflow a %v frame", ErrJoin, len(tail), own, nh)
	}
	out := frame
	if nh != h {
		out = make([]byte, nh.FrameSize())
		copy(out, frame[:h.MainDataOffset()+own])
		hb := nh.Bytes()
		copy(out, hb[:])
	} else if last.lit == nil {
		clear(out[h.MainDataOffset()+own:])
	}
	copy(out[len(out)-len(tail):], tail)
	setCRC(nh, out)
	// Replace the frame in the plan.
	if last.lit != nil {
		last.lit = out
	} else {
		last.n -= int64(len(frame))
		if last.n == 0 {
			p.pieces = p.pieces[:len(p.pieces)-1]
		}
		p.pieces = append(p.pieces, piece{lit: out})
	}
	p.sizes[len(p.sizes)-1] = int32(len(out))
	if nh.BitrateIndex() != p.index {
		p.cbr = false
	}
	return nil
}

func (p *plan) addLit(b []byte) {
	p.pieces = append(p.pieces, piece{lit: b})
	p.sizes = append(p.sizes, int32(len(b)))
}

// addFrames appends source frames [a, b), merging byte-contiguous frames into one piece.
func (p *plan) addFrames(a, b int) {
	for j := a; j < b; j++ {
		fr := p.frame(j)
		if fr.Header.BitrateIndex() != p.index {
			p.cbr = false
		}
		p.sizes = append(p.sizes, int32(fr.Size))
		if n := len(p.pieces); n > 0 && p.pieces[n-1].lit == nil && p.pieces[n-1].off+p.pieces[n-1].n == fr.Offset {
			p.pieces[n-1].n += int64(fr.Size)
			continue
		}
		p.pieces = append(p.pieces, piece{off: fr.Offset, n: int64(fr.Size)})
	}
}

// copy writes the pieces to w (w nil: only reads) and returns the bytes written and the
// CRC-16 of all of them (the LAME tag's music CRC).
func (p *plan) copy(w io.Writer, crc *uint16) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	emit := func(b []byte) error {
		if crc != nil {
			*crc = crc16LAME(*crc, b)
		}
		if w == nil {
			return nil
		}
		m, err := w.Write(b)
		n += int64(m)
		if err != nil {
			return fmt.Errorf("mp3: cut: write: %w", err)
		}
		return nil
	}
	for _, pc := range p.pieces {
		if pc.lit != nil {
			if err := emit(pc.lit); err != nil {
				return n, err
			}
			continue
		}
		for off, end := pc.off, pc.off+pc.n; off < end; {
			b := buf[:min(int64(len(buf)), end-off)]
			if _, err := p.src.ReadAt(b, off); err != nil {
				return n, fmt.Errorf("mp3: cut: read at byte %d: %w", off, err)
			}
			if err := emit(b); err != nil {
				return n, err
			}
			off += int64(len(b))
		}
	}
	return n, nil
}

// infoFrame builds the output's Xing/Info frame: frame and byte counts, TOC and a LAME tag with
// the given delay and padding and the music CRC.
func (p *plan) infoFrame(delay, padding int) ([]byte, error) {
	h := p.f.Header.WithBitrateIndex(p.index, false)
	x := &XingTag{Info: p.cbr, Frames: uint32(len(p.sizes))}
	l := &LAMETag{Encoder: "LAME3.100"}
	if src := p.f.Xing; src != nil && src.LAME != nil {
		s := *src.LAME
		l = &LAMETag{Encoder: s.Encoder, Revision: s.Revision, VBRMethod: s.VBRMethod, LowpassHz: s.LowpassHz,
			Flags: s.Flags, Bitrate: s.Bitrate, Misc: s.Misc, MP3Gain: s.MP3Gain, Preset: s.Preset}
	}
	l.Delay, l.Padding = delay, padding
	x.LAME = l
	probe, err := BuildInfoFrame(h, x)
	if err != nil {
		return nil, err
	}
	var audioBytes int64
	for _, s := range p.sizes {
		audioBytes += int64(s)
	}
	total := int64(len(probe)) + audioBytes
	x.Bytes = uint32(total)
	l.MusicLength = uint32(total)
	// TOC: entry i is the position, in 1/256 of the bytes from the Info frame on, of frame
	// floor(i·frames/100), the frame at i% of the duration.
	var pos int64
	i := 0
	for j, s := range p.sizes {
		for ; i < 100 && i*len(p.sizes)/100 == j; i++ {
			x.TOC[i] = byte(min(255, (int64(len(probe))+pos)*256/total))
		}
		pos += int64(s)
	}
	if _, err := p.copy(nil, &l.MusicCRC); err != nil {
		return nil, err
	}
	return BuildInfoFrame(h, x)
}
