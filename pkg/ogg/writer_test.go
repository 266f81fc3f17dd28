package ogg

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
)

// TestRewriteOpusencFile remuxes opusenc's packets through OpusWriter with 100 ms pages. The
// reference tools must accept the result without a warning and decode it to exactly the samples
// they decode from opusenc's own file: same packets, same pre-skip, same end trimming.
func TestRewriteOpusencFile(t *testing.T) {
	for _, channels := range []int{1, 2} {
		refPath, ref := opusencFile(t, 48000*2+777, channels)
		r, err := NewOpusReader(bytes.NewReader(ref))
		if err != nil {
			t.Fatal(err)
		}
		pkts, err := readAll(t, r)
		if err != nil {
			t.Fatal(err)
		}
		last := pkts[len(pkts)-1].granule
		var out bytes.Buffer
		w, err := NewOpusWriter(&out, r.Head(), OpusTags{Vendor: "spacecast test"}, WithSerial(42), WithMaxPageDuration(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			if err := w.WritePacket(p.data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.CloseWithEnd(last - int64(r.Head().PreSkip)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "ours.opus")
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}

		stdout, stderr := testutil.Run(t, "opusinfo", path)
		if s := string(stdout) + string(stderr); strings.Contains(strings.ToLower(s), "warning") || strings.Contains(s, "rror") {
			t.Errorf("opusinfo complains:\n%s", s)
		}
		for name, dec := range map[string]func(string) []float32{
			"ffmpeg":  func(p string) []float32 { return testutil.FFmpegDecode(t, p, 0, 0) },
			"opusdec": func(p string) []float32 { return testutil.OpusdecDecode(t, p) },
		} {
			want, got := dec(refPath), dec(path)
			if len(want) != (48000*2+777)*channels || !slices.Equal(got, want) {
				t.Errorf("%d ch: %s decodes %d samples from ours, %d from opusenc's (input %d); identical=%v",
					channels, name, len(got), len(want), (48000*2+777)*channels, slices.Equal(got, want))
			}
		}

		ps := pages(t, out.Bytes())
		if ps[0].Flags != FlagBOS || len(ps[0].Segments) != 1 || ps[1].Flags != 0 || ps[1].Granule != 0 {
			t.Errorf("header pages: %+v / %+v", ps[0].Flags, ps[1].Flags)
		}
		end := ps[len(ps)-1]
		if end.Flags&FlagEOS == 0 || end.Granule != last {
			t.Errorf("final page flags 0x%x granule %d, want EOS and %d", end.Flags, end.Granule, last)
		}
		for i, p := range ps[2 : len(ps)-1] {
			if n := countPackets(p); n != 5 { // 100 ms of 20 ms packets
				t.Errorf("audio page %d holds %d packets, want 5", i, n)
			}
		}
	}
}

// TestLacing writes packets whose lengths sit on the edges of RFC 3533 §5 lacing and reads them
// back, checking the page structure independently with ParsePage.
func TestLacing(t *testing.T) {
	sizes := []int{1, 254, 255, 256, 510, 511, 255 * 255, 70000, 3, 255 * 300, 2}
	var out bytes.Buffer
	w, err := NewOpusWriter(&out, OpusHead{Version: 1, Channels: 1, PreSkip: 312}, OpusTags{Vendor: "x"}, WithMaxPageDuration(0))
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for i, n := range sizes {
		p := fakePacket(n, byte(i))
		want = append(want, p)
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewOpusReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d packets, wrote %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].data, want[i]) {
			t.Errorf("packet %d (%d bytes) came back as %d bytes", i, len(want[i]), len(got[i].data))
		}
		// Every packet ends its own page here (max page duration 0), so each carries a granule.
		if g := int64(960 * (i + 1)); got[i].granule != g {
			t.Errorf("packet %d granule %d, want %d", i, got[i].granule, g)
		}
	}
	// Independent view of the pages: a packet of n*255 bytes needs a 0 terminator; pages where no
	// packet ends have granule -1 and the next page is flagged continued.
	ps := pages(t, out.Bytes())
	for i, p := range ps[2:] {
		ends := slices.ContainsFunc(p.Segments, func(v byte) bool { return v < 255 })
		if !ends && p.Granule != -1 {
			t.Errorf("page %d: no packet ends but granule %d", i+2, p.Granule)
		}
		if i+3 < len(ps) && (p.Segments[len(p.Segments)-1] == 255) != (ps[i+3].Flags&FlagContinued != 0) {
			t.Errorf("page %d: continued flag of next page disagrees with last lacing value", i+2)
		}
	}
}

// writeLog records each Write so tests can check that pages arrive whole.
type writeLog struct{ writes [][]byte }

func (l *writeLog) Write(p []byte) (int, error) {
	l.writes = append(l.writes, bytes.Clone(p))
	return len(p), nil
}

// TestFlushForCrashSafety checks what a recorder relies on: every Write is one whole page, and
// after Flush the bytes so far are a readable stream holding all but the latest packet.
func TestFlushForCrashSafety(t *testing.T) {
	var log writeLog
	w, err := NewOpusWriter(&log, OpusHead{Version: 1, Channels: 1, PreSkip: 312}, OpusTags{Vendor: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		p := fakePacket(40, byte(i))
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
		p[5] = 0xEE // the caller reuses its buffer at once
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for i, b := range log.writes {
		if _, n, err := ParsePage(b); err != nil || n != len(b) {
			t.Fatalf("write %d is not exactly one page: n=%d of %d, %v", i, n, len(b), err)
		}
		all = append(all, b...)
	}
	r, err := NewOpusReader(bytes.NewReader(all))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) != 6 {
		t.Fatalf("after Flush: %d packets, %v; want 6 and io.ErrUnexpectedEOF (no EOS yet)", len(got), err)
	}
	for i, p := range got {
		if !bytes.Equal(p.data, fakePacket(40, byte(i))) {
			t.Errorf("packet %d changed: the writer kept a reference to the caller's buffer", i)
		}
	}
	if got[5].granule != 6*960 {
		t.Errorf("granule after flush %d, want %d", got[5].granule, 6*960)
	}
}

func TestWriterErrors(t *testing.T) {
	newW := func(out io.Writer) *OpusWriter {
		w, err := NewOpusWriter(out, OpusHead{Version: 1, Channels: 1, PreSkip: 312}, OpusTags{Vendor: "x"}, WithMaxPageDuration(40*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	w := newW(io.Discard)
	if err := w.WritePacket(nil); !errors.Is(err, ErrBadPacket) {
		t.Errorf("an empty packet must be refused: %v", err)
	}
	for range 5 {
		if err := w.WritePacket(fakePacket(10, 0)); err != nil {
			t.Fatal(err)
		}
	}
	// 5 packets with 40 ms pages: pages end at 1920 and 3840; the final page spans 3840..4800.
	if err := w.CloseWithEnd(4800 - 312 + 1); !errors.Is(err, ErrBadEnd) {
		t.Errorf("an end after the last sample must be refused: %v", err)
	}
	if err := w.CloseWithEnd(3840 - 312 - 1); !errors.Is(err, ErrBadEnd) {
		t.Errorf("an end before the final page must be refused: %v", err)
	}
	if err := w.CloseWithEnd(4000 - 312); err != nil {
		t.Errorf("an end inside the final page: %v", err)
	}
	if err := w.WritePacket(fakePacket(10, 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}

	if _, err := NewOpusWriter(io.Discard, OpusHead{Version: 1, Channels: 3}, OpusTags{}); !errors.Is(err, ErrBadHeader) {
		t.Errorf("a family-0 head with 3 channels must be refused: %v", err)
	}
	// 4 packets with 40 ms pages: the final page holds packets 3 and 4 even though it is full.
	var out bytes.Buffer
	w = newW(&out)
	for range 4 {
		if err := w.WritePacket(fakePacket(10, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if w.Granule() != 4*960 {
		t.Errorf("Granule %d before close, want %d", w.Granule(), 4*960)
	}
	if err := w.CloseWithEnd(3000 - 312); err != nil {
		t.Fatal(err)
	}
	if w.Granule() != 4*960 {
		t.Errorf("Granule %d after close, want %d", w.Granule(), 4*960)
	}
	ps := pages(t, out.Bytes())
	if end := ps[len(ps)-1]; end.Flags != FlagEOS || end.Granule != 3000 || countPackets(end) != 2 || len(ps) != 4 {
		t.Errorf("final page: flags 0x%x granule %d with %d packets, %d pages; want EOS, 3000, 2, 4",
			end.Flags, end.Granule, countPackets(end), len(ps))
	}

	boom := errors.New("disk full")
	fw := &failWriter{after: 2, err: boom}
	w = newW(fw)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = w.WritePacket(fakePacket(10, 0))
	}
	if !errors.Is(err, boom) || !errors.Is(w.Close(), boom) {
		t.Errorf("a failed page write must be reported and stick: %v", err)
	}
}

// failWriter fails every Write after the first `after`.
type failWriter struct {
	after int
	err   error
}

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after == 0 {
		return 0, f.err
	}
	f.after--
	return len(p), nil
}

// countPackets counts the packets that end on a page (lacing values below 255).
func countPackets(p Page) int {
	n := 0
	for _, v := range p.Segments {
		if v < 255 {
			n++
		}
	}
	return n
}

// TestLargeTags writes a 100 kB comment (cover art is this size): OpusTags spans pages, the
// first audio packet still starts a new page (RFC 7845 §3), and opusinfo and ffmpeg accept it.
func TestLargeTags(t *testing.T) {
	refPath, ref := opusencFile(t, 48000, 1)
	r, err := NewOpusReader(bytes.NewReader(ref))
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	big := "COMMENT=" + strings.Repeat("x", 100_000)
	var out bytes.Buffer
	w, err := NewOpusWriter(&out, r.Head(), OpusTags{Vendor: "v", Comments: []string{"TITLE=t", big}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := w.WritePacket(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.CloseWithEnd(pkts[len(pkts)-1].granule - int64(r.Head().PreSkip)); err != nil {
		t.Fatal(err)
	}
	ps := pages(t, out.Bytes())
	if ps[1].Granule != -1 || ps[2].Flags != FlagContinued || ps[2].Granule != 0 || ps[3].Flags&FlagContinued != 0 {
		t.Errorf("tag pages: granules %d, %d; flags of pages 2, 3: 0x%x, 0x%x", ps[1].Granule, ps[2].Granule, ps[2].Flags, ps[3].Flags)
	}
	back, err := NewOpusReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if c := back.Tags().Comments; len(c) != 2 || c[1] != big {
		t.Errorf("tags came back with %d comments", len(c))
	}
	path := filepath.Join(t.TempDir(), "tags.opus")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr := testutil.Run(t, "opusinfo", path)
	if s := strings.ToLower(string(stdout) + string(stderr)); strings.Contains(s, "warning") {
		t.Errorf("opusinfo complains:\n%s", s)
	}
	if got, want := testutil.FFmpegDecode(t, path, 0, 0), testutil.FFmpegDecode(t, refPath, 0, 0); !slices.Equal(got, want) {
		t.Errorf("ffmpeg decodes %d samples, %d from opusenc's file", len(got), len(want))
	}
}
