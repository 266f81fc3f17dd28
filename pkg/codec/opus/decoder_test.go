package opus

import (
	"bytes"
	"os"
	"testing"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/ogg"
)

// packetsOf encodes a chirp with OggWriter and returns its audio packets.
func packetsOf(t testing.TB, frames int, opts OggWriterOptions) [][]byte {
	t.Helper()
	path := encodeOurs(t, testutil.Chirp(frames, 48000, 0.5), audio.Format{SampleRate: 48000, Channels: 1}, opts)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ogg.NewOpusReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		p, _, err := r.ReadPacket()
		if err != nil {
			return out
		}
		out = append(out, bytes.Clone(p))
	}
}

// TestDecoderLowLevel exercises what the recorder uses: Decode, DecodePLC and DecodeFEC, each
// filling exactly the asked duration and allocating nothing per packet.
func TestDecoderLowLevel(t *testing.T) {
	pkts := packetsOf(t, 48000, OggWriterOptions{BitrateKbps: 32, Application: ApplicationVoIP})
	d, err := NewDecoder(1)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]float32, MaxPacketSamples)
	i := 0
	allocs := testing.AllocsPerRun(20, func() {
		n, err := d.Decode(pkts[i%len(pkts)], pcm)
		if err != nil || n != 960 {
			t.Fatalf("decode: %d, %v", n, err)
		}
		i++
		if err := d.DecodePLC(pcm, 960); err != nil {
			t.Fatal(err)
		}
		if err := d.DecodeFEC(pkts[i%len(pkts)], pcm[:960]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per packet, want 0", allocs)
	}
	// Concealment writes exactly the asked duration and no further.
	for j := range pcm {
		pcm[j] = 7
	}
	if err := d.DecodePLC(pcm, 480); err != nil {
		t.Fatal(err)
	}
	if pcm[479] == 7 || pcm[480] != 7 {
		t.Errorf("PLC of 480 samples wrote up to the wrong place")
	}
	bad := []struct {
		name string
		err  error
	}{
		{"An empty packet is not decodable (conceal it instead).", func() error { _, err := d.Decode(nil, pcm); return err }()},
		{"Concealment comes in 2.5 ms units.", d.DecodePLC(pcm, 100)},
		{"Concealment must fit the buffer.", d.DecodePLC(pcm[:960], 1920)},
		{"FEC needs a packet.", d.DecodeFEC(nil, pcm[:960])},
	}
	for _, tc := range bad {
		if tc.err == nil {
			t.Errorf("%s no error", tc.name)
		}
	}
	if _, err := NewDecoder(3); err == nil {
		t.Error("3 channels must be refused")
	}
}
