package id3

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Text encodings: ID3v2.4.0 main structure §4 (v2.3.0 §3.3 and v2.2 §3.2 define only the first two).
const (
	encLatin1  byte = 0 // ISO-8859-1, terminated by $00
	encUTF16   byte = 1 // UTF-16 with byte order mark, terminated by $00 00
	encUTF16BE byte = 2 // UTF-16BE without BOM (v2.4 only)
	encUTF8    byte = 3 // UTF-8 (v2.4 only)
)

// termLen is the length of a string terminator in an encoding.
func termLen(enc byte) int {
	if enc == encUTF16 || enc == encUTF16BE {
		return 2
	}
	return 1
}

// cutString splits b at the first terminator of the encoding, returning the string before it and
// the bytes after it. Without a terminator the whole of b is the string (ok is false).
func cutString(enc byte, b []byte) (s, rest []byte, ok bool) {
	if termLen(enc) == 1 {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return b[:i], b[i+1:], true
		}
		return b, nil, false
	}
	for i := 0; i+1 < len(b); i += 2 { // UTF-16 terminators are aligned to code units
		if b[i] == 0 && b[i+1] == 0 {
			return b[:i], b[i+2:], true
		}
	}
	return b, nil, false
}

// decodeText decodes b in the given encoding, dropping trailing terminators. An unknown
// encoding byte yields ok == false.
func decodeText(enc byte, b []byte) (string, bool) {
	switch enc {
	case encLatin1:
		b = bytes.TrimRight(b, "\x00")
		var sb strings.Builder
		sb.Grow(len(b))
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		return sb.String(), true
	case encUTF8:
		s := strings.TrimRight(string(b), "\x00")
		return strings.ToValidUTF8(s, "\uFFFD"), true
	case encUTF16, encUTF16BE:
		bigEndian := true
		if enc == encUTF16 && len(b) >= 2 {
			switch {
			case b[0] == 0xFF && b[1] == 0xFE:
				bigEndian, b = false, b[2:]
			case b[0] == 0xFE && b[1] == 0xFF:
				b = b[2:]
			} // no BOM: big-endian, the Unicode default
		}
		units := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			u := uint16(b[i])<<8 | uint16(b[i+1])
			if !bigEndian {
				u = uint16(b[i+1])<<8 | uint16(b[i])
			}
			units = append(units, u)
		}
		for len(units) > 0 && units[len(units)-1] == 0 {
			units = units[:len(units)-1]
		}
		return string(utf16.Decode(units)), true
	}
	return "", false
}

// isASCII reports whether s is plain 7-bit ASCII, which every reader decodes the same way as ISO-8859-1.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// encodingFor picks the v2.3 encoding for strings that share one encoding byte: ISO-8859-1 when
// all are ASCII, else UTF-16 with a BOM (ID3v2.3.0 §3.3).
func encodingFor(ss ...string) byte {
	for _, s := range ss {
		if !isASCII(s) {
			return encUTF16
		}
	}
	return encLatin1
}

// appendText appends s in encoding enc (encLatin1 or encUTF16), followed by a terminator if term
// is set. UTF-16 is little-endian behind a BOM, even for an empty string: some readers (ffmpeg)
// reject a UTF-16 string without one.
func appendText(dst []byte, enc byte, s string, term bool) []byte {
	if enc == encLatin1 {
		dst = append(dst, s...) // callers pass only ASCII here
		if term {
			dst = append(dst, 0)
		}
		return dst
	}
	dst = append(dst, 0xFF, 0xFE)
	for _, r := range s {
		r1, r2 := utf16.EncodeRune(r)
		if r1 == utf8.RuneError && r2 == utf8.RuneError {
			dst = append(dst, byte(r), byte(r>>8))
			continue
		}
		dst = append(dst, byte(r1), byte(r1>>8), byte(r2), byte(r2>>8))
	}
	if term {
		dst = append(dst, 0, 0)
	}
	return dst
}
