package ui

import (
	"io"
	"sync"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
)

// JSON prints events and the summary as JSON lines on stdout; there is no status line.
type JSON struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSON prints to stdout.
func NewJSON(stdout io.Writer) *JSON { return &JSON{w: stdout} }

// Event writes e as a line.
func (p *JSON) Event(e capture.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	WriteJSONLine(p.w, e)
}

func (p *JSON) Update(capture.Stats, string) {}
func (p *JSON) Clear()                       {}

// Summary writes s as a line.
func (p *JSON) Summary(s RecordSummary) {
	p.mu.Lock()
	defer p.mu.Unlock()
	WriteJSONLine(p.w, s)
}
