package mp3

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// id3Prefix is a minimal ID3v2.3 tag with one TIT2 frame, as a caller would pass in CutOptions.
func id3Prefix() []byte {
	body := append([]byte("TIT2\x00\x00\x00\x05\x00\x00\x03clip"), make([]byte, 10)...) // frame + padding
	h := []byte{'I', 'D', '3', 3, 0, 0, 0, 0, 0, byte(len(body))}
	return append(h, body...)
}

// cutFile cuts src into a new file and returns its path and the result.
func cutFile(t *testing.T, srcPath string, f *File, keep []Range) (string, CutResult) {
	t.Helper()
	src, err := os.Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := filepath.Join(t.TempDir(), "cut.mp3")
	var buf bytes.Buffer
	res, err := Cut(&buf, src, f, keep, CutOptions{Prefix: id3Prefix()})
	if err != nil {
		t.Fatalf("Cut(%v): %v", keep, err)
	}
	if res.Bytes != int64(buf.Len()) {
		t.Errorf("CutResult.Bytes %d, wrote %d", res.Bytes, buf.Len())
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out, res
}

// checkClean fails when ffmpeg (checking CRCs) prints a warning while decoding, mpg123 reports
// an error (it notices main data that does not parse: "dequantization failed", which ffmpeg
// passes over silently) or mp3val reports a problem.
func checkClean(t *testing.T, path string) {
	t.Helper()
	_, mpErr := testutil.Run(t, "mpg123", "-t", path)
	for _, line := range strings.Split(string(mpErr), "\n") {
		if l := strings.ToLower(line); strings.Contains(l, "error") || strings.Contains(l, "warning") || strings.Contains(l, "note:") {
			t.Errorf("mpg123: %s", line)
		}
	}
	_, stderr := testutil.Run(t, "ffmpeg", "-nostdin", "-v", "warning", "-err_detect", "crccheck", "-i", path, "-f", "null", "-")
	if len(stderr) > 0 {
		t.Errorf("ffmpeg -v error complains:\n%s", stderr)
	}
	out, _ := testutil.Run(t, "mp3val", path)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "WARNING") || strings.HasPrefix(line, "PROBLEM") {
			t.Errorf("mp3val: %s", line)
		}
	}
}

// TestCutClip cuts one range, starting and ending off frame boundaries, out of every encoder
// variant and checks that ffmpeg and mpg123 play exactly the kept samples, sample for sample
// equal to their decode of the source, with no warning from ffmpeg or mp3val.
func TestCutClip(t *testing.T) {
	for _, s := range append(sources, mpeg25) {
		t.Run(s.name, func(t *testing.T) {
			path := s.encode(t)
			f := scanPath(t, path)
			r := Range{Start: int64(0.7*float64(s.rate)) + 123, End: int64(2.1*float64(s.rate)) + 77}
			out, res := cutFile(t, path, f, []Range{r})
			if res.Samples != r.Len() {
				t.Errorf("CutResult.Samples %d, want %d", res.Samples, r.Len())
			}
			g := scanPath(t, out)
			if g.Samples != r.Len() {
				t.Errorf("Scan(output).Samples %d, want %d", g.Samples, r.Len())
			}
			checkTag(t, out, g, res)
			checkClean(t, out)
			ch := s.ch
			for judge, dec := range map[string]func(string) []float32{
				"ffmpeg": func(p string) []float32 { return testutil.FFmpegDecode(t, p, 0, 0) },
				"mpg123": func(p string) []float32 { return testutil.Mpg123Decode(t, p, ch) },
			} {
				want := dec(path)[r.Start*int64(ch) : r.End*int64(ch)]
				got := dec(out)
				if len(got) != len(want) {
					t.Errorf("%s: %d samples, want %d", judge, len(got)/ch, len(want)/ch)
				}
				if d := maxDiff(want, got); d > 1e-6 {
					t.Errorf("%s: output differs from the source's decode by up to %g (SNR %.1f dB)", judge, d, snrDB(want, got))
				}
			}
		})
	}
}

// TestCutTrim keeps three ranges and checks the joins: no decoder warnings, the exact output
// length, and the audio of every kept part equal to the source's, away from one granule and the
// filterbank history (1152 samples) after each join.
func TestCutTrim(t *testing.T) {
	for _, s := range append(sources, mpeg25) {
		t.Run(s.name, func(t *testing.T) {
			path := s.encode(t)
			f := scanPath(t, path)
			sec := func(x float64) int64 { return int64(x * float64(s.rate)) }
			keep := []Range{{sec(0.1) + 5, sec(0.9)}, {sec(1.3) + 301, sec(2.0) + 17}, {sec(2.4), f.Samples - 1000}}
			out, res := cutFile(t, path, f, keep)
			checkClean(t, out)
			checkTag(t, out, scanPath(t, out), res)
			// Joins snap to the nearest frame boundary; at the top bitrate the frame before a
			// join has no room to carry the reservoir and the join moves by up to two frames.
			tol := int64(f.SamplesPerFrame) / 2
			if f.Header.BitrateIndex() == 14 {
				tol += 2 * int64(f.SamplesPerFrame)
			}
			var total int64
			for i, l := range res.Ranges {
				if d := l.Source.Start - keep[i].Start; d < -tol || d > tol {
					t.Errorf("range %d starts %d samples from where asked", i, d)
				}
				if d := l.Source.End - keep[i].End; d < -tol || d > tol {
					t.Errorf("range %d ends %d samples from where asked", i, d)
				}
				if l.At != total {
					t.Errorf("range %d lands at %d, want %d", i, l.At, total)
				}
				total += l.Source.Len()
			}
			if res.Ranges[0].Source.Start != keep[0].Start || res.Ranges[2].Source.End != keep[2].End {
				t.Errorf("outer boundaries moved: %+v", res.Ranges)
			}
			if res.Samples != total {
				t.Errorf("CutResult.Samples %d, ranges add up to %d", res.Samples, total)
			}
			ch := int64(s.ch)
			src := testutil.FFmpegDecode(t, path, 0, 0)
			got := testutil.FFmpegDecode(t, out, 0, 0)
			if int64(len(got)) != total*ch {
				t.Fatalf("ffmpeg plays %d samples, want %d", int64(len(got))/ch, total)
			}
			if mp := testutil.Mpg123Decode(t, out, s.ch); int64(len(mp)) != total*ch {
				t.Errorf("mpg123 plays %d samples, want %d", int64(len(mp))/ch, total)
			}
			const guard = 1152
			for i, l := range res.Ranges {
				from := int64(0)
				if i > 0 {
					from = guard
				}
				want := src[(l.Source.Start+from)*ch : l.Source.End*ch]
				part := got[(l.At+from)*ch : (l.At+l.Source.Len())*ch]
				if d := maxDiff(want, part); d > 1e-6 {
					t.Errorf("range %d differs from the source by up to %g (SNR %.1f dB)", i, d, snrDB(want, part))
				}
			}
		})
	}
}

// checkTag checks the output's Info frame against the file: frame and byte counts, the LAME tag
// CRC, the music CRC, delay and padding.
func checkTag(t *testing.T, path string, g *File, res CutResult) {
	t.Helper()
	x := g.Xing
	if x == nil || x.LAME == nil {
		t.Fatal("output has no Info frame with LAME tag")
	}
	last := g.Frames[len(g.Frames)-1]
	if int(x.Frames) != len(g.Frames) || int64(x.Bytes) != last.Offset+int64(last.Size)-g.TagFrame.Start {
		t.Errorf("Xing says %d frames %d bytes; the file has %d frames %d bytes", x.Frames, x.Bytes, len(g.Frames), last.Offset+int64(last.Size)-g.TagFrame.Start)
	}
	if len(g.Frames) != res.Frames || g.EncoderDelay != res.Delay || g.EncoderPadding != res.Padding {
		t.Errorf("file: %d frames delay %d padding %d; CutResult: %+v", len(g.Frames), g.EncoderDelay, g.EncoderPadding, res)
	}
	for i := 1; i < 100; i++ {
		if x.TOC[i] < x.TOC[i-1] {
			t.Fatalf("TOC decreases at %d%%: %v", i, x.TOC)
		}
	}
	for _, i := range []int{0, 37, 50, 99} {
		fr := g.Frames[i*len(g.Frames)/100]
		if want := (fr.Offset - g.TagFrame.Start) * 256 / int64(x.Bytes); int64(x.TOC[i]) != want {
			t.Errorf("TOC[%d] = %d, want %d (frame at byte %d)", i, x.TOC[i], want, fr.Offset)
		}
	}
	if !x.LAME.TagCRCValid {
		t.Error("LAME tag CRC does not match")
	}
	if got := musicCRC(t, path, g); got != x.LAME.MusicCRC {
		t.Errorf("music CRC %04x, tag says %04x", got, x.LAME.MusicCRC)
	}
	if g.ID3v2.Len() != int64(len(id3Prefix())) {
		t.Errorf("ID3v2 prefix of %d bytes, want %d", g.ID3v2.Len(), len(id3Prefix()))
	}
}

func TestCutRejects(t *testing.T) {
	path := sources[0].encode(t)
	f := scanPath(t, path)
	n := f.Samples
	tests := []struct {
		name string
		keep []Range
	}{
		{"no range at all", nil},
		{"an empty range", []Range{{1000, 1000}}},
		{"a range that ends before it starts", []Range{{2000, 1000}}},
		{"a range past the end of the file", []Range{{1000, n + 1}}},
		{"a negative start", []Range{{-1, 1000}}},
		{"ranges out of order", []Range{{50000, 60000}, {1000, 2000}}},
		{"overlapping ranges", []Range{{1000, 30000}, {20000, 40000}}},
	}
	src, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if _, err := Cut(&out, src, f, tt.keep, CutOptions{}); !errors.Is(err, ErrRange) {
				t.Errorf("err %v, want ErrRange", err)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %d bytes for a refused cut", out.Len())
			}
		})
	}
}

func TestPlanRuns(t *testing.T) {
	f := &File{Header: 0xfffb9064, SamplesPerFrame: 1152, Skip: 1105, Samples: 100*1152 - 2000}
	at := func(frame int64) int64 { return frame*1152 - 1105 } // frame boundary on the timeline
	tests := []struct {
		name string
		keep []Range
		runs int
		kept []Range
	}{
		{"one range keeps its exact start and end", []Range{{1000, 50000}}, 1,
			[]Range{{1000, 50000}}},
		{"inner boundaries snap to the nearest frame boundary, outer ones stay exact", []Range{{1000, 20000}, {30000, 50000}}, 2,
			[]Range{{1000, at(18)}, {at(27), 50000}}},
		{"ranges that snap to the same boundary join into one run, with no join to carry", []Range{{1000, 20000}, {20100, 50000}}, 1,
			[]Range{{1000, at(18)}, {at(18), 50000}}},
		{"a middle range shorter than half a frame vanishes", []Range{{1000, 20000}, {25000, 25300}, {30000, 50000}}, 2,
			[]Range{{1000, at(18)}, {at(23), at(23)}, {at(27), 50000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, landed, err := planRuns(f, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != tt.runs {
				t.Errorf("%d runs, want %d: %+v", len(runs), tt.runs, runs)
			}
			if len(landed) != len(tt.kept) {
				t.Fatalf("landed %+v, want %d ranges", landed, len(tt.kept))
			}
			for i := range landed {
				if landed[i].Source != tt.kept[i] {
					t.Errorf("range %d keeps %+v, want %+v", i, landed[i].Source, tt.kept[i])
				}
			}
		})
	}
}
