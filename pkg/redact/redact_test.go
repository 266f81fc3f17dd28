package redact

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/studio"
)

// demoWithMix copies testdata/demo/session into a temporary folder and gives it a live mix
// (mix.opus: the plain sum of its tracks, as the recorder's would be).
func demoWithMix(t *testing.T) string {
	t.Helper()
	dir := testutil.DemoSession(t)
	if err := rebuildMix(context.Background(), dir, &session.MixFile{File: "mix.opus", Channels: 1}, nil); err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.Mix = &session.MixFile{File: "mix.opus", Channels: 1}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// placed decodes a track with opusdec and lays it on the session clock (length total ticks).
func placed(t *testing.T, dir string, tr *session.Track, total int64) []float32 {
	t.Helper()
	dec := testutil.Mono(testutil.OpusdecDecode(t, filepath.Join(dir, filepath.FromSlash(tr.File))), tr.Channels)
	out := make([]float32, total)
	for m, v := range dec {
		if at := tr.SessionTicks(int64(m)); at >= 0 && at < total {
			out[at] = v
		}
	}
	return out
}

// playback is opusinfo's "Playback length" line.
func playback(info string) string {
	for _, l := range strings.Split(info, "\n") {
		if strings.Contains(l, "Playback length") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func rms(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(1, len(x))))
}

func dbfs(x []float32) float64 { return 20 * math.Log10(rms(x)+1e-12) }

// share is how much of b a holds: the least-squares gain of b in a (1: all of b is in a, 0: none).
func share(a, b []float32) float64 {
	var s, eb float64
	for i := range min(len(a), len(b)) {
		s += float64(a[i]) * float64(b[i])
		eb += float64(b[i]) * float64(b[i])
	}
	if eb == 0 {
		return 0
	}
	return s / eb
}

// corr is the normalised correlation of a and b at lag 0.
func corr(a, b []float32) float64 {
	var s, ea, eb float64
	for i := range min(len(a), len(b)) {
		s += float64(a[i]) * float64(b[i])
		ea += float64(a[i]) * float64(a[i])
		eb += float64(b[i]) * float64(b[i])
	}
	if ea == 0 || eb == 0 {
		return 0
	}
	return s / math.Sqrt(ea*eb)
}

func track(m *session.Manifest, id string) *session.Track {
	for i := range m.Tracks {
		if m.Tracks[i].ID == id {
			return &m.Tracks[i]
		}
	}
	return nil
}

// TestRedactStretch silences brook from 20 s to 35 s and judges every file with opusdec.
func TestRedactStretch(t *testing.T) {
	testutil.Require(t, "opusdec")
	dir := demoWithMix(t)
	before := testutil.TreeHash(t, dir, nil)
	orig, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	total := orig.Manifest.DurationTicks
	from, to := 20*time.Second, 35*time.Second
	fromT, toT := session.Ticks(from), session.Ticks(to)
	brookBefore := placed(t, dir, track(orig.Manifest, "brook-1"), total)
	mixBefore := testutil.OpusdecDecode(t, filepath.Join(dir, "mix.opus"))
	// The test can fail: brook speaks in the stretch, and the live mix carries her there.
	if l := dbfs(brookBefore[fromT:toT]); l < -40 {
		t.Fatalf("brook is at %.1f dBFS in the stretch before redaction; pick a stretch where she talks", l)
	}
	if c := share(mixBefore[fromT:toT], brookBefore[fromT:toT]); c < 0.8 {
		t.Fatalf("the live mix holds %.2f of brook before redaction; the judge is blind", c)
	}

	at := time.Date(2026, 11, 24, 21, 0, 0, 0, time.UTC)
	res, err := Redact(context.Background(), dir, Options{Identity: "brook", Range: true, From: from, To: to,
		Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mix != "rebuilt" || len(res.Tracks) != 2 || res.Tracks[0].Packets == 0 || res.Tracks[1].Packets != 0 {
		t.Fatalf("result: %+v", res)
	}
	after := testutil.TreeHash(t, dir, nil)
	for _, f := range []string{"tracks/ada-1.opus", "tracks/cyd-1.opus", "tracks/brook-2.opus"} {
		if before[f] != after[f] {
			t.Errorf("%s changed; only brook-1 and the mix may", f)
		}
	}
	if before["tracks/brook-1.opus"] == after["tracks/brook-1.opus"] || before["mix.opus"] == after["mix.opus"] {
		t.Errorf("brook-1 or the mix is unchanged")
	}
	for f := range after {
		if _, ok := before[f]; !ok {
			t.Errorf("left behind: %s", f)
		}
	}

	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Manifest
	if len(m.Tracks) != 4 || m.Mix == nil {
		t.Fatalf("tracks %d, mix %v", len(m.Tracks), m.Mix)
	}
	want := session.ConsentEvent{Identity: "brook", Type: "redacted", AtTicks: fromT, DurationTicks: toT - fromT,
		Time: at, Reason: "redact from 0:20.000 to 0:35.000"}
	if m.Consent == nil || len(m.Consent.Events) != 1 || m.Consent.Events[0] != want || m.Consent.Policy != "" {
		t.Fatalf("ledger: %+v", m.Consent)
	}
	b1 := track(m, "brook-1")
	if len(b1.Gaps) != 1 || b1.Gaps[0].Cause != "redacted" {
		t.Errorf("brook-1 gaps: %+v", b1.Gaps)
	}

	// The rewritten stream is valid Ogg Opus (opusinfo checks page CRCs, sequence numbers and
	// granule positions) and plays exactly as long as before.
	origCopy := filepath.Join(t.TempDir(), "brook-1.opus")
	if err := os.CopyFS(filepath.Dir(origCopy), os.DirFS("../../testdata/demo/session/tracks")); err != nil {
		t.Fatal(err)
	}
	infoBefore, _ := testutil.Run(t, "opusinfo", origCopy)
	infoAfter, _ := testutil.Run(t, "opusinfo", filepath.Join(dir, "tracks", "brook-1.opus"))
	if strings.Contains(string(infoAfter), "WARNING") || strings.Contains(string(infoAfter), "ERROR") {
		t.Errorf("opusinfo on the redacted track:\n%s", infoAfter)
	}
	if a, b := playback(string(infoBefore)), playback(string(infoAfter)); a == "" || a != b {
		t.Errorf("playback length %q before, %q after", a, b)
	}

	brookAfter := placed(t, dir, b1, total)
	if l := dbfs(brookAfter[fromT:toT]); l > -90 {
		t.Errorf("brook-1 in the stretch: %.1f dBFS, want silence", l)
	}
	// Outside the stretch: identical before it (the same packets decode the same); after it, the
	// decoder recovers from the silence within 100 ms.
	margin := session.Ticks(100 * time.Millisecond)
	startB := b1.Timeline[0].SessionTicks
	for i := startB; i < fromT-960; i++ {
		if brookBefore[i] != brookAfter[i] {
			t.Fatalf("brook-1 differs at %.3f s, before the stretch", float64(i)/48000)
		}
	}
	var diff float64
	end := b1.SessionTicks(b1.Samples)
	for i := toT + margin; i < end; i++ {
		diff = math.Max(diff, math.Abs(float64(brookBefore[i]-brookAfter[i])))
	}
	t.Logf("brook-1 after the stretch (+100 ms): max difference %.2g", diff)
	if diff > 1e-3 {
		t.Errorf("brook-1 after the stretch differs by up to %.3g", diff)
	}

	// The rebuilt mix: no trace of brook in the stretch, the others still there.
	mixAfter := testutil.OpusdecDecode(t, filepath.Join(dir, "mix.opus"))
	c := share(mixAfter[fromT:toT], brookBefore[fromT:toT])
	t.Logf("brook's share of the mix in the stretch: %.3f before, %.3f after", share(mixBefore[fromT:toT], brookBefore[fromT:toT]), c)
	if math.Abs(c) > 0.05 {
		t.Errorf("rebuilt mix holds %.3f of brook's original audio in the stretch", c)
	}
	ada := placed(t, dir, track(m, "ada-1"), total)
	cyd := placed(t, dir, track(m, "cyd-1"), total)
	others := make([]float32, toT-fromT)
	for i := range others {
		others[i] = ada[fromT+int64(i)] + cyd[fromT+int64(i)]
	}
	if c := corr(mixAfter[fromT:toT], others); c < 0.9 {
		t.Errorf("rebuilt mix correlates %.3f with ada+cyd in the stretch, want > 0.9", c)
	}
	stillInspectable(t, dir)
}

// TestRedactWhole removes brook from the whole session.
func TestRedactWhole(t *testing.T) {
	testutil.Require(t, "opusdec")
	dir := demoWithMix(t)
	before := testutil.TreeHash(t, dir, nil)
	orig, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	total := orig.Manifest.DurationTicks
	brook := make([]float32, total)
	for _, id := range []string{"brook-1", "brook-2"} {
		for i, v := range placed(t, dir, track(orig.Manifest, id), total) {
			brook[i] += v
		}
	}
	shareBefore := share(testutil.OpusdecDecode(t, filepath.Join(dir, "mix.opus")), brook)
	if shareBefore < 0.8 {
		t.Fatalf("the live mix holds %.2f of brook before redaction; the judge is blind", shareBefore)
	}
	res, err := Redact(context.Background(), dir, Options{Identity: "brook"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Whole || len(res.Tracks) != 2 || res.Tracks[0].Action != "deleted" || res.Mix != "rebuilt" {
		t.Fatalf("result %+v", res)
	}
	after := testutil.TreeHash(t, dir, nil)
	for _, f := range []string{"tracks/brook-1.opus", "tracks/brook-2.opus"} {
		if _, ok := after[f]; ok {
			t.Errorf("%s still exists", f)
		}
	}
	for _, f := range []string{"tracks/ada-1.opus", "tracks/cyd-1.opus"} {
		if before[f] != after[f] {
			t.Errorf("%s changed", f)
		}
	}
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Manifest
	if len(m.Tracks) != 2 || m.Participant("brook") == nil || len(m.Participant("brook").Presence) != 2 {
		t.Fatalf("tracks %d, brook %+v", len(m.Tracks), m.Participant("brook"))
	}
	if ev := m.Consent.Events[0]; ev.Type != "redacted" || ev.Identity != "brook" || ev.AtTicks != 0 || ev.DurationTicks != 0 || ev.Reason != "redact" {
		t.Errorf("ledger %+v", ev)
	}
	mix := testutil.OpusdecDecode(t, filepath.Join(dir, "mix.opus"))
	c := share(mix, brook)
	t.Logf("brook's share of the mix, whole session: %.3f before, %.3f after", shareBefore, c)
	if math.Abs(c) > 0.05 {
		t.Errorf("rebuilt mix holds %.3f of brook", c)
	}
	stillInspectable(t, dir)
}

// stillInspectable runs inspect and a mix on the redacted session.
func stillInspectable(t *testing.T, dir string) {
	t.Helper()
	if _, err := studio.Inspect(context.Background(), dir, nil); err != nil {
		t.Errorf("inspect: %v", err)
	}
	opts := studio.DefaultMixOptions()
	opts.Inputs, opts.Output = []string{dir}, filepath.Join(t.TempDir(), "ep.wav")
	if _, err := studio.Mix(context.Background(), opts, nil); err != nil {
		t.Errorf("mix: %v", err)
	}
}

// TestRedactRefuses: bad input is refused with a clear error and changes nothing.
func TestRedactRefuses(t *testing.T) {
	dir := demoWithMix(t)
	unfinal := filepath.Join(t.TempDir(), "unfinal")
	if err := os.CopyFS(unfinal, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	s, _ := session.Open(unfinal)
	s.Manifest.Finalized = false
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		dir     string
		opts    Options
		want    error
		message string
	}{
		{"an identity the session does not list names the ones it does", dir, Options{Identity: "zed"}, ErrUnknownSpeaker, "ada, brook, cyd"},
		{"--from after --to", dir, Options{Identity: "brook", Range: true, From: 30 * time.Second, To: 20 * time.Second}, ErrBadRange, "is not before"},
		{"an empty range", dir, Options{Identity: "brook", Range: true, From: 30 * time.Second, To: 30 * time.Second}, ErrBadRange, "is not before"},
		{"a range past the session's end", dir, Options{Identity: "brook", Range: true, From: 100 * time.Second, To: 200 * time.Second}, ErrBadRange, "outside the session"},
		{"a negative time", dir, Options{Identity: "brook", Range: true, From: -time.Second, To: 2 * time.Second}, ErrBadRange, "negative"},
		{"an unfinalized session says to recover", unfinal, Options{Identity: "brook"}, ErrNotFinalized, "spacecast recover"},
		{"a folder that is not a session", t.TempDir(), Options{Identity: "brook"}, session.ErrNotSession, "manifest.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := testutil.TreeHash(t, c.dir, nil)
			_, err := Redact(context.Background(), c.dir, c.opts)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("err = %v, want %v with %q", err, c.want, c.message)
			}
			if after := testutil.TreeHash(t, c.dir, nil); len(after) != len(before) {
				t.Fatalf("files changed: %d before, %d after", len(before), len(after))
			} else {
				for f, h := range before {
					if after[f] != h {
						t.Fatalf("%s changed", f)
					}
				}
			}
		})
	}
}

// TestRedactFailureLeavesSession: a failure while working (the mix cannot be rebuilt: a track
// file is corrupt) leaves every file as it was and no staging folder behind.
func TestRedactFailureLeavesSession(t *testing.T) {
	dir := demoWithMix(t)
	p := filepath.Join(dir, "tracks", "cyd-1.opus")
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0xff // a bad page CRC in cyd's track: the mix rebuild fails on it
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before := testutil.TreeHash(t, dir, nil)
	if _, err := Redact(context.Background(), dir, Options{Identity: "brook", Range: true, From: 20 * time.Second, To: 30 * time.Second}); err == nil {
		t.Fatal("no error with a corrupt track")
	}
	after := testutil.TreeHash(t, dir, nil)
	if len(after) != len(before) {
		t.Fatalf("files: %d before, %d after", len(before), len(after))
	}
	for f, h := range before {
		if after[f] != h {
			t.Errorf("%s changed", f)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), session.StagePrefix) {
			t.Errorf("staging folder %s left behind", e.Name())
		}
	}
}

// TestRedactEveryoneAndListener: redacting a participant who has no track (a listener) writes the
// ledger and touches no audio; redacting every speaker deletes the live mix, since nothing is
// left to make it from, and leaves a valid session.
func TestRedactEveryoneAndListener(t *testing.T) {
	dir := demoWithMix(t)
	s, err := session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.Participants = append(s.Manifest.Participants, session.Participant{Identity: "lou", Name: "Lou"})
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	before := testutil.TreeHash(t, dir, nil)
	res, err := Redact(context.Background(), dir, Options{Identity: "lou"})
	if err != nil {
		t.Fatal(err)
	}
	after := testutil.TreeHash(t, dir, nil)
	if res.Mix != "unchanged" || len(res.Tracks) != 0 {
		t.Errorf("listener: %+v", res)
	}
	for f, h := range before {
		if f != session.ManifestName && after[f] != h {
			t.Errorf("listener: %s changed", f)
		}
	}
	for i, id := range []string{"ada", "brook", "cyd"} {
		res, err := Redact(context.Background(), dir, Options{Identity: id})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{false: "rebuilt", true: "removed"}[i == 2]; res.Mix != want {
			t.Errorf("after %s: mix %q, want %q", id, res.Mix, want)
		}
	}
	s, err = session.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Manifest.Mix != nil || len(s.Manifest.Tracks) != 0 || len(s.Manifest.Participants) != 4 || len(s.Manifest.Consent.Events) != 4 {
		t.Errorf("manifest: mix %v, %d tracks, %d participants, %d events", s.Manifest.Mix, len(s.Manifest.Tracks), len(s.Manifest.Participants), len(s.Manifest.Consent.Events))
	}
	var files []string
	for p, h := range testutil.TreeHash(t, dir, nil) {
		if h != "dir" {
			files = append(files, p)
		}
	}
	if len(files) != 1 || files[0] != session.ManifestName {
		t.Errorf("files left: %v (want the manifest alone)", files)
	}
}

// FuzzSilenceTrack feeds damaged track files, and arbitrary bytes, to the track rewriter: it must
// return an error or a result, never panic or loop.
//
// The input is an edit of a real track, not the track (as FuzzDecode in pkg/codec/mp3): which
// picks a prefix of a demo track (or, at rawInput, takes edits itself as the whole input, of any
// length, so every byte string the target took before is still reachable), edits is a list of at
// most testutil.MaxEdits bytes of testutil.ApplyEdits operations, and with fixCRC every page's checksum is made right
// after the edits, so that they reach the Opus reader and the rewriter behind the page parser. The
// rewriter runs on the bytes in memory (silenceStream, what silenceTrack runs on the open file) and
// writes to io.Discard. Before, the input was a whole 4 000-byte file, written to a new temporary
// directory, rewritten to a file there and synced, with the silence packet encoded again on every
// run: 2 162 runs in 10 s, most of the time spent minimizing large inputs.
func FuzzSilenceTrack(f *testing.F) {
	b, err := os.ReadFile("../../testdata/demo/session/tracks/brook-2.opus")
	if err != nil {
		f.Fatal(err)
	}
	// The old seeds (a prefix torn inside a page, and a prefix torn in the comment header), and a
	// whole short track: the first pages, the last of them marked the end of the stream.
	files := [][]byte{b[:4000], b[:200], shortTrack(f, b, 4000)}
	for i := range files {
		f.Add(uint8(i), []byte{}, false)
		f.Add(uint8(i), []byte{testutil.EditSet, 0x40, 0x0f, 0xff}, true)
	}
	f.Add(uint8(rawInput), []byte("OggS"), false)
	tr := &session.Track{ID: "x", Timeline: []session.Anchor{{MediaSample: 0, SessionTicks: 0}}}
	sm := &silenceMaker{} // one cache for the process: the encoder's silence packet is made once
	discard := func() (io.Writer, error) { return io.Discard, nil }
	f.Fuzz(func(t *testing.T, which uint8, edits []byte, fixCRC bool) {
		in := edits
		if which != rawInput {
			if len(edits) > testutil.MaxEdits {
				return
			}
			in = testutil.ApplyEdits(files[int(which)%len(files)], edits)
		}
		if fixCRC {
			in = testutil.FixOggCRCs(bytes.Clone(in))
		}
		silenceStream(bytes.NewReader(in), discard, tr, 0, 48000, sm)
	})
}

// TestFuzzSilenceTrackSeeds: FuzzSilenceTrack's whole short track is rewritten in memory (packets
// in the range replaced, the copy a stream of as many packets), and so is an edit of it with the
// page checksums fixed, so the fuzzer starts past the page parser; the target's old seeds, prefixes
// torn inside a page, stop at the parser.
func TestFuzzSilenceTrackSeeds(t *testing.T) {
	b, err := os.ReadFile("../../testdata/demo/session/tracks/brook-2.opus")
	if err != nil {
		t.Fatal(err)
	}
	tr := &session.Track{ID: "x", Timeline: []session.Anchor{{MediaSample: 0, SessionTicks: 0}}}
	short := shortTrack(t, b, 4000)
	edited := testutil.FixOggCRCs(testutil.ApplyEdits(short, []byte{testutil.EditSet, 0x40, 0x0f, 0xff}))
	for name, in := range map[string][]byte{"the short track": short, "an edit of it": edited} {
		var out bytes.Buffer
		n, _, err := silenceStream(bytes.NewReader(in), func() (io.Writer, error) { return &out, nil }, tr, 0, 48000, &silenceMaker{})
		if err != nil || n == 0 {
			t.Fatalf("%s: %d packets silenced, %v", name, n, err)
		}
		if got, want := countPackets(t, out.Bytes()), countPackets(t, in); got != want {
			t.Errorf("%s: the copy has %d packets, the input %d", name, got, want)
		}
	}
	for _, old := range [][]byte{b[:4000], b[:200]} {
		if _, _, err := silenceStream(bytes.NewReader(old), func() (io.Writer, error) { return io.Discard, nil }, tr, 0, 48000, &silenceMaker{}); err == nil {
			t.Errorf("the old %d-byte seed was read without an error", len(old))
		}
	}
}

// countPackets returns the audio packets of an Ogg Opus stream.
func countPackets(t *testing.T, b []byte) int {
	r, err := ogg.NewOpusReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		if _, _, err := r.ReadPacket(); errors.Is(err, io.EOF) {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// rawInput as FuzzSilenceTrack's which means: the edits are the input.
const rawInput = 255

// shortTrack returns the whole pages of the Ogg stream b that end within its first max bytes, the
// last of them marked the end of the stream (RFC 3533 §6).
func shortTrack(tb testing.TB, b []byte, max int) []byte {
	var out []byte
	for off := 0; ; {
		_, n, err := ogg.ParsePage(b[off:])
		if err != nil {
			tb.Fatal(err)
		}
		if off+n > max {
			break
		}
		out = append(out, b[off:off+n]...)
		off += n
	}
	last := bytes.LastIndex(out, []byte("OggS"))
	out[last+5] |= 0x04
	return testutil.FixOggCRCs(out)
}

// TestRedactRefusesTampered: a signed session whose track was changed after sealing is refused
// (redact with a key would have sealed and signed the change, and verify then said everything
// matched); nothing changes, and verify still reports the changed file.
func TestRedactRefusesTampered(t *testing.T) {
	dir := testutil.DemoSession(t)
	key := filepath.Join(t.TempDir(), "key")
	if _, err := session.WriteKeyPair(key); err != nil {
		t.Fatal(err)
	}
	priv, err := session.LoadPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := session.Seal(dir, priv); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "tracks", "cyd-1.opus")
	b, _ := os.ReadFile(p)
	b[len(b)/3] ^= 1
	os.WriteFile(p, b, 0o644)
	before := testutil.TreeHash(t, dir, nil)
	_, err = Redact(context.Background(), dir, Options{Identity: "brook", Range: true, From: 20 * time.Second, To: 30 * time.Second,
		Seal: func(d string) error { return session.Seal(d, priv) }})
	var mm *session.SealMismatchError
	if !errors.As(err, &mm) || len(mm.Changed) != 1 || mm.Changed[0] != "tracks/cyd-1.opus" {
		t.Fatalf("err %v, want a seal mismatch naming tracks/cyd-1.opus", err)
	}
	testutil.SameTree(t, "after a refused redact", before, testutil.TreeHash(t, dir, nil))
	rep, err := session.Verify(dir, nil)
	if err != nil || rep.OK || len(rep.Changed) != 1 {
		t.Errorf("verify after the refusal: %+v, %v", rep, err)
	}
}
