package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// termProgress draws one self-rewriting status line on a terminal, at most ten times a second.
// It implements studio.Progress. When stderr is not a terminal, or with --quiet or --json, the
// command uses nopProgress instead, so pipes and logs stay clean.
type termProgress struct {
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

func newProgress(g *globalOptions, command string) progress {
	if g.quiet || g.json || !g.isTerminal {
		return nopProgress{}
	}
	return &termProgress{w: g.stderr, command: command}
}

// progress is what commands report work through; studio.Progress plus Finish.
type progress interface {
	Stage(name string, totalFrames int64, rate int)
	Advance(frames int64)
	Finish()
}

func (p *termProgress) Stage(name string, totalFrames int64, rate int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stage, p.total, p.done, p.rate = name, totalFrames, 0, rate
	p.drawLocked(true)
}

func (p *termProgress) Advance(frames int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += frames
	p.drawLocked(false)
}

func (p *termProgress) drawLocked(force bool) {
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

func (p *termProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

type nopProgress struct{}

func (nopProgress) Stage(string, int64, int) {}
func (nopProgress) Advance(int64)            {}
func (nopProgress) Finish()                  {}
