package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// mixJSON runs mix with --json and decodes its report.
func mixJSON(t *testing.T, args ...string) (res struct {
	SampleRate      int     `json:"sample_rate"`
	Channels        int     `json:"channels"`
	DurationSeconds float64 `json:"duration_seconds"`
	RemovedSeconds  float64 `json:"removed_silence_seconds"`
	Speakers        []struct {
		Identity      string  `json:"identity"`
		OffsetSeconds float64 `json:"offset_seconds"`
	} `json:"speakers"`
}) {
	t.Helper()
	out := mustRun(t, append([]string{"mix", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("mix --json printed %q: %v", out, err)
	}
	return res
}

func TestMixFilesAtOffsetsAndRates(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "host.wav")
	b := filepath.Join(dir, "guest.wav")
	testutil.WriteWAV16(t, a, testutil.Sine(48000*2, 48000, 1, 440, 0.3), 48000, 1)
	testutil.WriteWAV16(t, b, testutil.Sine(44100*2, 44100, 2, 880, 0.3), 44100, 2)
	out := filepath.Join(dir, "mix.wav")
	res := mixJSON(t, a, b+"@1.5", "-o", out, "--no-normalize", "--no-level")
	if res.SampleRate != 48000 || res.Channels != 2 {
		t.Errorf("mix of 48 kHz mono and 44.1 kHz stereo: %d Hz, %d ch; want 48000 Hz, 2 ch", res.SampleRate, res.Channels)
	}
	if math.Abs(res.DurationSeconds-3.5) > 0.001 {
		t.Errorf("a 2 s guest at 1.5 s makes a 3.5 s mix, got %.4f s", res.DurationSeconds)
	}
	got := testutil.Mono(testutil.FFmpegDecode(t, out, 0, 0), 2)
	if len(got) != 48000*7/2 {
		t.Fatalf("ffmpeg decodes %d frames, want %d", len(got), 48000*7/2)
	}
	// Before 1.5 s only the host's 440 Hz; after 2 s only the resampled guest's 880 Hz.
	zeroCrossings := func(x []float32) int {
		n := 0
		for i := 1; i < len(x); i++ {
			if (x[i-1] < 0) != (x[i] < 0) {
				n++
			}
		}
		return n
	}
	if z := zeroCrossings(got[4800:52800]); z < 870 || z > 890 {
		t.Errorf("first second has %d zero crossings, want 880 (440 Hz)", z)
	}
	if z := zeroCrossings(got[48000*2+4800 : 48000*3+4800]); z < 1750 || z > 1770 {
		t.Errorf("the guest's second has %d zero crossings, want 1760 (880 Hz resampled exactly)", z)
	}
}

func TestMixExcludeAndMaxSilence(t *testing.T) {
	dir := t.TempDir()
	res := mixJSON(t, demoSession, "-o", filepath.Join(dir, "a.opus"), "--exclude", "brook", "--max-silence", "0.3s")
	for _, s := range res.Speakers {
		if s.Identity == "brook" {
			t.Errorf("--exclude brook left Brook in the mix")
		}
	}
	if len(res.Speakers) != 2 {
		t.Errorf("want 2 speakers after excluding one, got %d", len(res.Speakers))
	}
	if res.RemovedSeconds <= 1 {
		t.Errorf("--max-silence 0.3s removed only %.2f s from a session full of pauses", res.RemovedSeconds)
	}
	got := testutil.OpusdecDecode(t, filepath.Join(dir, "a.opus"))
	if d := float64(len(got))/48000 - res.DurationSeconds; math.Abs(d) > 0.001 {
		t.Errorf("opusdec decodes %.3f s, mix reported %.3f s", float64(len(got))/48000, res.DurationSeconds)
	}
}

func TestMixArtworkAndTags(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "cover.png")
	testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", img)
	out := filepath.Join(dir, "e.mp3")
	in, _ := speechWAV(t, dir, 48000, 1, 2)
	mustRun(t, "mix", in, "-o", out, "--title", "Épisode 1", "--artist", "Ada", "--album", "Rooms", "--date", "2026-11-20", "--artwork", img)
	js, _ := testutil.Run(t, "ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", out)
	s := string(js)
	for _, want := range []string{`"title": "Épisode 1"`, `"artist": "Ada"`, `"album": "Rooms"`, `"codec_name": "png"`} {
		if !strings.Contains(s, want) {
			t.Errorf("ffprobe does not show %s in:\n%s", want, s)
		}
	}
	_, stderr, code := run(t, "mix", in, "-o", filepath.Join(dir, "x.mp3"), "--artwork", in)
	if code != ExitBadInput || !strings.Contains(stderr, "not a JPEG or PNG") {
		t.Errorf("a WAV as artwork: exit %d, %q", code, stderr)
	}
}

func TestClipOtherInputs(t *testing.T) {
	dir := t.TempDir()
	wav, _ := speechWAV(t, dir, 48000, 1, 6)
	opus := filepath.Join(dir, "in.opus")
	testutil.Run(t, "opusenc", "--quiet", wav, opus)
	for _, in := range []string{opus, demoSession} {
		out := filepath.Join(dir, "clip-"+filepath.Base(in)+".wav")
		mustRun(t, "clip", in, "--start", "1", "--end", "3.5", "-o", out)
		got := testutil.FFmpegDecode(t, out, 0, 1)
		if len(got) != 120000 {
			t.Errorf("clip of %s: %d samples, want 120000", in, len(got))
		}
	}
	// An exact trim of a WAV joins on the sample with a crossfade.
	out := filepath.Join(dir, "trim.wav")
	mustRun(t, "trim", wav, "--cut", "1-2", "--crossfade", "10ms", "-o", out)
	if got := testutil.FFmpegDecode(t, out, 0, 1); len(got) != 48000*5-480 {
		t.Errorf("trim of 1 s from 6 s with a 10 ms crossfade: %d samples, want %d", len(got), 48000*5-480)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}

// Trimming a session moves its chapters and soundbites with the cut; a soundbite with a cut
// inside it is dropped (podcast apps would play it across the join).
func TestTrimSessionMovesSoundbites(t *testing.T) {
	out := filepath.Join(t.TempDir(), "t.mp3")
	var res struct {
		Soundbites []struct {
			Start    float64 `json:"start_seconds"`
			Duration float64 `json:"duration_seconds"`
		} `json:"soundbites"`
		Chapters []struct {
			Start float64 `json:"start_seconds"`
		} `json:"chapters"`
	}
	js := mustRun(t, "trim", demoSession, "--cut", "0-10", "--cut", "65-70", "-o", out, "--json")
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatal(err)
	}
	// The demo's soundbite is 40-60 s; 10 s go before it: it becomes 30-50 s.
	if len(res.Soundbites) != 1 || math.Abs(res.Soundbites[0].Start-30) > 0.001 || math.Abs(res.Soundbites[0].Duration-20) > 0.001 {
		t.Errorf("soundbite after the trim: %+v, want 30 s long 20 s", res.Soundbites)
	}
	if len(res.Chapters) == 0 || res.Chapters[0].Start != 0 {
		t.Errorf("chapters after the trim: %+v", res.Chapters)
	}
	js = mustRun(t, "trim", demoSession, "--cut", "0-10", "--cut", "45-50", "-o", out, "--json")
	res.Soundbites = nil
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Soundbites) != 0 {
		t.Errorf("a cut of 45-50 s inside the 40-60 s soundbite left %+v; want it dropped", res.Soundbites)
	}
}
