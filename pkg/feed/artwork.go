package feed

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // CheckArtwork reads JPEG headers
	_ "image/png"  // and PNG headers
	"io"
	"strings"
)

// Apple's artwork limits (Apple Podcasts for Creators, "Artwork requirements").
const (
	MinArtworkPixels = 1400
	MaxArtworkPixels = 3000
)

// CheckArtwork checks show or episode artwork as Apple requires it: a JPEG or PNG, square,
// 1400 to 3000 px a side, RGB. It reads only the image header. The error wraps ErrArtwork and
// says what the image is ("a 1000x1000 px PNG", "a GIF") and what it must be.
func CheckArtwork(r io.Reader) error {
	if msg := artworkProblem(r); msg != "" {
		return errorf("artwork: %s: %w", msg, ErrArtwork)
	}
	return nil
}

// artworkProblem returns what is wrong with the image, or "".
func artworkProblem(r io.Reader) string {
	br := bufio.NewReaderSize(r, 512)
	head, _ := br.Peek(32)
	if len(head) == 0 {
		return "the file is empty (use a square 1400–3000 px JPEG or PNG)"
	}
	cfg, format, err := image.DecodeConfig(br)
	if err != nil {
		if kind := sniffImage(head); kind != "" {
			return fmt.Sprintf("it is %s, not a JPEG or PNG (convert it to a square 1400–3000 px JPEG or PNG)", kind)
		}
		return fmt.Sprintf("it cannot be read as a JPEG or PNG (%v; use a square 1400–3000 px JPEG or PNG)", err)
	}
	name, ok := map[string]string{"jpeg": "JPEG", "png": "PNG"}[format]
	if !ok {
		// Another package of the program registered a decoder for this format.
		kind := sniffImage(head)
		if kind == "" {
			kind = "a " + strings.ToUpper(format) + " image"
		}
		return fmt.Sprintf("it is %s, not a JPEG or PNG (convert it to a square 1400–3000 px JPEG or PNG)", kind)
	}
	w, h := cfg.Width, cfg.Height
	switch {
	case w != h:
		return fmt.Sprintf("it is a %dx%d px %s, not square (crop it to a square 1400–3000 px)", w, h, name)
	case w < MinArtworkPixels:
		return fmt.Sprintf("it is a %dx%d px %s, smaller than 1400x1400 (use a square 1400–3000 px image)", w, h, name)
	case w > MaxArtworkPixels:
		return fmt.Sprintf("it is a %dx%d px %s, larger than 3000x3000 (scale it to 1400–3000 px)", w, h, name)
	}
	switch cfg.ColorModel {
	case color.CMYKModel:
		return fmt.Sprintf("it is a CMYK %s (Apple requires RGB: convert it to RGB)", name)
	case color.GrayModel, color.Gray16Model:
		return fmt.Sprintf("it is a grayscale %s (Apple requires RGB: save it as RGB)", name)
	}
	return ""
}

// sniffImage names common image formats that are not JPEG or PNG.
func sniffImage(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("GIF8")):
		return "a GIF"
	case len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return "a WebP image"
	case len(b) >= 12 && bytes.Equal(b[4:8], []byte("ftyp")) && (bytes.HasPrefix(b[8:], []byte("heic")) || bytes.HasPrefix(b[8:], []byte("heix")) || bytes.HasPrefix(b[8:], []byte("mif1"))):
		return "a HEIC image"
	case len(b) >= 12 && bytes.Equal(b[4:8], []byte("ftyp")) && bytes.HasPrefix(b[8:], []byte("avif")):
		return "an AVIF image"
	case bytes.HasPrefix(b, []byte("BM")):
		return "a BMP image"
	case bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*")):
		return "a TIFF image"
	case bytes.Contains(b, []byte("<svg")) || bytes.HasPrefix(b, []byte("<?xml")):
		return "an SVG or XML file"
	}
	return ""
}
