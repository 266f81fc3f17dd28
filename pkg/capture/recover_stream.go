package capture

import (
	"bytes"
	"slices"

	"github.com/spacecast/spacecast/pkg/ogg"
)

// The repair of one Ogg Opus stream a crash cut short or damaged, for Recover: scan it page by
// page, keep every whole page and rebuild what the crash tore (the track's timeline follows in
// recover_timeline.go).

// streamRecovery is what recoverStream made of one file.
type streamRecovery struct {
	out            []byte // the recovered file; nil when the file is whole and unchanged
	granule        int64  // the recovered stream's final granule position
	preSkip        int64
	headersRebuilt bool
	cutBytes       int64
	torn           bool // empty, and the file is only a page cut short
	empty          bool // no whole page at all, or nothing to rebuild a damaged head with
	noHead         bool // the head is damaged and channels is not 1 or 2
	drops          []drop
}

// drop is a stretch skipped in the middle of a stream.
type drop struct {
	offset, bytes int64 // in the file as it was
	pages         int
	at            int64 // granule position (recovered stream) after which the audio was lost
	samples       int64 // audio lost, 48 kHz samples
}

func (sr *streamRecovery) report(file string) RecoveredFile {
	return RecoveredFile{File: file, Repaired: sr.out != nil, CutBytes: sr.cutBytes, HeadersRebuilt: sr.headersRebuilt}
}

// recoverStream rebuilds the Ogg Opus stream in b from its whole pages (ogg.Scan). Pages after a
// skipped stretch get granule positions without the lost audio (the caller's timeline keeps them
// in place) and sequence numbers without the hole; a packet cut in two by the damage is left out
// whole. The header pages are kept, or made again with channels and the recorder's pre-skip when
// damaged. The last page is flagged end of stream. RFC 3533 §6, RFC 7845 §3-4.
func recoverStream(b []byte, channels int) *streamRecovery {
	scan := ogg.Scan(b)
	ps := scan.Pages
	sr := &streamRecovery{cutBytes: scan.Tail.Bytes}
	if len(ps) == 0 {
		sr.empty, sr.torn = true, scan.Torn && len(scan.Damaged) == 0
		return sr
	}

	// The header pages (RFC 7845 §3): OpusHead alone on the first page, OpusTags on the next.
	var out []ogg.Page
	i := 0
	var prev *ogg.ScannedPage // the last page kept, as it was in the file
	serial := ps[0].Page.Serial
	if h, ok := headPage(&ps[0]); ok {
		out = append(out, ps[0].Page)
		sr.preSkip = int64(h.PreSkip)
		prev, i = &ps[0], 1
	} else {
		sr.headersRebuilt = true
		for _, p := range ps {
			if p.Page.Granule > 0 {
				serial = p.Page.Serial
				break
			}
		}
		hb, err := ogg.OpusHead{Version: 1, Channels: uint8(channels), PreSkip: PreSkip, InputSampleRate: 48000}.MarshalBinary()
		if err != nil || channels < 1 || channels > 2 {
			sr.empty, sr.noHead = true, true // no channel count to make the head again with
			return sr
		}
		out = append(out, ogg.Page{Flags: ogg.FlagBOS, Serial: serial, Segments: lacing(len(hb)), Body: hb})
		sr.preSkip = PreSkip
	}
	if i < len(ps) && (prev != nil && follows(prev, &ps[i]) || prev == nil && ps[i].Page.Sequence == 1) && tagsPage(&ps[i]) {
		out = append(out, ps[i].Page)
		prev, i = &ps[i], i+1
		if sr.headersRebuilt { // the head page was damaged, the tags page after it is whole
			sr.drops = append(sr.drops, drop{offset: 0, bytes: ps[i-1].Offset, pages: 1})
		}
	} else {
		sr.headersRebuilt = true
		tb, _ := ogg.OpusTags{Vendor: "spacecast"}.MarshalBinary()
		out = append(out, ogg.Page{Serial: serial, Segments: lacing(len(tb)), Body: tb})
	}
	headers := len(out)
	if prev == nil { // the damage took the first page: sequence numbers go on from the tags'
		prev = &ogg.ScannedPage{Page: ogg.Page{Sequence: 1, Serial: serial}}
	}

	// The audio pages.
	var (
		lastOrig  int64 // granule of the last page with one, as in the file
		lastNew   int64 // the same, in the recovered stream
		dropped   int64 // audio lost so far
		since     int64 // samples of packets completed since the last page with a granule
		pend      []byte
		pendFrom  = -1 // index in out of the page where the pending packet began
		cur       *drop
		unit      int64 // the greatest common divisor of the packets' lengths: what a loss is a multiple of
		skippedAt = prev.Offset + int64(prev.Size)
	)
	endPartial := func() { // leave out a packet the damage cut: its beginning on the pages kept
		if len(pend) > 0 && pendFrom >= 0 {
			stripTrailing(&out, pendFrom, headers)
		}
		pend, pendFrom = nil, -1
	}
	for ; i < len(ps); i++ {
		sp := &ps[i]
		p := sp.Page
		if p.Serial != serial || p.Flags&ogg.FlagBOS != 0 || p.Granule == 0 {
			continue // another stream, or a header page out of place: skipped like damage
		}
		gap := !follows(prev, sp)
		if gap {
			if cur == nil {
				cur = &drop{offset: skippedAt, at: lastNew}
			}
			cur.bytes = sp.Offset - cur.offset
			if d := int(p.Sequence) - int(prev.Page.Sequence) - 1; d > 0 {
				cur.pages += d
			}
			endPartial()
		}
		prev, skippedAt = sp, sp.Offset+int64(sp.Size)
		segs, body := p.Segments, p.Body
		continued := p.Flags&ogg.FlagContinued != 0
		if continued && len(pend) == 0 {
			// The page goes on with a packet whose beginning is lost: leave that packet out.
			k := 0
			for k < len(segs) && segs[k] == 255 {
				k++
			}
			n := 0
			for _, v := range segs[:min(k+1, len(segs))] {
				n += int(v)
			}
			segs, body = segs[min(k+1, len(segs)):], body[n:]
			continued = false
		} else if !continued && len(pend) > 0 {
			endPartial() // a packet the stream never finished
		}
		if len(segs) > 0 {
			np := ogg.Page{Serial: serial, Granule: -1, Segments: segs, Body: body}
			if continued {
				np.Flags = ogg.FlagContinued
			}
			out = append(out, np)
		}
		// Count the packets that end here.
		off := 0
		ends := false
		for _, v := range segs {
			if len(pend) == 0 && pendFrom < 0 {
				pendFrom = len(out) - 1
			}
			pend = append(pend, body[off:off+int(v)]...)
			off += int(v)
			if v < 255 {
				if n, err := ogg.PacketSamples(pend); err == nil {
					since += int64(n)
					unit = gcd(unit, int64(n))
				}
				pend, pendFrom, ends = pend[:0], -1, true
			}
		}
		if p.Granule < 0 {
			continue
		}
		if cur != nil {
			cur.samples = max(0, p.Granule-lastOrig-since)
			if p.Flags&ogg.FlagEOS != 0 && unit > 0 {
				// The last page's granule may end the stream before its last packet does (end
				// trimming, RFC 7845 §4.4): what was lost is whole packets, so the rest is the trim.
				if r := cur.samples % unit; r > 0 && unit-r < since {
					cur.samples += unit - r
				}
			}
			dropped += cur.samples
			sr.drops = append(sr.drops, *cur)
			cur = nil
		}
		g := p.Granule - dropped
		if ends {
			out[len(out)-1].Granule = g
		}
		lastOrig, lastNew, since = p.Granule, g, 0
	}
	if cur != nil { // damage after the last page kept: nothing of it is lost audio we can count
		cur.bytes = int64(len(b)) - scan.Tail.Bytes - cur.offset
		sr.drops = append(sr.drops, *cur)
	}
	endPartial()
	sr.granule = 0
	for j := len(out) - 1; j >= headers; j-- {
		if out[j].Granule >= 0 {
			sr.granule = out[j].Granule
			break
		}
	}
	last := &out[len(out)-1]
	last.Flags |= ogg.FlagEOS
	var enc []byte
	for j := range out {
		out[j].Sequence = uint32(j)
		var err error
		if enc, err = ogg.AppendPage(enc, &out[j]); err != nil {
			// A page of the file re-encodes as it was; only a rebuilt header could fail.
			sr.empty = true
			return sr
		}
	}
	if !bytes.Equal(enc, b) {
		sr.out = enc
	}
	return sr
}

// stripTrailing removes from out the packet left unfinished at the end, which began on page
// from: its segments at the end of that page (all 255: it is unfinished) and the pages after,
// which hold nothing else. Header pages (before headers) are never touched.
func stripTrailing(out *[]ogg.Page, from, headers int) {
	if from < headers || from >= len(*out) {
		return
	}
	*out = (*out)[:from+1]
	p := &(*out)[from]
	k := len(p.Segments)
	for k > 0 && p.Segments[k-1] == 255 {
		k--
	}
	if k == 0 {
		*out = (*out)[:from]
		return
	}
	n := 0
	for _, v := range p.Segments[:k] {
		n += int(v)
	}
	p.Segments, p.Body = p.Segments[:k], p.Body[:n]
}

// follows reports whether page b comes right after page a in the file: adjacent bytes, the next
// sequence number, the same stream.
func follows(a, b *ogg.ScannedPage) bool {
	return a.Offset+int64(a.Size) == b.Offset && b.Page.Sequence == a.Page.Sequence+1 && a.Page.Serial == b.Page.Serial
}

// headPage returns the OpusHead of a first page that holds exactly one (RFC 7845 §3).
func headPage(sp *ogg.ScannedPage) (ogg.OpusHead, bool) {
	p := &sp.Page
	if sp.Offset != 0 || p.Flags&ogg.FlagBOS == 0 || p.Granule != 0 || !onePacket(p) {
		return ogg.OpusHead{}, false
	}
	h, err := ogg.ParseOpusHead(p.Body)
	return h, err == nil
}

// tagsPage reports whether a page holds exactly one OpusTags packet (RFC 7845 §5.2).
func tagsPage(sp *ogg.ScannedPage) bool {
	p := &sp.Page
	if p.Flags != 0 || p.Granule != 0 || !onePacket(p) {
		return false
	}
	_, err := ogg.ParseOpusTags(p.Body)
	return err == nil
}

// onePacket reports whether a page holds exactly one whole packet.
func onePacket(p *ogg.Page) bool {
	n := len(p.Segments)
	return n > 0 && p.Segments[n-1] < 255 && !slices.ContainsFunc(p.Segments[:n-1], func(v byte) bool { return v < 255 })
}

// lacing is the segment table of one packet of n bytes (RFC 3533 §5).
func lacing(n int) []byte {
	s := bytes.Repeat([]byte{255}, n/255)
	return append(s, byte(n%255))
}
