package opus

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/ogg"
)

// regranule rewrites the granule positions of a file's pages: set(i, pages, granule) returns page
// i's new position (pages counts all of them, headers included).
func regranule(t *testing.T, path string, set func(i, pages int, g int64) int64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ps []ogg.Page
	for rest := b; len(rest) > 0; {
		p, n, err := ogg.ParsePage(rest)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		rest = rest[n:]
	}
	var out []byte
	for i := range ps {
		ps[i].Granule = set(i, len(ps), ps[i].Granule)
		if out, err = ogg.AppendPage(out, &ps[i]); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "forged.opus")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestForgedGranules opens and decodes files whose granule positions claim what their packets
// cannot hold. Each must fail with ErrGranule, quickly: before the check, the first case made the
// decoder conceal 2^63 samples (100 % CPU until killed), and the others played on as if nothing
// were wrong.
func TestForgedGranules(t *testing.T) {
	path := encodeOurs(t, testutil.Chirp(48000*2, 48000, 0.5), audio.Format{SampleRate: 48000, Channels: 1},
		OggWriterOptions{BitrateKbps: 32, MaxPageDuration: 1e8})
	tests := []struct {
		name string
		set  func(i, n int, g int64) int64
	}{
		{"The last page claims granule position 2^63−1: refused on opening, by its length.",
			func(i, n int, g int64) int64 { return pick(i == n-1, math.MaxInt64, g) }},
		{"The last page claims 8 days: more than the 7-day limit and than the bytes hold.",
			func(i, n int, g int64) int64 { return pick(i == n-1, g+8*24*3600*48000, g) }},
		{"The last page claims 3 minutes more, which the file's size could hold but the packets on the page do not reach.",
			func(i, n int, g int64) int64 { return pick(i == n-1, g+3*60*48000, g) }},
		{"A page in the middle goes back to position 1000.",
			func(i, n int, g int64) int64 { return pick(i == n/2, 1000, g) }},
		{"A page in the middle jumps to 2^62; the ones after it go backwards from there.",
			func(i, n int, g int64) int64 { return pick(i == n/2, 1<<62, g) }},
		{"A page in the middle has a negative position other than −1 (no packet ends here).",
			func(i, n int, g int64) int64 { return pick(i == n/2, -5, g) }},
		{"The last page lies before the first audio page: a negative length.",
			func(i, n int, g int64) int64 { return pick(i == n-1, 100, g) }},
	}
	for _, tc := range tests {
		forged := regranule(t, path, tc.set)
		begin := time.Now()
		err := decodeAll(forged)
		if !errors.Is(err, ogg.ErrGranule) {
			t.Errorf("%s\ngot %v, want ErrGranule", tc.name, err)
			continue
		}
		var ge *ogg.GranuleError
		if !errors.As(err, &ge) {
			t.Errorf("%s\n%v carries no GranuleError", tc.name, err)
		}
		t.Logf("%s: %v (%v)", tc.name, err, time.Since(begin).Round(time.Millisecond))
	}
	// The file as written decodes.
	if err := decodeAll(path); err != nil {
		t.Fatalf("the good file: %v", err)
	}
}

func pick(c bool, a, b int64) int64 {
	if c {
		return a
	}
	return b
}

// decodeAll opens and decodes a whole file, seeking once to its middle and back as mix and clip do.
func decodeAll(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	s, err := NewOggStream(f)
	if err != nil {
		return err
	}
	buf := make([]float32, 4096)
	for {
		_, err := s.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
