package ogg

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWriter writes 20 ms packets of 120 bytes (48 kb/s) in 100 ms pages.
// go test -run XXX -bench . -benchmem ./pkg/ogg
func BenchmarkWriter(b *testing.B) {
	w, err := NewOpusWriter(io.Discard, OpusHead{Version: 1, Channels: 1, PreSkip: 312}, OpusTags{Vendor: "x"}, WithMaxPageDuration(100*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	pkt := fakePacket(120, 1)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WritePacket(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader reads a 60 s file of 20 ms packets; allocations per packet must be zero.
func BenchmarkReader(b *testing.B) {
	file, pkts := ourFile(b, 3000)
	rd := bytes.NewReader(file)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(file)
		r, err := NewOpusReader(rd)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, _, err := r.ReadPacket(); err != nil {
				break
			}
			n++
		}
		if n != len(pkts) {
			b.Fatalf("%d packets", n)
		}
	}
}

// BenchmarkSeekGranule seeks to the middle of an hour of 64 kb/s packets in 1 s pages (the scan
// reads page headers from the start).
func BenchmarkSeekGranule(b *testing.B) {
	var out bytes.Buffer
	w, err := NewOpusWriter(&out, OpusHead{Version: 1, Channels: 1, PreSkip: 312}, OpusTags{Vendor: "x"})
	if err != nil {
		b.Fatal(err)
	}
	pkt := fakePacket(160, 1)
	for range 3600 * 50 {
		if err := w.WritePacket(pkt); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	r, err := NewOpusReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if g, err := r.SeekGranule(1800 * 48000); err != nil || g != 1800*48000 {
			b.Fatalf("%d, %v", g, err)
		}
	}
}

// BenchmarkCheckGranules checks the page headers of a 3-hour track (20 ms packets of 80 bytes in
// 1 s pages, as the recorder syncs them), the work every open of an Ogg Opus file now does.
func BenchmarkCheckGranules(b *testing.B) {
	path := filepath.Join(b.TempDir(), "long.opus")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w, err := NewOpusWriter(f, OpusHead{Version: 1, Channels: 1, PreSkip: 312}, OpusTags{Vendor: "x"}, WithMaxPageDuration(time.Second))
	if err != nil {
		b.Fatal(err)
	}
	pkt := fakePacket(80, 1)
	for range 3 * 3600 * 50 {
		if err := w.WritePacket(pkt); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(size)
	for b.Loop() {
		if err := CheckGranules(f, size); err != nil {
			b.Fatal(err)
		}
	}
}
