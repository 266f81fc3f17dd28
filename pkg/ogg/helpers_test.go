package ogg

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// opusencFile encodes frames of a chirp with opusenc (the reference encoder, independent of this
// package) and returns the file's path and bytes.
func opusencFile(t testing.TB, frames, channels int, extra ...string) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	wav := filepath.Join(dir, "in.wav")
	mono := testutil.Chirp(frames, 48000, 0.5)
	pcm := make([]float32, 0, frames*channels)
	for _, v := range mono {
		for range channels {
			pcm = append(pcm, v)
		}
	}
	testutil.WriteWAV16(t, wav, pcm, 48000, channels)
	out := filepath.Join(dir, "ref.opus")
	testutil.Run(t, "opusenc", append(append([]string{"--quiet"}, extra...), wav, out)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return out, b
}

// packet is one packet as the reader returned it.
type packet struct {
	data    []byte
	granule int64
}

// readAll reads every packet (copied) and the terminating error.
func readAll(t testing.TB, r *OpusReader) ([]packet, error) {
	t.Helper()
	var out []packet
	for {
		p, g, err := r.ReadPacket()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, packet{bytes.Clone(p), g})
	}
}

// pages splits a byte stream into pages with ParsePage, failing on any error.
func pages(t testing.TB, b []byte) []Page {
	t.Helper()
	var out []Page
	for len(b) > 0 {
		p, n, err := ParsePage(b)
		if err != nil {
			t.Fatalf("page %d: %v", len(out), err)
		}
		out = append(out, p)
		b = b[n:]
	}
	return out
}

// fakePacket makes a packet of n bytes whose TOC says one 20 ms CELT frame (config 31, code 0),
// filled with a pattern that identifies it.
func fakePacket(n int, id byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = id + byte(i)
	}
	if n > 0 {
		p[0] = 31 << 3
	}
	return p
}
