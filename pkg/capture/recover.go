package capture

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spacecast/spacecast/pkg/session"
)

// GapDamaged is the cause of a track gap where Recover skipped damaged pages: audio that was in
// the file and could not be read back.
const GapDamaged = "damaged"

// RecoverOptions say how to finish a recovered session.
type RecoverOptions struct {
	// Seal, when not nil, seals the recovered session (digests, and a signature when it has a
	// key). It is called on the staged session, before anything is moved into place, so that a
	// failure leaves the session as it was.
	Seal func(dir string) error
	// Now is the clock of the recovered_at note (time.Now when nil).
	Now func() time.Time
}

// RecoverReport says what Recover did.
type RecoverReport struct {
	AlreadyFinalized bool `json:"already_finalized"`
	// Duration is the recovered session's length.
	Duration time.Duration `json:"duration_ns"`
	// Tracks lists each track's recovered length.
	Tracks []RecoveredTrack `json:"tracks"`
	// Mix is what became of the live mix (nil: the session had none).
	Mix *RecoveredFile `json:"mix,omitempty"`
	// DamagedBytes and LostTicks add up what damage (not the crash) cost, over every file: bytes
	// skipped in the middle of files, and audio lost with them (session clock ticks, 48 kHz).
	DamagedBytes int64 `json:"damaged_bytes"`
	LostTicks    int64 `json:"lost_ticks"`
	// Sealed is true when the recovered session was sealed (RecoverOptions.Seal).
	Sealed bool `json:"-"`
}

// Damaged reports whether Recover skipped damage: something other than the crash's torn end.
func (r *RecoverReport) Damaged() bool { return r.DamagedBytes > 0 || r.LostTicks > 0 }

// RecoveredFile is one Ogg Opus file after recovery.
type RecoveredFile struct {
	File string `json:"file"`
	// Repaired is true when the file was rewritten: cut after its last whole page, given an end
	// of stream, cleared of damage.
	Repaired bool `json:"repaired"`
	// CutBytes were after the last whole page (the page the crash cut short) and are gone.
	CutBytes int64 `json:"cut_bytes"`
	// HeadersRebuilt is true when the file's first pages (OpusHead, OpusTags) were damaged and
	// were made again from the manifest (channels) and the recorder's pre-skip.
	HeadersRebuilt bool `json:"headers_rebuilt"`
	// Damage lists each stretch skipped in the middle of the file.
	Damage []Damage `json:"damage,omitempty"`
	// Dropped is true for a live mix left out of the manifest: damaged in the middle (a mix has
	// no timeline to keep what follows in place) or unreadable. The file is left as it was;
	// 'spacecast mix' makes a mix from the tracks.
	Dropped bool `json:"dropped,omitempty"`
}

// RecoveredTrack is one track after recovery.
type RecoveredTrack struct {
	ID string `json:"id"`
	RecoveredFile
	Samples int64 `json:"samples"`
	// Missing is true when the file was never written (the crash came first): the track is
	// dropped from the manifest.
	Missing bool `json:"missing"`
}

// Damage is one stretch of a file that Recover skipped: bytes without a whole page, and the
// audio the pages there held.
type Damage struct {
	// Offset and Bytes are where the skipped bytes were in the file as it was.
	Offset int64 `json:"offset"`
	Bytes  int64 `json:"bytes"`
	// Pages is how many pages were lost, by the pages' sequence numbers.
	Pages int `json:"pages"`
	// StartTicks and DurationTicks place the lost audio on the session clock (tracks only).
	StartTicks    int64 `json:"start_ticks"`
	DurationTicks int64 `json:"duration_ticks"`
}

// Recover finalizes a session whose recorder died (kill -9, power loss) and returns what it did.
//
// Each track file and the mix are read page by page (ogg.Scan): the page the crash cut short at
// the end is cut off, and the last page gets its end-of-stream flag. Damage in the middle of a
// file — a page whose checksum or header is wrong — is not taken for the end: the page is
// skipped, reading resumes at the next whole page, and the audio after it is kept. A track's
// skipped audio becomes a gap with cause "damaged", and its timeline gets an anchor after it, so
// what follows plays where it played before. Damaged first pages (OpusHead, OpusTags) are made
// again from the manifest. The manifest of the last sync (at most a second old) gets each file's
// real length, and the session is marked finalized. What the recorder had not yet synced — at
// most the last SyncInterval plus a packet — is lost.
//
// Recover refuses a session with a link or another file that is not plain in its folder (it
// never writes through a link), and a sealed session that no longer matches its seal. Everything
// is written in a staging folder inside the session and renamed into place, the manifest last: a
// failure leaves the session as it was.
func Recover(dir string, opts RecoverOptions) (*RecoverReport, error) {
	if err := session.CheckPlain(dir); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	s, err := session.Open(dir)
	if err != nil {
		return nil, err
	}
	m := s.Manifest
	rep := &RecoverReport{Tracks: []RecoveredTrack{}}
	if m.Finalized {
		rep.AlreadyFinalized = true
		rep.Duration = session.Duration(m.DurationTicks)
		return rep, nil
	}
	if err := session.CheckSeal(dir); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	st, err := session.NewStage(dir, "recover")
	if err != nil {
		return nil, fmt.Errorf("capture: recover: %w", err)
	}
	defer st.Close()

	var end int64
	tracks := []session.Track{}
	for _, t := range m.Tracks {
		rt := RecoveredTrack{ID: t.ID, RecoveredFile: RecoveredFile{File: t.File}}
		b, err := readPlain(s.Path(t.File))
		if errors.Is(err, fs.ErrNotExist) || err == nil && len(b) == 0 {
			rt.Missing = true
			rep.Tracks = append(rep.Tracks, rt)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("capture: recover track %s: %w", t.ID, err)
		}
		sr := recoverStream(b, t.Channels)
		if sr.noHead {
			return nil, fmt.Errorf("capture: recover track %s: %s: %w: its OpusHead is damaged, and the manifest's channel count (%d) cannot make it again",
				t.ID, s.Path(t.File), ErrUnrecoverable, t.Channels)
		}
		if sr.empty {
			if !sr.torn {
				return nil, fmt.Errorf("capture: recover track %s: %s: %w: not one whole Ogg page in its %d bytes (move the file out of the session and its track out of manifest.json, or restore it from a copy)",
					t.ID, s.Path(t.File), ErrUnrecoverable, len(b))
			}
			// Only the first page, cut short by the crash: no audio was ever in it.
			rt.Missing = true
			st.Delete(t.File)
			rep.Tracks = append(rep.Tracks, rt)
			continue
		}
		if err := sr.checkLength(s.Path(t.File), b); err != nil {
			return nil, fmt.Errorf("capture: recover track %s: %w", t.ID, err)
		}
		if sr.out != nil {
			if err := stageFile(st, t.File, sr.out); err != nil {
				return nil, fmt.Errorf("capture: recover track %s: %w", t.ID, err)
			}
		}
		rt.RecoveredFile = sr.report(t.File)
		rt.Damage = remapTimeline(&t, sr)
		t.Samples = max(0, sr.granule-sr.preSkip)
		rt.Samples = t.Samples
		for _, d := range rt.Damage {
			rep.DamagedBytes += d.Bytes
			rep.LostTicks += d.DurationTicks
		}
		rep.Tracks = append(rep.Tracks, rt)
		if t.Samples > 0 {
			end = max(end, t.SessionTicks(t.Samples-1)+1)
		}
		tracks = append(tracks, t)
	}
	m.Tracks = tracks
	if m.Mix != nil {
		mr, mixEnd := recoverMix(s, st, m.Mix)
		rep.Mix = mr
		for _, d := range mr.Damage {
			rep.DamagedBytes += d.Bytes
		}
		if mr.Dropped {
			m.Mix = nil // nothing usable: `spacecast mix` makes one from the tracks
		} else {
			end = max(end, mixEnd) // the mix's length bounds the session too
		}
	}
	for _, g := range m.Gaps { // a room-wide gap written before the crash is part of the session
		end = max(end, g.StartTicks+g.DurationTicks)
	}
	m.DurationTicks = max(end, 0)
	m.Finalized = true
	m.EndedAt = m.StartedAt.Add(session.Duration(m.DurationTicks))
	if m.Meta == nil {
		m.Meta = map[string]string{}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	m.Meta["recovered_at"] = now().UTC().Format(time.RFC3339)
	m.Files = nil // the files changed: an old seal no longer holds (CheckSeal found it whole)

	if err := st.Mirror(); err != nil {
		return nil, fmt.Errorf("capture: recover: %w", err)
	}
	ns := &session.Session{Dir: st.Dir, Manifest: m}
	if err := ns.Save(); err != nil {
		return nil, fmt.Errorf("capture: recover: %w", err)
	}
	_, sigErr := os.Lstat(filepath.Join(dir, session.SignatureName))
	if opts.Seal != nil {
		if err := opts.Seal(st.Dir); err != nil {
			return nil, fmt.Errorf("capture: recover: seal the recovered session: %w", err)
		}
		rep.Sealed = true
	}
	// The manifest changed: an old signature no longer matches. It is replaced (Seal with a key)
	// or removed.
	if _, err := os.Lstat(st.Path(session.SignatureName)); err == nil {
		st.Replace(session.SignatureName)
	} else if sigErr == nil {
		st.Delete(session.SignatureName)
	}
	if err := st.Commit(); err != nil {
		return nil, fmt.Errorf("capture: recover: %w", err)
	}
	rep.Duration = session.Duration(m.DurationTicks)
	return rep, nil
}

// recoverMix repairs the live mix in the stage when only its end is torn; a mix damaged in the
// middle or unreadable is left as it is and reported dropped. It returns the mix's length in
// ticks.
func recoverMix(s *session.Session, st *session.Stage, mix *session.MixFile) (*RecoveredFile, int64) {
	b, err := readPlain(s.Path(mix.File))
	if err != nil || len(b) == 0 {
		return &RecoveredFile{File: mix.File, Dropped: true}, 0
	}
	sr := recoverStream(b, mix.Channels)
	r := sr.report(mix.File)
	for _, d := range sr.drops {
		r.Damage = append(r.Damage, Damage{Offset: d.offset, Bytes: d.bytes, Pages: d.pages})
	}
	// A mix damaged in the middle has no timeline to keep what follows in place, and one whose
	// length is forged cannot be trusted: it is left out (spacecast mix makes a new one).
	if sr.empty || sr.headersRebuilt || len(sr.drops) > 0 || sr.checkLength(mix.File, b) != nil {
		r.Dropped, r.Repaired = true, false
		return &r, 0
	}
	if sr.out != nil {
		if err := stageFile(st, mix.File, sr.out); err != nil {
			r.Dropped, r.Repaired = true, false
			return &r, 0
		}
	}
	return &r, max(0, sr.granule-sr.preSkip)
}

// readPlain reads a regular file without following a link at its last element (the folders
// above it were checked by session.CheckPlain).
func readPlain(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, session.ErrIrregular)
	}
	return io.ReadAll(f)
}

// stageFile writes b as the staged version of the session file rel.
func stageFile(st *session.Stage, rel string, b []byte) error {
	st.Replace(rel)
	p := st.Path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}
