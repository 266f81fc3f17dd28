package mp3

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// Run a target with minimisation off, or the fuzzer spends its time shrinking whole-file inputs:
//
//	go test -tags nolibopusfile -run XXX -fuzz FuzzScan -fuzztime 20s -fuzzminimizetime 0 ./pkg/codec/mp3/

// seeds encodes short real files (CBR, VBR, MPEG-2, CRC, untagged) for the fuzz corpora.
func seeds(f *testing.F) [][]byte {
	return seedsOf(f, 0.12)
}

// seedsOf encodes the sources, each seconds long.
func seedsOf(f *testing.F, seconds float64) [][]byte {
	var out [][]byte
	for _, s := range sources {
		s.seconds = seconds
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

// FuzzScan scans damaged real files, and arbitrary bytes: frames must not overlap each other or
// the tags, and the length must fit the frames.
//
// The input is an edit of a real file (see FuzzDecode and fuzzInput): whole files as input stalled
// the fuzzer minimizing them (64 runs in 10 s, then none). Raw inputs may be of any length, so
// every byte string the target took before is still reachable.
func FuzzScan(f *testing.F) {
	files := seeds(f)
	for i := range files {
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), []byte{testutil.EditSet, 40, 0, 0xff, testutil.EditDelete, 100, 0, 0})
	}
	f.Add(uint8(rawInput), files[0][:maxEdits])
	f.Fuzz(func(t *testing.T, which uint8, edits []byte) {
		b, ok := fuzzInput(files, which, edits)
		if !ok {
			return
		}
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

// fuzzInput makes a whole-file target's input from an edit of a real file: which picks one of
// files and edits (at most maxEdits bytes) are testutil.ApplyEdits operations on it; at rawInput,
// edits itself is the input, of any length. It reports false for edits too long to be an edit.
func fuzzInput(files [][]byte, which uint8, edits []byte) ([]byte, bool) {
	if which == rawInput {
		return edits, true
	}
	if len(edits) > maxEdits {
		return nil, false
	}
	return testutil.ApplyEdits(files[int(which)%len(files)], edits), true
}

// FuzzCut cuts scanned inputs at fuzzed places; whatever Cut writes must scan back to the length
// it reports. The input is an edit of a real file, as FuzzScan's; any byte string the target took
// before is reachable as a raw input.
func FuzzCut(f *testing.F) {
	files := seeds(f)
	for i := range files {
		f.Add(uint8(i), []byte{}, uint32(1000), uint32(3000), uint32(5000), uint32(9000))
		f.Add(uint8(i), []byte{testutil.EditDelete, 0, 2, 0}, uint32(1000), uint32(3000), uint32(5000), uint32(9000))
	}
	f.Fuzz(func(t *testing.T, which uint8, edits []byte, s0, e0, s1, e1 uint32) {
		if b, ok := fuzzInput(files, which, edits); ok {
			checkCut(t, b, s0, e0, s1, e1)
		}
	})
}

// checkCut cuts b, if it scans, at the places s0..e1 pick: the output must scan back to the length
// Cut reports. It reports whether b scanned and Cut ran.
func checkCut(t *testing.T, b []byte, s0, e0, s1, e1 uint32) bool {
	fl, err := Scan(bytes.NewReader(b), int64(len(b)))
	if err != nil || fl.Samples == 0 {
		return false
	}
	n := fl.Samples
	keep := []Range{{int64(s0) % n, int64(e0) % (n + 1)}, {int64(s1) % n, int64(e1) % (n + 1)}}
	var out bytes.Buffer
	res, err := Cut(&out, bytes.NewReader(b), fl, keep, CutOptions{})
	if err != nil {
		return true
	}
	g, err := Scan(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatalf("output does not scan: %v", err)
	}
	if g.Samples != res.Samples {
		t.Errorf("output scans to %d samples, Cut reported %d", g.Samples, res.Samples)
	}
	return true
}

// TestCutRegressions cuts the inputs FuzzCut once failed on, which were whole files before its
// input became an edit (testdata/regressions/cut-*, in the old fuzz corpus format: the file, then
// the four places).
func TestCutRegressions(t *testing.T) {
	paths, _ := filepath.Glob("testdata/regressions/cut-*")
	if len(paths) == 0 {
		t.Fatal("no regression inputs")
	}
	for _, p := range paths {
		vals := corpusValues(t, p)
		if len(vals) != 5 {
			t.Fatalf("%s: %d values, want a file and four places", p, len(vals))
		}
		var at [4]uint32
		for i := range at {
			n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(vals[i+1], "uint32("), ")"), 10, 32)
			if err != nil {
				t.Fatalf("%s: value %d: %v", p, i+1, err)
			}
			at[i] = uint32(n)
		}
		b := corpusBytes(t, p, vals[0])
		if !checkCut(t, b, at[0], at[1], at[2], at[3]) {
			t.Errorf("%s: does not scan, so it no longer tests Cut", p)
		}
		t.Logf("%s: %d bytes cut at %v", filepath.Base(p), len(b), at)
	}
}

// corpusValues returns the values of a file in Go's fuzz corpus format, one a line, as written.
func corpusValues(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a fuzz corpus file", path)
	}
	return lines[1:]
}

// corpusBytes decodes a []byte value of a corpus file.
func corpusBytes(t *testing.T, path, v string) []byte {
	raw, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(raw)
}

// FuzzDecode decodes damaged real files, and arbitrary bytes: the decoder must return errors,
// never panic, and never yield more than Len.
//
// The input is an edit of a real file, not the file: which picks one of the encoders' files (or,
// at rawInput, takes edits itself as the whole input, so any byte string remains reachable), and
// edits is a list of 4-byte operations (op, offset lo, offset hi, value) that set, insert or
// delete a byte. The fuzzer minimizes every new input in a loop quadratic in its length; with
// whole files as input it spent nearly all its time there (16 executions in 15 s). A few bytes
// of edits minimize at once.
func FuzzDecode(f *testing.F) {
	files := seedsOf(f, 0.03)
	for i := range files {
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), []byte{testutil.EditSet, 40, 0, 0xff, testutil.EditDelete, 100, 0, 0})
	}
	f.Add(uint8(rawInput), files[0][:maxEdits])
	f.Fuzz(func(t *testing.T, which uint8, edits []byte) {
		if len(edits) > maxEdits {
			return
		}
		b := edits
		if which != rawInput {
			b = testutil.ApplyEdits(files[int(which)%len(files)], edits)
		}
		checkDecode(t, b)
	})
}

// rawInput as FuzzDecode's which means: the edits are the input. Edits (and so raw inputs) are at
// most maxEdits bytes, which the minimizer shrinks in a fraction of a second: 16 edits damage a
// file enough, and long arbitrary bytes are FuzzScan's (the decoder's front end).
const (
	rawInput = 255
	maxEdits = testutil.MaxEdits
)

// checkDecode decodes b: errors are fine, a panic or more samples than Len is not.
func checkDecode(t *testing.T, b []byte) {
	d, err := NewDecoder(bytes.NewReader(b))
	if err != nil {
		return
	}
	pcm, err := audio.ReadAll(d)
	if err == nil && int64(len(pcm)/d.Format().Channels) > d.Len() {
		t.Errorf("decoded %d samples, more than Len %d", len(pcm)/d.Format().Channels, d.Len())
	}
}

// TestDecodeRegressions decodes inputs FuzzDecode once crashed on that are longer than its raw
// inputs may be (testdata/regressions/decode-*, in the fuzz corpus format).
func TestDecodeRegressions(t *testing.T) {
	paths, _ := filepath.Glob("testdata/regressions/decode-*")
	if len(paths) == 0 {
		t.Fatal("no regression inputs")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(b), "\n", 2)
		if len(lines) < 2 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a fuzz corpus file", p)
		}
		raw, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lines[1]), "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		checkDecode(t, []byte(raw))
		t.Logf("%s: %d bytes decoded without a panic", filepath.Base(p), len(raw))
	}
}
