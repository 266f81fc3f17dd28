package ogg

import "errors"

var (
	// ErrNotOgg is returned for input that does not start with an Ogg page (RFC 3533 §6).
	ErrNotOgg = errors.New("not an Ogg file (no OggS capture pattern)")
	// ErrNotOpus is returned for an Ogg stream whose first packet is not an OpusHead (RFC 7845 §5.1).
	ErrNotOpus = errors.New("not an Ogg Opus stream")
	// ErrBadCRC is returned for a page whose checksum does not match its bytes (RFC 3533 §6).
	ErrBadCRC = errors.New("page checksum mismatch")
	// ErrBadPage is returned for a page header that breaks RFC 3533 §6 (version, sync, segment table).
	ErrBadPage = errors.New("malformed page")
	// ErrBadHeader is returned for an OpusHead or OpusTags packet that breaks RFC 7845 §5.
	ErrBadHeader = errors.New("malformed Opus header")
	// ErrUnsupportedVersion is returned for an OpusHead whose major version is not 0 (RFC 7845 §5.1).
	ErrUnsupportedVersion = errors.New("unsupported OpusHead version")
	// ErrBadPacket is returned for an Opus packet whose TOC byte and length disagree (RFC 6716 §3).
	ErrBadPacket = errors.New("malformed Opus packet")
	// ErrBadEnd is returned by CloseWithEnd for an end the final page cannot express (RFC 7845 §4.4).
	ErrBadEnd = errors.New("end position outside the final page")
	// ErrClosed is returned for writes after Close.
	ErrClosed = errors.New("writer closed")
	// ErrNotSeekable is returned when seeking needs an io.Seeker the reader was not given.
	ErrNotSeekable = errors.New("input is not seekable")
	// ErrNoGranule is returned by LastGranule when no page carries a granule position.
	ErrNoGranule = errors.New("no page with a granule position")
)

// ErrGranule is wrapped by a GranuleError: a granule position the stream's bytes cannot explain.
var ErrGranule = errors.New("granule position out of range")
