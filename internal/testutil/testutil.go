// Package testutil holds helpers that let tests judge spacecast's output with independent tools
// (ffmpeg, mpg123, opusdec, mp3val). It is imported only from _test.go files.
package testutil

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Require returns the path of the named program. When it is missing the test is skipped, except
// when the CI environment variable is set: there a missing prerequisite fails the test.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required when CI is set (install it: see .ci/run): %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

// Run runs a command and fails the test, showing its output, if it exits non-zero.
// It returns stdout; stderr is returned separately so callers can check for warnings.
func Run(t testing.TB, name string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	cmd := exec.Command(Require(t, name), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", name, args, err, e.String())
	}
	return o.Bytes(), e.Bytes()
}

// FFmpegDecode decodes any file ffmpeg reads to interleaved float32 at the given rate and
// channel count (rate 0 or channels 0 keep the source's). Gapless metadata (LAME tag, Opus
// pre-skip) is honoured by ffmpeg itself.
func FFmpegDecode(t testing.TB, path string, rate, channels int) []float32 {
	t.Helper()
	args := []string{"-nostdin", "-v", "error", "-i", path}
	if rate > 0 {
		args = append(args, "-ar", strconv.Itoa(rate))
	}
	if channels > 0 {
		args = append(args, "-ac", strconv.Itoa(channels))
	}
	args = append(args, "-f", "f32le", "-")
	out, _ := Run(t, "ffmpeg", args...)
	return bytesToFloats(out)
}

// Mpg123Decode decodes an MP3 with mpg123 (gapless on) to interleaved float32 at the source rate,
// forcing the given channel count (1 or 2; 0 keeps the source's).
func Mpg123Decode(t testing.TB, path string, channels int) []float32 {
	t.Helper()
	args := []string{"-q", "--gapless", "-e", "f32"}
	switch channels {
	case 1:
		args = append(args, "-m")
	case 2:
		args = append(args, "--stereo")
	}
	args = append(args, "-s", path)
	out, _ := Run(t, "mpg123", args...)
	return bytesToFloats(out)
}

// OpusdecDecode decodes an Ogg Opus file with opusdec to 48 kHz interleaved float32.
func OpusdecDecode(t testing.TB, path string) []float32 {
	t.Helper()
	wav := filepath.Join(t.TempDir(), "opusdec.wav")
	Run(t, "opusdec", "--quiet", "--float", "--rate", "48000", path, wav)
	out, _ := Run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", wav, "-f", "f32le", "-")
	return bytesToFloats(out)
}

func bytesToFloats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// Sine returns n frames of a sine at freq Hz and amplitude amp, interleaved over channels
// (every channel the same).
func Sine(n, rate, channels int, freq, amp float64) []float32 {
	out := make([]float32, n*channels)
	for i := 0; i < n; i++ {
		v := float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		for c := 0; c < channels; c++ {
			out[i*channels+c] = v
		}
	}
	return out
}

// Chirp returns n mono frames of a deterministic, non-periodic test signal (a log sweep plus
// a little seeded noise) so cross-correlation has exactly one peak.
func Chirp(n, rate int, amp float64) []float32 {
	out := make([]float32, n)
	f0, f1 := 100.0, 6000.0
	T := float64(n) / float64(rate)
	k := math.Log(f1 / f0)
	seed := uint32(12345)
	for i := range out {
		tt := float64(i) / float64(rate)
		phase := 2 * math.Pi * f0 * T / k * (math.Exp(tt/T*k) - 1)
		seed = seed*1664525 + 1013904223
		noise := (float64(seed>>8)/float64(1<<24) - 0.5) * 0.1
		out[i] = float32(amp * (math.Sin(phase)*0.9 + noise))
	}
	return out
}

// Lag returns the offset (in frames, mono signals) at which b best matches a, searching
// lags in [-maxLag, maxLag]: b[i] ≈ a[i+lag]. It also returns the normalised correlation at that lag.
func Lag(a, b []float32, maxLag int) (lag int, corr float64) {
	best := math.Inf(-1)
	for l := -maxLag; l <= maxLag; l++ {
		var s, ea, eb float64
		for i := range b {
			j := i + l
			if j < 0 || j >= len(a) {
				continue
			}
			s += float64(a[j]) * float64(b[i])
			ea += float64(a[j]) * float64(a[j])
			eb += float64(b[i]) * float64(b[i])
		}
		if ea == 0 || eb == 0 {
			continue
		}
		c := s / math.Sqrt(ea*eb)
		if c > best {
			best, lag = c, l
		}
	}
	return lag, best
}

// Mono averages interleaved channels down to one.
func Mono(x []float32, channels int) []float32 {
	if channels == 1 {
		return x
	}
	out := make([]float32, len(x)/channels)
	for i := range out {
		var s float32
		for c := 0; c < channels; c++ {
			s += x[i*channels+c]
		}
		out[i] = s / float32(channels)
	}
	return out
}

// WriteWAV16 writes interleaved float32 samples as a 16-bit PCM WAV file, independent of
// spacecast's own WAV writer, so tests can make inputs without trusting the code under test.
func WriteWAV16(t testing.TB, path string, samples []float32, rate, channels int) {
	t.Helper()
	var b bytes.Buffer
	data := len(samples) * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1))
	binary.Write(&b, binary.LittleEndian, uint16(channels))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*channels*2))
	binary.Write(&b, binary.LittleEndian, uint16(channels*2))
	binary.Write(&b, binary.LittleEndian, uint16(16))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	for _, s := range samples {
		v := math.Round(float64(s) * 32767)
		v = math.Max(-32768, math.Min(32767, v))
		binary.Write(&b, binary.LittleEndian, int16(v))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TailFile returns the last n lines of the file at path (a server's log, shown when a test
// fails), or the error reading it.
func TailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// GoBinDirs returns the bin folders of $GOPATH (or of `go env GOPATH`, or ~/go), where
// scripts/test-setup.sh installs the servers the tests run.
func GoBinDirs() []string {
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		} else if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	var out []string
	for _, dir := range filepath.SplitList(gopath) {
		out = append(out, filepath.Join(dir, "bin"))
	}
	return out
}
