package demo

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/spacecast/spacecast/pkg/feed"
)

// TestArtwork: the cover is artwork Apple accepts, and the same bytes every time.
func TestArtwork(t *testing.T) {
	a, err := Artwork()
	if err != nil {
		t.Fatal(err)
	}
	if err := feed.CheckArtwork(bytes.NewReader(a)); err != nil {
		t.Errorf("the demo artwork is refused: %v", err)
	}
	b, _ := Artwork()
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Error("two runs drew different artwork")
	}
	t.Logf("artwork: %d bytes", len(a))
}
