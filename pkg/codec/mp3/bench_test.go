package mp3

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// longFile repeats the audio frames of a 10 s LAME CBR 128k file to the given length behind a
// fresh Info frame, re-padding every frame the way an encoder keeps a constant bitrate (frame k
// ends at byte floor((k+1)·144·bitrate/fs)). The reservoir at each seam and at re-padded frames
// is wrong, so the audio is, but the framing is that of a long CBR recording.
func longFile(b *testing.B, seconds int) []byte {
	b.Helper()
	s := source{"bench", 44100, 2, 10, "lame", []string{"--quiet", "-b", "128"}, true}
	src, err := os.ReadFile(s.encode(b))
	if err != nil {
		b.Fatal(err)
	}
	f, err := Scan(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		b.Fatal(err)
	}
	n := seconds * 44100 / 1152
	x := *f.Xing
	x.Frames = uint32(n)
	info, err := BuildInfoFrame(f.Header, &x)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]byte, 0, len(info)+n*418)
	out = append(out, info...)
	num, den := int64(144*128000), int64(44100)
	for k := 0; k < n; k++ {
		fr := f.Frames[k%len(f.Frames)]
		body := src[fr.Offset : fr.Offset+int64(fr.Size)]
		size := int((int64(k+1)*num)/den - (int64(k)*num)/den)
		h := fr.Header.WithBitrateIndex(fr.Header.BitrateIndex(), size > fr.Header.WithBitrateIndex(fr.Header.BitrateIndex(), false).FrameSize())
		hb := h.Bytes()
		frame := append(append([]byte{}, body[:min(size, len(body))]...), make([]byte, max(0, size-len(body)))...)
		copy(frame, hb[:])
		out = append(out, frame...)
	}
	return out
}

// BenchmarkCutClipFromLongFile cuts 30 s from the middle of a 2-hour 128 kbit/s CBR file:
// Probe plus Cut, as the clip command does.
func BenchmarkCutClipFromLongFile(b *testing.B) {
	data := longFile(b, 7200)
	r := bytes.NewReader(data)
	b.ResetTimer()
	for b.Loop() {
		f, err := Probe(r, int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if f.Frames != nil {
			b.Fatal("Probe fell back to a full Scan")
		}
		mid := f.Samples / 2
		if _, err := Cut(io.Discard, r, f, []Range{{mid, mid + 30*44100}}, CutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScan indexes a 10-minute 128 kbit/s file held in memory.
func BenchmarkScan(b *testing.B) {
	data := longFile(b, 600)
	r := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Scan(r, int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode measures decoding throughput (go-mp3 plus our trimming and conversion) over a
// 60 s 128 kbit/s stereo file; the reported MB/s are of MP3 input.
func BenchmarkDecode(b *testing.B) {
	data := longFile(b, 60)
	b.SetBytes(int64(len(data)))
	buf := make([]float32, 4096*2)
	for b.Loop() {
		d, err := NewDecoder(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := d.Read(buf); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
