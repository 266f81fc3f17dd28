package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
)

// run executes the whole command tree in-process, as main does, and returns what it printed and
// its exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	err := Run(context.Background(), BuildInfo{Version: "test", Commit: "none", Date: "today"}, args, &o, &e)
	if err != nil {
		e.WriteString("spacecast: " + err.Error() + "\n")
	}
	return o.String(), e.String(), ExitCode(err)
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("spacecast %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

const demoSession = "../../testdata/demo/session"

// speechWAV decodes the demo session's host track (real speech) with ffmpeg into a WAV at rate
// and channels, trimmed to seconds; an input no spacecast code made.
func speechWAV(t *testing.T, dir string, rate, channels int, seconds float64) (string, []float32) {
	t.Helper()
	path := filepath.Join(dir, "speech.wav")
	testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", filepath.Join(demoSession, "tracks/ada-1.opus"),
		"-t", strconv.FormatFloat(seconds, 'f', 3, 64), "-ar", strconv.Itoa(rate), "-ac", strconv.Itoa(channels),
		"-c:a", "pcm_s16le", path)
	return path, testutil.FFmpegDecode(t, path, 0, 0)
}

// ebur128 measures a file with ffmpeg's ebur128 filter: integrated loudness and true peak.
func ebur128(t *testing.T, path string) (lufs, tp float64) {
	t.Helper()
	_, stderr := testutil.Run(t, "ffmpeg", "-nostdin", "-hide_banner", "-i", path, "-af", "ebur128=peak=true", "-f", "null", "-")
	s := string(stderr)
	i := strings.LastIndex(s, "Summary:")
	if i < 0 {
		t.Fatalf("no ebur128 summary:\n%s", s)
	}
	s = s[i:]
	mI := regexp.MustCompile(`I:\s+(-?[\d.]+) LUFS`).FindStringSubmatch(s)
	mP := regexp.MustCompile(`Peak:\s+(-?[\d.]+|-inf) dBFS`).FindStringSubmatch(s)
	if mI == nil || mP == nil {
		t.Fatalf("cannot read ebur128 summary:\n%s", s)
	}
	lufs, _ = strconv.ParseFloat(mI[1], 64)
	tp, _ = strconv.ParseFloat(mP[1], 64)
	return lufs, tp
}

func TestVersionAndHelp(t *testing.T) {
	out := mustRun(t, "version")
	if !strings.Contains(out, "spacecast test") {
		t.Errorf("version printed %q", out)
	}
	out = mustRun(t, "version", "--json")
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil || v["version"] != "test" {
		t.Errorf("version --json printed %q (%v)", out, err)
	}
	for _, c := range []string{"mix", "clip", "trim", "inspect", "demo", "version", "completion"} {
		out := mustRun(t, c, "--help")
		if !strings.Contains(out, "Usage:") || !strings.Contains(out, "EXIT STATUS") {
			t.Errorf("%s --help lacks usage or exit status:\n%s", c, out)
		}
	}
	if out := mustRun(t, "completion", "bash"); !strings.Contains(out, "complete") {
		t.Errorf("completion bash printed no completion script")
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in, _ := speechWAV(t, dir, 48000, 1, 3)
	out := filepath.Join(dir, "out.mp3")
	tests := []struct {
		args []string
		code int
		want string
		why  string
	}{
		{[]string{"clip", in, "--start", "1:99", "--end", "2", "-o", out}, ExitUsage, "--start 1:99", "a malformed time names the flag"},
		{[]string{"clip", in, "--start", "2", "--end", "1", "-o", out}, ExitUsage, "not after", "--end before --start"},
		{[]string{"clip", in, "--start", "0", "--end", "1", "--duration", "1", "-o", out}, ExitUsage, "end", "--end with --duration"},
		{[]string{"clip", in, "--start", "10", "--end", "20", "-o", out}, ExitBadInput, "past its end", "a range past the end"},
		{[]string{"clip", in, "--start", "0", "--end", "1", "-o", in}, ExitUsage, "is the input", "output equal to input: -o is wrong (outputs_test.go has every other way)"},
		{[]string{"trim", in, "--cut", "0-2", "--cut", "1-3", "-o", out}, ExitUsage, "overlap", "overlapping cuts"},
		{[]string{"trim", in, "--cut", "5-6", "-o", out}, ExitBadInput, "past its end", "a cut past the end"},
		{[]string{"mix", in, "-o", filepath.Join(dir, "out.flac")}, ExitUsage, ".mp3", "an unknown output extension"},
		{[]string{"mix", in, "-o", filepath.Join(dir, "nope", "out.mp3")}, ExitBadInput, "does not exist", "a missing output folder"},
		{[]string{"mix", "-o", out}, ExitUsage, "INPUT", "no inputs"},
		{[]string{"mix", in}, ExitUsage, "-o", "no output"},
		{[]string{"clip", in, "--end", "2", "-o", out}, ExitUsage, "--start", "clip without --start"},
		{[]string{"clip", in, "--start", "1", "-o", out}, ExitUsage, "--end", "clip without an end"},
		{[]string{"trim", in, "-o", out}, ExitUsage, "--cut", "trim without cuts"},
		{[]string{"frobnicate"}, ExitUsage, "unknown command", "an unknown command"},
		{[]string{"mix", in, "-o", out, "--bogus"}, ExitUsage, "unknown flag", "an unknown flag"},
		{[]string{"inspect", filepath.Join(dir, "missing.mp3")}, ExitBadInput, "missing.mp3", "a missing input"},
	}
	for _, tt := range tests {
		_, stderr, code := run(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", tt.why, code, stderr, tt.code, tt.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: an output file was left behind", tt.why)
			os.Remove(out)
		}
	}
}

func TestBadInputFiles(t *testing.T) {
	dir := t.TempDir()
	good, _ := speechWAV(t, dir, 48000, 1, 3)
	mp3 := filepath.Join(dir, "good.mp3")
	testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", good, "-c:a", "libmp3lame", "-b:a", "64k", mp3)
	b, _ := os.ReadFile(mp3)
	files := map[string][]byte{
		"empty.mp3":     nil,
		"garbage.mp3":   bytes.Repeat([]byte("not audio at all "), 200),
		"garbage.wav":   append([]byte("RIFF\x10\x00\x00\x00WAVE"), bytes.Repeat([]byte{0x42}, 50)...),
		"garbage.opus":  append([]byte("OggS"), bytes.Repeat([]byte{0x17}, 300)...),
		"truncated.mp3": b[:len(b)/3],
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		out := filepath.Join(dir, "out-"+name+".mp3")
		for _, args := range [][]string{
			{"inspect", p},
			{"clip", p, "--start", "0", "--end", "2.5", "-o", out},
			{"mix", p, "-o", out},
		} {
			_, stderr, code := run(t, args...)
			if code == 0 || !strings.Contains(stderr, name) {
				t.Errorf("%s %s: exit %d, stderr %q; want a non-zero exit naming the file", args[0], name, code, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s %s: an output file was left behind", args[0], name)
				os.Remove(out)
			}
		}
	}
}
