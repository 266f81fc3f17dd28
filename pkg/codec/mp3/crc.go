package mp3

// crc16MPEG is the Layer III error-check CRC (ISO/IEC 11172-3 §2.4.1.4 and §2.4.2.4, error_check): generator
// x^16+x^15+x^2+1 (0x8005), MSB first, initial value 0xffff, over the last 16 header bits and the
// side information.
func crc16MPEG(crc uint16, b []byte) uint16 {
	for _, c := range b {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x8005
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// frameCRC computes the CRC of a frame whose header, CRC slot and side information are in f.
func frameCRC(h Header, f []byte) uint16 {
	crc := crc16MPEG(0xffff, f[2:4])
	return crc16MPEG(crc, f[6:6+h.SideInfoSize()])
}

// crc16LAME is the CRC used by the LAME tag for its own bytes and the music data: CRC-16/ARC
// (polynomial 0x8005 reflected, initial value 0), as in LAME's VbrTag.c.
func crc16LAME(crc uint16, b []byte) uint16 {
	for _, c := range b {
		crc = crc>>8 ^ lameCRCTable[byte(crc)^c]
	}
	return crc
}

var lameCRCTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for j := 0; j < 8; j++ {
			if c&1 != 0 {
				c = c>>1 ^ 0xa001
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()
