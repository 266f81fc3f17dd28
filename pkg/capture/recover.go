package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/spacecast/spacecast/pkg/ogg"
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

// streamRecovery is what recoverStream made of one file.
type streamRecovery struct {
	out            []byte // the recovered file; nil when the file is whole and unchanged
	granule        int64  // the recovered stream's final granule position
	preSkip        int64
	headersRebuilt bool
	cutBytes       int64
	torn           bool // empty, and the file is only a page cut short
	empty          bool // no whole page at all, or nothing to rebuild a damaged head with
	noHead         bool // the head is damaged and channels is not 1 or 2
	drops          []drop
}

// drop is a stretch skipped in the middle of a stream.
type drop struct {
	offset, bytes int64 // in the file as it was
	pages         int
	at            int64 // granule position (recovered stream) after which the audio was lost
	samples       int64 // audio lost, 48 kHz samples
}

func (sr *streamRecovery) report(file string) RecoveredFile {
	return RecoveredFile{File: file, Repaired: sr.out != nil, CutBytes: sr.cutBytes, HeadersRebuilt: sr.headersRebuilt}
}

// recoverStream rebuilds the Ogg Opus stream in b from its whole pages (ogg.Scan). Pages after a
// skipped stretch get granule positions without the lost audio (the caller's timeline keeps them
// in place) and sequence numbers without the hole; a packet cut in two by the damage is left out
// whole. The header pages are kept, or made again with channels and the recorder's pre-skip when
// damaged. The last page is flagged end of stream. RFC 3533 §6, RFC 7845 §3-4.
func recoverStream(b []byte, channels int) *streamRecovery {
	scan := ogg.Scan(b)
	ps := scan.Pages
	sr := &streamRecovery{cutBytes: scan.Tail.Bytes}
	if len(ps) == 0 {
		sr.empty, sr.torn = true, scan.Torn && len(scan.Damaged) == 0
		return sr
	}

	// The header pages (RFC 7845 §3): OpusHead alone on the first page, OpusTags on the next.
	var out []ogg.Page
	i := 0
	var prev *ogg.ScannedPage // the last page kept, as it was in the file
	serial := ps[0].Page.Serial
	if h, ok := headPage(&ps[0]); ok {
		out = append(out, ps[0].Page)
		sr.preSkip = int64(h.PreSkip)
		prev, i = &ps[0], 1
	} else {
		sr.headersRebuilt = true
		for _, p := range ps {
			if p.Page.Granule > 0 {
				serial = p.Page.Serial
				break
			}
		}
		hb, err := ogg.OpusHead{Version: 1, Channels: uint8(channels), PreSkip: PreSkip, InputSampleRate: 48000}.MarshalBinary()
		if err != nil || channels < 1 || channels > 2 {
			sr.empty, sr.noHead = true, true // no channel count to make the head again with
			return sr
		}
		out = append(out, ogg.Page{Flags: ogg.FlagBOS, Serial: serial, Segments: lacing(len(hb)), Body: hb})
		sr.preSkip = PreSkip
	}
	if i < len(ps) && (prev != nil && follows(prev, &ps[i]) || prev == nil && ps[i].Page.Sequence == 1) && tagsPage(&ps[i]) {
		out = append(out, ps[i].Page)
		prev, i = &ps[i], i+1
		if sr.headersRebuilt { // the head page was damaged, the tags page after it is whole
			sr.drops = append(sr.drops, drop{offset: 0, bytes: ps[i-1].Offset, pages: 1})
		}
	} else {
		sr.headersRebuilt = true
		tb, _ := ogg.OpusTags{Vendor: "spacecast"}.MarshalBinary()
		out = append(out, ogg.Page{Serial: serial, Segments: lacing(len(tb)), Body: tb})
	}
	headers := len(out)
	if prev == nil { // the damage took the first page: sequence numbers go on from the tags'
		prev = &ogg.ScannedPage{Page: ogg.Page{Sequence: 1, Serial: serial}}
	}

	// The audio pages.
	var (
		lastOrig  int64 // granule of the last page with one, as in the file
		lastNew   int64 // the same, in the recovered stream
		dropped   int64 // audio lost so far
		since     int64 // samples of packets completed since the last page with a granule
		pend      []byte
		pendFrom  = -1 // index in out of the page where the pending packet began
		cur       *drop
		unit      int64 // the greatest common divisor of the packets' lengths: what a loss is a multiple of
		skippedAt = prev.Offset + int64(prev.Size)
	)
	endPartial := func() { // leave out a packet the damage cut: its beginning on the pages kept
		if len(pend) > 0 && pendFrom >= 0 {
			stripTrailing(&out, pendFrom, headers)
		}
		pend, pendFrom = nil, -1
	}
	for ; i < len(ps); i++ {
		sp := &ps[i]
		p := sp.Page
		if p.Serial != serial || p.Flags&ogg.FlagBOS != 0 || p.Granule == 0 {
			continue // another stream, or a header page out of place: skipped like damage
		}
		gap := !follows(prev, sp)
		if gap {
			if cur == nil {
				cur = &drop{offset: skippedAt, at: lastNew}
			}
			cur.bytes = sp.Offset - cur.offset
			if d := int(p.Sequence) - int(prev.Page.Sequence) - 1; d > 0 {
				cur.pages += d
			}
			endPartial()
		}
		prev, skippedAt = sp, sp.Offset+int64(sp.Size)
		segs, body := p.Segments, p.Body
		continued := p.Flags&ogg.FlagContinued != 0
		if continued && len(pend) == 0 {
			// The page goes on with a packet whose beginning is lost: leave that packet out.
			k := 0
			for k < len(segs) && segs[k] == 255 {
				k++
			}
			n := 0
			for _, v := range segs[:min(k+1, len(segs))] {
				n += int(v)
			}
			segs, body = segs[min(k+1, len(segs)):], body[n:]
			continued = false
		} else if !continued && len(pend) > 0 {
			endPartial() // a packet the stream never finished
		}
		if len(segs) > 0 {
			np := ogg.Page{Serial: serial, Granule: -1, Segments: segs, Body: body}
			if continued {
				np.Flags = ogg.FlagContinued
			}
			out = append(out, np)
		}
		// Count the packets that end here.
		off := 0
		ends := false
		for _, v := range segs {
			if len(pend) == 0 && pendFrom < 0 {
				pendFrom = len(out) - 1
			}
			pend = append(pend, body[off:off+int(v)]...)
			off += int(v)
			if v < 255 {
				if n, err := ogg.PacketSamples(pend); err == nil {
					since += int64(n)
					unit = gcd(unit, int64(n))
				}
				pend, pendFrom, ends = pend[:0], -1, true
			}
		}
		if p.Granule < 0 {
			continue
		}
		if cur != nil {
			cur.samples = max(0, p.Granule-lastOrig-since)
			if p.Flags&ogg.FlagEOS != 0 && unit > 0 {
				// The last page's granule may end the stream before its last packet does (end
				// trimming, RFC 7845 §4.4): what was lost is whole packets, so the rest is the trim.
				if r := cur.samples % unit; r > 0 && unit-r < since {
					cur.samples += unit - r
				}
			}
			dropped += cur.samples
			sr.drops = append(sr.drops, *cur)
			cur = nil
		}
		g := p.Granule - dropped
		if ends {
			out[len(out)-1].Granule = g
		}
		lastOrig, lastNew, since = p.Granule, g, 0
	}
	if cur != nil { // damage after the last page kept: nothing of it is lost audio we can count
		cur.bytes = int64(len(b)) - scan.Tail.Bytes - cur.offset
		sr.drops = append(sr.drops, *cur)
	}
	endPartial()
	sr.granule = 0
	for j := len(out) - 1; j >= headers; j-- {
		if out[j].Granule >= 0 {
			sr.granule = out[j].Granule
			break
		}
	}
	last := &out[len(out)-1]
	last.Flags |= ogg.FlagEOS
	var enc []byte
	for j := range out {
		out[j].Sequence = uint32(j)
		var err error
		if enc, err = ogg.AppendPage(enc, &out[j]); err != nil {
			// A page of the file re-encodes as it was; only a rebuilt header could fail.
			sr.empty = true
			return sr
		}
	}
	if !bytes.Equal(enc, b) {
		sr.out = enc
	}
	return sr
}

// stripTrailing removes from out the packet left unfinished at the end, which began on page
// from: its segments at the end of that page (all 255: it is unfinished) and the pages after,
// which hold nothing else. Header pages (before headers) are never touched.
func stripTrailing(out *[]ogg.Page, from, headers int) {
	if from < headers || from >= len(*out) {
		return
	}
	*out = (*out)[:from+1]
	p := &(*out)[from]
	k := len(p.Segments)
	for k > 0 && p.Segments[k-1] == 255 {
		k--
	}
	if k == 0 {
		*out = (*out)[:from]
		return
	}
	n := 0
	for _, v := range p.Segments[:k] {
		n += int(v)
	}
	p.Segments, p.Body = p.Segments[:k], p.Body[:n]
}

// follows reports whether page b comes right after page a in the file: adjacent bytes, the next
// sequence number, the same stream.
func follows(a, b *ogg.ScannedPage) bool {
	return a.Offset+int64(a.Size) == b.Offset && b.Page.Sequence == a.Page.Sequence+1 && a.Page.Serial == b.Page.Serial
}

// headPage returns the OpusHead of a first page that holds exactly one (RFC 7845 §3).
func headPage(sp *ogg.ScannedPage) (ogg.OpusHead, bool) {
	p := &sp.Page
	if sp.Offset != 0 || p.Flags&ogg.FlagBOS == 0 || p.Granule != 0 || !onePacket(p) {
		return ogg.OpusHead{}, false
	}
	h, err := ogg.ParseOpusHead(p.Body)
	return h, err == nil
}

// tagsPage reports whether a page holds exactly one OpusTags packet (RFC 7845 §5.2).
func tagsPage(sp *ogg.ScannedPage) bool {
	p := &sp.Page
	if p.Flags != 0 || p.Granule != 0 || !onePacket(p) {
		return false
	}
	_, err := ogg.ParseOpusTags(p.Body)
	return err == nil
}

// onePacket reports whether a page holds exactly one whole packet.
func onePacket(p *ogg.Page) bool {
	n := len(p.Segments)
	return n > 0 && p.Segments[n-1] < 255 && !slices.ContainsFunc(p.Segments[:n-1], func(v byte) bool { return v < 255 })
}

// lacing is the segment table of one packet of n bytes (RFC 3533 §5).
func lacing(n int) []byte {
	s := bytes.Repeat([]byte{255}, n/255)
	return append(s, byte(n%255))
}

// remapTimeline gives track t the timeline of its recovered file: the file lost the audio of
// sr.drops, so every sample after a drop is moved back to where it played, by an anchor, and the
// lost stretch becomes a gap with cause GapDamaged. It returns the damage as placed on the
// session clock.
func remapTimeline(t *session.Track, sr *streamRecovery) []Damage {
	var out []Damage
	if len(sr.drops) == 0 {
		return out
	}
	orig := session.Track{Timeline: slices.Clone(t.Timeline)}
	type span struct{ at, start, end int64 } // new media sample; lost [start, end) in old media samples
	var spans []span
	var cum int64
	for _, d := range sr.drops {
		at := d.at - sr.preSkip
		spans = append(spans, span{at, at + cum, at + cum + d.samples})
		cum += d.samples
		dm := Damage{Offset: d.offset, Bytes: d.bytes, Pages: d.pages}
		if d.samples > 0 {
			s0 := orig.SessionTicks(max(0, at+cum-d.samples))
			s1 := orig.SessionTicks(max(0, at+cum))
			if at+cum-d.samples < 0 { // lost audio in the pre-skip
				s0 = orig.SessionTicks(0) + (at + cum - d.samples)
			}
			dm.StartTicks, dm.DurationTicks = s0, max(0, s1-s0)
			if dm.DurationTicks > 0 {
				t.Gaps = append(t.Gaps, session.Gap{StartTicks: s0, DurationTicks: dm.DurationTicks, Cause: GapDamaged})
			}
		}
		out = append(out, dm)
	}
	// newToOld maps a media sample of the recovered file to the old file's.
	newToOld := func(x int64) int64 {
		var sh int64
		for _, s := range spans {
			if s.at <= x {
				sh += s.end - s.start
			}
		}
		return x + sh
	}
	cands := []int64{0}
	for _, s := range spans {
		cands = append(cands, max(0, s.at))
	}
	for _, a := range orig.Timeline {
		x, lost := a.MediaSample, false
		for _, s := range spans {
			switch {
			case s.end > s.start && a.MediaSample >= s.start && a.MediaSample < s.end:
				lost = true
			case a.MediaSample >= s.end:
				x -= s.end - s.start
			}
		}
		if !lost {
			cands = append(cands, max(0, x))
		}
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	var tl []session.Anchor
	for _, x := range cands {
		at := orig.SessionTicks(newToOld(x))
		if n := len(tl); n > 0 && tl[n-1].SessionTicks+(x-tl[n-1].MediaSample) == at {
			continue // on the line of the anchor before: not needed
		}
		tl = append(tl, session.Anchor{MediaSample: x, SessionTicks: at})
	}
	t.Timeline = tl
	slices.SortStableFunc(t.Gaps, func(a, b session.Gap) int {
		switch {
		case a.StartTicks < b.StartTicks:
			return -1
		case a.StartTicks > b.StartTicks:
			return 1
		}
		return 0
	})
	return out
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// checkLength refuses a recovered stream whose granule positions its packets and bytes cannot
// explain (a forged file: damage is skipped by the scan, but a page with a good checksum and an
// absurd position is not damage). The recovered stream, the file's own bytes when nothing was
// rewritten, is clean from its first page to its last, so the whole of it is checked; the
// recorder's files start at granule position 0.
func (sr *streamRecovery) checkLength(path string, orig []byte) error {
	b := sr.out
	if b == nil {
		b = orig
	}
	size := int64(len(b))
	if err := ogg.CheckGranules(bytes.NewReader(b), size); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := ogg.CheckSpan(0, 0, sr.granule, size); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
