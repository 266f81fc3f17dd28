package mp3

import "fmt"

// SideInfo holds the side-information fields a cutter needs: where the frame's main data starts in
// the bit reservoir and how long each granule/channel's part is (ISO/IEC 11172-3 §2.4.1.7,
// ISO/IEC 13818-3 §2.4.1.7). Scale-factor and Huffman-table fields are read past, not kept.
type SideInfo struct {
	// MainDataBegin is the negative offset, in bytes, from the frame's header to the first byte of
	// its main data (9 bits in MPEG-1, at most 511; 8 bits in MPEG-2/2.5, at most 255).
	MainDataBegin int
	// Part23Length is part2_3_length (12 bits, in bits) per granule and channel.
	Part23Length [2][2]int
}

// MainDataBits is the total length of the frame's main data in bits.
func (s SideInfo) MainDataBits() int {
	return s.Part23Length[0][0] + s.Part23Length[0][1] + s.Part23Length[1][0] + s.Part23Length[1][1]
}

// MainDataBytes is the frame's main data rounded up to whole bytes.
func (s SideInfo) MainDataBytes() int { return (s.MainDataBits() + 7) / 8 }

// ParseSideInfo decodes the side information in b, which starts right after the header and the
// optional CRC and holds at least h.SideInfoSize() bytes.
func ParseSideInfo(h Header, b []byte) (SideInfo, error) {
	var s SideInfo
	if len(b) < h.SideInfoSize() {
		return s, fmt.Errorf("%w: side info needs %d bytes, have %d", ErrShort, h.SideInfoSize(), len(b))
	}
	r := bitReader{b: b[:h.SideInfoSize()]}
	nch := h.Channels()
	if !h.LSF() {
		// §2.4.1.7 main_data_begin 9, private_bits 5 (mono) or 3, scfsi[ch][4].
		s.MainDataBegin = r.read(9)
		if nch == 1 {
			r.skip(5)
		} else {
			r.skip(3)
		}
		r.skip(4 * nch)
	} else {
		// 13818-3 §2.4.1.7 main_data_begin 8, private_bits 1 (mono) or 2; no scfsi.
		s.MainDataBegin = r.read(8)
		r.skip(nch)
	}
	for gr := 0; gr < h.Granules(); gr++ {
		for ch := 0; ch < nch; ch++ {
			s.Part23Length[gr][ch] = r.read(12)
			r.skip(9 + 8) // big_values, global_gain
			if h.LSF() {
				r.skip(9) // scalefac_compress
			} else {
				r.skip(4)
			}
			if r.read(1) == 1 { // window_switching_flag
				r.skip(2 + 1 + 2*5 + 3*3) // block_type, mixed_block_flag, table_select[2], subblock_gain[3]
			} else {
				r.skip(3*5 + 4 + 3) // table_select[3], region0_count, region1_count
			}
			if !h.LSF() {
				r.skip(1) // preflag
			}
			r.skip(2) // scalefac_scale, count1table_select
		}
	}
	return s, nil
}

// bitReader reads MSB-first bit fields from a slice whose size the caller has checked.
type bitReader struct {
	b   []byte
	pos int
}

func (r *bitReader) read(n int) int {
	v := 0
	for ; n > 0; n-- {
		v = v<<1 | int(r.b[r.pos>>3]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) skip(n int) { r.pos += n }
