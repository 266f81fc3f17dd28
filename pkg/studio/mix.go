package studio

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/spacecast/spacecast/internal/fsutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/audio/loudness"
	"github.com/spacecast/spacecast/pkg/codec"
	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/session"
)

// MixOptions are the inputs of Mix. The zero value is not useful: start from DefaultMixOptions.
type MixOptions struct {
	// Inputs is one session folder, or audio files (WAV, MP3, Ogg Opus), each one speaker,
	// optionally placed on the timeline as FILE@OFFSET.
	Inputs []string
	// Session, when set, is the input instead of Inputs: a session opened where it is stored (a
	// bucket, see sessionstore.Open), whose files are read through session.Session.Files.
	Session *session.Session
	// Output's extension picks the format: .mp3, .wav or .opus.
	Output string
	// LoudnessLUFS is the integrated loudness target; TruePeakDBTP the true-peak ceiling.
	LoudnessLUFS, TruePeakDBTP float64
	// Normalize turns loudness normalisation on (the limiter is on whenever Normalize is).
	Normalize bool
	// Level evens out speakers before they are summed: "auto" (on for several speakers), "on", "off".
	Level string
	// BitrateKbps for lossy output (0: 64 kbps mono / 128 kbps stereo MP3).
	BitrateKbps int
	// Channels of the output (0: the most any input has).
	Channels int
	// Exclude leaves out speakers by identity or display name (session input) or file base name.
	Exclude []string
	// MaxSilence shortens dead air longer than this to this (0: keep all silence).
	MaxSilence time.Duration
	// MinChapter is the shortest chapter made for a multi-speaker mix (0: no chapters).
	MinChapter time.Duration
	// Tag is MP3 metadata (chapters are added to it).
	Tag id3.Tag
}

// DefaultMixOptions returns the documented defaults.
func DefaultMixOptions() MixOptions {
	return MixOptions{LoudnessLUFS: -16, TruePeakDBTP: -1, Normalize: true, Level: "auto", MinChapter: 60 * time.Second}
}

// MixSpeaker reports one speaker of a mix; its JSON (json.go) gives times in seconds.
type MixSpeaker struct {
	Name     string
	Identity string
	// Offset is where the speaker starts in the mix.
	Offset time.Duration
	// LoudnessLUFS is the speaker's own (gated) loudness before levelling.
	LoudnessLUFS float64
	LevelGainDB  float64
	// Talk is how long the speaker was active.
	Talk time.Duration
}

// ChapterInfo is a chapter of an output, in output time; its JSON (json.go) gives times in
// seconds.
type ChapterInfo struct {
	Start, End time.Duration
	Title      string
}

// MixResult reports what Mix wrote. Its JSON (json.go) gives times in seconds.
type MixResult struct {
	Output       string
	Format       string
	SampleRate   int
	Channels     int
	BitrateKbps  int
	Duration     time.Duration
	LoudnessLUFS float64
	TruePeakDBTP float64
	GainDB       float64
	// RemovedSilence is how much the silence cuts (MaxSilence) took out.
	RemovedSilence time.Duration
	Speakers       []MixSpeaker
	Chapters       []ChapterInfo
	// Soundbites are a session's soundbites on the mix's timeline (dropped when MaxSilence cut
	// into them).
	Soundbites []SoundbiteInfo
	Passes     int
	// meta is what an MP3 output carries in its TXXX "spacecast" frame (and what an edit of a
	// session's mix carries on).
	meta *Meta
}

// lossyMarginDB keeps the limiter this far under the true-peak ceiling for lossy output: encoding
// adds overshoot to peaks the limiter already held (measured in the mix tests with ffmpeg's ebur128).
const lossyMarginDB = 0.7

// loudnessToleranceLU is how far the written file may miss the loudness target before Mix renders
// again with a corrected aim (the promise to users is ±0.5 LU, measured by ffmpeg's ebur128).
const loudnessToleranceLU = 0.3

// Mix decodes, aligns, levels, mixes, normalises and encodes the inputs.
func Mix(ctx context.Context, opts MixOptions, prog Progress) (*MixResult, error) {
	if prog == nil {
		prog = NoProgress{}
	}
	kind, err := codec.KindOfPath(opts.Output)
	if err != nil {
		return nil, err
	}
	speakers, sess, err := resolveInputs(opts)
	if err != nil {
		return nil, err
	}
	if len(speakers) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, ErrNoSpeakers)
	}
	f := audio.Format{SampleRate: mixRate(speakers), Channels: opts.Channels}
	if f.Channels == 0 {
		for _, s := range speakers {
			f.Channels = max(f.Channels, s.native.Channels)
		}
	}
	if f.Channels > 2 {
		f.Channels = 2
	}

	// Pass 1: each speaker alone, two at a time: loudness for levelling, activity for chapters.
	stats, err := analyseSpeakers(ctx, speakers, f, prog)
	if err != nil {
		return nil, err
	}
	level := opts.Level == "on" || (opts.Level == "auto" && len(speakers) > 1)
	gains := levelGains(stats, level)

	res := &MixResult{Output: opts.Output, Format: string(kind), SampleRate: f.SampleRate, Channels: f.Channels}
	for i, s := range speakers {
		res.Speakers = append(res.Speakers, MixSpeaker{
			Name: s.Name, Identity: s.Identity, Offset: f.Duration(s.offset),
			LoudnessLUFS: finite(stats[i].loudness), LevelGainDB: gains[i], Talk: stats[i].talk(),
		})
	}
	total := int64(0)
	for i, s := range speakers {
		total = max(total, s.offset+stats[i].frames)
	}

	gainDB := 0.0
	var cuts []audio.Cut
	// aim remembers (gain, loudness before encoding) pairs to steer the gain by secant steps: a
	// limiter working hard makes loudness grow slower than the gain.
	var aim []gainPoint
	// The levelled mix's loudness, estimated from pass 1; with --max-silence the cuts must be
	// known before the ID3 chapters are written, which takes a pass over the mix (pass 2).
	if opts.Normalize {
		if l := estimateMix(speakers, stats, gains, f); !math.IsInf(l, 0) {
			gainDB = opts.LoudnessLUFS - l
			aim = append(aim, gainPoint{0, l})
		}
	}
	if opts.MaxSilence > 0 {
		prog.Stage("finding silence", total, f.SampleRate)
		cuts, err = renderMix(ctx, speakers, gains, f, opts, 0, 0, func([]float32) error { return nil }, prog)
		if err != nil {
			return nil, err
		}
		res.Passes++
	}
	removed := int64(0)
	for _, c := range cuts {
		removed += c.End - c.Start
	}
	res.RemovedSilence = f.Duration(removed)

	chapters := chaptersFor(sess, speakers, stats, f, opts.MinChapter, cuts, total)
	res.Chapters = chapters
	res.meta = mixMeta(sess, speakers, stats, f, cuts, total, chapters)
	res.Soundbites = res.meta.Soundbites
	var tag *id3.Tag
	if kind == codec.MP3 {
		if tag, err = metaTag(res.meta, &opts.Tag); err != nil {
			return nil, err
		}
	}

	// Render, limit, encode. The first render of a normalised lossy mix only measures: the loudness
	// the limiter leaves, and, on a few excerpts encoded and decoded in memory, what the encoder
	// takes off (LAME's lowpass and quantisation take up to half a LU off synthetic speech) and adds
	// to peaks. The next render aims with both and is written. Another follows only when one
	// misses (the limiter reacting more than expected to a changed gain).
	if kind != codec.WAV {
		res.BitrateKbps = opts.BitrateKbps
		if res.BitrateKbps == 0 {
			res.BitrateKbps = codec.DefaultBitrateKbps(kind, f.Channels)
		}
	}
	encOpts := codec.EncodeOptions{BitrateKbps: opts.BitrateKbps, Tag: tag}
	ceiling := opts.TruePeakDBTP
	if kind != codec.WAV {
		ceiling -= lossyMarginDB
	}
	outFrames := total - removed
	encoderLoss, overshoot := 0.0, 0.0
	write := kind == codec.WAV || !opts.Normalize
	const attempts = 4
	for attempt := 1; ; attempt++ {
		write = write || attempt == attempts
		var out *codec.Output
		if write {
			if out, err = codec.Create(opts.Output, f, encOpts); err != nil {
				return nil, err
			}
			prog.Stage("mixing and encoding", outFrames, f.SampleRate)
		} else {
			prog.Stage("measuring the mix", outFrames, f.SampleRate)
		}
		var ex *excerpts
		if !write {
			ex = newExcerpts(f, outFrames)
		}
		m := loudness.NewMeter(f)
		frames := int64(0)
		_, err := renderMix(ctx, speakers, gains, f, opts, gainDB, ceiling, func(p []float32) error {
			m.Write(p)
			frames += int64(len(p) / f.Channels)
			if ex != nil {
				ex.add(p)
			}
			if out != nil {
				return out.Write(p)
			}
			return nil
		}, prog)
		res.Passes++
		if err != nil {
			if out != nil {
				out.Abort()
			}
			return nil, err
		}
		measured := m.Integrated()
		aim = append(aim, gainPoint{gainDB, measured})
		if ex != nil {
			if encoderLoss, overshoot, err = ex.encoderEffect(kind, encOpts); err != nil {
				return nil, err
			}
		}
		fileLUFS, filePeak := measured-encoderLoss, m.TruePeak()+overshoot
		missed := opts.Normalize && !math.IsInf(measured, 0) &&
			(math.Abs(fileLUFS-opts.LoudnessLUFS) > loudnessToleranceLU || filePeak > opts.TruePeakDBTP)
		if out != nil && (!missed || attempt == attempts) {
			if err := out.Commit(); err != nil {
				return nil, err
			}
			res.Duration = f.Duration(frames)
			res.LoudnessLUFS = finite(fileLUFS)
			res.TruePeakDBTP = finite(filePeak)
			res.GainDB = gainDB
			return res, nil
		}
		if out != nil {
			out.Abort()
		}
		if missed {
			gainDB = nextGain(aim, opts.LoudnessLUFS+encoderLoss)
			if filePeak > opts.TruePeakDBTP {
				ceiling -= filePeak - opts.TruePeakDBTP + 0.1
			}
		}
		write = true
	}
}

// mixMeta is the metadata of a mix: the speakers whose audio it holds (those heard at all: a
// participant with a silent track is not one), its chapters, the session's soundbites moved
// through the silence cuts, and the map from the mix timeline (the session clock, for a session)
// to the output.
func mixMeta(sess *session.Session, speakers []*speaker, stats []speakerStats, f audio.Format, cuts []audio.Cut, total int64, chapters []ChapterInfo) *Meta {
	var heard []MetaSpeaker
	for i, s := range speakers {
		if stats[i].active > 0 {
			heard = append(heard, MetaSpeaker{Identity: s.Identity, Name: s.Name})
		}
	}
	var keep edit.TimeMap
	at, out := int64(0), int64(0)
	for _, c := range append(slices.Clone(cuts), audio.Cut{Start: total, End: total}) {
		if c.Start > at {
			keep.Segments = append(keep.Segments, edit.Segment{
				Old: edit.Range{Start: f.Duration(at), End: f.Duration(c.Start)}, New: f.Duration(out)})
			out += c.Start - at
		}
		at = max(at, c.End)
	}
	var m *Meta
	if sess != nil {
		m = sessionMeta(sess, heard, nil, f.Duration(total))
	} else {
		m = &Meta{Version: MetaVersion, Speakers: heard, TimeMap: mapEntries(identityMap(f.Duration(total)))}
	}
	m = m.edited(keep)
	m.Chapters = chapters // found on the mix, already moved by the cuts
	return m
}

type gainPoint struct{ gainDB, lufs float64 }

// nextGain picks the gain expected to reach want from the (gain, loudness) points seen so far.
// The first point is the mix before the limiter, at 0 dB. From the first limited point, the
// limiter's loss there (L) sets the slope: loudness grows about 1/(1+L) dB per dB of gain, since
// a limiter that already takes L off takes off more the harder it is pushed. After that a
// secant through the last two points steers. Slopes are kept in [0.2, 1]: more gain never lowers
// loudness, and a limiter never makes it grow faster than the gain.
func nextGain(pts []gainPoint, want float64) float64 {
	last := pts[len(pts)-1]
	slope := 1.0
	switch {
	case len(pts) == 2:
		loss := pts[0].lufs + last.gainDB - last.lufs
		slope = 1 / (1 + math.Max(0, loss))
	case len(pts) > 2:
		prev := pts[len(pts)-2]
		if dg := last.gainDB - prev.gainDB; math.Abs(dg) > 1e-6 {
			slope = (last.lufs - prev.lufs) / dg
		}
	}
	slope = math.Max(0.2, math.Min(1, slope))
	return last.gainDB + (want-last.lufs)/slope
}

// finite maps -Inf (silence) to -70, the absolute gate, so JSON stays valid.
func finite(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return -70
	}
	return v
}

// resolveInputs turns the command line's inputs into speakers.
func resolveInputs(opts MixOptions) ([]*speaker, *session.Session, error) {
	for _, in := range opts.Inputs {
		if err := checkNotSame(in, opts.Output); err != nil {
			return nil, nil, err
		}
	}
	if opts.Session != nil {
		sp, err := sessionSpeakers(opts.Session, opts.Exclude)
		return sp, opts.Session, err
	}
	if len(opts.Inputs) == 1 && session.IsSession(opts.Inputs[0]) {
		s, err := session.Open(opts.Inputs[0])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		sp, err := sessionSpeakers(s, opts.Exclude)
		return sp, s, err
	}
	var out []*speaker
	for _, in := range opts.Inputs {
		if st, err := os.Stat(in); err == nil && st.IsDir() {
			return nil, nil, fmt.Errorf("%w: %s is a folder but not a spacecast session (no manifest.json); a session must be the only input", ErrBadInput, in)
		}
		s, off, err := fileSpeaker(in)
		if err != nil {
			return nil, nil, err
		}
		if slices.Contains(opts.Exclude, s.Identity) {
			continue
		}
		s.offset = int64(off.Seconds()*float64(s.native.SampleRate) + 0.5)
		out = append(out, s)
	}
	// Offsets were computed at each file's own rate; convert to the mix rate.
	rate := mixRate(out)
	for _, s := range out {
		s.offset = s.offset * int64(rate) / int64(s.native.SampleRate)
	}
	return out, nil, nil
}

// checkNotSame refuses an output that is a file the input is read from, under any name (a link, a
// hard link, a path spelt with ".."): the input file itself, or for a session folder its manifest
// and its tracks (a clip of the live mix has the live mix as its input). in may be FILE@OFFSET.
// Whether anything else may be written into a session folder is the caller's policy: redact
// writes a staged session's new live mix into it; the CLI refuses every output there.
func checkNotSame(in, out string) error {
	in = InputPath(in)
	ro, err := fsutil.Resolve(out)
	if err != nil {
		return nil // the write itself will say what is wrong with out
	}
	read := []string{in}
	if st, err := os.Stat(in); err == nil && st.IsDir() {
		read = []string{filepath.Join(in, session.ManifestName)}
		if s, err := session.Open(in); err == nil {
			for _, t := range s.Manifest.Tracks {
				read = append(read, s.Path(t.File))
			}
		}
	}
	for _, r := range read {
		if ri, err := fsutil.Resolve(r); (err == nil && ri == ro) || fsutil.SameFile(r, out) {
			return fmt.Errorf("%w: %s: %w", ErrBadInput, out, ErrSameFile)
		}
	}
	return nil
}

// speakerStats is what pass 1 learns about a speaker.
type speakerStats struct {
	loudness float64
	frames   int64
	// steps are the speaker's K-weighted powers per 100 ms from the speaker's offset; they
	// estimate the mix's loudness and tell who is talking.
	steps  []float64
	active int     // steps judged speech
	thrDB  float64 // the loudness (LUFS) above which a step is speech
}

func (s speakerStats) talk() time.Duration { return time.Duration(s.active) * 100 * time.Millisecond }

// speaking reports whether step k (100 ms from the speaker's offset) is speech.
func (s speakerStats) speaking(k int) bool { return loudness.StepLUFS(s.steps[k]) > s.thrDB }

func analyseSpeakers(ctx context.Context, speakers []*speaker, f audio.Format, prog Progress) ([]speakerStats, error) {
	stats := make([]speakerStats, len(speakers))
	errs := make([]error, len(speakers))
	prog.Stage("analysing speakers", 0, 0)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, s := range speakers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			stats[i], errs[i] = analyseSpeaker(ctx, s, f)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("speaker %q: %w", speakers[i].Name, err)
		}
	}
	return stats, nil
}

func analyseSpeaker(ctx context.Context, s *speaker, f audio.Format) (speakerStats, error) {
	st, c, err := s.openAt(f)
	if err != nil {
		return speakerStats{}, err
	}
	defer c.Close()
	m := loudness.NewMeter(f)
	m.KeepSteps()
	frames, err := measure(ctx, st, m)
	if err != nil {
		return speakerStats{}, err
	}
	out := speakerStats{loudness: m.Integrated(), frames: frames, steps: m.Steps()}
	// Speech: 100 ms steps within 20 LU of the speaker's own loudness and above -55 LUFS.
	out.thrDB = math.Max(out.loudness-20, -55)
	if math.IsInf(out.loudness, 0) {
		out.thrDB = 0
	}
	for k := range out.steps {
		if out.speaking(k) {
			out.active++
		}
	}
	return out, nil
}

// estimateMix predicts the integrated loudness of the levelled mix from each speaker's 100 ms
// step powers, placed at their offsets and scaled by their gains. Different people's voices are
// uncorrelated, so powers add; the render that follows measures the truth and corrects the aim.
func estimateMix(speakers []*speaker, stats []speakerStats, gains []float64, f audio.Format) float64 {
	step := int64(f.SampleRate / 10)
	var sum []float64
	for i, s := range speakers {
		off := int((s.offset + step/2) / step)
		if need := off + len(stats[i].steps); need > len(sum) {
			sum = append(sum, make([]float64, need-len(sum))...)
		}
		g := math.Pow(10, gains[i]/10)
		for k, p := range stats[i].steps {
			sum[off+k] += g * p
		}
	}
	return loudness.IntegratedFromSteps(sum)
}

// levelGains brings every speaker to the median speaker's loudness, within ±12 dB.
func levelGains(stats []speakerStats, level bool) []float64 {
	gains := make([]float64, len(stats))
	if !level {
		return gains
	}
	var ls []float64
	for _, s := range stats {
		if !math.IsInf(s.loudness, 0) {
			ls = append(ls, s.loudness)
		}
	}
	if len(ls) < 2 {
		return gains
	}
	sort.Float64s(ls)
	ref := ls[len(ls)/2]
	if len(ls)%2 == 0 {
		ref = (ls[len(ls)/2-1] + ls[len(ls)/2]) / 2
	}
	for i, s := range stats {
		if !math.IsInf(s.loudness, 0) {
			gains[i] = math.Max(-12, math.Min(12, ref-s.loudness))
		}
	}
	return gains
}

// renderMix runs the mix chain once and hands every block to sink. With a ceiling below 0 dBTP,
// a true-peak limiter follows the gain. It returns the silence cuts made (input frames). The chain
// runs on its own goroutine so the sink (an encoder) uses the other core.
func renderMix(ctx context.Context, speakers []*speaker, gains []float64, f audio.Format, opts MixOptions, gainDB, ceilingDBTP float64, sink func([]float32) error, prog Progress) ([]audio.Cut, error) {
	mix := audio.NewMixer(f)
	var cs closers
	defer func() { cs.Close() }()
	for i, s := range speakers {
		st, c, err := s.openAt(f)
		if err != nil {
			return nil, err
		}
		pf := newPrefetch(st)
		cs = append(cs, c, pf)
		if err := mix.Add(pf, s.offset, gains[i]); err != nil {
			return nil, err
		}
	}
	var chain audio.Stream = progressStream{mix, prog}
	var shortener *audio.Shortener
	if opts.MaxSilence > 0 {
		shortener = audio.ShortenSilence(chain, f.Frames(opts.MaxSilence), -50)
		chain = shortener
	}
	if gainDB != 0 {
		chain = audio.Gain(chain, gainDB)
	}
	if ceilingDBTP < 0 && opts.Normalize {
		chain = audio.NewLimiter(chain, ceilingDBTP)
	}
	pf := newPrefetch(chain)
	cs = append(cs, pf)
	chain = pf
	buf := make([]float32, 8192*f.Channels)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := chain.Read(buf)
		if n > 0 {
			if werr := sink(buf[:n]); werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if shortener != nil {
		return shortener.Cuts(), nil
	}
	return nil, nil
}
