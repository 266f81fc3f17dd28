package ogg

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Header-type flags, RFC 3533 §6 (header_type_flag).
const (
	FlagContinued = 0x01 // the page starts with the rest of a packet begun on an earlier page
	FlagBOS       = 0x02 // first page of a logical bitstream
	FlagEOS       = 0x04 // last page of a logical bitstream
)

const (
	headerSize  = 27  // fixed part of a page header, RFC 3533 §6
	maxSegments = 255 // segment table entries per page
	maxSegment  = 255 // bytes per lacing value
	// MaxPageSize is the largest possible page: header, a full segment table and 255 full segments.
	MaxPageSize = headerSize + maxSegments + maxSegments*maxSegment
)

var capturePattern = [4]byte{'O', 'g', 'g', 'S'}

// Page is one Ogg page (RFC 3533 §6). Segments is the lacing table; Body holds the segments'
// bytes back to back, so len(Body) is the sum of Segments.
type Page struct {
	Flags    byte
	Granule  int64 // -1 when no packet ends on this page
	Serial   uint32
	Sequence uint32
	Segments []byte
	Body     []byte
}

// pageHeader is the fixed 27-byte part of a page, decoded.
type pageHeader struct {
	flags    byte
	granule  int64
	serial   uint32
	sequence uint32
	crc      uint32
	segments int
}

// parseHeader decodes the fixed header of RFC 3533 §6 from b (at least headerSize bytes).
func parseHeader(b []byte) (pageHeader, error) {
	if [4]byte(b[0:4]) != capturePattern {
		return pageHeader{}, ErrNotOgg
	}
	if b[4] != 0 {
		return pageHeader{}, fmt.Errorf("%w: stream structure version %d", ErrBadPage, b[4])
	}
	if b[5]&^(FlagContinued|FlagBOS|FlagEOS) != 0 {
		return pageHeader{}, fmt.Errorf("%w: header type 0x%02x", ErrBadPage, b[5])
	}
	return pageHeader{
		flags:    b[5],
		granule:  int64(binary.LittleEndian.Uint64(b[6:14])),
		serial:   binary.LittleEndian.Uint32(b[14:18]),
		sequence: binary.LittleEndian.Uint32(b[18:22]),
		crc:      binary.LittleEndian.Uint32(b[22:26]),
		segments: int(b[26]),
	}, nil
}

// bodySize is the sum of a segment table's lacing values.
func bodySize(segments []byte) int {
	n := 0
	for _, v := range segments {
		n += int(v)
	}
	return n
}

// pageCRC computes the checksum of a page whose header (with any CRC field) is hdr.
func pageCRC(hdr, segments, body []byte) uint32 {
	var zero [4]byte
	crc := crcUpdate(0, hdr[:22])
	crc = crcUpdate(crc, zero[:])
	crc = crcUpdate(crc, hdr[26:headerSize])
	crc = crcUpdate(crc, segments)
	return crcUpdate(crc, body)
}

// ParsePage decodes the page at the start of b and returns it with the number of bytes it
// occupies. The page's Segments and Body alias b. A b that ends inside the page gives an error
// wrapping io.ErrUnexpectedEOF.
func ParsePage(b []byte) (Page, int, error) {
	if len(b) < headerSize {
		if len(b) >= 4 && [4]byte(b[0:4]) != capturePattern {
			return Page{}, 0, fmt.Errorf("ogg: %w", ErrNotOgg)
		}
		return Page{}, 0, fmt.Errorf("ogg: page header: %w", io.ErrUnexpectedEOF)
	}
	h, err := parseHeader(b)
	if err != nil {
		return Page{}, 0, fmt.Errorf("ogg: %w", err)
	}
	end := headerSize + h.segments
	if len(b) < end {
		return Page{}, 0, fmt.Errorf("ogg: segment table: %w", io.ErrUnexpectedEOF)
	}
	segs := b[headerSize:end]
	n := end + bodySize(segs)
	if len(b) < n {
		return Page{}, 0, fmt.Errorf("ogg: page body: %w", io.ErrUnexpectedEOF)
	}
	body := b[end:n]
	if got := pageCRC(b, segs, body); got != h.crc {
		return Page{}, 0, fmt.Errorf("ogg: %w: stored %08x, computed %08x", ErrBadCRC, h.crc, got)
	}
	return Page{
		Flags: h.flags, Granule: h.granule, Serial: h.serial, Sequence: h.sequence,
		Segments: segs, Body: body,
	}, n, nil
}

// AppendPage appends the encoded page, checksum included, to dst.
func AppendPage(dst []byte, p *Page) ([]byte, error) {
	if len(p.Segments) > maxSegments {
		return dst, fmt.Errorf("ogg: %w: %d segments (at most %d)", ErrBadPage, len(p.Segments), maxSegments)
	}
	if n := bodySize(p.Segments); n != len(p.Body) {
		return dst, fmt.Errorf("ogg: %w: segment table sums to %d bytes, body has %d", ErrBadPage, n, len(p.Body))
	}
	start := len(dst)
	dst = append(dst, capturePattern[:]...)
	dst = append(dst, 0, p.Flags)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(p.Granule))
	dst = binary.LittleEndian.AppendUint32(dst, p.Serial)
	dst = binary.LittleEndian.AppendUint32(dst, p.Sequence)
	dst = append(dst, 0, 0, 0, 0, byte(len(p.Segments)))
	dst = append(dst, p.Segments...)
	dst = append(dst, p.Body...)
	hdr := dst[start:]
	crc := pageCRC(hdr, p.Segments, p.Body)
	binary.LittleEndian.PutUint32(hdr[22:26], crc)
	return dst, nil
}
