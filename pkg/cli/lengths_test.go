package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/ogg"
)

// forgeGranules copies an Ogg file, letting set choose each page's granule position (i counts all
// pages, headers included; n is how many there are).
func forgeGranules(t *testing.T, src, dst string, set func(i, n int, g int64) int64) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var ps []ogg.Page
	for len(b) > 0 {
		p, n, err := ogg.ParsePage(b)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		b = b[n:]
	}
	var out []byte
	for i := range ps {
		ps[i].Granule = set(i, len(ps), ps[i].Granule)
		if out, err = ogg.AppendPage(out, &ps[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// forgeSession copies the demo session and lets edit change its manifest (as generic JSON, so
// that values a Go struct could not hold, such as 1e18, can be written).
func forgeSession(t *testing.T, dir string, edit func(m map[string]any)) string {
	t.Helper()
	if err := os.CopyFS(dir, os.DirFS(demoSession)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.MarshalIndent(m, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// anchor returns track i's timeline anchor j of a generic manifest.
func anchor(m map[string]any, i, j int) map[string]any {
	return m["tracks"].([]any)[i].(map[string]any)["timeline"].([]any)[j].(map[string]any)
}

// TestAbsurdLengths runs inspect, mix, trim and clip on small inputs that claim absurd lengths.
// Each command must refuse the input with exit 3, name it in a clear message, return at once and
// write nothing. Before the limits, the Ogg file with granule 2^63−1 and the session with an
// anchor at tick 2^62 kept inspect and mix at 100 % CPU until killed, and trim printed the
// length as --47:-16.-855.
func TestAbsurdLengths(t *testing.T) {
	dir := t.TempDir()
	brook := filepath.Join(demoSession, "tracks", "brook-2.opus")
	in := func(name string) string { return filepath.Join(dir, name) }

	forgeGranules(t, brook, in("max-granule.opus"), func(i, n int, g int64) int64 {
		if i == n-1 {
			return math.MaxInt64
		}
		return g
	})
	forgeGranules(t, brook, in("backwards.opus"), func(i, n int, g int64) int64 {
		if i == n/2 {
			return 4800
		}
		return g
	})
	forgeGranules(t, brook, in("far-jump.opus"), func(i, n int, g int64) int64 {
		if i == n-1 {
			return g + 20*60*48000 // 20 minutes more than its packets: the 77 KB could, they do not
		}
		return g
	})

	// A WAV whose data chunk claims 4 GB and holds a second.
	wavPath := in("huge-data.wav")
	testutil.WriteWAV16(t, wavPath, testutil.Chirp(48000, 48000, 0.5), 48000, 1)
	w, _ := os.ReadFile(wavPath)
	if i := bytes.Index(w, []byte("data")); i < 0 {
		t.Fatal("no data chunk")
	} else {
		binary.LittleEndian.PutUint32(w[i+4:], 0xFFFFFFF0)
	}
	os.WriteFile(wavPath, w, 0o644)

	// An MP3 whose ID3v2 tag claims 256 MB (the largest syncsafe size) in front of a second of audio.
	mp3 := in("good.mp3")
	testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", wavPath, "-c:a", "libmp3lame", "-b:a", "64k", mp3)
	audioBytes, _ := os.ReadFile(mp3)
	id3 := []byte{'I', 'D', '3', 4, 0, 0, 0x7f, 0x7f, 0x7f, 0x7f}
	os.WriteFile(in("huge-id3.mp3"), append(id3, audioBytes...), 0o644)

	sessions := map[string]func(m map[string]any){
		"anchor-2e62": func(m map[string]any) { anchor(m, 0, 1)["session_ticks"] = json.Number("4611686018427387904") },
		"negative-ticks": func(m map[string]any) {
			anchor(m, 1, 0)["session_ticks"] = json.Number("-4800000") // 100 s before the session began
		},
		"duration-1e18": func(m map[string]any) { m["duration_ticks"] = json.Number("1000000000000000000") },
	}
	for name, edit := range sessions {
		forgeSession(t, in(name), edit)
	}

	// A session whose track file claims granule 2^63−1 on its last page.
	forgeSession(t, in("track-granule"), func(map[string]any) {})
	forgeGranules(t, brook, filepath.Join(in("track-granule"), "tracks", "brook-2.opus"), func(i, n int, g int64) int64 {
		if i == n-1 {
			return math.MaxInt64
		}
		return g
	})

	// Each input, and what the message must say is wrong with it.
	inputs := map[string]string{
		"max-granule.opus": "granule position", "backwards.opus": "granule position", "far-jump.opus": "granule position",
		"huge-data.wav": "header promises", "huge-id3.mp3": "ID3v2 tag at byte 0 claims",
		"anchor-2e62": "session_ticks is 4611686018427387904", "negative-ticks": "session_ticks is -4800000",
		"duration-1e18": "duration_ticks is 1000000000000000000", "track-granule": "granule position",
	}
	for name, what := range inputs {
		p := in(name)
		out := in("out-" + name + ".mp3")
		for _, args := range [][]string{
			{"inspect", p},
			{"mix", p, "-o", out},
			{"trim", p, "--cut", "0-1", "-o", out},
			{"clip", p, "--start", "0", "--end", "1", "-o", out},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			var o, e bytes.Buffer
			begin := time.Now()
			err := Run(ctx, BuildInfo{Version: "test"}, args, &o, &e)
			took := time.Since(begin)
			hung := ctx.Err() != nil
			cancel()
			code := ExitCode(err)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if hung {
				t.Errorf("%s %s: still running after %v: the claimed length drives the work", args[0], name, took)
			} else if code != ExitBadInput || !strings.Contains(msg, name) || !strings.Contains(msg, what) {
				t.Errorf("%s %s: exit %d, %q; want exit 3 naming the input and saying %q", args[0], name, code, msg, what)
			}
			if strings.Contains(o.String()+msg, "--") && strings.Contains(o.String()+msg, ":-") {
				t.Errorf("%s %s: a garbled time in %q", args[0], name, o.String()+msg)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s %s: an output file was left behind", args[0], name)
				os.Remove(out)
			}
			t.Logf("%s %s: exit %d in %v: %s", args[0], name, code, took.Round(time.Millisecond), msg)
		}
	}
}

// TestTrackBeforeTickZero mixes and inspects a session whose track the recorder placed half a
// second before tick 0 (a burst of first packets settles there; session.MaxLead allows 10 s).
// Both work, and the speaker starts at 0: before, mix and inspect failed with exit 1 on the
// mixer's negative offset.
func TestTrackBeforeTickZero(t *testing.T) {
	dir := t.TempDir()
	sess := forgeSession(t, filepath.Join(dir, "early"), func(m map[string]any) {
		anchor(m, 1, 0)["session_ticks"] = json.Number("-24000")
	})
	var res struct {
		Speakers []struct {
			Identity      string  `json:"identity"`
			OffsetSeconds float64 `json:"offset_seconds"`
		} `json:"speakers"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "mix", sess, "-o", filepath.Join(dir, "mix.mp3"), "--json")), &res); err != nil {
		t.Fatal(err)
	}
	for _, sp := range res.Speakers {
		if sp.Identity == "brook" && sp.OffsetSeconds != 0 {
			t.Errorf("brook starts at %g s, want 0 (the half second before tick 0 is not played)", sp.OffsetSeconds)
		}
	}
	mustRun(t, "inspect", sess)
}

// TestRecoverRefusesForgedLength recovers a crashed session whose track file claims granule
// position 2^63−1 on its last page: recover refuses it with exit 3 naming the file, and leaves the
// manifest as it was (not finalized). Before, the forged length reached the manifest as the
// track's sample count, and only the manifest check at saving stopped it, naming no file.
func TestRecoverRefusesForgedLength(t *testing.T) {
	sess := forgeSession(t, filepath.Join(t.TempDir(), "crashed"), func(m map[string]any) { m["finalized"] = false })
	forgeGranules(t, filepath.Join(demoSession, "tracks", "brook-2.opus"), filepath.Join(sess, "tracks", "brook-2.opus"),
		func(i, n int, g int64) int64 {
			if i == n-1 {
				return math.MaxInt64
			}
			return g
		})
	before, err := os.ReadFile(filepath.Join(sess, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "recover", sess)
	if code != ExitBadInput || !strings.Contains(stderr, "brook-2.opus") || !strings.Contains(stderr, "granule position") {
		t.Errorf("recover: exit %d, %q; want exit 3 naming the file and its granule position", code, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(sess, "manifest.json")); !bytes.Equal(before, after) {
		t.Errorf("the manifest changed")
	}
}
