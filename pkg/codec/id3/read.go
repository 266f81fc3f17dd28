package id3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Read reads an ID3v2 tag (version 2.2, 2.3 or 2.4) from the start of r. It returns the tag and the
// number of bytes it consumed: header, body (with padding) and footer, so the audio starts there.
//
// Input that does not start with "ID3" gives ErrNoTag; the bytes read to find out are counted in
// the returned length, so a caller that needs them should read through a seeker or a peeking reader.
// Frames spacecast does not use are skipped. A size field larger than the input is caught when the
// input ends: memory grows with the bytes really read, never with what a header claims.
func Read(r io.Reader) (*Tag, int64, error) {
	var hb [headerLen]byte
	n, err := io.ReadFull(r, hb[:])
	consumed := int64(n)
	if n < 3 || string(hb[:3]) != "ID3" {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, consumed, fmt.Errorf("id3: read header: %w", err)
		}
		return nil, consumed, ErrNoTag
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, consumed, fmt.Errorf("id3: read header: %w", err)
	}
	h, err := parseHeader(hb[:n])
	if err != nil {
		return nil, consumed, err
	}
	total := h.size
	if h.major == 4 && h.flags&flagFooter != 0 {
		total += headerLen
	}
	var buf bytes.Buffer
	m, err := io.CopyN(&buf, r, int64(total))
	consumed += m
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, consumed, fmt.Errorf("%w: ID3v2.%d tag claims %d bytes, input ends after %d",
				ErrTruncated, h.major, total, m)
		}
		return nil, consumed, fmt.Errorf("id3: read tag: %w", err)
	}
	body := buf.Bytes()
	if total > h.size {
		if err := checkFooter(h, body[h.size:]); err != nil {
			return nil, consumed, err
		}
		body = body[:h.size]
	}
	t, err := parseBody(h, body)
	if err != nil {
		return nil, consumed, within(err, "ID3v2.%d", h.major)
	}
	return t, consumed, nil
}

// parseBody decodes everything after the header: ID3v2.3.0 §3 and ID3v2.4.0 §3.
func parseBody(h header, body []byte) (*Tag, error) {
	t := &Tag{}
	if h.major == 2 && h.flags&flagExtended != 0 {
		return t, nil // ID3v2.2 §3.1: a compressed tag is to be ignored; no scheme was defined
	}
	tagUnsync := h.flags&flagUnsync != 0
	if tagUnsync && h.major < 4 {
		body = removeUnsync(body) // v2.2 and v2.3 unsynchronise the whole tag, v2.4 each frame
	}
	body, err := skipExtendedHeader(h, body)
	if err != nil {
		return nil, err
	}
	frames, err := parseFrames(h.major, tagUnsync && h.major == 4, body)
	if err != nil {
		return nil, err
	}
	d := decoder{major: h.major, tagUnsync: tagUnsync && h.major == 4, tag: t}
	for _, f := range frames {
		if err := d.frame(f); err != nil {
			return nil, within(err, "frame %s", f.id)
		}
	}
	d.finish()
	return t, nil
}

// v22IDs maps the three-letter v2.2 frame IDs spacecast uses to their v2.3 names (ID3v2.2 §4).
var v22IDs = map[string]string{
	"TT2": "TIT2", "TP1": "TPE1", "TAL": "TALB", "TYE": "TYER", "TDA": "TDAT", "TCO": "TCON",
	"COM": "COMM", "PIC": "APIC", "TXX": "TXXX", "TRK": "TRCK", "TPA": "TPOS", "TCM": "TCOM",
	"TP2": "TPE2", "TEN": "TENC", "TCR": "TCOP", "TPB": "TPUB", "TT1": "TIT1", "TT3": "TIT3",
	"TLE": "TLEN", "TSS": "TSSE", "TLA": "TLAN", "TBP": "TBPM",
}

// decoder gathers frames into a Tag.
type decoder struct {
	major     byte
	tagUnsync bool
	tag       *Tag
	year      string // TYER
	ddmm      string // TDAT
	recorded  string // TDRC
	picType   int    // picture type of tag.Artwork; 3 (front cover) wins
	chapters  []Chapter
	toc       []string // entries of the top-level CTOC
	hasTOC    bool
}

func (d *decoder) frame(f frame) error {
	id := f.id
	if d.major == 2 {
		v23, ok := v22IDs[id]
		if !ok {
			return nil
		}
		if id == "PIC" {
			return d.picture(f.data, true)
		}
		id = v23
	}
	switch {
	case id == "COMM":
		return d.comment(f.data)
	case id == "TXXX":
		return d.userText(f.data)
	case id == "APIC":
		return d.picture(f.data, false)
	case id == "CHAP":
		return d.chapter(f.data)
	case id == "CTOC":
		return d.tableOfContents(f.data)
	case id[0] == 'T':
		s, err := textFrame(f.data)
		if err != nil {
			return err
		}
		d.text(id, s)
	}
	return nil
}

// textFrame decodes a text information frame: encoding byte, then the text (ID3v2.4.0 native
// frames §4.2). v2.4 separates several values with a terminator; they are joined with "/", the
// separator v2.3 uses for the same purpose (ID3v2.3.0 §4.2.1 TPE1).
func textFrame(b []byte) (string, error) {
	if len(b) < 1 {
		return "", fmt.Errorf("%w: empty text frame", ErrMalformed)
	}
	enc := b[0]
	var vals []string
	for rest := b[1:]; len(rest) > 0; {
		s, r, _ := cutString(enc, rest)
		v, ok := decodeText(enc, s)
		if !ok {
			return "", fmt.Errorf("%w: text encoding %d", ErrMalformed, enc)
		}
		vals = append(vals, v)
		rest = r
	}
	for len(vals) > 0 && vals[len(vals)-1] == "" {
		vals = vals[:len(vals)-1]
	}
	return strings.Join(vals, "/"), nil
}

func (d *decoder) text(id, s string) {
	t := d.tag
	switch id {
	case "TIT2":
		t.Title = s
	case "TPE1":
		t.Artist = s
	case "TALB":
		t.Album = s
	case "TCON":
		t.Genre = genreName(s)
	case "TYER":
		d.year = s
	case "TDAT":
		d.ddmm = s
	case "TDRC":
		d.recorded = s
	default:
		if t.Text == nil {
			t.Text = map[string]string{}
		}
		t.Text[id] = s
	}
}

// comment decodes COMM: encoding, language, short description, text (ID3v2.4.0 native frames
// §4.10). Only the comment with an empty description is the Tag's: others are players' private data.
func (d *decoder) comment(b []byte) error {
	if len(b) < 4 {
		return fmt.Errorf("%w: %d-byte comment", ErrMalformed, len(b))
	}
	enc := b[0]
	desc, text, _ := cutString(enc, b[4:])
	ds, ok1 := decodeText(enc, desc)
	ts, ok2 := decodeText(enc, text)
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: text encoding %d", ErrMalformed, enc)
	}
	if ds == "" && d.tag.Comment == "" {
		d.tag.Comment = ts
	}
	return nil
}

// userText decodes TXXX: encoding, description, value (ID3v2.4.0 native frames §4.2.6).
func (d *decoder) userText(b []byte) error {
	if len(b) < 1 {
		return fmt.Errorf("%w: empty TXXX", ErrMalformed)
	}
	enc := b[0]
	desc, val, _ := cutString(enc, b[1:])
	ds, ok1 := decodeText(enc, desc)
	vs, ok2 := decodeText(enc, val)
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: text encoding %d", ErrMalformed, enc)
	}
	if d.tag.Text == nil {
		d.tag.Text = map[string]string{}
	}
	d.tag.Text[textKey(ds)] = vs
	return nil
}

// textKey is the Text map key of a TXXX description (see Tag.Text).
func textKey(desc string) string {
	if desc == "" || isTextFrameKey(desc) || strings.HasPrefix(desc, "TXXX:") {
		return "TXXX:" + desc
	}
	return desc
}

// isTextFrameKey reports whether a Text key names a text frame rather than a TXXX description.
func isTextFrameKey(k string) bool {
	return len(k) == 4 && k[0] == 'T' && k != "TXXX" && isFrameID([]byte(k))
}

// finish settles what depends on several frames: the date and the chapter order.
func (d *decoder) finish() {
	d.tag.Date = joinDate(d.year, d.ddmm, d.recorded)
	d.tag.Chapters = orderChapters(d.chapters, d.toc, d.hasTOC)
}

// joinDate builds Tag.Date from v2.3 TYER ("YYYY") and TDAT ("DDMM", ID3v2.3.0 §4.2.1) or from
// v2.4 TDRC (an ISO 8601 subset, ID3v2.4.0 main structure §4), keeping YYYY-MM-DD or YYYY.
func joinDate(year, ddmm, recorded string) string {
	if len(year) == 4 && isDigits(year) {
		if len(ddmm) == 4 && isDigits(ddmm) {
			return year + "-" + ddmm[2:] + "-" + ddmm[:2]
		}
		return year
	}
	if len(recorded) >= 10 {
		if _, err := time.Parse("2006-01-02", recorded[:10]); err == nil {
			return recorded[:10]
		}
	}
	if len(recorded) >= 4 && isDigits(recorded[:4]) {
		return recorded[:4]
	}
	return ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// orderChapters lists chapters in the order of the top-level table of contents; chapters it does
// not name follow, by start time. Without a table of contents the order is by start time.
func orderChapters(chapters []Chapter, toc []string, hasTOC bool) []Chapter {
	if len(chapters) == 0 {
		return nil
	}
	byID := make(map[string]int, len(chapters))
	for i, c := range chapters {
		byID[c.ID] = i
	}
	out := make([]Chapter, 0, len(chapters))
	used := make([]bool, len(chapters))
	if hasTOC {
		for _, id := range toc {
			if i, ok := byID[id]; ok && !used[i] {
				out = append(out, chapters[i])
				used[i] = true
			}
		}
	}
	var rest []Chapter
	for i, c := range chapters {
		if !used[i] {
			rest = append(rest, c)
		}
	}
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].Start < rest[j].Start })
	return append(out, rest...)
}
