package capture

import "time"

// The live view for a status line: per track what the ingest, the file and the voice know.

// TrackStats is a live view of one track for a status line.
type TrackStats struct {
	ID, Identity, Name string
	Active             bool
	// Level is the RMS level of the last 100 ms in dBFS (-inf for silence).
	Level    float64
	Received uint64 // packets written
	Lost     uint64 // packets given up after the jitter buffer's wait
	Bytes    int64
}

// Stats is a live view of the whole recording.
type Stats struct {
	Elapsed  time.Duration
	Tracks   []TrackStats
	Bytes    int64
	Speakers int
}

// Speakers is the number of tracks a source feeds right now.
func (r *Recorder) Speakers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, t := range r.tracks {
		t.mu.Lock()
		if t.in.active {
			n++
		}
		t.mu.Unlock()
	}
	return n
}

// Stats is a snapshot for a status line.
func (r *Recorder) Stats() Stats {
	st := Stats{Elapsed: r.now().Sub(r.clock.start)}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tracks {
		t.mu.Lock()
		f := t.file
		if f == nil { // not recorded: not shown
			t.mu.Unlock()
			continue
		}
		ts := TrackStats{ID: f.id, Identity: t.identity, Active: t.in.active, Level: t.voice.level,
			Received: f.received, Lost: f.lost, Bytes: f.bytes}
		t.mu.Unlock()
		ts.Name = r.roster.name(t.identity)
		if ts.Active {
			st.Speakers++
		}
		st.Bytes += ts.Bytes
		st.Tracks = append(st.Tracks, ts)
	}
	return st
}
