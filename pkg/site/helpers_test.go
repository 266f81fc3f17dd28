package site

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/codec/lame"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/studio"
)

// writeTone encodes seconds of a 440 Hz tone at 48 kHz mono into an MP3 with LAME (a LAME tag
// included), carrying meta as spacecast's own MP3s do when meta is not nil.
func writeTone(t testing.TB, path string, seconds float64, meta *studio.Meta) {
	t.Helper()
	tag := id3.Tag{Title: filepath.Base(path)}
	if meta != nil {
		b, err := meta.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		tag.Text = map[string]string{studio.MetaFrame: string(b)}
	}
	prefix, err := tag.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := lame.NewWriter(f, audio.Format{SampleRate: 48000, Channels: 1}, lame.Options{BitrateKbps: 64, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	n := int(seconds * 48000)
	buf := make([]float32, n)
	for i := range buf {
		buf[i] = float32(0.3 * math.Sin(2*math.Pi*440*float64(i)/48000))
	}
	if err := errors.Join(w.Write(buf), w.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
}

// writeArtwork writes a size×size PNG.
func writeArtwork(t testing.TB, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testShow() *feed.Show {
	return &feed.Show{
		Title: "Town Hall", Description: "Our monthly town hall.", BaseURL: "https://podcast.example.com",
		Author: "Ada Lovelace", Language: "en", Categories: []string{"Government"},
		Owner: feed.Owner{Name: "Ada Lovelace", Email: "ada@example.com"}, Type: "episodic", Locked: true,
		Persons: []feed.Person{{Name: "Ada Lovelace", Role: "host", Href: "https://example.com/ada"}},
	}
}

// newSite makes a site with artwork in a temporary folder.
func newSite(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "site")
	art := filepath.Join(t.TempDir(), "cover.png")
	writeArtwork(t, art, 1400, 1400)
	if _, err := Init(context.Background(), dir, testShow(), art, Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkFeed runs pkg/feed's checker on the site's feed and fails on any problem.
func checkFeed(t testing.TB, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FeedName))
	if err != nil {
		t.Fatal(err)
	}
	probs, err := feed.Check(b, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("feed check: %d:%d %s: %s", p.Line, p.Col, p.Where, p.Msg)
	}
	return b
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }
