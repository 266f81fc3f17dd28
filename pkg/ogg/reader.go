package ogg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// pageReader reads pages one by one from a byte stream (RFC 3533 §6), checking each checksum.
type pageReader struct {
	src  io.Reader
	br   *bufio.Reader
	off  int64 // input offset of the next page
	hdr  [headerSize + maxSegments]byte
	body []byte

	// The page just read; its slices alias hdr and body.
	page    Page
	pageOff int64
}

func newPageReader(r io.Reader) *pageReader {
	return &pageReader{src: r, br: bufio.NewReaderSize(r, 16<<10), body: make([]byte, 0, 8192)}
}

// next reads the following page. At a clean end of input it returns io.EOF; input that ends
// inside a page gives an error wrapping io.ErrUnexpectedEOF.
func (pr *pageReader) next() error {
	pr.pageOff = pr.off
	if _, err := io.ReadFull(pr.br, pr.hdr[:headerSize]); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return pr.errorf("truncated header: %w", err)
	}
	h, err := parseHeader(pr.hdr[:])
	if err != nil {
		return pr.errorf("%w", err)
	}
	segs := pr.hdr[headerSize : headerSize+h.segments]
	if _, err := io.ReadFull(pr.br, segs); err != nil {
		return pr.errorf("truncated segment table: %w", noEOF(err))
	}
	size := bodySize(segs)
	if cap(pr.body) < size {
		pr.body = make([]byte, size, maxSegments*maxSegment)
	}
	body := pr.body[:size]
	if _, err := io.ReadFull(pr.br, body); err != nil {
		return pr.errorf("truncated body: %w", noEOF(err))
	}
	if got := pageCRC(pr.hdr[:], segs, body); got != h.crc {
		return pr.errorf("%w: stored %08x, computed %08x", ErrBadCRC, h.crc, got)
	}
	pr.off += int64(headerSize + len(segs) + size)
	pr.page = Page{Flags: h.flags, Granule: h.granule, Serial: h.serial, Sequence: h.sequence,
		Segments: segs, Body: body}
	return nil
}

// seek moves to the page starting at input offset off (the source must be an io.Seeker).
func (pr *pageReader) seek(off int64) error {
	s, ok := pr.src.(io.Seeker)
	if !ok {
		return fmt.Errorf("ogg: %w", ErrNotSeekable)
	}
	if _, err := s.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("ogg: seek to byte %d: %w", off, err)
	}
	pr.br.Reset(pr.src)
	pr.off = off
	return nil
}

func (pr *pageReader) errorf(format string, args ...any) error {
	return fmt.Errorf("ogg: page at byte %d: "+format, append([]any{pr.pageOff}, args...)...)
}

// noEOF turns a bare io.EOF inside a structure into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// OpusReader reads the packets of an Ogg Opus stream (RFC 7845), reassembling packets that span
// pages. It follows the first logical stream: pages of other serial numbers (multiplexed streams)
// are skipped, and a chained stream ends at its first link's end-of-stream page.
type OpusReader struct {
	pr     *pageReader
	serial uint32
	head   OpusHead
	tags   OpusTags

	seg      int    // next segment of pr.page to read
	bodyOff  int    // its offset in pr.page.Body
	lastSeg  int    // index of the last segment that ends a packet on pr.page, -1 if none
	partial  []byte // a packet begun on an earlier page
	inPart   bool   // partial holds the start of a packet
	skipCnt  bool   // drop the continued fragment at the start of the next page (after a seek)
	havePg   bool   // pr.page belongs to our stream and is being read
	eos      bool   // the end-of-stream page has been read
	nextSeq  uint32 // expected sequence number of the next page, once seqKnown
	seqKnown bool
	audio    int64 // input offset of the first page after the headers
	err      error
}

// NewOpusReader reads the identification and comment headers (RFC 7845 §5) from r.
// Errors wrap ErrNotOgg when r does not hold Ogg pages and ErrNotOpus when the stream is not Opus.
func NewOpusReader(r io.Reader) (*OpusReader, error) {
	or := &OpusReader{pr: newPageReader(r), lastSeg: -1, partial: make([]byte, 0, 1500)}
	if err := or.pr.next(); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("ogg: %w: empty input", ErrNotOgg)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("ogg: %w: input ends inside the first page", ErrNotOgg)
		}
		return nil, err
	}
	p := &or.pr.page
	if p.Flags&FlagBOS == 0 {
		return nil, fmt.Errorf("ogg: %w: first page lacks the beginning-of-stream flag", ErrNotOgg)
	}
	or.serial = p.Serial
	or.startPage()
	pkt, _, err := or.ReadPacket()
	if err != nil {
		return nil, fmt.Errorf("ogg: %w: no identification header: %w", ErrNotOpus, err)
	}
	if or.head, err = ParseOpusHead(pkt); err != nil {
		return nil, err
	}
	if pkt, _, err = or.ReadPacket(); err != nil {
		return nil, fmt.Errorf("ogg: comment header: %w", err)
	}
	if or.tags, err = ParseOpusTags(pkt); err != nil {
		return nil, err
	}
	or.audio = or.pr.off
	return or, nil
}

// PageOffset is the input offset of the page the last packet returned completed on.
func (r *OpusReader) PageOffset() int64 { return r.pr.pageOff }

// Head returns the identification header.
func (r *OpusReader) Head() OpusHead { return r.head }

// Tags returns the comment header.
func (r *OpusReader) Tags() OpusTags { return r.tags }

// ReadPacket returns the next packet and, when the packet is the last to complete on its page,
// that page's granule position (else -1). The packet is valid until the next call. At the end of
// the stream it returns io.EOF; input that ends without an end-of-stream page returns every whole
// packet, then an error wrapping io.ErrUnexpectedEOF.
func (r *OpusReader) ReadPacket() (pkt []byte, granule int64, err error) {
	if r.err != nil {
		return nil, -1, r.err
	}
	for {
		if r.havePg {
			if pkt, granule, ok := r.nextInPage(); ok {
				return pkt, granule, nil
			}
			r.havePg = false
			if r.pr.page.Flags&FlagEOS != 0 {
				r.eos = true
			}
		}
		if r.eos {
			r.err = io.EOF
			return nil, -1, io.EOF
		}
		if err := r.nextPage(); err != nil {
			if err == io.EOF {
				err = fmt.Errorf("ogg: stream ends at byte %d without an end-of-stream page: %w", r.pr.off, io.ErrUnexpectedEOF)
			}
			r.err = err
			return nil, -1, err
		}
	}
}

// nextPage reads pages until one of our stream's.
func (r *OpusReader) nextPage() error {
	for {
		if err := r.pr.next(); err != nil {
			return err
		}
		if r.pr.page.Serial == r.serial {
			r.startPage()
			return nil
		}
	}
}

// startPage prepares to read the packets of the page just read.
func (r *OpusReader) startPage() {
	p := &r.pr.page
	r.seg, r.bodyOff, r.havePg = 0, 0, true
	r.lastSeg = -1
	for i, v := range p.Segments {
		if v < maxSegment {
			r.lastSeg = i
		}
	}
	// A lost page breaks the packet that spanned it; a page that does not continue one ends it.
	lost := r.seqKnown && p.Sequence != r.nextSeq
	r.nextSeq, r.seqKnown = p.Sequence+1, true
	if r.inPart && (lost || p.Flags&FlagContinued == 0) {
		r.partial, r.inPart = r.partial[:0], false
	}
	if p.Flags&FlagContinued != 0 && (!r.inPart || r.skipCnt) {
		// RFC 3533 §5: the start of this packet is not ours; skip to the first packet boundary.
		for r.seg < len(p.Segments) {
			v := p.Segments[r.seg]
			r.seg++
			r.bodyOff += int(v)
			if v < maxSegment {
				break
			}
		}
	}
	r.skipCnt = false
}

// nextInPage returns the next packet that completes on the current page, or saves the tail of a
// packet that continues on the next one.
func (r *OpusReader) nextInPage() ([]byte, int64, bool) {
	p := &r.pr.page
	start, first := r.bodyOff, r.seg
	for r.seg < len(p.Segments) {
		v := p.Segments[r.seg]
		r.seg++
		r.bodyOff += int(v)
		if v < maxSegment {
			granule := int64(-1)
			if r.seg-1 == r.lastSeg {
				granule = p.Granule
			}
			if r.inPart {
				r.partial = append(r.partial, p.Body[start:r.bodyOff]...)
				r.inPart = false
				return r.partial, granule, true
			}
			return p.Body[start:r.bodyOff], granule, true
		}
	}
	if r.seg > first { // the page ends inside a packet
		if !r.inPart {
			r.partial = r.partial[:0]
		}
		r.partial = append(r.partial, p.Body[start:r.bodyOff]...)
		r.inPart = true
	}
	return nil, -1, false
}

// SeekGranule positions the reader for decoding from granule position g. It finds the last page
// whose granule position is at most g, skips the packets that complete on it, and returns that
// granule position: the start of the next packet ReadPacket returns. When no page ends at or
// before g it rewinds to the first audio packet and returns -1 (the stream's own start). The
// input must be an io.Seeker. The decoder must be reset after a seek (RFC 7845 §4.6).
func (r *OpusReader) SeekGranule(g int64) (int64, error) {
	if _, ok := r.pr.src.(io.Seeker); !ok {
		return -1, fmt.Errorf("ogg: %w", ErrNotSeekable)
	}
	if err := r.pr.seek(r.audio); err != nil {
		return -1, err
	}
	// Scan page headers forwards, skipping bodies: cheap, and right even where granules jump.
	var hdr [headerSize + maxSegments]byte
	at, found, off := r.audio, int64(-1), r.audio
	for {
		if _, err := io.ReadFull(r.pr.br, hdr[:headerSize]); err != nil {
			break
		}
		h, err := parseHeader(hdr[:])
		if err != nil {
			break
		}
		segs := hdr[headerSize : headerSize+h.segments]
		if _, err := io.ReadFull(r.pr.br, segs); err != nil {
			break
		}
		size := bodySize(segs)
		if h.serial == r.serial && h.granule >= 0 {
			if h.granule > g {
				break
			}
			at, found = off, h.granule
		}
		if _, err := r.pr.br.Discard(size); err != nil {
			break
		}
		off += int64(headerSize + h.segments + size)
		if h.serial == r.serial && h.flags&FlagEOS != 0 {
			break
		}
	}
	if err := r.pr.seek(at); err != nil {
		return -1, err
	}
	r.err, r.eos, r.havePg, r.inPart = nil, false, false, false
	r.partial = r.partial[:0]
	r.skipCnt, r.seqKnown = true, false
	if found < 0 {
		return -1, nil
	}
	// Drop the packets that complete on the page found; the next one starts at its granule.
	if err := r.nextPage(); err != nil {
		r.err = err
		return -1, err
	}
	r.seg, r.bodyOff = max(r.seg, r.lastSeg+1), 0
	for _, v := range r.pr.page.Segments[:r.seg] {
		r.bodyOff += int(v)
	}
	return found, nil
}
