package mp3

import (
	"errors"
	"testing"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name                string
		b                   []byte
		err                 error
		version             Version
		bitrate, rate, size int
		spf, ch, sideInfo   int
		protected, padding  bool
	}{
		{"MPEG-1 128k 44.1 kHz joint stereo, no padding: 417 bytes", []byte{0xff, 0xfb, 0x90, 0x64}, nil, MPEG1, 128000, 44100, 417, 1152, 2, 32, false, false},
		{"the same with padding is one byte longer", []byte{0xff, 0xfb, 0x92, 0x64}, nil, MPEG1, 128000, 44100, 418, 1152, 2, 32, false, true},
		{"MPEG-1 320k 48 kHz mono with CRC: 960 bytes", []byte{0xff, 0xfa, 0xe4, 0xc0}, nil, MPEG1, 320000, 48000, 960, 1152, 1, 17, true, false},
		{"MPEG-2 64k 24 kHz stereo: 72·64000/24000 = 192 bytes, 576 samples", []byte{0xff, 0xf3, 0x84, 0x00}, nil, MPEG2, 64000, 24000, 192, 576, 2, 17, false, false},
		{"MPEG-2 32k 22.05 kHz mono padded: 104+1 bytes", []byte{0xff, 0xf3, 0x42, 0xc0}, nil, MPEG2, 32000, 22050, 105, 576, 1, 9, false, true},
		{"MPEG-2.5 8k 8 kHz mono: 72 bytes", []byte{0xff, 0xe3, 0x18, 0xc0}, nil, MPEG25, 8000, 8000, 72, 576, 1, 9, false, false},
		{"free format is refused: its size is not coded", []byte{0xff, 0xfb, 0x00, 0x64}, ErrFreeFormat, 0, 0, 0, 0, 0, 0, 0, false, false},
		{"Layer II is refused", []byte{0xff, 0xfd, 0x90, 0x64}, ErrNotLayer3, 0, 0, 0, 0, 0, 0, 0, false, false},
		{"bitrate index 15 is invalid", []byte{0xff, 0xfb, 0xf0, 0x64}, ErrBadHeader, 0, 0, 0, 0, 0, 0, 0, false, false},
		{"sampling frequency 3 is reserved", []byte{0xff, 0xfb, 0x9c, 0x64}, ErrBadHeader, 0, 0, 0, 0, 0, 0, 0, false, false},
		{"version 01 is reserved", []byte{0xff, 0xeb, 0x90, 0x64}, ErrBadHeader, 0, 0, 0, 0, 0, 0, 0, false, false},
		{"a missing sync word is not a header", []byte{0x49, 0x44, 0x33, 0x03}, ErrBadHeader, 0, 0, 0, 0, 0, 0, 0, false, false},
		{"three bytes are too short", []byte{0xff, 0xfb, 0x90}, ErrShort, 0, 0, 0, 0, 0, 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHeader(tt.b)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			got := []int{int(h.Version()), h.Bitrate(), h.SampleRate(), h.FrameSize(), h.SamplesPerFrame(), h.Channels(), h.SideInfoSize()}
			want := []int{int(tt.version), tt.bitrate, tt.rate, tt.size, tt.spf, tt.ch, tt.sideInfo}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("version, bitrate, rate, size, spf, channels, side info = %v, want %v", got, want)
				}
			}
			if h.Protected() != tt.protected || h.Padding() != tt.padding {
				t.Errorf("protected %v padding %v, want %v %v", h.Protected(), h.Padding(), tt.protected, tt.padding)
			}
			if b := h.Bytes(); string(b[:]) != string(tt.b) {
				t.Errorf("Bytes() = % x, want % x", b, tt.b)
			}
		})
	}
}

func TestParseSideInfo(t *testing.T) {
	mono1 := Header(0xfffb90c4)   // MPEG-1 mono
	stereo2 := Header(0xfff38400) // MPEG-2 stereo
	tests := []struct {
		name  string
		h     Header
		bits  []field // written MSB first from bit 0
		mdb   int
		p23   [2][2]int
		short bool
	}{
		{"MPEG-1 mono: 9-bit main_data_begin 511, part2_3_length of both granules", mono1,
			[]field{{511, 9}, {0, 5 + 4}, {1000, 12}, {0, 47}, {2000, 12}}, 511, [2][2]int{{1000, 0}, {2000, 0}}, false},
		{"MPEG-1 mono with window switching keeps the field layout", mono1,
			[]field{{3, 9}, {0, 9}, {4095, 12}, {0, 9 + 8 + 4}, {1, 1}, {0, 22 + 3}, {7, 12}}, 3, [2][2]int{{4095, 0}, {7, 0}}, false},
		{"MPEG-2 stereo: 8-bit main_data_begin, one granule, two channels", stereo2,
			[]field{{255, 8}, {0, 2}, {123, 12}, {0, 51}, {456, 12}}, 255, [2][2]int{{123, 456}}, false},
		{"side info shorter than the header says is an error", stereo2, nil, 0, [2][2]int{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := pack(tt.bits, tt.h.SideInfoSize())
			if tt.short {
				b = b[:5]
			}
			si, err := ParseSideInfo(tt.h, b)
			if tt.short {
				if !errors.Is(err, ErrShort) {
					t.Fatalf("err %v, want ErrShort", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if si.MainDataBegin != tt.mdb || si.Part23Length != tt.p23 {
				t.Errorf("got mdb %d part2_3 %v, want %d %v", si.MainDataBegin, si.Part23Length, tt.mdb, tt.p23)
			}
		})
	}
}

type field struct{ v, n int }

func pack(fs []field, size int) []byte {
	b := make([]byte, size)
	pos := 0
	for _, f := range fs {
		for i := f.n - 1; i >= 0; i-- {
			if f.v>>i&1 == 1 {
				b[pos>>3] |= 0x80 >> (pos & 7)
			}
			pos++
		}
	}
	return b
}

// TestCRC checks both CRCs against their published check values for "123456789".
func TestCRC(t *testing.T) {
	if got := crc16MPEG(0xffff, []byte("123456789")); got != 0xaee7 { // CRC-16/CMS
		t.Errorf("MPEG CRC %04x, want aee7", got)
	}
	if got := crc16LAME(0, []byte("123456789")); got != 0xbb3d { // CRC-16/ARC
		t.Errorf("LAME CRC %04x, want bb3d", got)
	}
}
