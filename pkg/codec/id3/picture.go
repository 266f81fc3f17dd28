package id3

import (
	"bytes"
	"fmt"
	"strings"
)

// pictureFrontCover is picture type $03 (ID3v2.4.0 native frames §4.14).
const pictureFrontCover = 3

// picture decodes APIC (ID3v2.4.0 native frames §4.14: encoding, MIME type, picture type,
// description, data) or v2.2 PIC (ID3v2.2 §4.15: a 3-letter image format instead of the MIME
// type). The first front cover wins, else the first picture.
func (d *decoder) picture(b []byte, v22 bool) error {
	if len(b) < 1 {
		return fmt.Errorf("%w: empty picture frame", ErrMalformed)
	}
	enc, rest := b[0], b[1:]
	var mime string
	if v22 {
		if len(rest) < 3 {
			return fmt.Errorf("%w: PIC without image format", ErrTruncated)
		}
		mime = mimeOfFormat(string(rest[:3]))
		rest = rest[3:]
	} else {
		m, r, ok := cutString(encLatin1, rest)
		if !ok {
			return fmt.Errorf("%w: APIC MIME type not terminated", ErrMalformed)
		}
		mime, _ = decodeText(encLatin1, m)
		rest = r
	}
	if len(rest) < 1 {
		return fmt.Errorf("%w: no picture type", ErrTruncated)
	}
	kind := int(rest[0])
	desc, data, ok := cutString(enc, rest[1:])
	if !ok {
		return fmt.Errorf("%w: picture description not terminated", ErrMalformed)
	}
	ds, ok := decodeText(enc, desc)
	if !ok {
		return fmt.Errorf("%w: text encoding %d", ErrMalformed, enc)
	}
	if d.tag.Artwork != nil && (kind != pictureFrontCover || d.picType == pictureFrontCover) {
		return nil
	}
	if mime == "" || !strings.Contains(mime, "/") {
		mime = "image/" + strings.ToLower(mime) // "-->" links and bare "jpg" are rare; keep what was said
	}
	d.tag.Artwork = &Picture{MIME: mime, Data: bytes.Clone(data), Description: ds}
	d.picType = kind
	return nil
}

// mimeOfFormat maps a v2.2 image format ("JPG", "PNG") to a MIME type.
func mimeOfFormat(f string) string {
	switch strings.ToUpper(f) {
	case "JPG":
		return "image/jpeg"
	case "PNG":
		return "image/png"
	}
	return "image/" + strings.ToLower(f)
}

// appendPicture appends an APIC body (ID3v2.3.0 §4.15) for a front cover.
func appendPicture(dst []byte, p *Picture) ([]byte, error) {
	if p.MIME == "" || !isASCII(p.MIME) || strings.ContainsRune(p.MIME, 0) {
		return nil, fmt.Errorf("%w: picture MIME type %q (use e.g. image/jpeg)", ErrInvalid, p.MIME)
	}
	if len(p.Data) == 0 {
		return nil, fmt.Errorf("%w: picture has no data", ErrInvalid)
	}
	enc := encodingFor(p.Description)
	dst = append(dst, enc)
	dst = appendText(dst, encLatin1, p.MIME, true)
	dst = append(dst, pictureFrontCover)
	dst = appendText(dst, enc, p.Description, true)
	return append(dst, p.Data...), nil
}
