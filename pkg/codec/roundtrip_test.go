package codec

import (
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
)

// A round trip must give back exactly as many samples as went in, at the same place: the mix
// compares excerpts sample block by sample block to learn what the encoder did.
func TestRoundTripIsGaplessAndAligned(t *testing.T) {
	f := audio.Format{SampleRate: 48000, Channels: 1}
	pcm := testutil.Chirp(48000*3+123, 48000, 0.4)
	for _, k := range []Kind{MP3, Opus, WAV} {
		got, err := RoundTrip(k, f, EncodeOptions{BitrateKbps: 96}, pcm)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if len(got) != len(pcm) {
			t.Errorf("%s: %d samples back for %d in", k, len(got), len(pcm))
		}
		if lag, corr := testutil.Lag(pcm, got, 2000); lag != 0 || corr < 0.9 {
			t.Errorf("%s: lag %d, correlation %.3f; want 0 and near 1", k, lag, corr)
		}
	}
}
