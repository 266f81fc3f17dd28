package ogg

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// Seeds come from real files: opusenc's output and our writer's, whole and cut.
func seedFiles(f *testing.F) [][]byte {
	_, ref := opusencFile(f, 4800, 2)
	ours, _ := ourFile(f, 12)
	return [][]byte{ref, ours, ours[:len(ours)/2], ref[:100]}
}

func FuzzParsePage(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := ParsePage(b)
		if err != nil {
			return
		}
		if n > len(b) || n != headerSize+len(p.Segments)+len(p.Body) {
			t.Fatalf("page of %d bytes claims %d of %d input bytes", headerSize+len(p.Segments)+len(p.Body), n, len(b))
		}
		out, err := AppendPage(nil, &p)
		if err != nil || !bytes.Equal(out, b[:n]) {
			t.Fatalf("a parsed page must re-encode to its bytes: %v", err)
		}
	})
}

func FuzzParseOpusHead(f *testing.F) {
	_, ref := opusencFile(f, 4800, 2)
	ps := pages(f, ref)
	f.Add(ps[0].Body)
	h51, _ := OpusHead{Version: 1, Channels: 6, MappingFamily: 1, StreamCount: 4, CoupledCount: 2, ChannelMapping: []byte{0, 4, 1, 2, 3, 5}}.MarshalBinary()
	f.Add(h51)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseOpusHead(b)
		if err != nil {
			return
		}
		out, err := h.MarshalBinary()
		if err != nil {
			t.Fatalf("a parsed head must marshal: %v", err)
		}
		if h2, err := ParseOpusHead(out); err != nil || !bytes.Equal(h2.ChannelMapping, h.ChannelMapping) || h2.PreSkip != h.PreSkip {
			t.Fatalf("round trip changed the head: %+v → %+v, %v", h, h2, err)
		}
	})
}

func FuzzParseOpusTags(f *testing.F) {
	_, ref := opusencFile(f, 4800, 2, "--comment", "TITLE=x")
	ps := pages(f, ref)
	f.Add(ps[1].Body)
	f.Fuzz(func(t *testing.T, b []byte) {
		tags, err := ParseOpusTags(b)
		if err != nil {
			return
		}
		if n := len(tags.Comments); n > len(b)/4 {
			t.Fatalf("%d comments from %d bytes", n, len(b))
		}
	})
}

// FuzzOpusReader reads arbitrary bytes as a stream and seeks in it: no panic, no endless loop,
// and every packet fits in the input.
func FuzzOpusReader(f *testing.F) {
	for _, b := range seedFiles(f) {
		f.Add(b, int64(4800))
	}
	f.Fuzz(func(t *testing.T, b []byte, seekTo int64) {
		r, err := NewOpusReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for range 2 {
			for i := 0; ; i++ {
				p, _, err := r.ReadPacket()
				if err != nil {
					if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrBadCRC) || errors.Is(err, ErrNotOgg) || errors.Is(err, ErrBadPage) {
						break
					}
					t.Fatalf("unexpected error kind: %v", err)
				}
				if len(p) > len(b) || i > len(b) {
					t.Fatalf("packet %d of %d bytes from %d input bytes", i, len(p), len(b))
				}
			}
			if _, err := r.SeekGranule(seekTo); err != nil {
				return
			}
		}
		LastGranule(bytes.NewReader(b))
	})
}
