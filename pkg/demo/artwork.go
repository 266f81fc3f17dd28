package demo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// ArtworkPixels is the side of the demo show's artwork: Apple's smallest accepted size.
const ArtworkPixels = 1400

// Artwork draws the demo show's cover: a 1400×1400 RGB PNG of a round badge with a waveform, the
// same bytes on every run (it is drawn from integer arithmetic and fixed sine tables, and Go's PNG
// encoder is deterministic).
func Artwork() ([]byte, error) {
	const n = ArtworkPixels
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	bg := color.RGBA{0x1d, 0x23, 0x3a, 0xff}
	badge := color.RGBA{0x2f, 0x6f, 0xb8, 0xff}
	wave := color.RGBA{0xf4, 0xf1, 0xe8, 0xff}
	rec := color.RGBA{0xe0, 0x3c, 0x31, 0xff}
	const cx, cy, r = n / 2, n / 2, 560
	// The waveform: 23 bars whose heights follow two summed sines, like speech.
	const bars, barW, gap = 23, 28, 14
	left := cx - (bars*barW+(bars-1)*gap)/2
	heights := make([]int, bars)
	for i := range heights {
		x := float64(i) / (bars - 1)
		h := 0.55*math.Abs(math.Sin(x*math.Pi*3.1)) + 0.35*math.Abs(math.Sin(x*math.Pi*7.3+0.4)) + 0.1
		heights[i] = int(math.Round(h * 330))
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			c := bg
			dx, dy := x-cx, y-cy
			if dx*dx+dy*dy <= r*r {
				c = badge
			}
			if i := (x - left) / (barW + gap); x >= left && i < bars && (x-left)%(barW+gap) < barW {
				if h := heights[i]; y >= cy-h && y <= cy+h {
					c = wave
				}
			}
			// The "REC" dot: a visible recorder, as spacecast always is.
			if ex, ey := x-(cx+260), y-(cy-430); ex*ex+ey*ey <= 48*48 {
				c = rec
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("demo: artwork: %w", err)
	}
	return b.Bytes(), nil
}
