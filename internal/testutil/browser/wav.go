package browser

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// wavInfo is what Chromium's fake microphone needs to know about a WAV file.
type wavInfo struct {
	format     uint16 // 1 PCM, 3 IEEE float, 0xFFFE extensible
	channels   int
	rate       int
	bits       int
	dataBytes  int
	dataFrames int
}

// parseWAV checks that b is a RIFF/WAVE file Chromium can play as a microphone (its
// --use-file-for-fake-audio-capture reads PCM and float WAV): a fmt chunk, then a non-empty
// data chunk (RIFF: Microsoft Multimedia Programming Interface 1.0, "WAVE Form Type").
// Failing here says which file is wrong; Chromium would fall back to silence or crash.
func parseWAV(b []byte) (wavInfo, error) {
	var w wavInfo
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return w, errors.New("not a WAV file (no RIFF/WAVE header); write one with testutil.WriteWAV16")
	}
	haveFmt := false
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := b[off+8:]
		if size < 0 || size > len(body) {
			if id != "data" {
				return w, fmt.Errorf("chunk %q at byte %d claims %d bytes, %d are left", id, off, size, len(body))
			}
			size = len(body) // a data chunk cut short (a streamed WAV) still plays
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return w, fmt.Errorf("fmt chunk is %d bytes, want at least 16", size)
			}
			w.format = binary.LittleEndian.Uint16(body[0:2])
			w.channels = int(binary.LittleEndian.Uint16(body[2:4]))
			w.rate = int(binary.LittleEndian.Uint32(body[4:8]))
			w.bits = int(binary.LittleEndian.Uint16(body[14:16]))
			haveFmt = true
			switch {
			case w.format != 1 && w.format != 3 && w.format != 0xFFFE:
				return w, fmt.Errorf("format tag %#x is not PCM (1), float (3) or extensible", w.format)
			case w.channels < 1 || w.channels > 8:
				return w, fmt.Errorf("%d channels, want 1 to 8", w.channels)
			case w.rate < 8000 || w.rate > 192000:
				return w, fmt.Errorf("sample rate %d Hz, want 8000 to 192000", w.rate)
			case w.bits != 8 && w.bits != 16 && w.bits != 24 && w.bits != 32:
				return w, fmt.Errorf("%d bits a sample, want 8, 16, 24 or 32", w.bits)
			}
		case "data":
			if !haveFmt {
				return w, errors.New("data chunk before the fmt chunk")
			}
			w.dataBytes = size
			w.dataFrames = size / (w.channels * w.bits / 8)
			if w.dataFrames == 0 {
				return w, errors.New("no audio (empty data chunk)")
			}
			return w, nil
		}
		off += 8 + size + size&1 // chunks are padded to even sizes
	}
	if !haveFmt {
		return w, errors.New("no fmt chunk")
	}
	return w, errors.New("no data chunk")
}
