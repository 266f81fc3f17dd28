package id3

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxChapterTime is the largest chapter time CHAP's 32-bit millisecond fields hold (~49.7 days).
const maxChapterTime = time.Duration(noOffset-1) * time.Millisecond

// managed lists the frames Marshal writes from Tag fields; Text may not set them too.
var managed = []string{"TIT2", "TPE1", "TALB", "TYER", "TDAT", "TDRC", "TCON"}

// Marshal encodes t as an ID3v2.3.0 tag: header, then frames in a fixed order (TIT2, TPE1, TALB,
// TYER, TDAT, TCON, COMM, Text by sorted key, APIC, CTOC, CHAP...) with no padding, so the same Tag
// always gives the same bytes. An empty Tag gives no bytes: a tag must hold a frame (ID3v2.3.0 §3).
func (t *Tag) Marshal() ([]byte, error) {
	chapters, err := t.checkedChapters()
	if err != nil {
		return nil, err
	}
	year, ddmm, err := splitDate(t.Date)
	if err != nil {
		return nil, err
	}
	b := make([]byte, headerLen, 1024+len(t.artworkData()))
	b = appendTextFrame(b, "TIT2", t.Title)
	b = appendTextFrame(b, "TPE1", t.Artist)
	b = appendTextFrame(b, "TALB", t.Album)
	b = appendTextFrame(b, "TYER", year)
	b = appendTextFrame(b, "TDAT", ddmm)
	b = appendTextFrame(b, "TCON", t.Genre)
	if t.Comment != "" {
		// COMM: encoding, language, empty description, text (ID3v2.3.0 §4.11).
		b = appendFrame(b, "COMM", func(d []byte) []byte {
			enc := encodingFor(t.Comment)
			d = append(d, enc, 'e', 'n', 'g')
			d = appendText(d, enc, "", true)
			return appendText(d, enc, t.Comment, false)
		})
	}
	if b, err = t.appendText(b); err != nil {
		return nil, err
	}
	if t.Artwork != nil {
		if _, err := appendPicture(nil, t.Artwork); err != nil {
			return nil, err
		}
		b = appendFrame(b, "APIC", func(d []byte) []byte {
			d, _ = appendPicture(d, t.Artwork) // checked above
			return d
		})
	}
	if len(chapters) > 0 {
		ids := make([]string, len(chapters))
		for i, c := range chapters {
			ids[i] = c.ID
		}
		b = appendFrame(b, "CTOC", func(d []byte) []byte { return appendTOC(d, ids) })
		for _, c := range chapters {
			b = appendFrame(b, "CHAP", func(d []byte) []byte { return appendChapter(d, c) })
		}
	}
	size := len(b) - headerLen
	if size == 0 {
		return nil, nil
	}
	if size > maxTagSize {
		return nil, fmt.Errorf("%w: %d bytes exceed the 256 MB an ID3v2 size can hold", ErrInvalid, size)
	}
	// ID3v2.3.0 §3.1: "ID3", version 3.0, no flags, syncsafe size of everything after the header.
	copy(b, "ID3\x03\x00\x00")
	putSyncsafe(b[6:10], size)
	return b, nil
}

func (t *Tag) artworkData() []byte {
	if t.Artwork == nil {
		return nil
	}
	return t.Artwork.Data
}

// appendText appends t.Text: text frames by ID, the rest as TXXX (ID3v2.3.0 §4.2.2), sorted by key.
func (t *Tag) appendText(b []byte) ([]byte, error) {
	keys := make([]string, 0, len(t.Text))
	for k := range t.Text {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := t.Text[k]
		switch {
		case k == "":
			return nil, fmt.Errorf("%w: empty Text key", ErrInvalid)
		case slices.Contains(managed, k):
			return nil, fmt.Errorf("%w: Text[%q] duplicates a Tag field (set the field instead)", ErrInvalid, k)
		case v == "":
			continue
		case isTextFrameKey(k):
			b = appendTextFrame(b, k, v)
		default:
			desc := strings.TrimPrefix(k, "TXXX:")
			b = appendFrame(b, "TXXX", func(d []byte) []byte {
				enc := encodingFor(desc, v)
				d = append(d, enc)
				d = appendText(d, enc, desc, true)
				return appendText(d, enc, v, false)
			})
		}
	}
	return b, nil
}

// appendFrame appends a v2.3 frame: ID, 32-bit size, two flag bytes, then the body that body
// appends (ID3v2.3.0 §3.3). The size is patched in afterwards so bodies are built in place.
func appendFrame(dst []byte, id string, body func([]byte) []byte) []byte {
	start := len(dst)
	dst = append(dst, id...)
	dst = append(dst, 0, 0, 0, 0, 0, 0)
	dst = body(dst)
	size := len(dst) - start - 10
	dst[start+4], dst[start+5], dst[start+6], dst[start+7] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)
	return dst
}

// appendTextFrame appends a text information frame (ID3v2.3.0 §4.2) unless s is empty.
func appendTextFrame(dst []byte, id, s string) []byte {
	if s == "" {
		return dst
	}
	return appendFrame(dst, id, func(d []byte) []byte {
		enc := encodingFor(s)
		return appendText(append(d, enc), enc, s, false)
	})
}

// splitDate turns Tag.Date into v2.3 TYER ("YYYY") and TDAT ("DDMM"), ID3v2.3.0 §4.2.1.
func splitDate(date string) (year, ddmm string, err error) {
	switch len(date) {
	case 0:
		return "", "", nil
	case 4:
		if isDigits(date) {
			return date, "", nil
		}
	case 10:
		if _, err := time.Parse("2006-01-02", date); err == nil {
			return date[:4], date[8:10] + date[5:7], nil
		}
	}
	return "", "", fmt.Errorf("%w: date %q (use YYYY-MM-DD or YYYY)", ErrInvalid, date)
}

// checkedChapters validates t.Chapters and returns a copy with IDs filled in and times rounded to
// the millisecond CHAP stores.
func (t *Tag) checkedChapters() ([]Chapter, error) {
	if len(t.Chapters) > 255 {
		return nil, fmt.Errorf("%w: %d chapters; a CTOC lists at most 255", ErrInvalid, len(t.Chapters))
	}
	out := make([]Chapter, len(t.Chapters))
	seen := map[string]bool{tocID: true}
	for i, c := range t.Chapters {
		if c.ID == "" {
			c.ID = fmt.Sprintf("chp%d", i)
		}
		c.Start, c.End = c.Start.Round(time.Millisecond), c.End.Round(time.Millisecond)
		switch {
		case !isASCII(c.ID) || strings.ContainsRune(c.ID, 0):
			return nil, fmt.Errorf("%w: chapter %d ID %q is not printable ASCII", ErrInvalid, i, c.ID)
		case seen[c.ID]:
			return nil, fmt.Errorf("%w: chapter %d ID %q is used twice (or is the table of contents' %q)",
				ErrInvalid, i, c.ID, tocID)
		case c.Start < 0 || c.End < c.Start || c.End > maxChapterTime:
			return nil, fmt.Errorf("%w: chapter %d %q runs from %v to %v", ErrInvalid, i, c.ID, c.Start, c.End)
		case !isASCII(c.URL):
			return nil, fmt.Errorf("%w: chapter %d URL %q is not ASCII (percent-encode it)", ErrInvalid, i, c.URL)
		}
		seen[c.ID] = true
		out[i] = c
	}
	return out, nil
}
