package opus

import (
	"fmt"
	"io"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/ogg"
)

// SeekPreRoll is how much audio is decoded and discarded before a seek target so that the
// decoder has converged, the 80 ms RFC 7845 §4.6 recommends.
const SeekPreRoll = 3840

// OggStream decodes an Ogg Opus file to 48 kHz float32 (RFC 7845 §4): pre-skip is removed (§4.2),
// the final page's granule trims the end (§4.4), the output gain is applied (§5.1), and where
// granule positions jump past lost packets the gap is concealed (§4.1) so the timeline holds.
type OggStream struct {
	rd      *ogg.OpusReader
	dec     *Decoder
	format  audio.Format
	gain    float32 // linear output gain; 1 when the header has none
	preSkip int64
	base    int64 // granule position of the first decoded sample
	length  int64 // output frames

	dpos int64     // timeline position (samples since base, pre-skip included) of the next decoded sample
	next int64     // output frame of out[0]
	pcm  []float32 // decoder output
	out  []float32 // part of pcm not yet read

	queue []span // packets of the page being decoded, in arena
	arena []byte
	qi    int
	plc   int64 // samples to conceal before the queued packets
	end   error // how the packet source ended (io.EOF or a real error), once it has

	granules ogg.GranuleTracker // refuses granule positions the packets cannot explain
}

type span struct{ off, n int }

var (
	_ audio.Stream   = (*OggStream)(nil)
	_ audio.Lengther = (*OggStream)(nil)
	_ audio.Seeker   = (*OggStream)(nil)
)

// NewOggStream opens an Ogg Opus file. It reads the stream's last page first (to know its
// length) and then the headers.
func NewOggStream(r io.ReadSeeker) (*OggStream, error) {
	last, _, lerr := ogg.LastGranule(r)
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("opus: find size: %w", err)
	}
	if ra, ok := r.(io.ReaderAt); ok && lerr == nil {
		// Every page's position, checked from its header alone before anything is decoded.
		if err := ogg.CheckGranules(ra, size); err != nil {
			return nil, fmt.Errorf("opus: %w", err)
		}
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("opus: rewind: %w", err)
	}
	rd, err := ogg.NewOpusReader(r)
	if err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	if lerr != nil {
		return nil, fmt.Errorf("opus: find length: %w", lerr)
	}
	head := rd.Head()
	if head.MappingFamily != 0 {
		return nil, fmt.Errorf("opus: %w: family %d, %d channels", ErrUnsupportedMapping, head.MappingFamily, head.Channels)
	}
	dec, err := NewDecoder(int(head.Channels))
	if err != nil {
		return nil, err
	}
	s := &OggStream{
		rd:      rd,
		dec:     dec,
		format:  audio.Format{SampleRate: DecodeRate, Channels: int(head.Channels)},
		gain:    float32(head.OutputGainFactor()),
		preSkip: int64(head.PreSkip),
		pcm:     make([]float32, MaxPacketSamples*int(head.Channels)),
		queue:   make([]span, 0, 64),
		arena:   make([]byte, 0, 16<<10),
	}
	// The first audio page fixes where the stream starts: its granule less its packets' length
	// (RFC 7845 §4.3). Less than zero would be invalid; read it as end trimming, as for a
	// one-page stream, and start at zero.
	granule, _, err := s.fillPage()
	if err != nil {
		return nil, err
	}
	if granule >= 0 {
		s.base = s.granules.Start()
	}
	s.plc = 0
	// The length the last page claims must be one the file's bytes can hold: a forged granule
	// position would otherwise have the stream conceal audio for millennia.
	if err := ogg.CheckSpan(s.base, max(granule, s.base), last, size); err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	s.length = max(0, last-s.base-s.preSkip)
	return s, nil
}

// Format returns 48 kHz and the header's channel count.
func (s *OggStream) Format() audio.Format { return s.format }

// Len returns the stream's length in frames: last granule − start − pre-skip (RFC 7845 §4.4).
func (s *OggStream) Len() int64 { return s.length }

// Head returns the identification header.
func (s *OggStream) Head() ogg.OpusHead { return s.rd.Head() }

// Tags returns the comment header.
func (s *OggStream) Tags() ogg.OpusTags { return s.rd.Tags() }

// Read fills p with decoded frames. A file cut short (a crashed recording) plays to its last whole
// page and ends there with io.EOF: Len is taken from that page's granule position.
func (s *OggStream) Read(p []float32) (int, error) {
	ch := s.format.Channels
	if len(p)%ch != 0 {
		return 0, fmt.Errorf("opus: read into %d samples, not a multiple of %d channels", len(p), ch)
	}
	n := 0
	for n < len(p) {
		if len(s.out) > 0 {
			m := copy(p[n:], s.out)
			s.out = s.out[m:]
			s.next += int64(m / ch)
			n += m
			continue
		}
		if s.next >= s.length {
			return n, io.EOF
		}
		if err := s.decodeNext(); err != nil {
			if err == io.EOF && n > 0 {
				return n, nil
			}
			return n, err
		}
	}
	return n, nil
}

// decodeNext decodes (or conceals) one more chunk into s.out.
func (s *OggStream) decodeNext() error {
	if s.plc > 0 {
		k := min(s.plc, 960)
		q := (k + plcQuantum - 1) / plcQuantum * plcQuantum
		if err := s.dec.DecodePLC(s.pcm, int(q)); err != nil {
			return err
		}
		s.plc -= k
		s.deliver(int(k))
		return nil
	}
	if s.qi == len(s.queue) {
		if s.end != nil {
			return s.end
		}
		_, _, err := s.fillPage()
		return err
	}
	sp := s.queue[s.qi]
	s.qi++
	n, err := s.dec.Decode(s.arena[sp.off:sp.off+sp.n], s.pcm)
	if err != nil {
		return fmt.Errorf("%w (at %.3f s)", err, float64(s.dpos-s.preSkip)/DecodeRate)
	}
	s.deliver(n)
	return nil
}

// deliver exposes the part of the n samples just decoded that lies inside [next, length).
func (s *OggStream) deliver(n int) {
	ch := s.format.Channels
	at := s.dpos - s.preSkip // output frame of pcm[0]
	s.dpos += int64(n)
	lo := max(0, s.next-at)
	hi := min(int64(n), s.length-at)
	if hi <= lo {
		return
	}
	s.out = s.pcm[lo*int64(ch) : hi*int64(ch)]
	s.next = at + lo
	if s.gain != 1 {
		for i := range s.out {
			s.out[i] *= s.gain
		}
	}
}

// fillPage queues the packets up to and including the next one that carries a granule position,
// and schedules concealment when that position says packets are missing before them. It returns
// the granule (-1 if none came) and the queued packets' total duration.
func (s *OggStream) fillPage() (granule, samples int64, err error) {
	s.queue, s.arena, s.qi = s.queue[:0], s.arena[:0], 0
	granule = -1
	for granule == -1 {
		pkt, g, err := s.rd.ReadPacket()
		if err != nil {
			// Decode what is whole first; the end (or the error) comes after.
			s.end = err
			if len(s.queue) == 0 {
				return -1, 0, err
			}
			break
		}
		n, err := ogg.PacketSamples(pkt)
		if err != nil {
			return -1, 0, fmt.Errorf("opus: packet at %.3f s: %w", float64(s.dpos+samples-s.preSkip)/DecodeRate, err)
		}
		s.queue = append(s.queue, span{len(s.arena), len(pkt)})
		s.arena = append(s.arena, pkt...)
		samples += int64(n)
		granule = g
	}
	if granule != -1 {
		if err := s.granules.Page(s.rd.PageOffset(), granule, len(s.queue), samples); err != nil {
			return -1, 0, fmt.Errorf("opus: %w", err)
		}
		if start := granule - s.base - samples; start > s.dpos {
			s.plc = start - s.dpos // RFC 7845 §4.1: a gap in the granule positions is lost audio
		}
	}
	return granule, samples, nil
}

// SeekFrame moves to output frame f. Decoding restarts with a fresh decoder at least
// SeekPreRoll samples before f (RFC 7845 §4.6); the pre-roll is decoded and discarded.
func (s *OggStream) SeekFrame(f int64) error {
	if f < 0 || f > s.length {
		return fmt.Errorf("opus: %w: frame %d of %d", ErrSeekRange, f, s.length)
	}
	target := s.base + s.preSkip + f - SeekPreRoll
	g, err := s.rd.SeekGranule(target)
	if err != nil {
		return fmt.Errorf("opus: seek to frame %d: %w", f, err)
	}
	dec, err := NewDecoder(s.format.Channels)
	if err != nil {
		return err
	}
	s.dec = dec
	s.granules.Seeked(g)
	s.dpos = 0
	if g >= 0 {
		s.dpos = g - s.base
	}
	s.next, s.out = f, nil
	s.queue, s.qi, s.plc, s.end = s.queue[:0], 0, 0, nil
	return nil
}
