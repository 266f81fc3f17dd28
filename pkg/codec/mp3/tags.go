package mp3

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// ByteRange is a half-open range of byte offsets [Start, End) in a file.
type ByteRange struct{ Start, End int64 }

// Len is the range's length in bytes.
func (r ByteRange) Len() int64 { return r.End - r.Start }

// id3v2Size returns the total size of an ID3v2 tag starting with the 10-byte header h, or 0 when h
// is not one (ID3v2.4.0 §3.1: "ID3", version, flags, 4-byte syncsafe size; footer flag 0x10 adds 10).
func id3v2Size(h []byte) int64 {
	if len(h) < 10 || string(h[:3]) != "ID3" || h[3] == 0xff || h[4] == 0xff {
		return 0
	}
	if h[6]|h[7]|h[8]|h[9] >= 0x80 {
		return 0
	}
	n := int64(h[6])<<21 | int64(h[7])<<14 | int64(h[8])<<7 | int64(h[9])
	n += 10
	if h[5]&0x10 != 0 {
		n += 10
	}
	return n
}

// skipID3v2 returns the offset just after the ID3v2 tags (possibly several, back to back) at the
// start of r, and the range they cover.
func skipID3v2(r io.ReaderAt, size int64) (ByteRange, error) {
	var h [10]byte
	pos := int64(0)
	for pos+10 <= size {
		if _, err := r.ReadAt(h[:], pos); err != nil {
			return ByteRange{}, fmt.Errorf("mp3: read ID3v2 header at byte %d: %w", pos, err)
		}
		n := id3v2Size(h[:])
		if n == 0 {
			break
		}
		if pos+n > size { // the audio cannot be anywhere: say so, rather than "no frame sync"
			return ByteRange{}, fmt.Errorf("%w: the ID3v2 tag at byte %d claims %d bytes, the file ends at byte %d", ErrShort, pos, n, size)
		}
		pos += n
	}
	return ByteRange{0, pos}, nil
}

// tailTags finds the tags appended after the audio: ID3v1 ("TAG", 128 bytes), APEv1/v2 (32-byte
// "APETAGEX" footer, optional header), Lyrics3 v1/v2 and an appended ID3v2.4 with footer ("3DI"),
// in any order. It returns where they start (size when there are none). start bounds the search.
func tailTags(r io.ReaderAt, start, size int64) (int64, error) {
	end := size
	var buf [32]byte
	read := func(n int, at int64) ([]byte, bool, error) {
		if at < start || at+int64(n) > end {
			return nil, false, nil
		}
		if _, err := r.ReadAt(buf[:n], at); err != nil {
			return nil, false, fmt.Errorf("mp3: read tail tag at byte %d: %w", at, err)
		}
		return buf[:n], true, nil
	}
	for {
		// ID3v1 (128 bytes starting with "TAG").
		if b, ok, err := read(3, end-128); err != nil {
			return 0, err
		} else if ok && string(b) == "TAG" {
			end -= 128
			continue
		}
		// APE tag footer: "APETAGEX", version, size (items + footer), item count, flags.
		if b, ok, err := read(32, end-32); err != nil {
			return 0, err
		} else if ok && string(b[:8]) == "APETAGEX" {
			n := int64(binary.LittleEndian.Uint32(b[12:]))
			if b[23]&0x80 != 0 { // bit 31 of flags: a header is present too
				n += 32
			}
			if n >= 32 && end-n >= start {
				end -= n
				continue
			}
		}
		// Lyrics3 v2: "<size:6 digits>LYRICS200", size counts from "LYRICSBEGIN".
		if b, ok, err := read(15, end-15); err != nil {
			return 0, err
		} else if ok && string(b[6:]) == "LYRICS200" {
			n, perr := strconv.Atoi(string(b[:6]))
			at := end - 15 - int64(n)
			if perr == nil {
				if h, ok, err := read(11, at); err != nil {
					return 0, err
				} else if ok && string(h) == "LYRICSBEGIN" {
					end = at
					continue
				}
			}
		}
		// Lyrics3 v1: "LYRICSBEGIN" … "LYRICSEND", at most 5100 bytes of lyrics.
		if b, ok, err := read(9, end-9); err != nil {
			return 0, err
		} else if ok && string(b) == "LYRICSEND" {
			from := max(start, end-9-5100-11)
			blk := make([]byte, end-from)
			if _, err := r.ReadAt(blk, from); err != nil {
				return 0, fmt.Errorf("mp3: read Lyrics3 at byte %d: %w", from, err)
			}
			if i := bytes.LastIndex(blk, []byte("LYRICSBEGIN")); i >= 0 {
				end = from + int64(i)
				continue
			}
		}
		// Appended ID3v2.4 with footer "3DI".
		if b, ok, err := read(10, end-10); err != nil {
			return 0, err
		} else if ok && string(b[:3]) == "3DI" {
			hdr := append([]byte("ID3"), b[3:10]...)
			if n := id3v2Size(hdr); n > 0 && end-n >= start {
				end -= n
				continue
			}
		}
		return end, nil
	}
}
