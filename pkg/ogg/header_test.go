package ogg

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// TestOpusencHeaders reads the headers opusenc writes and checks the values RFC 7845 fixes.
func TestOpusencHeaders(t *testing.T) {
	_, b := opusencFile(t, 4800, 2, "--comment", "TITLE=Ep 1")
	r, err := NewOpusReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Head()
	if h.Version != 1 || h.Channels != 2 || h.PreSkip != 312 || h.InputSampleRate != 48000 || h.OutputGain != 0 || h.MappingFamily != 0 {
		t.Errorf("head %+v", h)
	}
	if v, ok := r.Tags().Get("title"); !ok || v != "Ep 1" {
		t.Errorf("TITLE = %q, %v; tags %+v", v, ok, r.Tags())
	}
}

func TestOpusHeadRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    OpusHead
	}{
		{"Mono family 0 with a negative output gain.", OpusHead{Version: 1, Channels: 1, PreSkip: 312, InputSampleRate: 16000, OutputGain: -3 * 256}},
		{"Stereo family 0 at 48 kHz.", OpusHead{Version: 1, Channels: 2, PreSkip: 3840, InputSampleRate: 48000}},
		{"5.1 in family 1 carries a mapping table.", OpusHead{Version: 1, Channels: 6, PreSkip: 312, MappingFamily: 1,
			StreamCount: 4, CoupledCount: 2, ChannelMapping: []byte{0, 4, 1, 2, 3, 5}}},
	}
	for _, tc := range tests {
		b, err := tc.h.MarshalBinary()
		if err != nil {
			t.Fatalf("%s marshal: %v", tc.name, err)
		}
		got, err := ParseOpusHead(b)
		if err != nil || !reflect.DeepEqual(got, tc.h) {
			t.Errorf("%s got %+v, %v", tc.name, got, err)
		}
	}
}

func TestParseOpusHeadErrors(t *testing.T) {
	good, _ := OpusHead{Version: 1, Channels: 2, PreSkip: 312}.MarshalBinary()
	with := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"A Vorbis header is not Opus.", []byte("\x01vorbis\x00\x00\x00\x00\x02"), ErrNotOpus},
		{"A header cut to 18 bytes is malformed.", good[:18], ErrBadHeader},
		{"Major version 1 (version byte 16) is not ours to read.", with(8, 16), ErrUnsupportedVersion},
		{"Zero channels is malformed.", with(9, 0), ErrBadHeader},
		{"Family 0 cannot carry three channels.", with(9, 3), ErrBadHeader},
		{"Family 1 needs its mapping table.", with(18, 1), ErrBadHeader},
	}
	for _, tc := range tests {
		if _, err := ParseOpusHead(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s got %v, want %v", tc.name, err, tc.want)
		}
	}
	if h, err := ParseOpusHead(with(8, 15)); err != nil || h.Version != 15 {
		t.Errorf("minor version 15 must parse: %v", err)
	}
}

func TestOpusTags(t *testing.T) {
	in := OpusTags{Vendor: "spacecast", Comments: []string{"TITLE=Ep 1", "ARTIST=A=B", "title=second"}}
	b, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseOpusTags(b)
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip %+v, %v", got, err)
	}
	if v, _ := got.Get("Title"); v != "Ep 1" {
		t.Errorf("Get(Title) = %q, want the first TITLE", v)
	}
	if v, _ := got.Get("artist"); v != "A=B" {
		t.Errorf("Get(artist) = %q: the value keeps its own '='", v)
	}
	if _, err := (OpusTags{Comments: []string{"no equals"}}).MarshalBinary(); !errors.Is(err, ErrBadHeader) {
		t.Errorf("a comment without '=' must be refused: %v", err)
	}
	bad := []struct {
		name string
		in   []byte
	}{
		{"A header cut inside the vendor string.", b[:14]},
		{"A header cut before the comment count.", b[:8+4+9]},
		{"A comment count of 2^32-1 in a short packet.", append(bytes.Clone(b[:8+4+9]), 0xff, 0xff, 0xff, 0xff)},
		{"The magic of the identification header.", []byte("OpusHead\x01\x02")},
	}
	for _, tc := range bad {
		if _, err := ParseOpusTags(tc.in); !errors.Is(err, ErrBadHeader) {
			t.Errorf("%s got %v", tc.name, err)
		}
	}
}
