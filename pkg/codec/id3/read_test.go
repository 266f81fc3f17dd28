package id3

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// The helpers below build tags by hand, byte by byte from the specifications, so Read is judged
// against the documents rather than against Marshal.

// rawTag wraps frame bytes in a header of the given version and flags (ID3v2.4.0 §3.1).
func rawTag(major, flags byte, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	h := []byte{'I', 'D', '3', major, 0, flags, 0, 0, 0, 0}
	putSyncsafe(h[6:], len(b))
	return append(h, b...)
}

// frame22 is a v2.2 frame: 3-letter ID, 3-byte size (ID3v2.2 §3.2).
func frame22(id string, body []byte) []byte {
	n := len(body)
	return append([]byte{id[0], id[1], id[2], byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// frame23 is a v2.3 frame with a plain 32-bit size (ID3v2.3.0 §3.3).
func frame23(id string, flags byte, body []byte) []byte {
	h := append([]byte(id), 0, 0, 0, 0, 0, flags)
	n := len(body)
	h[4], h[5], h[6], h[7] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return append(h, body...)
}

// frame24 is a v2.4 frame with a syncsafe size (ID3v2.4.0 §4.1).
func frame24(id string, flags byte, body []byte) []byte {
	h := append([]byte(id), 0, 0, 0, 0, 0, flags)
	putSyncsafe(h[4:8], len(body))
	return append(h, body...)
}

// unsyncTag applies the unsynchronisation scheme to everything after the header (ID3v2.3.0 §5):
// $00 goes after every $FF, and the header size is updated.
func unsyncTag(tag []byte) []byte {
	var body []byte
	for _, c := range tag[10:] {
		body = append(body, c)
		if c == 0xFF {
			body = append(body, 0)
		}
	}
	return rawTag(tag[3], tag[5], body)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func utf16le(s string) []byte { return appendText(nil, encUTF16, s, false) }

func utf16be(s string) []byte {
	le := utf16le(s)[2:]
	for i := 0; i+1 < len(le); i += 2 {
		le[i], le[i+1] = le[i+1], le[i]
	}
	return le
}

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestReadVersions reads tags built by hand in every version and with every structural feature.
func TestReadVersions(t *testing.T) {
	title := func(s string) *Tag { return &Tag{Title: s} }
	tests := []struct {
		name string
		in   []byte
		want *Tag
	}{
		{"v2.2 three-letter frames, PIC and COM", rawTag(2, 0,
			frame22("TT2", []byte("\x00Old Title")),
			frame22("TP1", []byte("\x00Old Artist")),
			frame22("TYE", []byte("\x001999")),
			frame22("TDA", []byte("\x003112")),
			frame22("COM", []byte("\x00engiTunNORM\x00 0000\x00")),
			frame22("COM", []byte("\x00eng\x00the comment")),
			frame22("PIC", []byte("\x00JPG\x03\x00\xFF\xD8\xFF")),
			frame22("XYZ", []byte("unknown frames are skipped"))),
			&Tag{Title: "Old Title", Artist: "Old Artist", Date: "1999-12-31", Comment: "the comment",
				Artwork: &Picture{MIME: "image/jpeg", Data: []byte{0xFF, 0xD8, 0xFF}}}},
		{"v2.2 with the compression bit: the tag is ignored, as the spec says", rawTag(2, 0x40,
			frame22("TT2", []byte("\x00x"))), &Tag{}},
		{"v2.3 with a 10-byte extended header, CRC flag set", rawTag(3, flagExtended,
			[]byte{0, 0, 0, 10, 0x80, 0, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF},
			frame23("TIT2", 0, []byte("\x00after ext"))), title("after ext")},
		{"v2.3 whole-tag unsynchronisation restores $FF $00 to $FF", unsyncTag(rawTag(3, flagUnsync,
			frame23("TIT2", 0, []byte("\x01\xFF\xFEh\x00i\x00")))), title("hi")},
		{"v2.3 zlib-compressed frame with its decompressed size", rawTag(3, 0,
			frame23("TIT2", v23Compressed, cat([]byte{0, 0, 0, 6}, zlibBytes([]byte("\x00squid"))))), title("squid")},
		{"v2.3 grouped frame skips its group byte", rawTag(3, 0,
			frame23("TIT2", v23Grouped, []byte("\x07\x00grouped"))), title("grouped")},
		{"v2.3 encrypted frame is skipped", rawTag(3, 0,
			frame23("TIT2", v23Encrypted, []byte("\x80secret")),
			frame23("TPE1", 0, []byte("\x00visible"))), &Tag{Artist: "visible"}},
		{"v2.3 padding ends the frames", rawTag(3, 0,
			frame23("TIT2", 0, []byte("\x00t")), make([]byte, 100)), title("t")},
		{"v2.3 TCON genre reference (17) means Rock", rawTag(3, 0,
			frame23("TCON", 0, []byte("\x00(17)"))), &Tag{Genre: "Rock"}},
		{"v2.3 TCON refinement wins over the reference", rawTag(3, 0,
			frame23("TCON", 0, []byte("\x00(101)Speech"))), &Tag{Genre: "Speech"}},
		{"v2.4 encodings: UTF-8, UTF-16BE, UTF-16 BOM big-endian, ISO-8859-1", rawTag(4, 0,
			frame24("TIT2", 0, []byte("\x03Grüße\x00")),
			frame24("TPE1", 0, cat([]byte{2}, utf16be("Ærø"))),
			frame24("TALB", 0, cat([]byte{1, 0xFE, 0xFF}, utf16be("東京"))),
			frame24("TCON", 0, []byte("\x00Caf\xe9"))),
			&Tag{Title: "Grüße", Artist: "Ærø", Album: "東京", Genre: "Café"}},
		{"v2.4 TDRC with a time keeps the date", rawTag(4, 0,
			frame24("TDRC", 0, []byte("\x032026-11-24T10:00"))), &Tag{Date: "2026-11-24"}},
		{"v2.4 multiple values are joined with a slash", rawTag(4, 0,
			frame24("TPE1", 0, []byte("\x03Ann\x00Bob\x00"))), &Tag{Artist: "Ann/Bob"}},
		{"v2.4 extended header (syncsafe size includes itself)", rawTag(4, flagExtended,
			[]byte{0, 0, 0, 6, 1, 0},
			frame24("TIT2", 0, []byte("\x03x"))), title("x")},
		{"v2.4 per-frame unsynchronisation with a data length indicator", rawTag(4, 0,
			frame24("TIT2", v24Unsync|v24DataLength, []byte("\x00\x00\x00\x03\x01\xFF\x00\xFEy\x00"))), title("y")},
		{"v2.4 compressed frame with a data length indicator and a group byte", rawTag(4, 0,
			frame24("TIT2", v24Grouped|v24Compressed|v24DataLength,
				cat([]byte{9, 0, 0, 0, 5}, zlibBytes([]byte("\x03zlib"))))), title("zlib")},
		{"v2.4 tag-wide unsynchronisation applies to every frame", rawTag(4, flagUnsync,
			frame24("TIT2", 0, []byte("\x01\xFF\x00\xFEz\x00"))), title("z")},
		{"v2.4 iTunes-style plain frame size (not syncsafe) is recognised", rawTag(4, 0,
			frame23("APIC", 0, cat([]byte("\x00image/png\x00\x03\x00"), bytes.Repeat([]byte{0x42}, 200))),
			frame24("TIT2", 0, []byte("\x03after"))),
			&Tag{Title: "after", Artwork: &Picture{MIME: "image/png", Data: bytes.Repeat([]byte{0x42}, 200)}}},
		{"TXXX by description, and one that looks like a frame ID", rawTag(3, 0,
			frame23("TXXX", 0, []byte("\x00mood\x00calm")),
			frame23("TXXX", 0, []byte("\x00TPOS\x00sneaky"))),
			&Tag{Text: map[string]string{"mood": "calm", "TXXX:TPOS": "sneaky"}}},
		{"the front cover wins over an earlier other picture", rawTag(3, 0,
			frame23("APIC", 0, []byte("\x00image/png\x00\x04back\x00B")),
			frame23("APIC", 0, []byte("\x00image/jpeg\x00\x03front\x00F"))),
			&Tag{Artwork: &Picture{MIME: "image/jpeg", Data: []byte("F"), Description: "front"}}},
		{"chapters follow the CTOC order, unlisted ones by start time", rawTag(3, 0,
			frame23("CHAP", 0, cat([]byte("b\x00\x00\x00\x03\xE8\x00\x00\x07\xD0\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"),
				frame23("TIT2", 0, []byte("\x00Bee")))),
			frame23("CHAP", 0, cat([]byte("z\x00\x00\x00\x00\x05\x00\x00\x00\x06\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"),
				frame23("WOAR", 0, []byte("http://z")))),
			frame23("CHAP", 0, cat([]byte("a\x00\x00\x00\x00\x00\x00\x00\x03\xE8\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"),
				frame23("WXXX", 0, []byte("\x00\x00http://a")))),
			frame23("CTOC", 0, []byte("sub\x00\x01\x01z\x00")),
			frame23("CTOC", 0, []byte("top\x00\x03\x02a\x00b\x00"))),
			&Tag{Chapters: []Chapter{
				{ID: "a", Start: 0, End: time.Second, URL: "http://a"},
				{ID: "b", Start: time.Second, End: 2 * time.Second, Title: "Bee"},
				{ID: "z", Start: 5 * time.Millisecond, End: 6 * time.Millisecond, URL: "http://z"},
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := Read(bytes.NewReader(append(tc.in, "audio"...)))
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(tc.in)) {
				t.Errorf("consumed %d bytes, tag is %d", n, len(tc.in))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestReadFooter checks that a v2.4 footer is validated and counted in the bytes consumed.
func TestReadFooter(t *testing.T) {
	tag := rawTag(4, flagFooter, frame24("TIT2", 0, []byte("\x03f")))
	footer := append([]byte("3DI"), tag[3:10]...)
	got, n, err := Read(bytes.NewReader(append(tag, footer...)))
	if err != nil || got.Title != "f" || n != int64(len(tag)+10) {
		t.Fatalf("Read = %+v, %d, %v; want title f, %d bytes", got, n, err, len(tag)+10)
	}
	bad := append([]byte("3DJ"), tag[3:10]...)
	if _, _, err := Read(bytes.NewReader(append(tag, bad...))); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad footer: %v, want ErrMalformed", err)
	}
}

// TestReadErrors checks that broken input gives the right error and never a panic.
func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty input has no tag", nil, ErrNoTag},
		{"an MP3 frame is not a tag", []byte{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0, 0, 0}, ErrNoTag},
		{"a header cut short", []byte("ID3\x03\x00"), ErrTruncated},
		{"version 2.5 is unknown", []byte("ID3\x05\x00\x00\x00\x00\x00\x01x"), ErrVersion},
		{"a size with the top bit set is not syncsafe", []byte("ID3\x03\x00\x00\x00\x00\x00\x80"), ErrMalformed},
		{"a size of 256 MB on 20 bytes of input", append([]byte("ID3\x03\x00\x00\x7F\x7F\x7F\x7F"), make([]byte, 20)...), ErrTruncated},
		{"a frame longer than the tag", rawTag(3, 0, []byte("TIT2\x00\x00\x10\x00\x00\x00\x00x")), ErrTruncated},
		{"an extended header longer than the tag", rawTag(3, flagExtended, []byte{0, 0, 1, 0, 0, 0}), ErrTruncated},
		{"an unknown text encoding", rawTag(3, 0, frame23("TIT2", 0, []byte("\x07x"))), ErrMalformed},
		{"a CHAP too short for its times", rawTag(3, 0, frame23("CHAP", 0, []byte("c\x00\x00\x00"))), ErrTruncated},
		{"a CTOC counting more entries than it has", rawTag(3, 0, frame23("CTOC", 0, []byte("t\x00\x03\x05a\x00"))), ErrTruncated},
		{"garbage zlib data", rawTag(3, 0, frame23("TIT2", v23Compressed, []byte("\x00\x00\x00\x05garbage"))), ErrMalformed},
		{"a v2.4 compressed frame without a data length", rawTag(4, 0, frame24("TIT2", v24Compressed, zlibBytes([]byte("\x03x")))), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Read(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestReadEveryTruncation cuts a full tag at every length: each must fail with ErrTruncated or
// ErrNoTag, never panic, and never claim to have read more than it was given.
func TestReadEveryTruncation(t *testing.T) {
	b, err := fullTag().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n++ {
		_, consumed, err := Read(bytes.NewReader(b[:n]))
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNoTag) {
			t.Fatalf("cut at %d: %v, want ErrTruncated or ErrNoTag", n, err)
		}
		if consumed > int64(n) {
			t.Fatalf("cut at %d: consumed %d", n, consumed)
		}
	}
}

// TestReadPassesOnIOErrors checks that a failing reader's error is returned, not disguised.
func TestReadPassesOnIOErrors(t *testing.T) {
	boom := errors.New("boom")
	b, _ := fullTag().Marshal()
	r := io.MultiReader(bytes.NewReader(b[:50]), errReader{boom})
	if _, _, err := Read(r); !errors.Is(err, boom) {
		t.Fatalf("Read = %v, want the reader's error", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestReadLAMETag reads a v2.3 tag written by the lame command-line encoder with UTF-16 text and
// a picture (testdata/lame-v23.id3: lame --id3v2-only --id3v2-utf16 --tt Tïtle ... --ti 1x1.png).
func TestReadLAMETag(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "lame-v23.id3"))
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(b)) {
		t.Errorf("consumed %d of %d bytes", n, len(b))
	}
	want := &Tag{Title: "Tïtle", Artist: "Artist", Album: "Album", Date: "2024", Comment: "a comment",
		Genre: "Speech", Artwork: &Picture{MIME: "image/png", Data: onePixelPNG},
		Text: map[string]string{"TSSE": got.Text["TSSE"], "TLEN": "1000"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestReadLyingSizeAllocatesLittle checks that a header claiming 256 MB over a few bytes of input
// costs memory in proportion to the input, not to the claim.
func TestReadLyingSizeAllocatesLittle(t *testing.T) {
	in := append([]byte("ID3\x04\x00\x00\x7F\x7F\x7F\x7F"), make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		if _, _, err := Read(bytes.NewReader(in)); !errors.Is(err, ErrTruncated) {
			t.Fatalf("Read = %v, want ErrTruncated", err)
		}
	}
	runtime.ReadMemStats(&after)
	if perRead := (after.TotalAlloc - before.TotalAlloc) / 10; perRead > 64<<10 {
		t.Fatalf("Read allocated %d bytes for a 1 KB input claiming 256 MB", perRead)
	}
}
