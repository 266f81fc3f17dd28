package id3

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// onePixelPNG is a valid 1×1 grey PNG, so ffprobe can decode the artwork.
var onePixelPNG = []byte("\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01" +
	"\x08\x00\x00\x00\x00\x3a\x7e\x9b\x55\x00\x00\x00\x0a\x49\x44\x41\x54\x78\x9c\x63\x68\x00\x00\x00\x82" +
	"\x00\x81\x77\xcd\x72\xb6\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82")

// fullTag uses every field, non-ASCII text and chapters with and without URLs.
func fullTag() *Tag {
	return &Tag{
		Title:   "Épisode 12: Ünïcödé & ASCII",
		Artist:  "Spacecast Hosts",
		Album:   "The Spacecast Show",
		Date:    "2026-11-24",
		Comment: "Recorded live — 東京",
		Genre:   "Podcast",
		Artwork: &Picture{MIME: "image/png", Data: onePixelPNG, Description: "cover"},
		Chapters: []Chapter{
			{ID: "intro", Start: 0, End: 61500 * time.Millisecond, Title: "Intro"},
			{Start: 61500 * time.Millisecond, End: 3*time.Minute + 2*time.Millisecond, Title: "Über den Mond", URL: "https://example.com/moon"},
			{Start: 3*time.Minute + 2*time.Millisecond, End: 10 * time.Minute, Title: "Outro"},
		},
		Text: map[string]string{"TCOM": "A Composer", "TPUB": "Spacecast", "spacecast:session": "2026-11-24T10:00:00Z", "TXXX:TLEN": "odd description", "TXXX:": "no description"},
	}
}

// TestRoundTrip checks that Read gives back what Marshal wrote, field for field.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		tag  *Tag
		want *Tag // nil: the same as tag
	}{
		{"every field, non-ASCII text and chapters survive", fullTag(), nil},
		{"a year alone is kept as a year", &Tag{Title: "t", Date: "2024"}, nil},
		{"only chapters, with generated IDs", &Tag{Chapters: []Chapter{{Start: time.Second, End: 2 * time.Second}}},
			&Tag{Chapters: []Chapter{{ID: "chp0", Start: time.Second, End: 2 * time.Second}}}},
		{"chapter times are rounded to the millisecond CHAP stores", &Tag{Chapters: []Chapter{{ID: "a", Start: 1499 * time.Microsecond, End: 2500600 * time.Microsecond}}},
			&Tag{Chapters: []Chapter{{ID: "a", Start: time.Millisecond, End: 2501 * time.Millisecond}}}},
		{"characters outside the BMP survive UTF-16 surrogates", &Tag{Title: "rocket 🚀", Comment: "𝄞"}, nil},
		{"Latin-1 text is written as UTF-16, not mangled", &Tag{Artist: "Motörhead"}, nil},
		{"empty Text values are dropped", &Tag{Title: "x", Text: map[string]string{"TCOM": ""}}, &Tag{Title: "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.tag.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			got, n, err := Read(bytes.NewReader(append(b, 0xFF, 0xFB))) // audio follows the tag
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(b)) {
				t.Errorf("Read consumed %d bytes, tag is %d", n, len(b))
			}
			want := tc.want
			if want == nil {
				want = tc.tag
				if len(want.Chapters) > 0 && want.Chapters[1].ID == "" { // fullTag: generated IDs
					want = fullTag()
					want.Chapters[1].ID, want.Chapters[2].ID = "chp1", "chp2"
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestMarshalEmpty checks that an empty tag is no bytes rather than a tag without frames.
func TestMarshalEmpty(t *testing.T) {
	b, err := (&Tag{}).Marshal()
	if err != nil || b != nil {
		t.Fatalf("Marshal(empty) = %q, %v; want nil, nil", b, err)
	}
}

// TestMarshalErrors checks that a Tag that cannot be written faithfully is refused.
func TestMarshalErrors(t *testing.T) {
	many := make([]Chapter, 256)
	tests := []struct {
		name string
		tag  Tag
	}{
		{"a date in another format", Tag{Date: "24/11/2026"}},
		{"an impossible date", Tag{Date: "2026-02-30"}},
		{"a year and month only", Tag{Date: "2026-11"}},
		{"two chapters with one ID", Tag{Chapters: []Chapter{{ID: "a"}, {ID: "a"}}}},
		{"a chapter ID that clashes with a generated one", Tag{Chapters: []Chapter{{}, {ID: "chp0"}}}},
		{"a chapter named like the table of contents", Tag{Chapters: []Chapter{{ID: "toc"}}}},
		{"a chapter that ends before it starts", Tag{Chapters: []Chapter{{Start: 2 * time.Second, End: time.Second}}}},
		{"a negative start", Tag{Chapters: []Chapter{{Start: -time.Second}}}},
		{"a chapter beyond CHAP's 32-bit milliseconds", Tag{Chapters: []Chapter{{End: 50 * 24 * time.Hour}}}},
		{"a non-ASCII chapter ID", Tag{Chapters: []Chapter{{ID: "kapitel-ü"}}}},
		{"a non-ASCII URL", Tag{Chapters: []Chapter{{URL: "https://ü.example"}}}},
		{"more chapters than a CTOC can count", Tag{Chapters: many}},
		{"artwork without a MIME type", Tag{Artwork: &Picture{Data: []byte{1}}}},
		{"artwork without data", Tag{Artwork: &Picture{MIME: "image/jpeg"}}},
		{"a Text entry that duplicates the Title field", Tag{Text: map[string]string{"TIT2": "x"}}},
		{"an empty Text key", Tag{Text: map[string]string{"": "x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.tag.Marshal(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Marshal = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestGolden pins the exact bytes of a full tag: they must not change by accident, since players
// and our own LAME tag offsets depend on them. Run with -update after an intended change.
func TestGolden(t *testing.T) {
	b, err := fullTag().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := fullTag().Marshal()
	if !bytes.Equal(b, again) {
		t.Fatal("Marshal is not deterministic")
	}
	path := filepath.Join("testdata", "full.id3")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("Marshal differs from %s (%d vs %d bytes); run go test -update if intended", path, len(b), len(want))
	}
	// Spot checks that do not trust the golden file: v2.3 header, UTF-16 with BOM for non-ASCII,
	// Latin-1 for ASCII, a top-level ordered CTOC.
	if !bytes.HasPrefix(b, []byte("ID3\x03\x00\x00")) {
		t.Errorf("header % x, want ID3v2.3.0 without flags", b[:6])
	}
	if !bytes.Contains(b, []byte("TIT2\x00\x00\x00\x39\x00\x00\x01\xFF\xFE\xC9\x00")) {
		t.Errorf("TIT2 is not UTF-16LE with BOM")
	}
	if !bytes.Contains(b, []byte("TPE1\x00\x00\x00\x10\x00\x00\x00Spacecast Hosts")) {
		t.Errorf("TPE1 is not plain ISO-8859-1")
	}
	if !bytes.Contains(b, []byte("toc\x00\x03\x03intro\x00chp1\x00chp2\x00")) {
		t.Errorf("CTOC is not top-level+ordered with the three chapters")
	}
	if strings.Count(string(b), "CHAP") != 3 {
		t.Errorf("want 3 CHAP frames")
	}
}
