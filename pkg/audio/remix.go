package audio

import "fmt"

// Remix converts s between mono and stereo. Mono to stereo copies the one channel to both
// (each side at the mono level, so a centred voice keeps its loudness per channel); stereo to mono
// averages the two, (L+R)/2, which keeps a centred voice's level and cannot clip. Any other pair
// of channel counts is an error; the same count returns s unchanged.
func Remix(s Stream, channels int) (Stream, error) {
	from := s.Format().Channels
	switch {
	case from == channels:
		return s, nil
	case from == 1 && channels == 2, from == 2 && channels == 1:
	default:
		return nil, fmt.Errorf("audio: remix %d to %d channels: only mono and stereo are supported", from, channels)
	}
	f := s.Format()
	f.Channels = channels
	n, ok := Length(s)
	return withLen(&remix{s: s, f: f}, n, ok), nil
}

type remix struct {
	s   Stream
	f   Format
	buf []float32 // stereo input for stereo→mono
}

func (r *remix) Format() Format { return r.f }

func (r *remix) Read(p []float32) (int, error) {
	if r.f.Channels == 2 { // mono → stereo, expanded in place from the back
		frames := len(p) / 2
		n, err := r.s.Read(p[:frames])
		for i := n - 1; i >= 0; i-- {
			p[2*i+1] = p[i]
			p[2*i] = p[i]
		}
		return 2 * n, err
	}
	// stereo → mono
	if cap(r.buf) < 2*len(p) {
		r.buf = make([]float32, 2*len(p))
	}
	buf := r.buf[:2*len(p)]
	n, err := r.s.Read(buf)
	for i := 0; i < n/2; i++ {
		p[i] = (buf[2*i] + buf[2*i+1]) * 0.5
	}
	return n / 2, err
}
