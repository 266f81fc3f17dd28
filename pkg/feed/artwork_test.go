package feed

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"strings"
	"testing"
)

// cmykJPEGHeader is the start of a 1400x1400 four-component (CMYK) baseline JPEG: SOI, SOF0 and
// SOS, as far as a header reader goes. Go cannot encode CMYK JPEGs; print shops can.
func cmykJPEGHeader() []byte {
	return []byte{
		0xFF, 0xD8, // SOI
		0xFF, 0xC0, 0x00, 0x14, 8, 0x05, 0x78, 0x05, 0x78, 4, // SOF0: 8 bit, 1400x1400, 4 components
		1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0,
		0xFF, 0xDA, 0x00, 0x0C, // SOS (a header reader stops here)
	}
}

func TestCheckArtwork(t *testing.T) {
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 1400, 1400), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string // "" when the artwork is good
	}{
		{"a 1400 px square RGB JPEG is Apple's minimum", jpegOf(t, 1400, 1400), ""},
		{"a 3000 px square PNG is Apple's maximum", pngOf(t, 3000, 3000, false), ""},
		{"1399 px is too small", pngOf(t, 1399, 1399, false), "it is a 1399x1399 px PNG, smaller than 1400x1400"},
		{"3001 px is too large", pngOf(t, 3001, 3001, false), "it is a 3001x3001 px PNG, larger than 3000x3000"},
		{"a landscape image is not square", jpegOf(t, 1600, 1400), "it is a 1600x1400 px JPEG, not square"},
		{"a grayscale PNG is not RGB", pngOf(t, 1400, 1400, true), "it is a grayscale PNG"},
		{"a CMYK JPEG is not RGB", cmykJPEGHeader(), "it is a CMYK JPEG"},
		{"a GIF is named as such", gifBuf.Bytes(), "it is a GIF, not a JPEG or PNG"},
		{"a WebP image is named as such", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), "it is a WebP image"},
		{"a HEIC photo is named as such", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), "it is a HEIC image"},
		{"an empty file", nil, "the file is empty"},
		{"bytes that are no image", []byte("hello, this is text and not an image at all"), "cannot be read as a JPEG or PNG"},
		{"a truncated PNG", pngOf(t, 1400, 1400, false)[:20], "cannot be read as a JPEG or PNG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckArtwork(bytes.NewReader(tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("good artwork refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrArtwork) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckArtwork = %v, want ErrArtwork saying %q", err, tt.want)
			}
		})
	}
}
