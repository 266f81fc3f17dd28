package redact

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/studio"
)

// SignatureName is the detached signature of a sealed session's manifest, beside it. A redaction
// changes the manifest, so an old signature never survives: it is made again (Options.Seal with a
// key) or removed.
const SignatureName = session.SignatureName

// MixBitrateKbps is the bitrate of a rebuilt live mix: the recorder's own (docs/record.md).
const MixBitrateKbps = 64

// Options say whom to redact and how.
type Options struct {
	// Identity is the participant to remove.
	Identity string
	// Range, when true, removes only [From, To) of the session clock; otherwise the whole person.
	Range    bool
	From, To time.Duration
	// Reason goes into the ledger; empty: "redact", or "redact from F to T" for a stretch.
	Reason string
	// Seal, when not nil, seals a session folder again (hashes, and a signature when it has a
	// key). It is called on the staged copy, before anything is renamed into place, and only when
	// the session was sealed (Manifest.Files not empty). Nil: a sealed session loses its digests
	// and signature, and the result says so.
	Seal func(dir string) error
	// SealUnsealed seals (with Seal) even a session that was not sealed before.
	SealUnsealed bool
	// Now is the clock of the ledger entry (time.Now when nil).
	Now func() time.Time
	// Progress reports the mix rebuild (nil: none).
	Progress studio.Progress
}

// TrackChange is what happened to one track file. Its JSON (json.go) gives Silenced in seconds.
type TrackChange struct {
	ID   string
	File string
	// Action is "deleted" (the whole track) or "silenced" (packets in the range replaced).
	Action string
	// Packets replaced by silence, and how long they play.
	Packets  int
	Silenced time.Duration
}

// Result reports a redaction. Its JSON (json.go) gives From and To in seconds.
type Result struct {
	Session  string
	Identity string
	Name     string
	// Whole is true when the person was removed from the whole session.
	Whole bool
	// From and To are the redacted stretch on the session clock.
	From, To time.Duration
	Tracks   []TrackChange
	// Mix is "rebuilt" (the live mix was made again from the remaining tracks), "removed" (no
	// track remains to make one from; mix.opus was deleted), "unchanged" (no audio was removed:
	// the person had no track, or no audio in the stretch) or "none" (the session had none).
	Mix     string
	MixFile string
	// Sealed is true when the session was sealed and was sealed again; Unsealed when it was
	// sealed and lost its digests (no sealer given). SignatureRemoved is true when an old
	// signature was deleted and none replaced it.
	Sealed           bool
	Unsealed         bool
	Signed           bool
	SignatureRemoved bool
}

// Redact removes a participant, or a stretch of them, from the finalized session in dir.
//
// A sealed session must verify first (session.CheckSeal): one whose files or signature no longer
// match its seal is refused with a *session.SealMismatchError, since sealing it again would
// bless the change. A session holding a link is refused too (session.CheckPlain).
//
// Everything that can fail (decoding, encoding, the mix, sealing) happens in a staging folder
// inside dir (.stage-redact-*, hard links of the untouched files); only then are the changed files
// renamed into place, the manifest last. A failure before that leaves the session as it was; a
// failed rename puts back what was already moved. A crash during the renames (a few file system
// operations) can leave a staging folder, which the next run removes, and a session whose files
// no longer match its manifest's digests (spacecast verify says which).
func Redact(ctx context.Context, dir string, opts Options) (res *Result, err error) {
	s, err := session.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	m := s.Manifest
	if !m.Finalized {
		return nil, fmt.Errorf("redact: %s: %w (its recorder is still running or died: run 'spacecast recover %s' first)", dir, ErrNotFinalized, dir)
	}
	// Never write through a link, and never seal again a session whose files or signature no
	// longer match its seal: the new seal would bless the change.
	if err := session.CheckPlain(dir); err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	if err := session.CheckSeal(dir); err != nil {
		return nil, fmt.Errorf("redact: %w ('spacecast verify %s' shows it; redact only a session that verifies)", err, dir)
	}
	p := m.Participant(opts.Identity)
	if p == nil {
		var ids []string
		for _, q := range m.Participants {
			ids = append(ids, q.Identity)
		}
		return nil, fmt.Errorf("redact: %s: %w: %q (its participants are: %s)", dir, ErrUnknownSpeaker, opts.Identity, strings.Join(ids, ", "))
	}
	from, to := int64(0), m.DurationTicks
	if opts.Range {
		from, to = session.Ticks(opts.From), session.Ticks(opts.To)
		end := session.Duration(m.DurationTicks)
		switch {
		case opts.From < 0 || opts.To < 0:
			return nil, fmt.Errorf("redact: %w: a negative time", ErrBadRange)
		case to <= from:
			return nil, fmt.Errorf("redact: %w: the start %s is not before the end %s", ErrReversed, edit.FormatTime(opts.From), edit.FormatTime(opts.To))
		case from >= m.DurationTicks || to > m.DurationTicks:
			return nil, fmt.Errorf("redact: %w: %s-%s is outside the session, which lasts %s", ErrBadRange, edit.FormatTime(opts.From), edit.FormatTime(opts.To), edit.FormatTime(end))
		}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	res = &Result{Session: dir, Identity: p.Identity, Name: p.DisplayName(), Whole: !opts.Range,
		From: session.Duration(from), To: session.Duration(to), Tracks: []TrackChange{}}

	st, err := session.NewStage(dir, "redact")
	if err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	defer st.Close()
	stage := st.Dir

	// The new manifest: a copy, changed.
	nm, err := session.Parse(mustMarshal(m))
	if err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	sm := &silenceMaker{}
	var tracks []session.Track
	for _, t := range nm.Tracks {
		if t.Participant != p.Identity {
			tracks = append(tracks, t)
			continue
		}
		if !opts.Range {
			res.Tracks = append(res.Tracks, TrackChange{ID: t.ID, File: t.File, Action: "deleted"})
			st.Delete(t.File)
			continue
		}
		dst := filepath.Join(stage, filepath.FromSlash(t.File))
		n, silenced, err := silenceTrack(s.Path(t.File), dst, &t, from, to, sm)
		if err != nil {
			return nil, fmt.Errorf("redact: track %s (%s): %w", t.ID, t.File, err)
		}
		if n > 0 {
			st.Replace(t.File)
			t.Gaps = append(t.Gaps, session.Gap{StartTicks: from, DurationTicks: to - from, Cause: "redacted"})
			slices.SortStableFunc(t.Gaps, func(a, b session.Gap) int { return cmp.Compare(a.StartTicks, b.StartTicks) })
		}
		res.Tracks = append(res.Tracks, TrackChange{ID: t.ID, File: t.File, Action: "silenced", Packets: n,
			Silenced: session.Duration(silenced)})
		tracks = append(tracks, t)
	}
	nm.Tracks = tracks
	if nm.Consent == nil {
		nm.Consent = &session.Consent{Policy: ""}
	}
	reason := opts.Reason
	if reason == "" {
		reason = "redact"
		if opts.Range {
			reason = fmt.Sprintf("redact from %s to %s", edit.FormatTime(opts.From), edit.FormatTime(opts.To))
		}
	}
	ev := session.ConsentEvent{Identity: p.Identity, Type: "redacted", AtTicks: from, Time: now().UTC(), Reason: reason}
	if opts.Range {
		ev.DurationTicks = to - from
	}
	nm.Consent.Events = append(nm.Consent.Events, ev)
	wasSealed := len(nm.Files) > 0
	nm.Files = nil

	// The live mix changes only when some audio went (a person without a track, or without audio
	// in the stretch, leaves it as it is).
	audioGone := false
	for _, c := range res.Tracks {
		audioGone = audioGone || c.Action == "deleted" || c.Packets > 0
	}
	if m.Mix != nil && audioGone {
		st.Replace(m.Mix.File)
	}
	// Stage the untouched files as hard links, so the staged folder is the whole new session:
	// the mix reads it, Seal hashes it.
	if err := st.Mirror(); err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	ns := &session.Session{Dir: stage, Manifest: nm}
	if err := ns.Save(); err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}

	// The live mix, made again from what remains.
	res.Mix = "none"
	if m.Mix != nil {
		res.MixFile = m.Mix.File
		switch {
		case !audioGone:
			res.Mix = "unchanged"
		case len(nm.Tracks) == 0:
			res.Mix = "removed"
			nm.Mix = nil
			st.Delete(m.Mix.File)
			if err := ns.Save(); err != nil {
				return nil, fmt.Errorf("redact: %w", err)
			}
		default:
			if err := rebuildMix(ctx, stage, m.Mix, opts.Progress); err != nil {
				return nil, err
			}
			res.Mix = "rebuilt"
		}
	}

	_, sigErr := os.Stat(filepath.Join(dir, SignatureName))
	hadSig := sigErr == nil
	switch {
	case (wasSealed || opts.SealUnsealed) && opts.Seal != nil:
		if err := opts.Seal(stage); err != nil {
			return nil, fmt.Errorf("redact: seal the redacted session: %w", err)
		}
		res.Sealed = true
		if _, err := os.Stat(filepath.Join(stage, SignatureName)); err == nil {
			res.Signed = true
			st.Replace(SignatureName)
		}
	case wasSealed:
		res.Unsealed = true
	}
	if hadSig && !res.Signed {
		res.SignatureRemoved = true
		st.Delete(SignatureName)
	}
	if err := st.Commit(); err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	return res, nil
}

func mustMarshal(m *session.Manifest) []byte {
	b, _ := m.Marshal() // a manifest that was parsed always marshals
	return b
}

// rebuildMix writes the staged session's mix: a plain sum of the remaining tracks at session tick
// 0, neither levelled nor normalised, Ogg Opus at the recorder's bitrate, like the live mix.
func rebuildMix(ctx context.Context, stage string, mix *session.MixFile, prog studio.Progress) error {
	out := filepath.Join(stage, filepath.FromSlash(mix.File))
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("redact: %w", err)
	}
	opts := studio.DefaultMixOptions()
	opts.Inputs, opts.Output = []string{stage}, out
	opts.Normalize, opts.Level, opts.MinChapter = false, "off", 0
	opts.Channels, opts.BitrateKbps = mix.Channels, MixBitrateKbps
	if filepath.Ext(out) != ".opus" {
		return fmt.Errorf("redact: the live mix %s is not an .opus file; cannot rebuild it", mix.File)
	}
	if _, err := studio.Mix(ctx, opts, prog); err != nil {
		return fmt.Errorf("redact: rebuild the live mix: %w", err)
	}
	return nil
}

// silenceTrack copies the Ogg Opus file src to dst, replacing every packet that plays (by the
// track's timeline) at any tick of [from, to) with a silence packet of the same duration (see
// silenceStream). It returns the packets replaced and how many samples they hold; with none, dst
// is not written.
func silenceTrack(src, dst string, t *session.Track, from, to int64, sm *silenceMaker) (int, int64, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var out *os.File
	var bw *bufio.Writer
	create := func() (io.Writer, error) {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if out, err = os.Create(dst); err != nil {
			return nil, err
		}
		bw = bufio.NewWriter(out)
		return bw, nil
	}
	n, silenced, err := silenceStream(f, create, t, from, to, sm)
	if out == nil {
		return n, silenced, err
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if err = errors.Join(err, out.Close()); err != nil {
		return 0, 0, err
	}
	return n, silenced, nil
}

// silenceStream is silenceTrack on a stream: it reads the Ogg Opus stream src and, when some
// packet plays in [from, to), writes the copy to the writer create returns (called once, only
// then). Page granule positions follow the packets, so the timeline is unchanged; the stream's
// serial, headers and end are kept.
func silenceStream(src io.ReadSeeker, create func() (io.Writer, error), t *session.Track, from, to int64, sm *silenceMaker) (int, int64, error) {
	lastGranule, serial, err := ogg.LastGranule(src)
	if err != nil {
		return 0, 0, err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	r, err := ogg.NewOpusReader(src)
	if err != nil {
		return 0, 0, err
	}
	head := r.Head()
	preSkip := int64(head.PreSkip)

	// First pass: which packets play in the range (their indexes).
	var hit []int
	var silenced int64
	raw := int64(0)
	for i := 0; ; i++ {
		pkt, _, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		n, err := ogg.PacketSamples(pkt)
		if err != nil {
			return 0, 0, err
		}
		media := raw - preSkip
		at := t.SessionTicks(max(media, 0)) + min(media, 0)
		if at < to && at+int64(n) > from {
			hit = append(hit, i)
			silenced += int64(n)
		}
		raw += int64(n)
	}
	if len(hit) == 0 {
		return 0, 0, nil
	}

	// Second pass: write the copy.
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	if r, err = ogg.NewOpusReader(src); err != nil {
		return 0, 0, err
	}
	out, err := create()
	if err != nil {
		return 0, 0, err
	}
	w, err := ogg.NewOpusWriter(out, head, r.Tags(), ogg.WithSerial(serial))
	if err != nil {
		return 0, 0, err
	}
	next := 0
	for i := 0; ; i++ {
		pkt, _, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		if next < len(hit) && hit[next] == i {
			next++
			n, _ := ogg.PacketSamples(pkt)
			if pkt, err = sm.packet(n, int(head.Channels)); err != nil {
				return 0, 0, err
			}
		}
		if err := w.WritePacket(pkt); err != nil {
			return 0, 0, err
		}
	}
	if lastGranule >= preSkip && lastGranule <= w.Granule() {
		err = w.CloseWithEnd(lastGranule - preSkip)
	} else {
		err = w.Close()
	}
	if err != nil {
		return 0, 0, err
	}
	return len(hit), silenced, nil
}
