package mp3

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/spacecast/spacecast/pkg/audio"
)

// Run a target with minimisation off, or the fuzzer spends its time shrinking whole-file inputs:
//
//	go test -tags nolibopusfile -run XXX -fuzz FuzzScan -fuzztime 20s -fuzzminimizetime 0 ./pkg/codec/mp3/

// seeds encodes short real files (CBR, VBR, MPEG-2, CRC, untagged) for the fuzz corpora.
func seeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, s := range sources {
		s.seconds = 0.12
		b, err := os.ReadFile(s.encode(f))
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzParseHeader(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b[:4])
	}
	f.Add([]byte{0xff, 0xe3, 0x18, 0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if n := h.FrameSize(); n < h.MainDataOffset() && h.Bitrate() > 8000 {
			t.Errorf("%v: frame of %d bytes cannot hold its side info", h, n)
		}
		if hb := h.Bytes(); !bytes.Equal(hb[:], b[:4]) {
			t.Errorf("Bytes() % x, parsed % x", hb, b[:4])
		}
	})
}

func FuzzParseSideInfo(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(binary.BigEndian.Uint32(b), b[4:40])
	}
	f.Fuzz(func(t *testing.T, hdr uint32, b []byte) {
		h := Header(hdr)
		if h.validate() != nil {
			return
		}
		si, err := ParseSideInfo(h, b)
		if err != nil {
			return
		}
		if si.MainDataBegin > maxReservoir(h) {
			t.Errorf("main_data_begin %d > %d", si.MainDataBegin, maxReservoir(h))
		}
	})
}

func FuzzParseTag(f *testing.F) {
	for _, b := range seeds(f) {
		h, _ := ParseHeader(b)
		f.Add(b[:min(len(b), h.FrameSize())])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if x, err := ParseXing(b); err == nil && x.LAME != nil {
			if x.LAME.Delay > 4095 || x.LAME.Padding > 4095 {
				t.Errorf("12-bit fields out of range: %+v", x.LAME)
			}
		}
		ParseVBRI(b)
	})
}

func FuzzScan(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := Scan(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		end := fl.ID3v2.End
		for i, fr := range fl.Frames {
			if fr.Offset < end || fr.Offset+int64(fr.Size) > fl.Tail.Start {
				t.Fatalf("frame %d [%d, %d) overlaps the previous one or the tags", i, fr.Offset, fr.Offset+int64(fr.Size))
			}
			end = fr.Offset + int64(fr.Size)
		}
		if fl.Samples < 0 || fl.Samples > int64(len(fl.Frames)*fl.SamplesPerFrame) {
			t.Errorf("%d samples from %d frames", fl.Samples, len(fl.Frames))
		}
	})
}

// FuzzCut cuts scanned inputs at fuzzed places; whatever Cut writes must scan back to the length
// it reports.
func FuzzCut(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b, uint32(1000), uint32(3000), uint32(5000), uint32(9000))
	}
	f.Fuzz(func(t *testing.T, b []byte, s0, e0, s1, e1 uint32) {
		fl, err := Scan(bytes.NewReader(b), int64(len(b)))
		if err != nil || fl.Samples == 0 {
			return
		}
		n := fl.Samples
		keep := []Range{{int64(s0) % n, int64(e0) % (n + 1)}, {int64(s1) % n, int64(e1) % (n + 1)}}
		var out bytes.Buffer
		res, err := Cut(&out, bytes.NewReader(b), fl, keep, CutOptions{})
		if err != nil {
			return
		}
		g, err := Scan(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("output does not scan: %v", err)
		}
		if g.Samples != res.Samples {
			t.Errorf("output scans to %d samples, Cut reported %d", g.Samples, res.Samples)
		}
	})
}

// FuzzDecode feeds arbitrary bytes to the decoder, which must return errors, never panic.
func FuzzDecode(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := NewDecoder(bytes.NewReader(b))
		if err != nil {
			return
		}
		pcm, err := audio.ReadAll(d)
		if err == nil && int64(len(pcm)/d.Format().Channels) > d.Len() {
			t.Errorf("decoded %d samples, more than Len %d", len(pcm)/d.Format().Channels, d.Len())
		}
	})
}
