package ogg

// RFC 3533 §6: CRC-32 with generator polynomial 0x04c11db7, initial value 0, no reflection and no
// final XOR, computed over the whole page with the checksum field set to zero.

var crcTable = makeCRCTable()

func makeCRCTable() *[256]uint32 {
	var t [256]uint32
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return &t
}

// crcUpdate continues an Ogg CRC over b.
func crcUpdate(crc uint32, b []byte) uint32 {
	for _, v := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>24)^v]
	}
	return crc
}
