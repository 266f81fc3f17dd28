// Package ui shows what a command is doing, behind printer interfaces with text, JSON and quiet
// versions: a recording's events, live status line and summary (RecordPrinter), and the progress
// of long jobs (Progress).
package ui

import (
	"encoding/json"
	"io"
	"time"

	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/pkg/capture"
)

// RecordPrinter shows a recording as it runs and when it ends. Its methods may be called from
// several goroutines.
type RecordPrinter interface {
	// Event shows one event of the room or the recorder.
	Event(e capture.Event)
	// Update redraws the status line from a snapshot of the recording writing dir.
	Update(st capture.Stats, dir string)
	// Clear removes the status line.
	Clear()
	// Summary shows what the recording did.
	Summary(s RecordSummary)
}

var (
	_ RecordPrinter = (*Text)(nil)
	_ RecordPrinter = (*JSON)(nil)
	_ RecordPrinter = Quiet{}
)

// RecordSummary is what a recording did; as JSON it is the last line 'spacecast record --json'
// prints.
type RecordSummary struct {
	Session string `json:"session"`
	Reason  string `json:"reason"`
	// Duration is Elapsed in seconds.
	Duration float64       `json:"duration"`
	Bytes    int64         `json:"bytes"`
	Tracks   []RecordTrack `json:"tracks"`
	// NeverSeen are identities the user named that never appeared in the room (a typo?).
	NeverSeen []NeverSeen `json:"never_seen,omitempty"`
	Error     string      `json:"error,omitempty"`

	Elapsed time.Duration `json:"-"`
	// Finalized says the session is complete: the text version says what to do next.
	Finalized bool `json:"-"`
}

// RecordTrack is one track of a RecordSummary.
type RecordTrack struct {
	ID       string `json:"id"`
	Identity string `json:"identity"`
	Name     string `json:"name,omitempty"`
	Packets  uint64 `json:"packets"`
	Lost     uint64 `json:"lost"`
}

// NeverSeen is an identity given with Flag that never appeared in the room.
type NeverSeen struct {
	Flag     string `json:"flag"`
	Identity string `json:"identity"`
}

// Quiet shows nothing.
type Quiet struct{}

func (Quiet) Event(capture.Event)          {}
func (Quiet) Update(capture.Stats, string) {}
func (Quiet) Clear()                       {}
func (Quiet) Summary(RecordSummary)        {}

// WriteJSONLine writes v as one line of JSON. Names come from rooms: safetext.JSON escapes what
// encoding/json leaves raw.
func WriteJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		w.Write(append(safetext.JSON(b), '\n'))
	}
}
