package ogg

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestPageRoundTripOpusenc re-encodes every page of a file written by opusenc (libogg): our
// parser must accept libogg's checksums and our encoder must reproduce every byte.
func TestPageRoundTripOpusenc(t *testing.T) {
	_, b := opusencFile(t, 48000*3, 2)
	var out []byte
	ps := pages(t, b)
	for i := range ps {
		var err error
		if out, err = AppendPage(out, &ps[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out, b) {
		t.Fatalf("re-encoded %d pages differ from opusenc's bytes (%d vs %d bytes)", len(ps), len(out), len(b))
	}
	if ps[0].Flags != FlagBOS || ps[len(ps)-1].Flags&FlagEOS == 0 {
		t.Errorf("flags: first 0x%x, last 0x%x", ps[0].Flags, ps[len(ps)-1].Flags)
	}
}

func TestParsePageErrors(t *testing.T) {
	good, err := AppendPage(nil, &Page{Flags: FlagBOS, Granule: 7, Serial: 1, Segments: []byte{3}, Body: []byte("abc")})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 0x40; return b }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"A page cut inside its body is short, not corrupt.", good[:len(good)-1], io.ErrUnexpectedEOF},
		{"A page cut inside its header is short.", good[:10], io.ErrUnexpectedEOF},
		{"Bytes without the capture pattern are not Ogg.", []byte("RIFF....WAVEfmt ............................"), ErrNotOgg},
		{"A flipped body bit fails the checksum.", flip(len(good) - 1), ErrBadCRC},
		{"A flipped granule bit fails the checksum.", flip(8), ErrBadCRC},
		{"Stream structure version 1 does not exist.", func() []byte { b := bytes.Clone(good); b[4] = 1; return b }(), ErrBadPage},
	}
	for _, tc := range tests {
		if _, _, err := ParsePage(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s got %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, n, err := ParsePage(good); err != nil || n != len(good) {
		t.Errorf("good page: n=%d err=%v", n, err)
	}
}

func TestAppendPageRejects(t *testing.T) {
	tests := []struct {
		name string
		p    Page
	}{
		{"A segment table that does not sum to the body length is refused.", Page{Segments: []byte{4}, Body: []byte("abc")}},
		{"More than 255 segments cannot be written.", Page{Segments: make([]byte, 256)}},
	}
	for _, tc := range tests {
		if _, err := AppendPage(nil, &tc.p); !errors.Is(err, ErrBadPage) {
			t.Errorf("%s got %v", tc.name, err)
		}
	}
}

// TestCRCKnown checks the table against the CRC of a page computed bit by bit.
func TestCRCKnown(t *testing.T) {
	msg := []byte("OggS\x00\x02spacecast")
	var slow uint32
	for _, v := range msg {
		slow ^= uint32(v) << 24
		for range 8 {
			if slow&0x80000000 != 0 {
				slow = slow<<1 ^ 0x04c11db7
			} else {
				slow <<= 1
			}
		}
	}
	if got := crcUpdate(0, msg); got != slow {
		t.Fatalf("crc %08x, bitwise %08x", got, slow)
	}
}

func TestPacketSamples(t *testing.T) {
	tests := []struct {
		name string
		pkt  []byte
		want int
		bad  bool
	}{
		{"SILK NB 10 ms, one frame (config 0, code 0).", []byte{0 << 3}, 480, false},
		{"SILK WB 60 ms (config 11).", []byte{11 << 3}, 2880, false},
		{"Hybrid FB 20 ms (config 15).", []byte{15 << 3}, 960, false},
		{"CELT 2.5 ms (config 16).", []byte{16 << 3}, 120, false},
		{"CELT FB 20 ms, two equal frames (code 1).", []byte{31<<3 | 1, 0}, 1920, false},
		{"CELT FB 20 ms, two frames of different sizes (code 2).", []byte{31<<3 | 2, 1, 0}, 1920, false},
		{"Code 3 with six 20 ms frames is 120 ms, the maximum.", []byte{31<<3 | 3, 6}, 5760, false},
		{"Code 3 with three 60 ms SILK frames exceeds 120 ms.", []byte{3<<3 | 3, 3}, 0, true},
		{"Code 3 with zero frames is invalid.", []byte{31<<3 | 3, 0}, 0, true},
		{"Code 3 without its count byte is invalid.", []byte{31<<3 | 3}, 0, true},
		{"An empty packet has no TOC.", nil, 0, true},
	}
	for _, tc := range tests {
		got, err := PacketSamples(tc.pkt)
		if tc.bad != (err != nil) || got != tc.want {
			t.Errorf("%s got %d, %v", tc.name, got, err)
		}
		if tc.bad && !errors.Is(err, ErrBadPacket) {
			t.Errorf("%s error %v does not wrap ErrBadPacket", tc.name, err)
		}
	}
}
