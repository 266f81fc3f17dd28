package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/site"
)

// These tests hold the studio's promises, judged by decoders spacecast does not contain.

func TestMixMP3IsGapless(t *testing.T) {
	for _, tc := range []struct {
		rate, channels int
		seconds        float64
	}{{48000, 1, 3.3331}, {44100, 2, 2.0001}} {
		t.Run(fmt.Sprintf("%dHz-%dch", tc.rate, tc.channels), func(t *testing.T) {
			dir := t.TempDir()
			in, src := speechWAV(t, dir, tc.rate, tc.channels, tc.seconds)
			n := len(src) / tc.channels
			out := filepath.Join(dir, "out.mp3")
			mustRun(t, "mix", in, "--no-normalize", "--bitrate", "128", "-o", out)
			for name, got := range map[string][]float32{
				"ffmpeg": testutil.FFmpegDecode(t, out, 0, 0),
				"mpg123": testutil.Mpg123Decode(t, out, tc.channels),
			} {
				if len(got)/tc.channels != n {
					t.Errorf("%s decodes %d samples, want exactly %d", name, len(got)/tc.channels, n)
				}
				lag, corr := testutil.Lag(testutil.Mono(src, tc.channels), testutil.Mono(got, tc.channels), 2000)
				if lag != 0 || corr < 0.95 {
					t.Errorf("%s: audio is %d samples off (correlation %.3f), want 0", name, lag, corr)
				}
			}
		})
	}
}

func TestExactClip(t *testing.T) {
	dir := t.TempDir()
	wav, _ := speechWAV(t, dir, 48000, 1, 12)
	inputs := map[string][]string{
		"lame-cbr.mp3":   {"lame", "--quiet", "-b", "96", wav},
		"lame-vbr.mp3":   {"lame", "--quiet", "-V", "4", wav},
		"ffmpeg-cbr.mp3": {"ffmpeg", "-nostdin", "-v", "error", "-i", wav, "-c:a", "libmp3lame", "-b:a", "64k"},
		"ffmpeg-vbr.mp3": {"ffmpeg", "-nostdin", "-v", "error", "-i", wav, "-c:a", "libmp3lame", "-q:a", "5"},
		"source.wav":     nil,
	}
	for name, cmd := range inputs {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(dir, name)
			if cmd == nil {
				in = wav
			} else {
				testutil.Run(t, cmd[0], append(cmd[1:], in)...)
			}
			// The source as an independent decoder plays it.
			ref := testutil.FFmpegDecode(t, in, 48000, 1)
			start, dur := 3.217, 4.5
			out := filepath.Join(dir, "clip-"+name+".wav")
			mustRun(t, "clip", in, "--start", "3.217", "--duration", "4.5", "--fade", "0", "-o", out)
			got := testutil.FFmpegDecode(t, out, 48000, 1)
			if d := math.Abs(float64(len(got))/48000 - dur); d > 0.001 {
				t.Errorf("clip is %.4f s, want %.4f ±1 ms", float64(len(got))/48000, dur)
			}
			s0 := int(start * 48000)
			lag, corr := testutil.Lag(ref[s0:s0+len(got)], got, 480)
			if math.Abs(float64(lag)) > 48 || corr < 0.9 {
				t.Errorf("clip is %d samples (%.2f ms) off the source (correlation %.3f); want within 1 ms", lag, float64(lag)/48, corr)
			}
		})
	}
}

// mp3Clean fails the test if ffmpeg or mp3val find anything wrong with an MP3.
func mp3Clean(t *testing.T, path string) {
	t.Helper()
	_, stderr := testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-")
	if len(stderr) > 0 {
		t.Errorf("ffmpeg -v error on %s:\n%s", filepath.Base(path), stderr)
	}
	out, _ := testutil.Run(t, "mp3val", path)
	for _, line := range strings.Split(string(out), "\n") {
		// mp3val also warns that a file has no ID3/APE tags at all: that is no fault.
		if (strings.HasPrefix(line, "WARNING") || strings.HasPrefix(line, "ERROR")) && !strings.Contains(line, "No supported tags") {
			t.Errorf("mp3val on %s: %s", filepath.Base(path), line)
		}
	}
}

// alignedSNR compares n samples of got from gotAt seconds with the source ref around refAt
// seconds, allowing the two frames of slack a frame-accurate cut has, and returns the SNR in dB.
func alignedSNR(ref, got []float32, refAt, gotAt float64, n int) float64 {
	const slack = 2 * 1152
	r0, g0 := int(refAt*48000), int(gotAt*48000)
	if g0+n > len(got) || r0-slack < 0 || r0+n+slack > len(ref) {
		return math.Inf(-1)
	}
	b := got[g0 : g0+n]
	best := math.Inf(-1)
	for l := 0; l <= 2*slack; l++ {
		best = math.Max(best, snr(ref[r0-slack+l:r0-slack+l+n], b))
	}
	return best
}

// snr is the signal-to-noise ratio of got against want, in dB.
func snr(want, got []float32) float64 {
	var s, n float64
	for i := range min(len(want), len(got)) {
		s += float64(want[i]) * float64(want[i])
		d := float64(want[i]) - float64(got[i])
		n += d * d
	}
	return 10 * math.Log10(s/(n+1e-20))
}

func TestCopyClipAndTrim(t *testing.T) {
	dir := t.TempDir()
	wav, _ := speechWAV(t, dir, 48000, 1, 20)
	for _, name := range []string{"lame-cbr.mp3", "lame-vbr.mp3"} {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(dir, name)
			args := []string{"--quiet", "-b", "96", wav, in}
			if strings.Contains(name, "vbr") {
				args = []string{"--quiet", "-V", "2", wav, in}
			}
			testutil.Run(t, "lame", args...)
			ref := testutil.FFmpegDecode(t, in, 0, 1)
			const frame = 1152.0 / 48000

			clip := filepath.Join(dir, "copy-"+name)
			mustRun(t, "clip", in, "--start", "5.5", "--end", "9.25", "--copy", "-o", clip)
			mp3Clean(t, clip)
			got := testutil.FFmpegDecode(t, clip, 0, 1)
			if d := math.Abs(float64(len(got))/48000 - 3.75); d > frame {
				t.Errorf("copy clip is %.4f s, want 3.75 within one frame", float64(len(got))/48000)
			}
			// The first frame decodes to the source's audio: no reservoir damage.
			if q := alignedSNR(ref, got, 5.5, 0, 1152); q < 20 {
				t.Errorf("the first frame of the copy clip differs from the source: SNR %.1f dB", q)
			}
			if q := alignedSNR(ref, got, 5.5, 0, len(got)-2400); q < 20 {
				t.Errorf("the copy clip differs from the source: SNR %.1f dB", q)
			}

			trimmed := filepath.Join(dir, "trim-"+name)
			mustRun(t, "trim", in, "--cut", "0-2", "--cut", "8-11.5", "-o", trimmed)
			mp3Clean(t, trimmed)
			got = testutil.FFmpegDecode(t, trimmed, 0, 1)
			if d := math.Abs(float64(len(got))/48000 - 14.5); d > 2*frame {
				t.Errorf("trimmed file is %.4f s, want 14.5 within a frame per join", float64(len(got))/48000)
			}
			// Both sides of each join decode to the source: output 5 s is input 7 s, output 7 s is input 12.5 s.
			if q := alignedSNR(ref, got, 7, 5, 9600); q < 20 {
				t.Errorf("audio before the second join differs from the source: SNR %.1f dB", q)
			}
			if q := alignedSNR(ref, got, 12.5, 7, 9600); q < 20 {
				t.Errorf("audio after the second join differs from the source: SNR %.1f dB", q)
			}
			if q := alignedSNR(ref, got, 2, 0, 4800); q < 20 {
				t.Errorf("the first frame after the leading cut differs from the source: SNR %.1f dB", q)
			}
		})
	}
}

func TestMixLoudness(t *testing.T) {
	dir := t.TempDir()
	for _, out := range []string{"episode.mp3", "episode.wav", "episode.opus"} {
		for _, target := range []float64{-16, -19} {
			path := filepath.Join(dir, fmt.Sprintf("%g-%s", target, out))
			js := mustRun(t, "mix", demoSession, "-o", path, "--loudness", fmt.Sprint(target), "--json")
			var res struct {
				LoudnessLUFS float64 `json:"loudness_lufs"`
			}
			json.Unmarshal([]byte(js), &res)
			lufs, tp := ebur128(t, path)
			if math.Abs(lufs-target) > 0.5 {
				t.Errorf("%s: ffmpeg measures %.2f LUFS, want %g ±0.5", path, lufs, target)
			}
			if tp > -1 {
				t.Errorf("%s: ffmpeg measures true peak %.2f dBTP, over the -1 dBTP ceiling", path, tp)
			}
			// inspect agrees with ffmpeg.
			var rep struct {
				LoudnessLUFS float64 `json:"loudness_lufs"`
				TruePeak     float64 `json:"true_peak_dbtp"`
			}
			if err := json.Unmarshal([]byte(mustRun(t, "inspect", path, "--json")), &rep); err != nil {
				t.Fatal(err)
			}
			if math.Abs(rep.LoudnessLUFS-lufs) > 0.2 {
				t.Errorf("%s: inspect says %.2f LUFS, ffmpeg %.2f", path, rep.LoudnessLUFS, lufs)
			}
		}
	}
}

func TestMixLevelsSpeakers(t *testing.T) {
	// Brook's microphone in the demo is 9 dB quieter than Ada's: levelling must close that gap.
	var res struct {
		Speakers []struct {
			Name         string  `json:"name"`
			LoudnessLUFS float64 `json:"loudness_lufs"`
			LevelGainDB  float64 `json:"level_gain_db"`
		} `json:"speakers"`
		Chapters []struct {
			Title string `json:"title"`
		} `json:"chapters"`
	}
	out := filepath.Join(t.TempDir(), "e.mp3")
	if err := json.Unmarshal([]byte(mustRun(t, "mix", demoSession, "-o", out, "--min-chapter", "15s", "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Speakers) != 3 {
		t.Fatalf("want 3 speakers, got %+v", res.Speakers)
	}
	var lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range res.Speakers {
		after := s.LoudnessLUFS + s.LevelGainDB
		lo, hi = math.Min(lo, after), math.Max(hi, after)
	}
	if hi-lo > 1 {
		t.Errorf("after levelling speakers span %.1f LU, want within 1: %+v", hi-lo, res.Speakers)
	}
	if len(res.Chapters) < 2 {
		t.Errorf("a 3-speaker session of 110 s with 15 s chapters should have several chapters, got %+v", res.Chapters)
	}
	// ffprobe reads the chapters we wrote.
	js, _ := testutil.Run(t, "ffprobe", "-v", "error", "-show_chapters", "-of", "json", out)
	var probe struct {
		Chapters []struct {
			Tags map[string]string `json:"tags"`
		} `json:"chapters"`
	}
	json.Unmarshal(js, &probe)
	if len(probe.Chapters) != len(res.Chapters) {
		t.Errorf("ffprobe finds %d chapters, mix reported %d", len(probe.Chapters), len(res.Chapters))
	}
}

// TestDemo runs the README's first command (a shorter room): the embedded live room is recorded
// over real WebRTC on loopback, then mixed, clipped, trimmed, inspected and published. The
// recording holds the room's three speakers, the late joiner starting late, and a live mix as long
// as the session; the published site's feed checks clean.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, "demo", "-o", dir, "--length", "30s")
	s, err := session.Open(filepath.Join(dir, "session"))
	if err != nil {
		t.Fatal(err)
	}
	m := s.Manifest
	if !m.Finalized || len(m.Tracks) != 3 || m.Room.Protocol != "whep" {
		t.Fatalf("recorded session: finalized %v, %d tracks, protocol %q", m.Finalized, len(m.Tracks), m.Room.Protocol)
	}
	starts := map[string]float64{}
	for _, tr := range m.Tracks {
		starts[tr.Participant] = session.Duration(tr.Timeline[0].SessionTicks).Seconds()
	}
	if starts["cyd"] < starts["ada"]+3 || starts["cyd"] < starts["brook"]+3 {
		t.Errorf("the late joiner does not start late: %v", starts)
	}
	if d := session.Duration(m.DurationTicks); d < 29*time.Second || d > 33*time.Second {
		t.Errorf("a 30 s room recorded as %v", d)
	}
	mix := testutil.FFmpegDecode(t, s.Path(m.Mix.File), 48000, 1)
	if got, want := float64(len(mix))/48000, session.Duration(m.DurationTicks).Seconds(); math.Abs(got-want) > 0.1 {
		t.Errorf("live mix %.2f s, session %.2f s", got, want)
	}
	for _, f := range []string{"episode.mp3", "clip.mp3", "clip-copy.mp3", "episode-trimmed.mp3", "session/manifest.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("demo did not make %s: %v\n%s", f, err, out)
		}
	}
	mp3Clean(t, filepath.Join(dir, "clip-copy.mp3"))
	mp3Clean(t, filepath.Join(dir, "episode-trimmed.mp3"))

	// The podcast site: the episode (its three speakers as persons, the clip as a soundbite) and
	// the clip as a trailer, in a feed pkg/feed's checker and xmllint find clean.
	siteDir := filepath.Join(dir, "site")
	fx := feedClean(t, siteDir)
	if n := strings.Count(string(fx), "<item>"); n != 2 {
		t.Errorf("the demo feed has %d episodes, want 2", n)
	}
	eps, err := site.Episodes(siteDir)
	if err != nil || len(eps) != 2 {
		t.Fatalf("the demo site's record: %v, %d episodes", err, len(eps))
	}
	if ep := eps[0]; len(ep.Persons) != 3 || ep.Persons[0].Role != "host" || len(ep.Soundbites) == 0 || ep.Type != "full" {
		t.Errorf("the demo episode: persons %+v, soundbites %+v, type %s", ep.Persons, ep.Soundbites, ep.Type)
	}
	if eps[1].Type != "trailer" {
		t.Errorf("the demo clip is published as %q, want trailer", eps[1].Type)
	}
	for _, f := range []string{"index.html", "artwork.png", "podcast.yaml", "episodes/" + eps[0].Audio.File, "episodes/" + eps[1].Audio.File} {
		if _, err := os.Stat(filepath.Join(siteDir, f)); err != nil {
			t.Errorf("the demo site lacks %s", f)
		}
	}
	for _, want := range []string{"python3 -m http.server -d " + siteDir, "spacecast feed check " + siteDir} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo does not print %q", want)
		}
	}
}
