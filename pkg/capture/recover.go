package capture

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// RecoverReport says what Recover did.
type RecoverReport struct {
	AlreadyFinalized bool `json:"already_finalized"`
	// Duration is the recovered session's length.
	Duration time.Duration `json:"duration_ns"`
	// Tracks lists each track's recovered length.
	Tracks []RecoveredTrack `json:"tracks"`
}

// RecoveredTrack is one track after recovery.
type RecoveredTrack struct {
	ID       string `json:"id"`
	Samples  int64  `json:"samples"`
	Repaired bool   `json:"repaired"` // the file ended mid-page or without end of stream
	Missing  bool   `json:"missing"`  // the file was never written (the crash came first): dropped from the manifest
}

// Recover finalizes a session whose recorder died (kill -9, power loss): each track file and the
// mix are cut after their last whole page and closed, the manifest of the last sync (at most a
// second old) gets each file's real length, and the session is marked finalized. What the
// recorder had not yet synced — at most the last SyncInterval plus a packet — is lost.
func Recover(dir string) (*RecoverReport, error) {
	s, err := session.Open(dir)
	if err != nil {
		return nil, err
	}
	m := s.Manifest
	rep := &RecoverReport{}
	if m.Finalized {
		rep.AlreadyFinalized = true
		rep.Duration = session.Duration(m.DurationTicks)
		return rep, nil
	}
	var end int64
	tracks := m.Tracks[:0]
	for _, t := range m.Tracks {
		st, err := os.Stat(s.Path(t.File))
		if err != nil || st.Size() == 0 {
			rep.Tracks = append(rep.Tracks, RecoveredTrack{ID: t.ID, Missing: true})
			continue
		}
		g, err := ogg.Repair(s.Path(t.File))
		if errors.Is(err, ogg.ErrNoGranule) {
			rep.Tracks = append(rep.Tracks, RecoveredTrack{ID: t.ID, Missing: true})
			os.Remove(s.Path(t.File))
			continue
		}
		if err == nil {
			err = checkLength(s.Path(t.File), g)
		}
		if err != nil {
			return nil, fmt.Errorf("capture: recover track %s: %w", t.ID, err)
		}
		t.Samples = max(0, g-PreSkip)
		repaired := st.Size() != sizeOf(s.Path(t.File))
		rep.Tracks = append(rep.Tracks, RecoveredTrack{ID: t.ID, Samples: t.Samples, Repaired: repaired})
		if t.Samples > 0 {
			end = max(end, t.SessionTicks(t.Samples-1)+1)
		}
		tracks = append(tracks, t)
	}
	m.Tracks = tracks
	if m.Mix != nil {
		if g, err := ogg.Repair(s.Path(m.Mix.File)); err == nil {
			// The mix's length bounds the session too.
			end = max(end, g-preSkipOf(s.Path(m.Mix.File)))
		} else {
			m.Mix = nil // nothing usable: `spacecast mix` rebuilds one from the tracks
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
	m.Meta["recovered_at"] = time.Now().UTC().Format(time.RFC3339)
	if err := s.Save(); err != nil {
		return nil, err
	}
	rep.Duration = session.Duration(m.DurationTicks)
	return rep, nil
}

func sizeOf(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}

// preSkipOf reads an Ogg Opus file's pre-skip (0 when the head cannot be read).
func preSkipOf(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	r, err := ogg.NewOpusReader(f)
	if err != nil {
		return 0
	}
	return int64(r.Head().PreSkip)
}

// checkLength refuses a repaired track file whose granule positions its packets and bytes cannot
// explain (a damaged or forged file): the recorder's files start at granule position 0, and last
// is the position Repair ended the file at.
func checkLength(path string, last int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := ogg.CheckGranules(f, st.Size()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := ogg.CheckSpan(0, 0, last, st.Size()); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
