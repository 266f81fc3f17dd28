// Package loudness measures loudness, loudness range and true peak as ITU-R BS.1770-4 and EBU R 128
// (Tech 3341, Tech 3342) define them.
package loudness

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/audio/internal/truepeak"
)

// Gating constants, BS.1770-4 §2.8 and EBU Tech 3342 §2.
const (
	absoluteGate  = -70.0 // LUFS, both for integrated loudness and LRA
	relativeGate  = -10.0 // LU below the absolute-gated mean, integrated loudness
	rangeGate     = -20.0 // LU below the absolute-gated mean, loudness range
	silenceLUFS   = -60.0 // momentary loudness below which a block counts as silence
	subBlocks400  = 4     // 400 ms gating block = 4 steps of 100 ms (75 % overlap)
	subBlocks3000 = 30    // 3 s short-term window = 30 steps of 100 ms
)

// Meter measures a stream's loudness as it is written.
//
// Channels are weighted per BS.1770-4 table 3 in the usual interleaving orders: 1 to 3 channels
// (mono; L R; L R C) all weigh 1; 4 is L R Ls Rs, 5 is L R C Ls Rs, 6 is L R C LFE Ls Rs (LFE excluded),
// 7 and 8 add surround/back pairs; surrounds weigh 1.41.
//
// Mono convention: a mono stream is measured as the single channel it is, like ffmpeg's ebur128 and
// libebur128 by default. The same audio played as dual mono (both channels equal) reads 3.01 LU louder,
// because BS.1770 sums channel powers. A mono podcast normalised with this meter to −16 LUFS is
// therefore at the level Apple's and EBU's guidance assume for mono (−16 LUFS measured as one channel).
//
// Blocks are formed as ffmpeg's ebur128 forms them: a 400 ms gating block every 100 ms once 400 ms
// have been seen, a 3 s short-term window every 100 ms once 3 s have been seen, and a trailing part
// shorter than 100 ms only counts towards the peaks. The gates need every block's power, so a Meter
// keeps two float64 per 100 ms: about 1.7 MB for three hours.
type Meter struct {
	f        audio.Format
	weights  []float64
	shelf    biquad
	highpass biquad
	state    []kState

	step    int       // frames per 100 ms
	inStep  int       // frames so far in the current 100 ms step
	acc     []float64 // per channel Σ z² in the current step
	history [subBlocks3000]float64
	steps   int64 // completed 100 ms steps

	blocks []float64 // powers of 400 ms blocks above the absolute gate
	shorts []float64 // powers of 3 s windows above the absolute gate
	nblock int64     // all 400 ms blocks
	silent int64     // 400 ms blocks below silenceLUFS

	keepSteps bool      // record every step's power (KeepSteps)
	stepLog   []float64 // weighted mean square of every 100 ms step, when keepSteps

	det        *truepeak.Detector
	truePeak   float64 // linear
	samplePeak float64 // linear
	frames     int64
}

// NewMeter returns a meter for streams of format f.
func NewMeter(f audio.Format) *Meter {
	sh, hp := kWeighting(f.SampleRate)
	return &Meter{
		f:        f,
		weights:  channelWeights(f.Channels),
		shelf:    sh,
		highpass: hp,
		state:    make([]kState, f.Channels),
		step:     max(f.SampleRate/10, 1),
		acc:      make([]float64, f.Channels),
		det:      truepeak.New(f.Channels),
	}
}

// channelWeights returns the BS.1770-4 table 3 weight of each channel position.
func channelWeights(channels int) []float64 {
	const s = 1.41
	switch channels {
	case 4:
		return []float64{1, 1, s, s}
	case 5:
		return []float64{1, 1, 1, s, s}
	case 6:
		return []float64{1, 1, 1, 0, s, s}
	case 7:
		return []float64{1, 1, 1, 0, s, s, s}
	case 8:
		return []float64{1, 1, 1, 0, s, s, s, s}
	}
	w := make([]float64, channels)
	for i := range w {
		w[i] = 1
	}
	return w
}

// Write measures interleaved samples; len(p) should be a multiple of the channel count (a trailing
// partial frame is ignored).
func (m *Meter) Write(p []float32) {
	ch := m.f.Channels
	// Only a new maximum matters: PushMax skips the windows that cannot reach the one so far.
	m.truePeak = m.det.PushMax(p, m.truePeak)
	for i := 0; i+ch <= len(p); i += ch {
		frame := p[i : i+ch]
		for c, v := range frame {
			x := float64(v)
			if a := math.Abs(x); a > m.samplePeak {
				m.samplePeak = a
			}
			z := m.state[c].run(x, &m.shelf, &m.highpass)
			m.acc[c] += z * z
		}
		m.frames++
		if m.inStep++; m.inStep == m.step {
			m.endStep()
		}
	}
}

// endStep closes a 100 ms step and, when enough steps exist, forms a gating block and a short-term
// window ending with it (BS.1770-4 §2.5–2.6).
func (m *Meter) endStep() {
	var e float64
	for c, a := range m.acc {
		e += m.weights[c] * a
		m.acc[c] = 0
	}
	m.history[m.steps%subBlocks3000] = e
	if m.keepSteps {
		m.stepLog = append(m.stepLog, e/float64(m.step))
	}
	m.steps++
	m.inStep = 0
	if m.steps >= subBlocks400 {
		p := m.window(subBlocks400)
		m.nblock++
		if loudness(p) < silenceLUFS {
			m.silent++
		}
		if loudness(p) >= absoluteGate {
			m.blocks = append(m.blocks, p)
		}
	}
	if m.steps >= subBlocks3000 {
		if p := m.window(subBlocks3000); loudness(p) >= absoluteGate {
			m.shorts = append(m.shorts, p)
		}
	}
}

// KeepSteps makes the meter record the power of every 100 ms step (8 bytes each, 864 kB for three
// hours), for callers that combine the loudness of several streams without mixing them (Steps,
// IntegratedFromSteps). Call it before the first Write.
func (m *Meter) KeepSteps() { m.keepSteps = true }

// Steps returns the K-weighted mean square of every complete 100 ms step so far (KeepSteps).
// 10·log10 of a step, minus 0.691, is its loudness in LUFS.
func (m *Meter) Steps() []float64 { return m.stepLog }

// StepLUFS converts a step's power (from Steps) to LUFS.
func StepLUFS(power float64) float64 { return loudness(power) }

// IntegratedFromSteps computes gated integrated loudness (BS.1770-4 §2.8) from 100 ms step
// powers, forming each 400 ms block from four consecutive steps as Meter does. Summing the
// steps of several uncorrelated streams, each scaled by its power gain, estimates the loudness of
// their mix without mixing them.
func IntegratedFromSteps(steps []float64) float64 {
	var blocks []float64
	for i := subBlocks400 - 1; i < len(steps); i++ {
		p := (steps[i] + steps[i-1] + steps[i-2] + steps[i-3]) / subBlocks400
		if loudness(p) >= absoluteGate {
			blocks = append(blocks, p)
		}
	}
	if len(blocks) == 0 {
		return math.Inf(-1)
	}
	gate := loudness(mean(blocks)) + relativeGate
	var sum float64
	var n int
	for _, p := range blocks {
		if loudness(p) >= gate {
			sum += p
			n++
		}
	}
	return loudness(sum / float64(n))
}

// window returns the weighted mean square over the last n steps.
func (m *Meter) window(n int) float64 {
	var e float64
	for i := int64(1); i <= int64(n); i++ {
		e += m.history[(m.steps-i)%subBlocks3000]
	}
	return e / float64(n*m.step)
}

// loudness converts a weighted mean square to LUFS, BS.1770-4 eq. 2.
func loudness(power float64) float64 { return -0.691 + 10*math.Log10(power) }

// Integrated returns the gated integrated loudness in LUFS, BS.1770-4 §2.8, or −Inf when no block
// passes the gates (silence, or less than 400 ms of audio).
func (m *Meter) Integrated() float64 {
	if len(m.blocks) == 0 {
		return math.Inf(-1)
	}
	gate := loudness(mean(m.blocks)) + relativeGate
	var sum float64
	var n int
	for _, p := range m.blocks {
		if loudness(p) >= gate {
			sum += p
			n++
		}
	}
	return loudness(sum / float64(n))
}

// Range returns the loudness range in LU, EBU Tech 3342: the spread between the 10th and 95th
// percentiles of the 3 s short-term loudness, after an absolute gate at −70 LUFS and a relative gate
// 20 LU below the mean. It is 0 for audio shorter than 3 s.
func (m *Meter) Range() float64 {
	if len(m.shorts) == 0 {
		return 0
	}
	gate := loudness(mean(m.shorts)) + rangeGate
	var ls []float64
	for _, p := range m.shorts {
		if l := loudness(p); l >= gate {
			ls = append(ls, l)
		}
	}
	slices.Sort(ls)
	pct := func(q float64) float64 {
		k := int(q*float64(len(ls)) + 0.5) // nearest rank, as the Tech 3342 reference code rounds
		return ls[min(max(k-1, 0), len(ls)-1)]
	}
	return pct(0.95) - pct(0.10)
}

// TruePeak returns the largest true peak of any channel in dBTP, 4x oversampled as BS.1770-4 Annex 2
// describes (at every sample rate), or −Inf for digital silence.
func (m *Meter) TruePeak() float64 { return 20 * math.Log10(m.truePeak) }

// SamplePeak returns the largest absolute sample in dBFS, or −Inf for digital silence.
func (m *Meter) SamplePeak() float64 { return 20 * math.Log10(m.samplePeak) }

// SilenceShare returns the share, 0 to 1, of 400 ms blocks (one every 100 ms) whose momentary
// loudness is below −60 LUFS: room tone and digital silence, not quiet speech. It is 0 when no block
// was complete.
func (m *Meter) SilenceShare() float64 {
	if m.nblock == 0 {
		return 0
	}
	return float64(m.silent) / float64(m.nblock)
}

// Frames returns the number of frames written.
func (m *Meter) Frames() int64 { return m.frames }

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Stats is a summary of a stream's loudness.
type Stats struct {
	Integrated   float64 // LUFS, −Inf when nothing passes the gate
	Range        float64 // LU
	TruePeak     float64 // dBTP
	SamplePeak   float64 // dBFS
	SilenceShare float64 // 0 to 1
	Frames       int64
}

// Stats returns the measurements so far.
func (m *Meter) Stats() Stats {
	return Stats{
		Integrated:   m.Integrated(),
		Range:        m.Range(),
		TruePeak:     m.TruePeak(),
		SamplePeak:   m.SamplePeak(),
		SilenceShare: m.SilenceShare(),
		Frames:       m.frames,
	}
}

// Measure drains s and returns its loudness statistics.
func Measure(s audio.Stream) (Stats, error) {
	m := NewMeter(s.Format())
	buf := make([]float32, 8192*s.Format().Channels)
	for {
		n, err := s.Read(buf)
		m.Write(buf[:n])
		if err == io.EOF {
			return m.Stats(), nil
		}
		if err != nil {
			return m.Stats(), fmt.Errorf("loudness: measure at frame %d: %w", m.frames, err)
		}
	}
}
