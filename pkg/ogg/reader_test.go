package ogg

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// ourFile writes n fake 20 ms packets with 100 ms pages and returns the bytes and the packets.
func ourFile(t testing.TB, n int) ([]byte, [][]byte) {
	t.Helper()
	var out bytes.Buffer
	w, err := NewOpusWriter(&out, OpusHead{Version: 1, Channels: 1, PreSkip: 312}, OpusTags{Vendor: "x"},
		WithSerial(7), WithMaxPageDuration(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for i := range n {
		p := fakePacket(100+i%300, byte(i))
		pkts = append(pkts, p)
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), pkts
}

func TestReaderErrors(t *testing.T) {
	file, pkts := ourFile(t, 50)
	ps := pages(t, file)
	pageEnd := func(i int) int { // byte offset where page i ends
		n := 0
		for _, p := range ps[:i+1] {
			n += headerSize + len(p.Segments) + len(p.Body)
		}
		return n
	}
	vorbis, _ := AppendPage(nil, &Page{Flags: FlagBOS, Segments: []byte{7}, Body: []byte("\x01vorbis")})
	corrupt := bytes.Clone(file)
	corrupt[pageEnd(4)+40] ^= 1 // inside page 5's body

	tests := []struct {
		name      string
		in        []byte
		wantOpen  error
		wantPkts  int
		wantFinal error
	}{
		{"An empty input is not Ogg.", nil, ErrNotOgg, 0, nil},
		{"Text is not Ogg.", []byte("this is not an ogg file at all, just some words"), ErrNotOgg, 0, nil},
		{"An Ogg Vorbis stream is not Opus.", vorbis, ErrNotOpus, 0, nil},
		{"A file cut after the headers opens but has no packets.", file[:pageEnd(1)], nil, 0, io.ErrUnexpectedEOF},
		{"A file cut inside page 4 yields the whole pages 2 and 3 (10 packets), then the truncation.",
			file[:pageEnd(3)+30], nil, 10, io.ErrUnexpectedEOF},
		{"A file cut at a page boundary without EOS is still unfinished.", file[:pageEnd(4)], nil, 15, io.ErrUnexpectedEOF},
		{"A flipped bit in page 5 stops reading at page 5 with a checksum error.", corrupt, nil, 15, ErrBadCRC},
		{"The whole file reads to io.EOF.", file, nil, 50, io.EOF},
	}
	for _, tc := range tests {
		r, err := NewOpusReader(bytes.NewReader(tc.in))
		if tc.wantOpen != nil || err != nil {
			if !errors.Is(err, tc.wantOpen) || tc.wantOpen == nil {
				t.Errorf("%s open: %v, want %v", tc.name, err, tc.wantOpen)
			}
			continue
		}
		var got int
		for {
			p, _, err := r.ReadPacket()
			if err != nil {
				if !errors.Is(err, tc.wantFinal) {
					t.Errorf("%s final error %v, want %v", tc.name, err, tc.wantFinal)
				}
				break
			}
			if !bytes.Equal(p, pkts[got]) {
				t.Errorf("%s packet %d differs", tc.name, got)
			}
			got++
		}
		if got != tc.wantPkts {
			t.Errorf("%s read %d packets, want %d", tc.name, got, tc.wantPkts)
		}
	}
}

// TestReaderSkipsOtherStreams interleaves a foreign logical stream's pages (RFC 3533 §4
// multiplexing); the reader must return only the Opus stream's packets.
func TestReaderSkipsOtherStreams(t *testing.T) {
	file, pkts := ourFile(t, 20)
	var mixed []byte
	for i, p := range pages(t, file) {
		mixed, _ = AppendPage(mixed, &p)
		if i >= 1 {
			other := Page{Serial: 99, Sequence: uint32(i), Granule: int64(i), Segments: []byte{3}, Body: []byte{0xf8, 1, 2}}
			mixed, _ = AppendPage(mixed, &other)
		}
	}
	r, err := NewOpusReader(bytes.NewReader(mixed))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil || len(got) != len(pkts) {
		t.Fatalf("%d packets, %v; want %d", len(got), err, len(pkts))
	}
}

func TestLastGranule(t *testing.T) {
	file, _ := ourFile(t, 123) // 123 packets × 960
	ps := pages(t, file)
	headers := 2*headerSize + len(ps[0].Segments) + len(ps[0].Body) + len(ps[1].Segments) + len(ps[1].Body)
	big, _ := ourFile(t, 3000) // 60 s: longer than the first window
	tests := []struct {
		name string
		in   []byte
		want int64
		err  error
	}{
		{"A whole file ends at its EOS page's granule.", file, 123 * 960, nil},
		{"A file missing the last 10 bytes ends at the page before.", file[:len(file)-10], ps[len(ps)-2].Granule, nil},
		{"Garbage after the last page is passed over.", append(bytes.Clone(file), "OggS garbage"...), 123 * 960, nil},
		{"A long file is found through its last window.", big, 3000 * 960, nil},
		{"A file of only headers has granule 0.", file[:headers], 0, nil},
		{"Text has no granule at all.", []byte("no pages here"), -1, ErrNoGranule},
	}
	for _, tc := range tests {
		g, serial, err := LastGranule(bytes.NewReader(tc.in))
		if g != tc.want || !errors.Is(err, tc.err) || (err == nil && serial != 7) {
			t.Errorf("%s got %d (serial %d), %v; want %d, %v", tc.name, g, serial, err, tc.want, tc.err)
		}
	}
}

// TestSeekGranule seeks to granules on and between page boundaries: the packet read next must be
// the one that starts at the granule SeekGranule returns.
func TestSeekGranule(t *testing.T) {
	file, pkts := ourFile(t, 100)
	r, err := NewOpusReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		target int64
		want   int64
	}{
		{"Before the first page's end rewinds to the start.", 4799, -1},
		{"Exactly a page end lands there.", 4800, 4800},
		{"Between page ends lands on the earlier one.", 4800*7 + 100, 4800 * 7},
		{"Past the end lands after the last page: nothing is left to read.", 1 << 40, 96000},
		{"Back to the start again.", 0, -1},
	}
	for _, tc := range tests {
		got, err := r.SeekGranule(tc.target)
		if err != nil || got != tc.want {
			t.Errorf("%s got %d, %v; want %d", tc.name, got, err, tc.want)
			continue
		}
		idx := int(max(got, 0) / 960)
		rest, err := readAll(t, r)
		if err != nil || len(rest) != len(pkts)-idx {
			t.Errorf("%s then read %d packets (%v), want %d", tc.name, len(rest), err, len(pkts)-idx)
			continue
		}
		if len(rest) > 0 && !bytes.Equal(rest[0].data, pkts[idx]) {
			t.Errorf("%s: first packet after seek is not packet %d", tc.name, idx)
		}
	}
	if _, err := (&OpusReader{pr: newPageReader(bytes.NewBuffer(file))}).SeekGranule(0); !errors.Is(err, ErrNotSeekable) {
		t.Errorf("seeking a plain io.Reader: %v", err)
	}
}
