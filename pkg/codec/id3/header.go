package id3

import "fmt"

// headerLen is the length of the tag header and of the v2.4 footer (ID3v2.4.0 §3.1, §3.4).
const headerLen = 10

// maxTagSize is the largest size a 28-bit syncsafe integer holds (256 MB).
const maxTagSize = 1<<28 - 1

// Header flags, ID3v2.4.0 §3.1 (v2.3.0 §3.1 defines the first three; in v2.2 bit 6 means compression).
const (
	flagUnsync       = 0x80
	flagExtended     = 0x40 // v2.2: compression, for which no scheme was ever defined
	flagExperimental = 0x20
	flagFooter       = 0x10
)

// header is the 10-byte tag header.
type header struct {
	major, revision byte
	flags           byte
	size            int // bytes after the header, excluding a footer
}

// parseHeader reads the tag header: "ID3", version, flags, syncsafe size (ID3v2.4.0 §3.1).
func parseHeader(b []byte) (header, error) {
	if len(b) < 3 || string(b[:3]) != "ID3" {
		return header{}, ErrNoTag
	}
	if len(b) < headerLen {
		return header{}, fmt.Errorf("%w: header is %d of 10 bytes", ErrTruncated, len(b))
	}
	h := header{major: b[3], revision: b[4], flags: b[5]}
	if h.major < 2 || h.major > 4 || h.revision == 0xFF {
		return header{}, fmt.Errorf("%w: ID3v2.%d.%d", ErrVersion, h.major, h.revision)
	}
	size, ok := syncsafe(b[6:10])
	if !ok {
		return header{}, fmt.Errorf("%w: tag size % x is not syncsafe", ErrMalformed, b[6:10])
	}
	h.size = size
	return h, nil
}

// checkFooter validates the v2.4 footer, a copy of the header with "3DI" as identifier (§3.4).
func checkFooter(h header, b []byte) error {
	if string(b[:3]) != "3DI" || b[3] != h.major || b[4] != h.revision {
		return fmt.Errorf("%w: footer % x does not mirror the header", ErrMalformed, b[:5])
	}
	if size, ok := syncsafe(b[6:10]); !ok || size != h.size {
		return fmt.Errorf("%w: footer size % x differs from the header's %d", ErrMalformed, b[6:10], h.size)
	}
	return nil
}

// syncsafe decodes a 28-bit syncsafe integer: four bytes with the top bit clear (ID3v2.4.0 §6.2).
func syncsafe(b []byte) (int, bool) {
	n := 0
	for _, c := range b[:4] {
		if c&0x80 != 0 {
			return 0, false
		}
		n = n<<7 | int(c)
	}
	return n, true
}

// putSyncsafe encodes n (< 2^28) as a syncsafe integer.
func putSyncsafe(b []byte, n int) {
	b[0], b[1], b[2], b[3] = byte(n>>21&0x7F), byte(n>>14&0x7F), byte(n>>7&0x7F), byte(n&0x7F)
}

// be32 decodes a big-endian 32-bit size (v2.3 frame and extended header sizes).
func be32(b []byte) int {
	return int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
}

// removeUnsync undoes the unsynchronisation scheme: every $FF $00 becomes $FF (ID3v2.4.0 §6.1,
// v2.3.0 §5). The result is a new slice, never longer than b.
func removeUnsync(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		out = append(out, b[i])
		if b[i] == 0xFF && i+1 < len(b) && b[i+1] == 0x00 {
			i++
		}
	}
	return out
}

// skipExtendedHeader returns the tag body after the extended header, if the header flag says
// there is one: v2.3.0 §3.2 (size excludes its own 4 bytes, 6 or 10) and v2.4.0 §3.2 (syncsafe
// size including itself, at least 6).
func skipExtendedHeader(h header, body []byte) ([]byte, error) {
	if h.flags&flagExtended == 0 || h.major == 2 {
		return body, nil
	}
	if len(body) < 4 {
		return nil, fmt.Errorf("%w: extended header at byte 10", ErrTruncated)
	}
	var total int
	if h.major == 3 {
		total = 4 + be32(body)
	} else {
		size, ok := syncsafe(body)
		if !ok || size < 6 {
			return nil, fmt.Errorf("%w: extended header size % x", ErrMalformed, body[:4])
		}
		total = size
	}
	if total > len(body) {
		return nil, fmt.Errorf("%w: extended header of %d bytes in a %d-byte tag", ErrTruncated, total, len(body))
	}
	return body[total:], nil
}
