package sessionstore

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// Where two parts overlap (a part that began before the one before it ended: the old recorder
// still ran, cut off from its fleet, when the new one took the room over), both recorded the same
// room. The later part's recorder owns the room from its start, so the earlier part's tracks are
// cut where it begins: their packets that start at or after that tick are dropped, whole (the
// file stays the packets as received), and a track with nothing before it is left out. A mix of
// the joined session then plays the stretch once.

// CutTrack says what a join cut from a track of an earlier part that a later part overlapped.
type CutTrack struct {
	Track string `json:"track"`
	// AtTicks is where the later part begins on the joined clock; Samples how much audio was
	// dropped from there on. Removed: nothing of the track was before it; it is left out.
	AtTicks int64 `json:"at_ticks"`
	Samples int64 `json:"samples"`
	Removed bool  `json:"removed,omitempty"`
}

// CutSuffix is what the name of part 1's track file gets when a join cuts it, so that part 1's
// own file is never overwritten: tracks/t1-ada.opus becomes tracks/t1-ada.cut.opus.
const CutSuffix = ".cut"

// overlapCut is the tick at which the joined track tr must end: where the first later part
// begins, when that is before its own part ended; ok is false when no later part overlaps it.
func overlapCut(m *session.Manifest, tr session.Track) (int64, bool) {
	k := 0
	for i, p := range m.Parts {
		if p.Prefix != "" && strings.HasPrefix(tr.ID, p.Prefix) {
			k = i
		}
	}
	if k >= len(m.Parts) {
		return 0, false
	}
	end := m.Parts[k].OffsetTicks + m.Parts[k].DurationTicks
	cut, found := int64(0), false
	for _, p := range m.Parts[k+1:] {
		if p.OffsetTicks < end && (!found || p.OffsetTicks < cut) {
			cut, found = p.OffsetTicks, true
		}
	}
	return cut, found
}

// cutOverlaps cuts, in the joined session folder dir, every track of m that a later part
// overlaps, and changes m to match: a cut track's samples, timeline and gaps end at the cut, a
// track cut to nothing is removed. firstFiles are part 1's files, which are renamed when cut.
func cutOverlaps(dir string, m *session.Manifest, firstFiles map[string]bool) ([]CutTrack, error) {
	var cuts []CutTrack
	kept := m.Tracks[:0:0]
	for _, tr := range m.Tracks {
		cut, ok := overlapCut(m, tr)
		if !ok {
			kept = append(kept, tr)
			continue
		}
		src := filepath.Join(dir, filepath.FromSlash(tr.File))
		rel := tr.File
		if firstFiles[rel] {
			rel = strings.TrimSuffix(rel, path.Ext(rel)) + CutSuffix + path.Ext(rel)
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-join")
		samples, dropped, err := cutTrackFile(src, tmp, tr, cut)
		if err != nil {
			return nil, fmt.Errorf("track %q: %w", tr.ID, errors.Join(err, removeIfThere(tmp)))
		}
		if dropped == 0 { // it ended before the later part began: the file stays as it is
			if err := os.Remove(tmp); err != nil {
				return nil, err
			}
			kept = append(kept, tr)
			continue
		}
		c := CutTrack{Track: tr.ID, AtTicks: cut, Samples: dropped}
		if err := os.Remove(src); err != nil {
			return nil, err
		}
		if samples <= 0 {
			c.Removed = true
			if err := os.Remove(tmp); err != nil {
				return nil, err
			}
			cuts = append(cuts, c)
			continue
		}
		if err := os.Rename(tmp, dst); err != nil {
			return nil, err
		}
		tr.File, tr.Samples = rel, samples
		tl := tr.Timeline[:0:0]
		for _, a := range tr.Timeline {
			if a.MediaSample < samples {
				tl = append(tl, a)
			}
		}
		tr.Timeline = tl
		var gaps []session.Gap
		for _, g := range tr.Gaps {
			if g.StartTicks < cut {
				gaps = append(gaps, g)
			}
		}
		tr.Gaps = gaps
		kept = append(kept, tr)
		cuts = append(cuts, c)
	}
	m.Tracks = kept
	return cuts, nil
}

// cutTrackFile writes to the new file dst the packets of the Ogg Opus file src (the track tr)
// that start before tick cut, and no packet after the first that does not; it says how many
// samples dst holds after its pre-skip, and how many were dropped.
func cutTrackFile(src, dst string, tr session.Track, cut int64) (samples, dropped int64, err error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()
	r, err := ogg.NewOpusReader(bufio.NewReader(in))
	if err != nil {
		return 0, 0, err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, 0, err
	}
	bw := bufio.NewWriter(out)
	w, err := ogg.NewOpusWriter(bw, r.Head(), r.Tags())
	if err != nil {
		return 0, 0, errors.Join(err, out.Close())
	}
	preSkip := int64(r.Head().PreSkip)
	var pos int64 // samples before the packet, pre-skip included
	cutting := false
	for {
		pkt, _, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, errors.Join(err, out.Close())
		}
		n, err := ogg.PacketSamples(pkt)
		if err != nil {
			return 0, 0, errors.Join(err, out.Close())
		}
		// A packet goes from its first sample after the pre-skip on: a packet wholly inside the
		// pre-skip plays nothing, and one across its end is placed by its first audible sample.
		if first := max(pos-preSkip, 0); pos+int64(n) > preSkip && tr.SessionTicks(first) >= cut {
			cutting = true
		}
		if cutting {
			dropped += int64(n)
		} else if err := w.WritePacket(pkt); err != nil {
			return 0, 0, errors.Join(err, out.Close())
		}
		pos += int64(n)
	}
	err = w.Close()
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if err = errors.Join(err, out.Close()); err != nil {
		return 0, 0, err
	}
	return w.Granule() - preSkip, dropped, nil
}

func removeIfThere(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
