package ui

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// TermProgress draws one self-rewriting status line on a terminal, at most ten times a second.
// It implements studio.Progress. Where stderr is not a terminal, or the user asked for quiet or
// JSON output, commands use NoProgress instead, so pipes and logs stay clean.
type TermProgress struct {
	w       io.Writer
	command string

	mu    sync.Mutex
	stage string
	total int64
	done  int64
	rate  int
	last  time.Time
	drawn bool
}

// Progress is how a long job (the studio's mix, clip, trim, inspect) reports its work:
// studio.Progress plus Finish, which removes the line.
type Progress interface {
	Stage(name string, totalFrames int64, rate int)
	Advance(frames int64)
	Finish()
}

var (
	_ Progress = (*TermProgress)(nil)
	_ Progress = NoProgress{}
)

// NewTermProgress draws command's progress on the terminal w.
func NewTermProgress(w io.Writer, command string) *TermProgress {
	return &TermProgress{w: w, command: command}
}

func (p *TermProgress) Stage(name string, totalFrames int64, rate int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stage, p.total, p.done, p.rate = name, totalFrames, 0, rate
	p.drawLocked(true)
}

func (p *TermProgress) Advance(frames int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += frames
	p.drawLocked(false)
}

func (p *TermProgress) drawLocked(force bool) {
	now := time.Now()
	if !force && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	line := fmt.Sprintf("%s: %s", p.command, p.stage)
	if p.rate > 0 {
		pos := time.Duration(float64(p.done) / float64(p.rate) * float64(time.Second)).Truncate(time.Second)
		if p.total > 0 {
			end := time.Duration(float64(p.total) / float64(p.rate) * float64(time.Second)).Truncate(time.Second)
			line += fmt.Sprintf(" %3.0f%% (%s of %s)", 100*float64(p.done)/float64(p.total), pos, end)
		} else {
			line += fmt.Sprintf(" %s", pos)
		}
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.drawn = true
}

func (p *TermProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// NoProgress shows nothing.
type NoProgress struct{}

func (NoProgress) Stage(string, int64, int) {}
func (NoProgress) Advance(int64)            {}
func (NoProgress) Finish()                  {}
