package audio

import "math"

// Gain scales s by gainDB decibels (20·log10 of the amplitude factor). It clips nothing: a positive
// gain can push samples past ±1, which is what a Limiter is for.
func Gain(s Stream, gainDB float64) Stream {
	n, ok := Length(s)
	return withLen(&gain{s: s, k: float32(DBToAmp(gainDB))}, n, ok)
}

// DBToAmp converts decibels to an amplitude factor.
func DBToAmp(db float64) float64 { return math.Pow(10, db/20) }

// AmpToDB converts an amplitude factor to decibels (−Inf for 0).
func AmpToDB(a float64) float64 { return 20 * math.Log10(a) }

type gain struct {
	s Stream
	k float32
}

func (g *gain) Format() Format { return g.s.Format() }

func (g *gain) Read(p []float32) (int, error) {
	n, err := g.s.Read(p)
	if g.k != 1 {
		for i := range p[:n] {
			p[i] *= g.k
		}
	}
	return n, err
}
