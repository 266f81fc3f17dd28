package studio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/studio"
)

var demoSession = filepath.Join("..", "..", "testdata", "demo", "session")

// copySession copies the demo session into dir, so a test can give it soundbites of its own.
func copySession(t *testing.T, dir string) *session.Session {
	t.Helper()
	src, err := session.Open(demoSession)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tracks"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tr := range src.Manifest.Tracks {
		in, err := os.Open(src.Path(tr.File))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, filepath.FromSlash(tr.File)))
		if err == nil {
			_, err = io.Copy(out, in)
			err = errors.Join(err, out.Close())
		}
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	s := &session.Session{Dir: dir, Manifest: src.Manifest}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return s
}

// decode is the file as ffmpeg plays it, 48 kHz mono.
func decode(t *testing.T, path string) []float32 {
	t.Helper()
	return testutil.FFmpegDecode(t, path, 48000, 1)
}

// ffprobeMeta is the TXXX "spacecast" frame as ffprobe, a reader spacecast does not contain,
// finds it among the file's tags.
func ffprobeMeta(t *testing.T, path string) *studio.Meta {
	t.Helper()
	out, _ := testutil.Run(t, "ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", path)
	var probe struct {
		Format struct {
			Tags map[string]string `json:"tags"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe printed %s: %v", out, err)
	}
	js, ok := probe.Format.Tags[studio.MetaFrame]
	if !ok {
		t.Fatalf("ffprobe finds no %q tag in %s: %v", studio.MetaFrame, filepath.Base(path), probe.Format.Tags)
	}
	m, err := studio.ParseMeta([]byte(js))
	if err != nil {
		t.Fatalf("%s: the frame ffprobe read: %v", filepath.Base(path), err)
	}
	return m
}

// readMeta reads a step's metadata with ReadMeta, checks that ffprobe finds the same, and that the
// map covers the file exactly as ffmpeg decodes it.
func readMeta(t *testing.T, path string, pcm []float32) *studio.Meta {
	t.Helper()
	m, err := studio.ReadMeta(path)
	if err != nil || m == nil {
		t.Fatalf("ReadMeta(%s) = %v, %v", filepath.Base(path), m, err)
	}
	if p := ffprobeMeta(t, path); !reflect.DeepEqual(p, m) {
		t.Errorf("%s: ffprobe's frame differs from ReadMeta's:\n%+v\n%+v", filepath.Base(path), p, m)
	}
	if d := m.Duration().Seconds() - float64(len(pcm))/48000; math.Abs(d) > 0.001 {
		t.Errorf("%s: the time map covers %.4f s, ffmpeg decodes %.4f s", filepath.Base(path), m.Duration().Seconds(), float64(len(pcm))/48000)
	}
	return m
}

func titles(sbs []studio.SoundbiteInfo) []string {
	var out []string
	for _, s := range sbs {
		out = append(out, s.Title)
	}
	return out
}

func soundbite(m *studio.Meta, title string) (studio.SoundbiteInfo, bool) {
	for _, s := range m.Soundbites {
		if s.Title == title {
			return s, true
		}
	}
	return studio.SoundbiteInfo{}, false
}

// envelope is the RMS of each millisecond (48 samples at 48 kHz).
func envelope(x []float32) []float64 {
	out := make([]float64, len(x)/48)
	for i := range out {
		var s float64
		for _, v := range x[48*i : 48*i+48] {
			s += float64(v) * float64(v)
		}
		out[i] = math.Sqrt(s / 48)
	}
	return out
}

// envelopeLag finds where n ms of got from gotMs match ref best, searching ±maxMs around refMs:
// got[gotMs+i] ≈ ref[refMs+lag+i]. It returns the lag in ms and the correlation there.
func envelopeLag(ref, got []float64, refMs, gotMs, n, maxMs int) (lagMs int, corr float64) {
	pearson := func(a, b []float64) float64 {
		var ma, mb float64
		for i := range a {
			ma += a[i]
			mb += b[i]
		}
		ma /= float64(len(a))
		mb /= float64(len(b))
		var s, ea, eb float64
		for i := range a {
			s += (a[i] - ma) * (b[i] - mb)
			ea += (a[i] - ma) * (a[i] - ma)
			eb += (b[i] - mb) * (b[i] - mb)
		}
		if ea == 0 || eb == 0 {
			return 0
		}
		return s / math.Sqrt(ea*eb)
	}
	corr = math.Inf(-1)
	g := got[gotMs : gotMs+n]
	for l := -maxMs; l <= maxMs; l++ {
		if refMs+l < 0 || refMs+l+n > len(ref) {
			continue
		}
		if c := pearson(ref[refMs+l:refMs+l+n], g); c > corr {
			lagMs, corr = l, c
		}
	}
	return lagMs, corr
}

// checkAudio holds a file's time map and soundbite to the audio: every stretch of the map, and
// the soundbite, must sound like the session's mix at the session time the metadata names, within
// ±30 ms (compared by 1 ms RMS envelopes; the file's own processing, loudness and MP3 coding make
// sample-level comparison against the unedited mix meaningless).
func checkAudio(t *testing.T, name string, m *studio.Meta, ref, got []float64, sbTitle string, sbSource edit.Range) {
	t.Helper()
	const tolMs, searchMs = 30, 250
	checked := 0
	for _, e := range m.TimeMap {
		oldMs, newMs := int(e.OldStart.Seconds()*1000), int(e.NewStart.Seconds()*1000)
		n := int((e.OldEnd.Seconds() - e.OldStart.Seconds()) * 1000)
		// The middle of the stretch, away from joins (crossfades, snapped frames).
		const edge = 300
		if n < 2*edge+1000 {
			continue
		}
		for at := edge; at+1000 <= n-edge; at += 5000 {
			if newMs+at+1000 > len(got) {
				t.Errorf("%s: stretch %+v reaches past the file's end", name, e)
				break
			}
			lag, corr := envelopeLag(ref, got, oldMs+at, newMs+at, 1000, searchMs)
			if corr < 0.5 { // a second of pause: nothing to align on
				continue
			}
			checked++
			if abs(lag) > tolMs || corr < 0.8 {
				t.Errorf("%s: file %.3f s should be session %.3f s, but matches it %d ms off (correlation %.2f)",
					name, float64(newMs+at)/1000, float64(oldMs+at)/1000, lag, corr)
			}
		}
	}
	if checked < 3 {
		t.Errorf("%s: only %d windows of the time map could be compared with the session", name, checked)
	}
	sb, ok := soundbite(m, sbTitle)
	if !ok {
		t.Fatalf("%s: soundbite %q is gone: %+v", name, sbTitle, m.Soundbites)
	}
	if math.Abs(sb.Duration.Seconds()-sbSource.Len().Seconds()) > 0.001 {
		t.Errorf("%s: soundbite %q is %.3f s long, want %.3f (it lies inside one kept stretch)", name, sbTitle, sb.Duration.Seconds(), sbSource.Len().Seconds())
	}
	if at, kept := m.FromSource(sbSource.Start); !kept || math.Abs(at.Seconds()-sb.Start.Seconds()) > 0.001 {
		t.Errorf("%s: FromSource(%v) = %v, %v; the soundbite starts at %.3f s", name, sbSource.Start, at, kept, sb.Start.Seconds())
	}
	n := int(sb.Duration.Seconds() * 1000)
	lag, corr := envelopeLag(ref, got, int(sbSource.Start.Milliseconds()), int(sb.Start.Seconds()*1000), n, searchMs)
	if abs(lag) > tolMs || corr < 0.8 {
		t.Errorf("%s: soundbite %q at %.3f s is not the session's %v: best match %d ms off (correlation %.2f)",
			name, sbTitle, sb.Start.Seconds(), sbSource, lag, corr)
	} else {
		t.Logf("%s: soundbite %q at %.3f s matches session %v %+d ms off (correlation %.3f); %d map windows checked",
			name, sbTitle, sb.Start.Seconds(), sbSource, lag, corr, checked)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// longestSilence finds the longest stretch of the unnormalised mix quieter than the silence
// shortener's threshold (-50 dBFS sample peak), in ms.
func longestSilence(pcm []float32) (startMs, lenMs int) {
	thr := float32(math.Pow(10, -50.0/20))
	run := 0
	for i := 0; i < len(pcm)/48; i++ {
		quiet := true
		for _, v := range pcm[48*i : 48*i+48] {
			if v > thr || v < -thr {
				quiet = false
				break
			}
		}
		if !quiet {
			run = 0
			continue
		}
		run++
		if run > lenMs {
			startMs, lenMs = i-run+1, run
		}
	}
	return startMs, lenMs
}

func sec(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// The chain, mix → trim → clip, on the demo session given five soundbites, in both cutting
// modes (lossless trim then exact clip; exact trim then lossless clip). At each step ReadMeta and
// ffprobe read the same metadata, and at the end every stretch of the time map and the surviving
// soundbite sound like the session at the time the metadata says.
func TestMetaThroughMixTrimClip(t *testing.T) {
	testutil.Require(t, "ffmpeg")
	testutil.Require(t, "ffprobe")
	ctx := context.Background()
	dir := t.TempDir()
	sess := copySession(t, filepath.Join(dir, "session"))

	// The session clock as heard: the mix without cuts and without normalisation (the silence
	// shortener works on this signal).
	ropts := studio.DefaultMixOptions()
	ropts.Inputs, ropts.Output, ropts.Normalize = []string{sess.Dir}, filepath.Join(dir, "ref.wav"), false
	if _, err := studio.Mix(ctx, ropts, nil); err != nil {
		t.Fatal(err)
	}
	refPCM := decode(t, ropts.Output)
	ref := envelope(refPCM)
	silStart, silLen := longestSilence(refPCM)
	if silLen < 1500 {
		t.Fatalf("the demo's longest pause is %d ms; this test needs one over 1.5 s for --max-silence 1s to cut", silLen)
	}
	if s, n := longestSilence(refPCM[40*48000 : 55*48000]); n >= 1000 {
		t.Fatalf("the demo has a %d ms pause at %d ms inside 40-55 s, where this test needs speech", n, 40000+s)
	}

	kept := edit.Range{Start: sec(40), End: sec(55)}
	sess.Manifest.Soundbites = []session.Soundbite{
		{StartTicks: session.Ticks(kept.Start), DurationTicks: session.Ticks(kept.Len()), Title: "kept"},
		{StartTicks: int64(silStart+200) * 48, DurationTicks: int64(silLen-400) * 48, Title: "silence"},
		{StartTicks: 2 * 48000, DurationTicks: 4 * 48000, Title: "trimmed away"},
		{StartTicks: 60 * 48000, DurationTicks: 8 * 48000, Title: "partly cut"},
		{StartTicks: 95 * 48000, DurationTicks: 5 * 48000, Title: "outside the clip"},
	}
	if err := sess.Save(); err != nil {
		t.Fatal(err)
	}

	// Step 1: the mix, with --max-silence 1s.
	mopts := studio.DefaultMixOptions()
	mopts.Inputs, mopts.Output = []string{sess.Dir}, filepath.Join(dir, "mix.mp3")
	mopts.MaxSilence, mopts.MinChapter = time.Second, 20*time.Second
	res, err := studio.Mix(ctx, mopts, nil)
	if err != nil {
		t.Fatal(err)
	}
	mixPCM := decode(t, mopts.Output)
	m1 := readMeta(t, mopts.Output, mixPCM)
	if m1.Session == nil || m1.Session.ID != sess.Manifest.ID || m1.Session.Room != sess.Manifest.Room.Name || !m1.Session.StartedAt.Equal(sess.Manifest.StartedAt) {
		t.Errorf("mix: session %+v, want the manifest's id, room and start", m1.Session)
	}
	if want := []studio.MetaSpeaker{{"ada", "Ada (host)"}, {"brook", "Brook"}, {"cyd", "Cyd"}}; !reflect.DeepEqual(m1.Speakers, want) {
		t.Errorf("mix: speakers %+v, want %+v", m1.Speakers, want)
	}
	if len(m1.TimeMap) < 2 || res.RemovedSilence.Seconds() < 0.5 {
		t.Errorf("mix: --max-silence 1s removed %.3f s in %d stretches; the test needs cuts", res.RemovedSilence.Seconds(), len(m1.TimeMap))
	}
	if got, want := titles(m1.Soundbites), []string{"kept", "trimmed away", "partly cut", "outside the clip"}; !slices.Equal(got, want) {
		t.Errorf("mix: soundbites %q, want %q (the one over the %d ms pause at %d ms is cut by --max-silence)", got, want, silLen, silStart)
	}
	if !reflect.DeepEqual(m1.Chapters, roundedChapters(res.Chapters)) || len(m1.Chapters) < 2 {
		t.Errorf("mix: chapters in the metadata %+v, mix reported %+v", m1.Chapters, res.Chapters)
	}
	checkID3Chapters(t, mopts.Output, m1.Chapters)

	// Step 2: trim 0-8 s and a stretch inside "partly cut" (which lies on the mix's clock at p).
	p, ok := m1.FromSource(sec(60))
	if !ok {
		t.Fatalf("mix: session 60 s was cut")
	}
	cuts := []edit.Range{{Start: 0, End: sec(8)}, {Start: p + 3*time.Second, End: p + 5*time.Second}}
	for _, mode := range []struct {
		name      string
		exactTrim bool
		copyClip  bool
		trimMode  string
		clipMode  string
	}{
		{name: "copy-trim-exact-clip", trimMode: "copy", clipMode: "exact"},
		{name: "exact-trim-copy-clip", exactTrim: true, copyClip: true, trimMode: "exact", clipMode: "copy"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			trimmed := filepath.Join(dir, mode.name+"-trim.mp3")
			tres, err := studio.Trim(ctx, studio.TrimOptions{Input: mopts.Output, Output: trimmed, Cuts: cuts,
				Exact: mode.exactTrim, Crossfade: 10 * time.Millisecond}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tres.Mode != mode.trimMode {
				t.Fatalf("trim mode %s, want %s", tres.Mode, mode.trimMode)
			}
			m2 := readMeta(t, trimmed, decode(t, trimmed))
			if got, want := titles(m2.Soundbites), []string{"kept", "outside the clip"}; !slices.Equal(got, want) {
				t.Errorf("trim: soundbites %q, want %q", got, want)
			}
			if !reflect.DeepEqual(m2.Soundbites, roundedSoundbites(tres.Soundbites)) {
				t.Errorf("trim: --json soundbites %+v, the file's %+v", tres.Soundbites, m2.Soundbites)
			}
			if !reflect.DeepEqual(m2.Speakers, m1.Speakers) || !reflect.DeepEqual(m2.Session, m1.Session) {
				t.Errorf("trim lost the session or speakers: %+v %+v", m2.Session, m2.Speakers)
			}
			if len(m2.TimeMap) < len(m1.TimeMap) {
				t.Errorf("trim: %d stretches after a middle cut of a map of %d", len(m2.TimeMap), len(m1.TimeMap))
			}

			// Step 3: a clip around "kept" (session 40-55 s), ending before "outside the clip".
			k, ok := m2.FromSource(kept.Start)
			if !ok {
				t.Fatalf("trim: session %v was cut", kept.Start)
			}
			clipped := filepath.Join(dir, mode.name+"-clip.mp3")
			if _, err := studio.Clip(ctx, studio.ClipOptions{Input: trimmed, Output: clipped, Start: k - 3*time.Second,
				End: k + 20*time.Second, Copy: mode.copyClip}, nil); err != nil {
				t.Fatal(err)
			}
			clipPCM := decode(t, clipped)
			m3 := readMeta(t, clipped, clipPCM)
			if got, want := titles(m3.Soundbites), []string{"kept"}; !slices.Equal(got, want) {
				t.Errorf("clip: soundbites %q, want %q", got, want)
			}
			if !reflect.DeepEqual(m3.Speakers, m1.Speakers) || !reflect.DeepEqual(m3.Session, m1.Session) {
				t.Errorf("clip lost the session or speakers: %+v %+v", m3.Session, m3.Speakers)
			}
			if _, kept := m3.FromSource(sec(95)); kept {
				t.Errorf("clip: session 95 s should be outside the clip")
			}
			checkID3Chapters(t, clipped, m3.Chapters)
			checkAudio(t, mode.name, m3, ref, envelope(clipPCM), "kept", kept)
		})
	}
	// The mix itself: its silence cuts are where the map says.
	checkAudio(t, "mix", m1, ref, envelope(mixPCM), "kept", kept)
}

// checkID3Chapters compares the CHAP frames, as ffprobe reads them, with the metadata's chapters.
func checkID3Chapters(t *testing.T, path string, want []studio.ChapterInfo) {
	t.Helper()
	out, _ := testutil.Run(t, "ffprobe", "-v", "error", "-show_chapters", "-of", "json", path)
	var probe struct {
		Chapters []struct {
			Start string            `json:"start_time"`
			Tags  map[string]string `json:"tags"`
		} `json:"chapters"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatal(err)
	}
	if len(probe.Chapters) != len(want) {
		t.Fatalf("%s: ffprobe finds %d chapters, the metadata has %d", filepath.Base(path), len(probe.Chapters), len(want))
	}
	for i, c := range probe.Chapters {
		var start float64
		fmt.Sscan(c.Start, &start)
		if math.Abs(start-want[i].Start.Seconds()) > 0.001 || c.Tags["title"] != want[i].Title {
			t.Errorf("%s: chapter %d is %s %q in ID3, %.3f %q in the metadata", filepath.Base(path), i, c.Start, c.Tags["title"], want[i].Start.Seconds(), want[i].Title)
		}
	}
}

func roundedChapters(cs []studio.ChapterInfo) []studio.ChapterInfo {
	var out []studio.ChapterInfo
	for _, c := range cs {
		out = append(out, studio.ChapterInfo{Start: c.Start.Round(time.Microsecond), End: c.End.Round(time.Microsecond), Title: c.Title})
	}
	return out
}

func roundedSoundbites(ss []studio.SoundbiteInfo) []studio.SoundbiteInfo {
	var out []studio.SoundbiteInfo
	for _, s := range ss {
		out = append(out, studio.SoundbiteInfo{Start: s.Start.Round(time.Microsecond), Duration: s.Duration.Round(time.Microsecond), Title: s.Title})
	}
	return out
}

// Speakers are the people heard in the mix: an excluded participant is not one, nor is an input
// that is silent throughout; a mix of files has no session and maps the mix's own timeline.
func TestMixMetaSpeakers(t *testing.T) {
	testutil.Require(t, "ffprobe")
	ctx := context.Background()
	dir := t.TempDir()

	opts := studio.DefaultMixOptions()
	opts.Inputs, opts.Output, opts.Normalize = []string{demoSession}, filepath.Join(dir, "no-brook.mp3"), false
	opts.Exclude = []string{"Brook"}
	if _, err := studio.Mix(ctx, opts, nil); err != nil {
		t.Fatal(err)
	}
	m := readMeta(t, opts.Output, decode(t, opts.Output))
	if want := []studio.MetaSpeaker{{"ada", "Ada (host)"}, {"cyd", "Cyd"}}; !reflect.DeepEqual(m.Speakers, want) {
		t.Errorf("--exclude Brook: speakers %+v, want %+v", m.Speakers, want)
	}
	if len(m.TimeMap) != 1 || m.TimeMap[0].OldStart != 0 || m.TimeMap[0].NewStart != 0 {
		t.Errorf("a mix without --max-silence maps the session clock onto itself: %+v", m.TimeMap)
	}
	if got := titles(m.Soundbites); !slices.Equal(got, []string{"Clips must be exact"}) {
		t.Errorf("the demo's soundbite: %q", got)
	}

	speech := filepath.Join(dir, "host.wav")
	testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", filepath.Join(demoSession, "tracks", "ada-1.opus"),
		"-t", "6", "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", speech)
	silent := filepath.Join(dir, "muted.wav")
	testutil.WriteWAV16(t, silent, make([]float32, 48000*3), 48000, 1)
	opts.Inputs, opts.Output, opts.Exclude = []string{speech, silent + "@1"}, filepath.Join(dir, "files.mp3"), nil
	if _, err := studio.Mix(ctx, opts, nil); err != nil {
		t.Fatal(err)
	}
	m = readMeta(t, opts.Output, decode(t, opts.Output))
	if want := []studio.MetaSpeaker{{"host", "host"}}; !reflect.DeepEqual(m.Speakers, want) || m.Session != nil {
		t.Errorf("a mix of a speech file and a silent one: speakers %+v, session %+v; want only %+v", m.Speakers, m.Session, want)
	}
}

// A clip of a session folder carries the metadata of the mix made on the way; a clip of the live
// mix (clip --last) the session's, with everyone who has a track.
func TestClipSessionMeta(t *testing.T) {
	testutil.Require(t, "ffprobe")
	ctx := context.Background()
	dir := t.TempDir()
	sess := copySession(t, filepath.Join(dir, "session"))

	out := filepath.Join(dir, "clip.mp3")
	if _, err := studio.Clip(ctx, studio.ClipOptions{Input: sess.Dir, Output: out, Start: sec(35), End: sec(65)}, nil); err != nil {
		t.Fatal(err)
	}
	m := readMeta(t, out, decode(t, out))
	sb, ok := soundbite(m, "Clips must be exact")
	if !ok || math.Abs(sb.Start.Seconds()-5) > 1e-6 || m.Session == nil || len(m.Speakers) != 3 {
		t.Errorf("clip 35-65 s of a session: %+v; want the demo's soundbite (40-60 s) at 5 s, the session, 3 speakers", m)
	}
	if len(m.TimeMap) != 1 || m.TimeMap[0].OldStart != 35*time.Second || m.TimeMap[0].OldEnd != 65*time.Second {
		t.Errorf("clip 35-65 s: time map %+v", m.TimeMap)
	}

	// A live mix: the session mixed to Ogg Opus and named in the manifest, as the recorder does.
	live := studio.DefaultMixOptions()
	// Mix refuses to write into the session it reads: mix beside it, then move the file in.
	live.Inputs, live.Output = []string{sess.Dir}, filepath.Join(dir, "mix.opus")
	if _, err := studio.Mix(ctx, live, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(live.Output, filepath.Join(sess.Dir, "mix.opus")); err != nil {
		t.Fatal(err)
	}
	sess.Manifest.Mix = &session.MixFile{File: "mix.opus", Channels: 1}
	sess.Manifest.Soundbites = append(sess.Manifest.Soundbites, session.Soundbite{StartTicks: 100 * 48000, DurationTicks: 5 * 48000, Title: "late"})
	if err := sess.Save(); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(dir, "last.mp3")
	if _, err := studio.Clip(ctx, studio.ClipOptions{Input: sess.Dir, Output: out, Last: 20 * time.Second}, nil); err != nil {
		t.Fatal(err)
	}
	m = readMeta(t, out, decode(t, out))
	if got := titles(m.Soundbites); !slices.Equal(got, []string{"late"}) {
		t.Errorf("clip --last 20s: soundbites %q, want the one in the last 20 s", got)
	}
	if len(m.Speakers) != 3 || m.Session == nil {
		t.Errorf("clip --last of the live mix lists everyone with a track (the live mix holds them all): %+v", m.Speakers)
	}
	if e := m.TimeMap; len(e) != 1 || math.Abs(e[0].OldEnd.Seconds()-e[0].OldStart.Seconds()-20) > 1e-6 {
		t.Errorf("clip --last 20s: time map %+v", e)
	}
}
