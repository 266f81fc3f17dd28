package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spacecast/spacecast/pkg/codec/opus"
	"github.com/spacecast/spacecast/pkg/ogg"
	"github.com/spacecast/spacecast/pkg/session"
)

// sessionWriter keeps the session folder: it makes the folder, opens a speaker's track file
// when they are first recorded, and writes the manifest (atomically) to match the files. No lock:
// the Recorder's lock serialises it.
type sessionWriter struct {
	dir     string
	man     *session.Manifest
	silence []byte        // a 20 ms Opus packet of silence, to fill DTX and mute in track files
	page    time.Duration // longest Ogg page of a track file: the sync interval
	nfiles  int           // track files opened
}

// newSessionWriter makes the session folder dir (it must not exist or be empty) for the manifest man.
func newSessionWriter(dir string, man *session.Manifest, page time.Duration) (*sessionWriter, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s: %w: choose another folder or remove it", dir, ErrExists)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("capture: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tracks"), 0o755); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	silence, err := opus.SilencePacket()
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	return &sessionWriter{dir: dir, man: man, silence: silence, page: page}, nil
}

// open creates the next track file, for identity's audio, and its manifest entry.
func (w *sessionWriter) open(identity string, channels int) (*trackFile, error) {
	id := fmt.Sprintf("t%d", w.nfiles+1)
	rel := fmt.Sprintf("tracks/%s-%s.opus", id, trackSlug(identity))
	f, err := os.Create(filepath.Join(w.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	tw, err := NewTrackWriter(f, channels, []TrackOption{WithSilence(w.silence, 30*time.Second)},
		ogg.WithMaxPageDuration(w.page))
	if err != nil {
		f.Close()
		return nil, err
	}
	w.nfiles++
	tf := &trackFile{id: id, identity: identity, f: f, tw: tw, mi: len(w.man.Tracks), offAt: -1, lastEnd: -1}
	w.man.Tracks = append(w.man.Tracks, session.Track{
		ID: id, Participant: identity, File: rel, Codec: "opus", Channels: channels,
		Timeline: []session.Anchor{{}},
	})
	return tf, nil
}

// addGap records a gap of the whole session.
func (w *sessionWriter) addGap(g session.Gap) { w.man.Gaps = append(w.man.Gaps, g) }

// save writes the manifest, which the caller brought up to date but for its duration: the later
// of end and the end of the last room-wide gap (a lost server at the end is part of the session).
func (w *sessionWriter) save(end int64) error {
	m := w.man
	for _, g := range m.Gaps {
		end = max(end, g.StartTicks+g.DurationTicks)
	}
	m.DurationTicks = end
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := session.WriteFileAtomic(filepath.Join(w.dir, session.ManifestName), b, 0o644); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// trackFile is one speaker's file as it is written: the TrackWriter, what the manifest says about
// the file (SSRCs, gaps, length) and the counts of the status line. Guarded by its track's lock.
type trackFile struct {
	id, identity string
	f            *os.File
	tw           *TrackWriter
	mi           int   // index in Manifest.Tracks
	samples      int64 // the file's length, known once it is closed
	ssrcs        []uint32
	lastSSRC     uint32
	lastEnd      int64 // session tick where the last packet ends
	gaps         []session.Gap
	// offAt is the session tick recording stopped (-1: it runs), for offCause; offGaps the
	// stretches not recorded that ended.
	offAt    int64
	offCause string
	offGaps  []session.Gap

	received, lost uint64 // packets written; packets given up or not Opus
	bytes          int64
}

// write puts one frame of n samples into the file.
func (tf *trackFile) write(f frame, n int) error {
	if len(tf.ssrcs) == 0 || tf.ssrcs[len(tf.ssrcs)-1] != f.ssrc {
		tf.ssrcs = appendUnique(tf.ssrcs, f.ssrc)
	}
	write := tf.tw.WritePacket
	if !f.Reset && f.Lost == 0 && f.TSDelta > 0 && f.TSDelta <= int64(n) && tf.lastSSRC == f.ssrc {
		write = tf.tw.WriteContiguous
	}
	tf.lastSSRC = f.ssrc
	if err := write(f.Payload, f.at); err != nil {
		return fmt.Errorf("track %s (%s): %w", tf.id, tf.identity, err)
	}
	if f.Lost > 0 {
		tf.lost += uint64(f.Lost)
		tf.lossGap(tf.tw.Placed(), f.Lost, n)
	}
	tf.received++
	tf.bytes += int64(len(f.Payload))
	tf.lastEnd = max(tf.lastEnd, f.at+int64(n))
	return nil
}

// lossGap records lost packets of n samples each right before the packet the file's timeline put
// at tick at. Each gap is as long as the packets lost, so the gaps add up to the loss; a gap that
// would overlap the one before (the timeline moved back) continues it instead.
func (tf *trackFile) lossGap(at int64, lost, n int) {
	dur := int64(lost) * int64(n)
	start := at - dur
	if k := len(tf.gaps) - 1; k >= 0 && tf.gaps[k].Cause == "loss" && tf.gaps[k].StartTicks+tf.gaps[k].DurationTicks > start {
		tf.gaps[k].DurationTicks += dur
	} else {
		tf.gaps = append(tf.gaps, session.Gap{StartTicks: start, DurationTicks: dur, Cause: "loss"})
	}
}

// stop says the speaker is not recorded from session tick at, for cause ("paused", "not-recording").
func (tf *trackFile) stop(at int64, cause string) { tf.offAt, tf.offCause = at, cause }

// resume says the speaker is recorded again from session tick at: the stretch since stop is a gap.
func (tf *trackFile) resume(at int64) {
	if tf.offAt >= 0 {
		tf.offGaps = append(tf.offGaps, session.Gap{StartTicks: tf.offAt, DurationTicks: at - tf.offAt, Cause: tf.offCause})
		tf.offAt = -1
	}
}

// entry brings the file's manifest entry up to date at session tick now.
func (tf *trackFile) entry(mt *session.Track, now int64) {
	mt.Timeline = tf.tw.Timeline()
	if len(mt.Timeline) == 0 {
		mt.Timeline = []session.Anchor{{}}
	}
	mt.SSRCs = append(mt.SSRCs[:0], tf.ssrcs...)
	mt.Gaps = tf.allGaps(mt.Gaps[:0], now)
	mt.Samples = tf.samples
}

// allGaps appends the file's gaps to dst in order: losses, and the stretches it was not recorded
// (one still running ends at now).
func (tf *trackFile) allGaps(dst []session.Gap, now int64) []session.Gap {
	dst = append(dst, tf.gaps...)
	dst = append(dst, tf.offGaps...)
	if tf.offAt >= 0 && now > tf.offAt {
		dst = append(dst, session.Gap{StartTicks: tf.offAt, DurationTicks: now - tf.offAt, Cause: tf.offCause})
	}
	slices.SortStableFunc(dst, func(a, b session.Gap) int { return int(min(max(a.StartTicks-b.StartTicks, -1), 1)) })
	return dst
}

// close ends the file's stream and closes it.
func (tf *trackFile) close() error {
	var errs []error
	if err := tf.tw.Close(); err != nil {
		errs = append(errs, fmt.Errorf("track %s: %w", tf.id, err))
	}
	errs = append(errs, tf.f.Sync(), tf.f.Close())
	tf.samples = tf.tw.Samples()
	return errors.Join(errs...)
}

func appendUnique(s []uint32, v uint32) []uint32 {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
