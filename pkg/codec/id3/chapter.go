package id3

import (
	"fmt"
	"time"
)

// noOffset marks an unused byte offset in CHAP (Chapter Frame Addendum §3).
const noOffset = 0xFFFFFFFF

// CTOC flags (Chapter Frame Addendum §4): bit 1 top-level, bit 0 ordered.
const (
	tocTopLevel = 0x02
	tocOrdered  = 0x01
)

// tocID is the element ID of the table of contents Marshal writes.
const tocID = "toc"

// chapter decodes CHAP (Chapter Frame Addendum §3): element ID, start and end time in ms, start and
// end byte offsets, then embedded frames (TIT2 title, WXXX or another URL frame).
func (d *decoder) chapter(b []byte) error {
	id, rest, ok := cutString(encLatin1, b)
	if !ok || len(rest) < 16 {
		return fmt.Errorf("%w: CHAP of %d bytes", ErrTruncated, len(b))
	}
	c := Chapter{
		ID:    string(id),
		Start: time.Duration(be32(rest)) * time.Millisecond,
		End:   time.Duration(be32(rest[4:])) * time.Millisecond,
	}
	sub, err := parseFrames(d.major, d.tagUnsync, rest[16:])
	if err != nil {
		return within(err, "chapter %q", id)
	}
	for _, f := range sub {
		switch {
		case f.id == "TIT2":
			if c.Title, err = textFrame(f.data); err != nil {
				return within(err, "TIT2 of chapter %q", id)
			}
		case f.id == "WXXX":
			if len(f.data) < 1 {
				continue
			}
			_, url, _ := cutString(f.data[0], f.data[1:])
			c.URL, _ = decodeText(encLatin1, url)
		case f.id[0] == 'W' && c.URL == "":
			c.URL, _ = decodeText(encLatin1, f.data)
		}
	}
	d.chapters = append(d.chapters, c)
	return nil
}

// tableOfContents decodes CTOC (Chapter Frame Addendum §4): element ID, flags, entry count, child
// element IDs. Only the first top-level table sets the chapter order.
func (d *decoder) tableOfContents(b []byte) error {
	_, rest, ok := cutString(encLatin1, b)
	if !ok || len(rest) < 2 {
		return fmt.Errorf("%w: CTOC of %d bytes", ErrTruncated, len(b))
	}
	flags, count := rest[0], int(rest[1])
	rest = rest[2:]
	entries := make([]string, 0, count)
	for i := 0; i < count; i++ {
		e, r, ok := cutString(encLatin1, rest)
		if !ok {
			return fmt.Errorf("%w: CTOC entry %d of %d", ErrTruncated, i+1, count)
		}
		entries = append(entries, string(e))
		rest = r
	}
	if flags&tocTopLevel != 0 && !d.hasTOC {
		d.toc, d.hasTOC = entries, true
	}
	return nil
}

// appendChapter appends a CHAP body with its TIT2 and WXXX sub-frames (Chapter Frame Addendum §3).
func appendChapter(dst []byte, c Chapter) []byte {
	dst = appendText(dst, encLatin1, c.ID, true)
	dst = appendU32(dst, uint32(c.Start/time.Millisecond))
	dst = appendU32(dst, uint32(c.End/time.Millisecond))
	dst = appendU32(dst, noOffset)
	dst = appendU32(dst, noOffset)
	if c.Title != "" {
		dst = appendTextFrame(dst, "TIT2", c.Title)
	}
	if c.URL != "" {
		// WXXX: encoding, empty description, URL in ISO-8859-1 (ID3v2.3.0 §4.3.2).
		dst = appendFrame(dst, "WXXX", func(b []byte) []byte {
			return append(append(b, encLatin1, 0), c.URL...)
		})
	}
	return dst
}

// appendTOC appends a top-level, ordered CTOC body listing ids (Chapter Frame Addendum §4).
func appendTOC(dst []byte, ids []string) []byte {
	dst = appendText(dst, encLatin1, tocID, true)
	dst = append(dst, tocTopLevel|tocOrdered, byte(len(ids)))
	for _, id := range ids {
		dst = appendText(dst, encLatin1, id, true)
	}
	return dst
}

func appendU32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
