package id3

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
)

// maxInflated bounds the output of one compressed frame, whatever size it claims.
const maxInflated = 16 << 20

// frame is one frame with its flags already applied: data is the plain frame content.
type frame struct {
	id   string
	data []byte
}

// Frame status flags, second byte. ID3v2.3.0 §3.3.1: %ijk00000; ID3v2.4.0 §4.1.2: %0h00kmnp.
const (
	v23Compressed = 0x80
	v23Encrypted  = 0x40
	v23Grouped    = 0x20

	v24Grouped    = 0x40
	v24Compressed = 0x08
	v24Encrypted  = 0x04
	v24Unsync     = 0x02
	v24DataLength = 0x01
)

// frameHeaderLen is 6 bytes in v2.2 (ID3v2.2 §3.2), 10 in v2.3 and v2.4.
func frameHeaderLen(major byte) int {
	if major == 2 {
		return 6
	}
	return 10
}

// isFrameID reports whether b is a frame identifier: capital letters and digits (ID3v2.4.0 §4).
func isFrameID(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// parseFrames splits the frame area of a tag (or of a CHAP/CTOC frame, Chapter Frame Addendum
// §3) into frames. It stops at padding or at bytes that are not a frame ID; a frame longer than
// what is left is an error. Encrypted frames are skipped: no encryption method is registered.
func parseFrames(major byte, tagUnsync bool, b []byte) ([]frame, error) {
	var frames []frame
	hl := frameHeaderLen(major)
	idLen := 4
	if major == 2 {
		idLen = 3
	}
	for off := 0; off+hl <= len(b); {
		id := b[off : off+idLen]
		if !isFrameID(id) {
			break // padding ($00) or trailing garbage: there are no more frames (ID3v2.4.0 §3.3)
		}
		size := frameSize(major, b, off)
		start := off + hl
		if size > len(b)-start {
			return frames, fmt.Errorf("%w: frame %s at byte %d is %d bytes, %d left",
				ErrTruncated, id, off, size, len(b)-start)
		}
		f, err := frameData(major, tagUnsync, b[off:start], b[start:start+size])
		if err != nil {
			return frames, within(err, "frame %s at byte %d", id, off)
		}
		if f != nil {
			f.id = string(id)
			frames = append(frames, *f)
		}
		off = start + size
	}
	return frames, nil
}

// frameSize reads the size field of the frame header at off. v2.4 sizes are syncsafe (§4.1), but
// iTunes once wrote them as plain integers; when only the plain reading lands on a frame
// boundary, it is the one taken.
func frameSize(major byte, b []byte, off int) int {
	switch major {
	case 2:
		return int(b[off+3])<<16 | int(b[off+4])<<8 | int(b[off+5])
	case 3:
		return be32(b[off+4:])
	}
	plain := be32(b[off+4:])
	ss, ok := syncsafe(b[off+4:])
	if !ok || (ss != plain && !boundaryAt(b, off+10+ss) && boundaryAt(b, off+10+plain)) {
		return plain
	}
	return ss
}

// boundaryAt reports whether a frame could end at off: the end of the frames, padding, or another frame.
func boundaryAt(b []byte, off int) bool {
	if off < 0 || off > len(b) {
		return false
	}
	if off == len(b) || b[off] == 0 {
		return true
	}
	return off+4 <= len(b) && isFrameID(b[off:off+4])
}

// frameData applies a frame's format flags to its content, returning nil for a frame that must
// be skipped (encrypted).
func frameData(major byte, tagUnsync bool, hdr, data []byte) (*frame, error) {
	switch major {
	case 2:
		return &frame{data: data}, nil
	case 3: // ID3v2.3.0 §3.3.1: the extra bytes follow the header in flag order
		fl := hdr[9]
		inflated := -1
		if fl&v23Compressed != 0 {
			if len(data) < 4 {
				return nil, fmt.Errorf("%w: no decompressed size", ErrTruncated)
			}
			inflated, data = be32(data), data[4:]
		}
		if fl&v23Encrypted != 0 {
			return nil, nil
		}
		if fl&v23Grouped != 0 {
			if len(data) < 1 {
				return nil, fmt.Errorf("%w: no group byte", ErrTruncated)
			}
			data = data[1:]
		}
		if inflated >= 0 {
			var err error
			if data, err = inflate(data, inflated); err != nil {
				return nil, err
			}
		}
		return &frame{data: data}, nil
	}
	// ID3v2.4.0 §4.1.2: grouping byte, encryption method, data length indicator, in that order.
	fl := hdr[9]
	if fl&v24Grouped != 0 {
		if len(data) < 1 {
			return nil, fmt.Errorf("%w: no group byte", ErrTruncated)
		}
		data = data[1:]
	}
	if fl&v24Encrypted != 0 {
		return nil, nil
	}
	length := -1
	if fl&v24DataLength != 0 {
		if len(data) < 4 {
			return nil, fmt.Errorf("%w: no data length indicator", ErrTruncated)
		}
		n, ok := syncsafe(data)
		if !ok {
			return nil, fmt.Errorf("%w: data length indicator % x", ErrMalformed, data[:4])
		}
		length, data = n, data[4:]
	}
	if fl&v24Unsync != 0 || tagUnsync {
		data = removeUnsync(data)
	}
	if fl&v24Compressed != 0 {
		if length < 0 {
			return nil, fmt.Errorf("%w: compressed without a data length indicator", ErrMalformed)
		}
		var err error
		if data, err = inflate(data, length); err != nil {
			return nil, err
		}
	}
	return &frame{data: data}, nil
}

// inflate decompresses a zlib frame (ID3v2.4.0 §4.1.2 k) into at most min(size, maxInflated)
// bytes; the buffer grows with the real output, not with the size the frame claims.
func inflate(data []byte, size int) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %v", ErrMalformed, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(min(size, maxInflated))))
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %v", ErrMalformed, err)
	}
	return out, nil
}
