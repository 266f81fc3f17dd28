package ogg

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// DefaultMaxPageDuration is how much audio a page holds before the writer ends it on its own.
const DefaultMaxPageDuration = time.Second

// WriterOption configures an OpusWriter.
type WriterOption func(*OpusWriter)

// WithMaxPageDuration ends a page once it holds d of audio. Shorter pages cost ~27 bytes each and
// bound what a crash can lose; a live recorder uses ~100 ms. d is rounded to whole samples at
// 48 kHz; d ≤ 0 puts every packet on its own page.
func WithMaxPageDuration(d time.Duration) WriterOption {
	return func(w *OpusWriter) { w.maxPageSamples = max(1, int64(d.Seconds()*48000+0.5)) }
}

// WithSerial sets the logical stream's serial number instead of a random one (RFC 3533 §6).
func WithSerial(serial uint32) WriterOption {
	return func(w *OpusWriter) { w.serial = serial }
}

// OpusWriter writes Opus packets as an Ogg Opus stream (RFC 7845).
//
// Every page reaches the underlying writer in a single Write call. The most recent packet is
// always held back from the page being ended, so that Close and CloseWithEnd can put it on the
// final page; what a crash loses is that packet plus the page being filled.
type OpusWriter struct {
	w              io.Writer
	serial         uint32
	seq            uint32
	maxPageSamples int64
	preSkip        int64

	granule     int64 // end of the last packet committed to a page (48 kHz samples, pre-skip included)
	prevGranule int64 // granule of the last page written
	pageSamples int64 // audio on the page being filled
	pageFlags   byte  // FlagContinued when the page begins mid-packet
	pageEnds    bool  // a packet completes on the page being filled
	segments    []byte
	body        []byte
	out         []byte // encoded page

	held        []byte // the most recent packet, not yet on a page
	heldSamples int64
	hasHeld     bool

	err    error // sticky: a failed write leaves the stream unusable
	closed bool
}

// NewOpusWriter writes the header pages for head and tags to w (RFC 7845 §3: OpusHead alone on
// the first page, OpusTags ending the page(s) after it) and returns a writer for the audio packets.
func NewOpusWriter(w io.Writer, head OpusHead, tags OpusTags, opts ...WriterOption) (*OpusWriter, error) {
	ow := &OpusWriter{
		w:              w,
		serial:         rand.Uint32(),
		maxPageSamples: int64(DefaultMaxPageDuration.Seconds() * 48000),
		preSkip:        int64(head.PreSkip),
		segments:       make([]byte, 0, maxSegments),
		body:           make([]byte, 0, 4096),
		out:            make([]byte, 0, 4096),
		held:           make([]byte, 0, 1500),
	}
	for _, o := range opts {
		o(ow)
	}
	hb, err := head.MarshalBinary()
	if err != nil {
		return nil, err
	}
	tb, err := tags.MarshalBinary()
	if err != nil {
		return nil, err
	}
	// Header pages carry granule position 0 (§3).
	ow.pageFlags = FlagBOS
	if err := ow.commit(hb, 0); err != nil {
		return nil, err
	}
	if err := ow.writePage(0); err != nil {
		return nil, err
	}
	if err := ow.commit(tb, 0); err != nil {
		return nil, err
	}
	if err := ow.writePage(0); err != nil {
		return nil, err
	}
	return ow, nil
}

// WritePacket appends one Opus packet; its duration comes from its TOC byte (RFC 6716 §3.1).
// The packet is copied; the caller may reuse pkt at once.
func (w *OpusWriter) WritePacket(pkt []byte) error {
	if w.closed {
		return fmt.Errorf("ogg: %w", ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	n, err := packetSamples(pkt)
	if err != nil {
		return fmt.Errorf("ogg: packet after granule %d: %w", w.granule+w.heldSamples, err)
	}
	if err := w.commitHeld(); err != nil {
		return err
	}
	w.held = append(w.held[:0], pkt...)
	w.heldSamples = int64(n)
	w.hasHeld = true
	return nil
}

// Granule returns the granule position after the last packet written (pre-skip included).
func (w *OpusWriter) Granule() int64 { return w.granule + w.heldSamples }

// Flush ends the page being filled and writes it, so everything but the most recent packet is
// in the underlying writer. It does nothing when no packet waits for a page.
func (w *OpusWriter) Flush() error {
	if w.closed {
		return fmt.Errorf("ogg: %w", ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	if len(w.segments) == 0 {
		return nil
	}
	return w.endPage(0)
}

// Close writes the final page, flagged end-of-stream (RFC 3533 §4), with the stream's full length.
// It does not close the underlying writer. Closing twice is harmless.
func (w *OpusWriter) Close() error {
	if w.closed {
		return nil
	}
	return w.finish(w.Granule())
}

// CloseWithEnd is Close for a stream whose last packet runs past the audio: the final page's
// granule position is preSkip + totalSamples, so decoders drop what follows (RFC 7845 §4.4).
// The end must fall within the final page's audio.
func (w *OpusWriter) CloseWithEnd(totalSamples int64) error {
	if w.closed {
		return nil
	}
	end := w.preSkip + totalSamples
	if w.err == nil && (end > w.Granule() || end < w.prevGranule || totalSamples < 0) {
		return fmt.Errorf("ogg: %w: %d samples asked, final page spans %d to %d", ErrBadEnd,
			totalSamples, w.prevGranule-w.preSkip, w.Granule()-w.preSkip)
	}
	return w.finish(end)
}

// finish writes the held packet and the final page with granule position end.
func (w *OpusWriter) finish(end int64) error {
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.hasHeld { // onto the final page, however full it is
		w.hasHeld = false
		n := w.heldSamples
		w.heldSamples = 0
		if err := w.commit(w.held, n); err != nil {
			return err
		}
	}
	if !w.pageEnds {
		end = -1 // an empty EOS page: no packet completes on it
	}
	w.pageFlags |= FlagEOS
	return w.writePage(end)
}

// commitHeld moves the held packet onto the page being filled.
func (w *OpusWriter) commitHeld() error {
	if !w.hasHeld {
		return nil
	}
	w.hasHeld = false
	n := w.heldSamples
	w.heldSamples = 0
	if err := w.commit(w.held, n); err != nil {
		return err
	}
	if w.pageSamples >= w.maxPageSamples {
		return w.endPage(0)
	}
	return nil
}

// commit laces pkt onto the page being filled (RFC 3533 §5: 255-byte segments, a final segment
// shorter than 255 — zero when the length is a multiple of 255), ending full pages on the way.
func (w *OpusWriter) commit(pkt []byte, samples int64) error {
	for {
		for len(w.segments) < maxSegments && len(pkt) >= maxSegment {
			w.segments = append(w.segments, maxSegment)
			w.body = append(w.body, pkt[:maxSegment]...)
			pkt = pkt[maxSegment:]
		}
		if len(w.segments) < maxSegments {
			w.segments = append(w.segments, byte(len(pkt)))
			w.body = append(w.body, pkt...)
			break
		}
		// The segment table is full mid-packet: end the page; the packet continues on the next.
		if err := w.endPage(FlagContinued); err != nil {
			return err
		}
	}
	w.granule += samples
	w.pageSamples += samples
	w.pageEnds = true
	return nil
}

// endPage writes the page being filled; next is FlagContinued when a packet spills onto the next page.
func (w *OpusWriter) endPage(next byte) error {
	granule := int64(-1) // RFC 3533 §6: no packet finishes on this page
	if w.pageEnds {
		granule = w.granule
	}
	if err := w.writePage(granule); err != nil {
		return err
	}
	w.pageFlags = next
	return nil
}

// writePage encodes and writes the page being filled and starts an empty one.
func (w *OpusWriter) writePage(granule int64) error {
	p := Page{Flags: w.pageFlags, Granule: granule, Serial: w.serial, Sequence: w.seq,
		Segments: w.segments, Body: w.body}
	var err error
	if w.out, err = AppendPage(w.out[:0], &p); err != nil {
		w.err = err
		return w.err
	}
	if _, err := w.w.Write(w.out); err != nil {
		w.err = fmt.Errorf("ogg: write page %d: %w", w.seq, err)
		return w.err
	}
	w.seq++
	if granule >= 0 {
		w.prevGranule = granule
	}
	w.segments, w.body = w.segments[:0], w.body[:0]
	w.pageSamples, w.pageEnds, w.pageFlags = 0, false, 0
	return nil
}
