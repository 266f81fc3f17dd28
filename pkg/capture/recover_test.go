package capture

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// crashedDemo copies testdata/demo/session into a temporary folder and makes it look like a
// session whose recorder died: not finalized, not sealed.
func crashedDemo(t *testing.T) string {
	t.Helper()
	dir := testutil.DemoSession(t)
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.Finalized = false
	s.Manifest.Files = nil
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func trackOf(t *testing.T, dir, id string) session.Track {
	t.Helper()
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range s.Manifest.Tracks {
		if tr.ID == id {
			return tr
		}
	}
	t.Fatalf("no track %s", id)
	return session.Track{}
}

// pageAt returns the offset and size of the page of file that holds byte at.
func pageAt(t *testing.T, b []byte, at int64) (int64, int) {
	t.Helper()
	for _, p := range ogg.Scan(b).Pages {
		if p.Offset <= at && at < p.Offset+int64(p.Size) {
			return p.Offset, p.Size
		}
	}
	t.Fatalf("no page holds byte %d", at)
	return 0, 0
}

// placeOnClock decodes a track with opusdec and lays it on the session clock.
func placeOnClock(t *testing.T, path string, tr *session.Track, total int64) []float32 {
	t.Helper()
	dec := testutil.OpusdecDecode(t, path)
	out := make([]float32, total)
	for m, v := range dec {
		if at := tr.SessionTicks(int64(m)); at >= 0 && at < total {
			out[at] = v
		}
	}
	return out
}

func corrAt(a, b []float32, from, to int) float64 {
	var s, ea, eb float64
	for i := from; i < to && i < len(a) && i < len(b); i++ {
		s += float64(a[i]) * float64(b[i])
		ea += float64(a[i]) * float64(a[i])
		eb += float64(b[i]) * float64(b[i])
	}
	if ea == 0 || eb == 0 {
		return 0
	}
	return s / math.Sqrt(ea*eb)
}

// TestRecoverSkipsDamage flips bytes in pages of a 91 s track of a crashed session (the demo's
// ada-1, whose pages hold 1 s each): recover skips those pages only, keeps everything after them
// (opusdec decodes all but the lost pages), records the lost audio as "damaged" gaps, and the audio
// around them plays where it played before. The old recover took the first flipped byte for the
// crash and cut the track there, with exit 0 and no word of it.
func TestRecoverSkipsDamage(t *testing.T) {
	tests := []struct {
		name  string
		pages []int // indexes of the pages to damage (0: OpusHead, 1: OpusTags)
	}{
		{"one page in the middle", []int{45}},
		{"the first audio page, which holds the pre-skip", []int{2}},
		{"two pages apart", []int{20, 60}},
		{"two pages in a row", []int{30, 31}},
		{"the page before the last", []int{-2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := crashedDemo(t)
			path := filepath.Join(dir, "tracks", "ada-1.opus")
			orig, _ := os.ReadFile(path)
			before := trackOf(t, dir, "ada-1")
			origPCM := testutil.OpusdecDecode(t, path)
			const total = 6_000_000
			origPlaced := placeOnClock(t, path, &before, total)

			ps := ogg.Scan(orig).Pages
			b := append([]byte(nil), orig...)
			var want []Damage
			for _, k := range tc.pages {
				if k < 0 {
					k += len(ps)
				}
				p := ps[k]
				b[p.Offset+int64(p.Size)/2] ^= 0x10
				if n := len(want); n > 0 && want[n-1].Offset+want[n-1].Bytes == p.Offset {
					want[n-1].Bytes += int64(p.Size)
					want[n-1].Pages++
				} else {
					want = append(want, Damage{Offset: p.Offset, Bytes: int64(p.Size), Pages: 1})
				}
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}

			rep, err := Recover(dir, RecoverOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rt := rep.Tracks[0]
			if rt.ID != "ada-1" || len(rt.Damage) != len(want) {
				t.Fatalf("damage reported %+v, want %+v", rt.Damage, want)
			}
			var bytes, lost int64
			for i, d := range rt.Damage {
				if d.Offset != want[i].Offset || d.Bytes != want[i].Bytes || d.Pages != want[i].Pages {
					t.Errorf("damage %d: %+v, want %+v", i, d, want[i])
				}
				if d.DurationTicks < 47000*int64(d.Pages) || d.DurationTicks > 48000*int64(d.Pages) {
					t.Errorf("damage %d: %d ticks lost for %d pages of 1 s", i, d.DurationTicks, d.Pages)
				}
				bytes += d.Bytes
				lost += d.DurationTicks
			}
			if !rep.Damaged() || rep.DamagedBytes != bytes || rep.LostTicks != lost {
				t.Errorf("report: damaged %d bytes, lost %d ticks; the tracks say %d, %d", rep.DamagedBytes, rep.LostTicks, bytes, lost)
			}
			after := trackOf(t, dir, "ada-1")
			if len(after.Gaps) != len(want) {
				t.Fatalf("gaps %+v, want %d", after.Gaps, len(want))
			}
			for i, g := range after.Gaps {
				if g.Cause != GapDamaged || g.StartTicks != rt.Damage[i].StartTicks || g.DurationTicks != rt.Damage[i].DurationTicks {
					t.Errorf("gap %d: %+v, damage %+v", i, g, rt.Damage[i])
				}
			}
			got := testutil.OpusdecDecode(t, path)
			rawLost := int64(0)
			for _, d := range rt.Damage {
				rawLost += int64(d.Pages) * 48000
			}
			if d := int64(len(origPCM) - len(got)); d != rawLost {
				t.Errorf("opusdec decodes %d samples, %d before the damage: %d lost, want the %d of the damaged pages", len(got), len(origPCM), d, rawLost)
			}
			if after.Samples != int64(len(got)) {
				t.Errorf("manifest samples %d, opusdec decodes %d", after.Samples, len(got))
			}
			// Around each gap the track plays where it did: the decoded track laid on the session
			// clock by the new timeline matches the original there.
			newPlaced := placeOnClock(t, path, &after, total)
			from := 0
			for _, g := range after.Gaps {
				if c := corrAt(origPlaced, newPlaced, from+4800, int(g.StartTicks)-4800); int(g.StartTicks)-from > 20000 && c < 0.99 {
					t.Errorf("before the gap at %d the track correlates %.3f with the original", g.StartTicks, c)
				}
				from = int(g.StartTicks + g.DurationTicks)
			}
			if c := corrAt(origPlaced, newPlaced, from+4800, from+10*48000); c < 0.99 {
				t.Errorf("after the last gap the track correlates %.3f with the original", c)
			}
		})
	}
}

// TestRecoverRebuildsHeaders damages the first page (OpusHead) of a track: the file is not
// deleted, its headers are made again, and all its audio is kept. The old recover deleted it.
func TestRecoverRebuildsHeaders(t *testing.T) {
	dir := crashedDemo(t)
	path := filepath.Join(dir, "tracks", "brook-1.opus")
	origPCM := testutil.OpusdecDecode(t, path)
	b, _ := os.ReadFile(path)
	origHead, err := ogg.NewOpusReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// The rebuilt head has the recorder's pre-skip; the demo's files were made with another.
	extra := int(origHead.Head().PreSkip) - PreSkip
	_, headSize := pageAt(t, b, 20)
	b[20] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Recover(dir, RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DamagedBytes != int64(headSize) || rep.LostTicks != 0 {
		t.Errorf("damaged: %d bytes, %d ticks lost; want the head page's %d bytes and no audio", rep.DamagedBytes, rep.LostTicks, headSize)
	}
	for _, x := range rep.Tracks {
		if x.ID == "brook-1" && (x.Missing || !x.HeadersRebuilt) {
			t.Errorf("brook-1: %+v", x)
		}
	}
	got := testutil.OpusdecDecode(t, path)
	if len(got) != len(origPCM)+extra {
		t.Errorf("opusdec decodes %d samples, %d before (pre-skip %+d)", len(got), len(origPCM), extra)
	}
}

// TestRecoverRefuses: a session recover must not touch is left byte for byte as it was, the
// target of a link included.
func TestRecoverRefuses(t *testing.T) {
	tests := []struct {
		name string
		prep func(t *testing.T, dir string) // makes the session unrecoverable
		opts RecoverOptions
		want error
	}{
		{"a track that is a symbolic link to a file outside the session is refused, not written through", func(t *testing.T, dir string) {
			outside := filepath.Join(t.TempDir(), "victim.opus")
			b, _ := os.ReadFile(filepath.Join(dir, "tracks", "cyd-1.opus"))
			os.WriteFile(outside, b[:len(b)-100], 0o644) // torn: recover would cut it
			os.Remove(filepath.Join(dir, "tracks", "cyd-1.opus"))
			if err := os.Symlink(outside, filepath.Join(dir, "tracks", "cyd-1.opus")); err != nil {
				t.Fatal(err)
			}
		}, RecoverOptions{}, session.ErrIrregular},
		{"a tracks folder that is a link is refused", func(t *testing.T, dir string) {
			elsewhere := filepath.Join(t.TempDir(), "tracks")
			os.Rename(filepath.Join(dir, "tracks"), elsewhere)
			os.Symlink(elsewhere, filepath.Join(dir, "tracks"))
		}, RecoverOptions{}, session.ErrIrregular},
		{"a file of garbage with no whole page is refused, not deleted", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "tracks", "brook-2.opus"), []byte("this is not an Ogg file at all, not even a torn page"), 0o644)
		}, RecoverOptions{}, ErrUnrecoverable},
		{"a failure half-way (the seal fails after the files are staged) changes nothing", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "tracks", "ada-1.opus"))
			os.WriteFile(filepath.Join(dir, "tracks", "ada-1.opus"), b[:len(b)-50], 0o644)
		}, RecoverOptions{Seal: func(string) error { return errSealFault }}, errSealFault},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := crashedDemo(t)
			tc.prep(t, dir)
			// Every temporary folder of the test: the session and the targets of its links.
			root := filepath.Dir(filepath.Dir(dir))
			isLink := func(rel string) bool {
				fi, err := os.Lstat(filepath.Join(root, rel))
				return err == nil && fi.Mode()&os.ModeSymlink != 0
			}
			before := testutil.TreeHash(t, root, isLink)
			if _, err := Recover(dir, tc.opts); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			testutil.SameTree(t, "after a refused recover", before, testutil.TreeHash(t, root, isLink))
		})
	}
}

var errSealFault = errors.New("seal fault")

// TestRecoverTornEnd: the crash's torn last page is cut, and that is not damage.
func TestRecoverTornEnd(t *testing.T) {
	dir := crashedDemo(t)
	path := filepath.Join(dir, "tracks", "ada-1.opus")
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-100], 0o644)
	rep, err := Recover(dir, RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged() || rep.Tracks[0].CutBytes == 0 || !rep.Tracks[0].Repaired {
		t.Errorf("report %+v", rep.Tracks[0])
	}
	if res := ogg.Scan(mustRead(t, path)); len(res.Damaged) != 0 || res.Tail.Bytes != 0 {
		t.Errorf("recovered file: %+v", res)
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecoverStreamTornEnd cuts a stream mid-page, as a killed recorder leaves it: every whole
// page is kept, the last one flagged end of stream, the result reads to its end, and recovering
// it again changes nothing.
func TestRecoverStreamTornEnd(t *testing.T) {
	var buf bytes.Buffer
	w, err := ogg.NewOpusWriter(&buf, ogg.OpusHead{Version: 1, Channels: 1, PreSkip: 312, InputSampleRate: 48000}, ogg.OpusTags{Vendor: "t"}, ogg.WithMaxPageDuration(100e6))
	if err != nil {
		t.Fatal(err)
	}
	pkt := []byte{0x08, 1, 2, 3} // SILK NB 20 ms
	for range 100 {
		w.WritePacket(pkt)
	}
	w.Flush()
	whole := buf.Len()
	for range 3 {
		w.WritePacket(pkt)
	}
	w.Flush()
	cut := buf.Bytes()[:whole+20] // a page begun but not finished
	sr := recoverStream(cut, 1)
	// 99 packets are on whole pages (the writer holds the latest packet back until the next one).
	if want := int64(99 * 960); sr.granule != want || sr.cutBytes != 20 || len(sr.drops) != 0 || sr.out == nil {
		t.Fatalf("granule %d (want %d), cut %d, drops %v", sr.granule, want, sr.cutBytes, sr.drops)
	}
	if len(sr.out) != whole {
		t.Fatalf("recovered file is %d bytes, want the %d whole ones", len(sr.out), whole)
	}
	r, err := ogg.NewOpusReader(bytes.NewReader(sr.out))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last int64
	for {
		_, gr, err := r.ReadPacket()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("after %d packets: %v", n, err)
			}
			break
		}
		n, last = n+1, gr
	}
	if last != sr.granule || n != 99 {
		t.Fatalf("read %d packets to granule %d, recovery said %d", n, last, sr.granule)
	}
	if again := recoverStream(sr.out, 1); again.out != nil || again.granule != sr.granule {
		t.Fatalf("recovering a whole file changed it (granule %d)", again.granule)
	}
}

// TestRecoverRecorderTrack: a 55 s track as the recorder writes it (100 ms pages of 20 ms
// packets, a 5 s network outage at 30 s on its timeline), left by a crash (torn last page, no end
// of stream), with one byte flipped at 20 s. recover cuts the torn page, skips the damaged page
// only, and everything else decodes (opusdec) and plays where it did on the session clock, the
// audio after the outage included.
func TestRecoverRecorderTrack(t *testing.T) {
	pkts, _ := packets(t, testutil.Chirp(55*48000, 48000, 0.4))
	dir := filepath.Join(t.TempDir(), "session")
	os.MkdirAll(filepath.Join(dir, "tracks"), 0o755)
	path := filepath.Join(dir, "tracks", "a-1.opus")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw, err := NewTrackWriter(f, 1, nil, ogg.WithMaxPageDuration(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := int64(48000 * 3)
	for i, p := range pkts {
		at := start + int64(i)*960
		write := tw.WriteContiguous
		if i == 0 || i == 1500 {
			write = tw.WritePacket
		}
		if i >= 1500 {
			at += 5 * 48000 // the outage
		}
		if err := write(p, at); err != nil {
			t.Fatal(err)
		}
	}
	tw.Flush() // the crash: no Close
	f.Close()
	b, _ := os.ReadFile(path)
	b = b[:len(b)-10] // the last page torn
	tr := session.Track{ID: "a-1", Participant: "a", File: "tracks/a-1.opus", Codec: "opus", Channels: 1, Timeline: tw.Timeline()}
	if len(tr.Timeline) != 2 {
		t.Fatalf("timeline %+v: want the outage's anchor", tr.Timeline)
	}
	const total = 65 * 48000
	// As the recorder syncs it while it runs: the duration reaches the end of the audio written.
	m := &session.Manifest{Format: session.FormatName, Version: session.Version, ID: "x", ClockRate: session.ClockRate,
		DurationTicks: total, Participants: []session.Participant{{Identity: "a"}}, Tracks: []session.Track{tr}}
	if err := (&session.Session{Dir: dir, Manifest: m}).Save(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, b, 0o644)
	origPCM := testutil.OpusdecDecode(t, path)
	origPlaced := placeOnClock(t, path, &tr, total)

	// Flip a byte in the page that holds 20 s.
	var hit ogg.ScannedPage
	for _, p := range ogg.Scan(b).Pages {
		if p.Page.Granule > 20*48000 {
			hit = p
			break
		}
	}
	b[hit.Offset+int64(hit.Size)-5] ^= 0x01
	os.WriteFile(path, b, 0o644)

	rep, err := Recover(dir, RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rt := rep.Tracks[0]
	if rt.CutBytes == 0 || len(rt.Damage) != 1 || rt.Damage[0].Offset != hit.Offset || rt.Damage[0].Pages != 1 {
		t.Fatalf("report %+v", rt)
	}
	if d := rt.Damage[0].DurationTicks; d < 4*960 || d > 6*960 {
		t.Errorf("%d ticks lost with one 100 ms page", d)
	}
	got := testutil.OpusdecDecode(t, path)
	// opusdec read none of the torn page's packets before recovery either.
	if d := int64(len(origPCM) - len(got)); d != rt.Damage[0].DurationTicks {
		t.Errorf("opusdec: %d samples before, %d after; want the %d lost", len(origPCM), len(got), rt.Damage[0].DurationTicks)
	}
	after := trackOf(t, dir, "a-1")
	newPlaced := placeOnClock(t, path, &after, total)
	for _, span := range [][2]int{{4, 19}, {21, 32}, {40, 57}} {
		if c := corrAt(origPlaced, newPlaced, span[0]*48000, span[1]*48000); c < 0.99 {
			t.Errorf("%d-%d s on the session clock: correlation %.3f with the track before recovery", span[0], span[1], c)
		}
	}
}
