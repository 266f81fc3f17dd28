package id3

import "time"

// Tag is the metadata spacecast reads and writes. Empty fields are not written.
type Tag struct {
	Title   string // TIT2
	Artist  string // TPE1
	Album   string // TALB
	Date    string // YYYY-MM-DD or YYYY; v2.3 TYER + TDAT, v2.4 TDRC
	Comment string // COMM with an empty description
	Genre   string // TCON, as text
	Artwork *Picture
	// Chapters are CHAP frames, listed in this order by one top-level, ordered CTOC.
	Chapters []Chapter
	// Text holds other text frames. A key that is a text frame ID ("TCOM", "TPUB") is that frame;
	// any other key is a TXXX (user-defined text) frame with that description. A TXXX whose
	// description is empty, looks like a frame ID or starts with "TXXX:" is keyed "TXXX:" + description.
	Text map[string]string
}

// Picture is an attached picture (APIC; PIC in v2.2). Marshal writes it as the front cover.
type Picture struct {
	MIME        string // "image/jpeg" or "image/png"
	Data        []byte
	Description string
}

// Chapter is one CHAP frame (ID3v2 Chapter Frame Addendum §3).
type Chapter struct {
	// ID is the element ID, unique in the tag; Marshal fills in "chp0", "chp1"... when empty.
	ID         string
	Start, End time.Duration // millisecond precision
	Title      string        // TIT2 sub-frame
	URL        string        // WXXX sub-frame with an empty description
}
