package sessionstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// demoPart is the demo session (1:49 long) as part n of a recording: its own id, started
// startSec after part 1; with mix, it gets a live mix (a copy of a track) that the join replaces.
func demoPart(t *testing.T, n int, startSec int, finished, mix bool) string {
	t.Helper()
	dir := unfinishedDemo(t)
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.ID = "part-" + string(rune('0'+n))
	s.Manifest.StartedAt = s.Manifest.StartedAt.Add(time.Duration(startSec) * time.Second)
	if mix {
		b, _ := os.ReadFile(filepath.Join(dir, "tracks", "ada-1.opus"))
		if err := os.WriteFile(filepath.Join(dir, "mix.opus"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		s.Manifest.Mix = &session.MixFile{File: "mix.opus", Channels: 1}
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if finished {
		if err := finalize(dir); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func partURL(n int) objstore.URL {
	return objstore.URL{Bucket: dst.Bucket, Prefix: session.PartName(dst.Prefix, n)}
}

// putParts stores finished parts at ep1, ep1-part2, …; a dir given as live is mirrored as pieces.
func putParts(t *testing.T, st *memStore, dirs []string, live map[int]bool) {
	t.Helper()
	ctx := context.Background()
	for i, dir := range dirs {
		u := partURL(i + 1)
		if live[i+1] {
			m := StartMirror(st, dir, u, MirrorOptions{Interval: time.Hour})
			if err := m.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			m.Stop()
			continue
		}
		if _, err := Push(ctx, st, dir, u, Options{}); err != nil {
			t.Fatal(err)
		}
	}
}

// keysUnder lists the store's keys under prefix.
func keysUnder(st *memStore, prefix string) []string {
	var out []string
	for k := range st.objs {
		if strings.HasPrefix(k, prefix) {
			out = append(out, strings.TrimPrefix(k, prefix))
		}
	}
	slices.Sort(out)
	return out
}

// TestJoinParts: three parts, the last one left live by a dead recorder, become one session at
// ep1: the pieces recovered, the later parts' tracks under a part prefix, the joined mix made,
// the failover gaps in the manifest, sealed and signed; the parts' places are empty after it, and
// the session pulls (its seal and signature check out).
func TestJoinParts(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(nil)
	st := newMemStore()
	putParts(t, st, []string{demoPart(t, 1, 0, true, true), demoPart(t, 2, 120, true, false), demoPart(t, 3, 240, false, false)}, map[int]bool{3: true})
	began := time.Now()
	rep, err := JoinParts(ctx, st, dst, JoinOptions{Finalize: finalize, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("joined 3 parts (12 tracks, %s of audio on a %s clock) in %s", 3*session.Duration(5275387), session.Duration(rep.DurationTicks), time.Since(began).Round(time.Millisecond))
	if !rep.Joined || len(rep.Parts) != 3 || rep.Parts[2].Recovered == nil || rep.Parts[1].Recovered != nil {
		t.Fatalf("report %+v: want 3 parts joined, part 3 recovered", rep)
	}
	demoLen := int64(5275387)
	wantGaps := []session.Gap{{StartTicks: demoLen, DurationTicks: 120*session.ClockRate - demoLen, Cause: session.GapFailover},
		{StartTicks: 120*session.ClockRate + demoLen, DurationTicks: 120*session.ClockRate - demoLen, Cause: session.GapFailover}}
	if !slicesEqual(rep.Gaps, wantGaps) || rep.DurationTicks != 240*session.ClockRate+demoLen {
		t.Errorf("gaps %+v, duration %d; want %+v, %d", rep.Gaps, rep.DurationTicks, wantGaps, 240*session.ClockRate+demoLen)
	}
	for i, p := range rep.Parts {
		if p.Tracks != 4 || p.OffsetTicks != int64(i)*120*session.ClockRate {
			t.Errorf("part %d: %+v: want 4 tracks at %d s", i+1, p, i*120)
		}
	}
	for n := 2; n <= 3; n++ {
		if left := keysUnder(st, partURL(n).Dir()); len(left) > 0 {
			t.Errorf("part %d's place still holds %v", n, left)
		}
	}
	keys := keysUnder(st, dst.Dir())
	for _, want := range []string{"manifest.json", "manifest.json.sig", session.JoinedMixName, "tracks/p2-ada-1.opus", "tracks/p3-cyd-1.opus", "tracks/ada-1.opus"} {
		if !slices.Contains(keys, want) {
			t.Errorf("the joined session has no %s: %v", want, keys)
		}
	}
	if slices.Contains(keys, "mix.opus") {
		t.Errorf("part 1's old live mix is still there: %v", keys)
	}
	out := filepath.Join(t.TempDir(), "pulled")
	prep, err := Pull(ctx, st, dst, out, Options{})
	if err != nil {
		t.Fatalf("pull the joined session: %v", err)
	}
	vr, err := session.Verify(out, nil)
	if err != nil || !prep.Sealed || vr.Signature != session.SigValid {
		t.Errorf("the joined session: sealed %v, signature %v (%v)", prep.Sealed, vr.Signature, err)
	}
	s, _ := session.Open(out)
	if len(s.Manifest.Tracks) != 12 || len(s.Manifest.Parts) != 3 || s.Manifest.Mix.File != session.JoinedMixName {
		t.Errorf("joined manifest: %d tracks, %d parts, mix %+v", len(s.Manifest.Tracks), len(s.Manifest.Parts), s.Manifest.Mix)
	}

	again, err := JoinParts(ctx, st, dst, JoinOptions{Finalize: finalize, Key: key})
	if err != nil || again.Joined || len(again.Parts) != 1 {
		t.Errorf("a second join: %+v, %v; want one part, nothing joined", again, err)
	}
}

func slicesEqual(a, b []session.Gap) bool { return slices.Equal(a, b) }

// TestJoinPartsNoParts: a session without parts is left as it is.
func TestJoinPartsNoParts(t *testing.T) {
	st := newMemStore()
	putParts(t, st, []string{demoPart(t, 1, 0, true, true)}, nil)
	before := keysUnder(st, "")
	rep, err := JoinParts(context.Background(), st, dst, JoinOptions{Finalize: finalize})
	if err != nil || rep.Joined || len(rep.Parts) != 1 {
		t.Fatalf("join without parts: %+v, %v", rep, err)
	}
	if after := keysUnder(st, ""); !slices.Equal(before, after) || len(st.putLog()) != len(before) {
		t.Errorf("objects changed: %v → %v", before, after)
	}
	if _, err := JoinParts(context.Background(), newMemStore(), dst, JoinOptions{}); !errors.Is(err, ErrNoSession) {
		t.Errorf("join of nothing: %v, want ErrNoSession", err)
	}
}

// TestJoinPartsTooFresh: a part whose live manifest changed a moment ago may still be recorded:
// the join is refused with a *PartRecordingError and nothing changes.
func TestJoinPartsTooFresh(t *testing.T) {
	st := newMemStore()
	putParts(t, st, []string{demoPart(t, 1, 0, true, false), demoPart(t, 2, 120, false, false)}, map[int]bool{2: true})
	before := keysUnder(st, "")
	_, err := JoinParts(context.Background(), st, dst, JoinOptions{Finalize: finalize,
		Now: func() time.Time { return time.Time{}.Add(2 * time.Second) }})
	var pe *PartRecordingError
	if !errors.As(err, &pe) || pe.Part != 2 || !errors.Is(err, ErrRecording) {
		t.Fatalf("join with a part changed 2 s ago: %v, want a PartRecordingError for part 2", err)
	}
	if after := keysUnder(st, ""); !slices.Equal(before, after) {
		t.Errorf("objects changed: %v → %v", before, after)
	}
}

// failAt is a store that fails its n-th change (put or delete, counting from 1), once.
type failAt struct {
	*memStore
	n, calls int
}

var errCut = errors.New("cut off")

func (f *failAt) change() error {
	f.calls++
	if f.calls == f.n {
		return errCut
	}
	return nil
}

func (f *failAt) Put(ctx context.Context, b, key string, body io.ReadSeeker, o objstore.PutOptions) (objstore.Object, error) {
	if err := f.change(); err != nil {
		return objstore.Object{}, err
	}
	return f.memStore.Put(ctx, b, key, body, o)
}

func (f *failAt) Delete(ctx context.Context, b, key string) error {
	if err := f.change(); err != nil {
		return err
	}
	return f.memStore.Delete(ctx, b, key)
}

// TestJoinPartsInterrupted: a join that fails at any one of its changes to the bucket, and is
// then run again, leaves exactly what a join that never failed leaves. (No live mix here: it is
// made again by each run, with a random Ogg serial; TestJoinParts covers it.)
func TestJoinPartsInterrupted(t *testing.T) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(nil)
	dirs := []string{demoPart(t, 1, 0, true, false), demoPart(t, 2, 115, true, false)}
	ref := newMemStore()
	putParts(t, ref, dirs, nil)
	count := &failAt{memStore: ref}
	if _, err := JoinParts(ctx, count, dst, JoinOptions{Key: key}); err != nil {
		t.Fatal(err)
	}
	want := keysUnder(ref, "")
	if count.calls < 8 {
		t.Fatalf("a join made only %d changes", count.calls)
	}
	resumed := 0
	for n := 1; n <= count.calls; n++ {
		st := newMemStore()
		putParts(t, st, dirs, nil)
		f := &failAt{memStore: st, n: n}
		if _, err := JoinParts(ctx, f, dst, JoinOptions{Key: key}); !errors.Is(err, errCut) {
			t.Fatalf("change %d: %v, want the cut", n, err)
		}
		rep, err := JoinParts(ctx, st, dst, JoinOptions{Key: key})
		if err != nil {
			t.Fatalf("cut at change %d, then again: %v", n, err)
		}
		if rep.Resumed {
			resumed++
		}
		if got := keysUnder(st, ""); !slices.Equal(got, want) || !rep.Joined {
			t.Errorf("cut at change %d, then again: %v (joined %v), want %v", n, got, rep.Joined, want)
			continue
		}
		for _, k := range want {
			if !bytes.Equal(st.objs[k], ref.objs[k]) {
				t.Errorf("cut at change %d: %s differs", n, k)
			}
		}
		if _, err := Pull(ctx, st, dst, filepath.Join(t.TempDir(), "s"), Options{}); err != nil {
			t.Errorf("cut at change %d: the joined session does not pull: %v", n, err)
		}
	}
	// cut at the signature, at the old mix's deletion and at each of part 2's deletions: the
	// manifest was written, only deleting is left
	if resumed < 4 {
		t.Errorf("only %d of %d runs found the join half done after its manifest", resumed, count.calls)
	}
}

// TestJoinPartsOverlap: part 2 began 60 s into part 1, which ran on for 50 s more (its recorder,
// cut off from the fleet, still recorded). Part 1's tracks are cut where part 2 begins, at a
// packet's start: ada's and cyd's end there (renamed, part 1's own files untouched until the
// manifest), brook's first track ended before and is unchanged, his second began after and is
// left out. The joined session has no failover gap, pulls and verifies, and its cut tracks decode
// to the length the manifest gives.
func TestJoinPartsOverlap(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	putParts(t, st, []string{demoPart(t, 1, 0, true, true), demoPart(t, 2, 60, true, false)}, nil)
	rep, err := JoinParts(ctx, st, dst, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cut := int64(60 * session.ClockRate)
	got := map[string]CutTrack{}
	for _, c := range rep.Cut {
		got[c.Track] = c
	}
	if len(got) != 3 || got["ada-1"].Removed || got["cyd-1"].Removed || !got["brook-2"].Removed || got["ada-1"].AtTicks != cut {
		t.Errorf("cuts %+v: want ada-1 and cyd-1 cut at %d, brook-2 removed, brook-1 untouched", rep.Cut, cut)
	}
	if len(rep.Gaps) != 0 {
		t.Errorf("overlapping parts got failover gaps %+v", rep.Gaps)
	}
	out := filepath.Join(t.TempDir(), "pulled")
	if _, err := Pull(ctx, st, dst, out, Options{}); err != nil {
		t.Fatalf("pull the joined session: %v", err)
	}
	s, err := session.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		file    string
		samples int64
	}{
		"ada-1":   {"tracks/ada-1.cut.opus", 2030021 + cut - 2738872},
		"brook-1": {"tracks/brook-1.opus", 2223298},
		"cyd-1":   {"tracks/cyd-1.cut.opus", cut - 1470412},
	}
	for _, tr := range s.Manifest.Tracks {
		if strings.HasPrefix(tr.ID, "p2-") {
			continue
		}
		w, ok := want[tr.ID]
		if !ok {
			t.Errorf("track %s is still there", tr.ID)
			continue
		}
		if tr.File != w.file || tr.Samples < w.samples-960 || tr.Samples > w.samples+960 {
			t.Errorf("track %s: %s, %d samples; want %s, %d (within a packet)", tr.ID, tr.File, tr.Samples, w.file, w.samples)
		}
		f, err := os.Open(s.Path(tr.File))
		if err != nil {
			t.Fatal(err)
		}
		r, err := ogg.NewOpusReader(f)
		if err != nil {
			t.Fatal(err)
		}
		pre := int64(r.Head().PreSkip)
		f.Seek(0, io.SeekStart)
		last, _, err := ogg.LastGranule(f)
		f.Close()
		if err != nil || last-pre != tr.Samples {
			t.Errorf("track %s: the file's last granule %d (less the pre-skip %d) is not its samples %d: %v", tr.ID, last, pre, tr.Samples, err)
		}
	}
	if keys := keysUnder(st, dst.Dir()); slices.Contains(keys, "tracks/ada-1.opus") || slices.Contains(keys, "tracks/brook-2.opus") {
		t.Errorf("part 1's cut or removed files are still there: %v", keys)
	}
}

// TestJoinPartsSkipsMissing: a claim that wrote nothing leaves its part's place empty. The join
// finds the parts past it from the bucket's listing (a session named NAME-party beside them is
// no part), and when part 1 itself is missing the session is joined at the first part there is.
func TestJoinPartsSkipsMissing(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		parts   []int // the part numbers stored
		wantURL objstore.URL
	}{
		{"part 2 missing", []int{1, 3}, partURL(1)},
		{"part 1 missing", []int{2, 4}, partURL(2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			for i, n := range tc.parts {
				dir := demoPart(t, n, 120*i, true, false)
				if _, err := Push(ctx, st, dir, partURL(n), Options{}); err != nil {
					t.Fatal(err)
				}
			}
			other := objstore.URL{Bucket: dst.Bucket, Prefix: dst.Prefix + "-party"}
			if _, err := Push(ctx, st, demoPart(t, 9, 0, true, false), other, Options{}); err != nil {
				t.Fatal(err)
			}
			rep, err := JoinParts(ctx, st, dst, JoinOptions{Finalize: finalize})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Joined || len(rep.Parts) != 2 || rep.URL != tc.wantURL.String() {
				t.Fatalf("report %+v, want 2 parts joined at %s", rep, tc.wantURL)
			}
			if keys := keysUnder(st, partURL(tc.parts[1]).Dir()); len(keys) != 0 {
				t.Errorf("the later part's place still holds %v", keys)
			}
			if keys := keysUnder(st, other.Dir()); len(keys) == 0 {
				t.Error("the session beside it (NAME-party) was deleted")
			}
			s, err := Open(ctx, st, tc.wantURL)
			if err != nil {
				t.Fatal(err)
			}
			var gaps int
			for _, g := range s.Manifest.Gaps {
				if g.Cause == session.GapFailover {
					gaps++
				}
			}
			if len(s.Manifest.Parts) != 2 || gaps != 1 {
				t.Errorf("joined manifest: %d parts, %d failover gaps; want 2 and 1", len(s.Manifest.Parts), gaps)
			}
		})
	}
}
