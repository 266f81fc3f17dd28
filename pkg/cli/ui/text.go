package ui

import (
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/text/width"

	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/session"
)

// Text prints the notable events as lines on stderr, the status line over them when stderr is a
// terminal, and the summary on stdout.
type Text struct {
	mu       sync.Mutex
	stdout   io.Writer
	stderr   io.Writer
	terminal bool
	drawn    bool
	heard    map[string]heard // per track: packets written, and when that count last grew
	// behind is when uploads to the bucket started failing (zero: they do not), for the status line.
	behind time.Time
}

// NewText prints to stdout and stderr; terminal says stderr is a terminal, which turns the status
// line on.
func NewText(stdout, stderr io.Writer, terminal bool) *Text {
	return &Text{stdout: stdout, stderr: stderr, terminal: terminal, heard: map[string]heard{}}
}

// Event prints the events a user wants to see as lines; the status line shows the rest.
func (p *Text) Event(e capture.Event) {
	var line string
	switch e.Type {
	case capture.EventJoined:
		line = "recording into " + e.Message
	case capture.EventSpeakerJoined:
		line = fmt.Sprintf("%s started speaking (%s)", nameOf(e), e.Track)
		if e.Track == "" {
			line = fmt.Sprintf("%s is on stage (not recorded)", nameOf(e))
		}
	case capture.EventSpeakerLeft:
		line = fmt.Sprintf("%s stopped (%s)", e.Identity, e.Track)
	case capture.EventReconnecting:
		line = "connection lost (" + e.Cause + "); reconnecting…"
	case capture.EventReconnected:
		line = fmt.Sprintf("reconnected after %.1f s", e.Duration)
	case capture.EventGap:
		line = fmt.Sprintf("gap of %.1f s at %s (%s) recorded in the manifest", e.Duration, Clock(e.At), e.Cause)
	case capture.EventPaused, capture.EventResumed:
		line = "recording " + string(e.Type) + " (" + e.Cause + ")"
	case capture.EventConsentGiven, capture.EventConsentWithdrawn, capture.EventRecording, capture.EventNotRecording, capture.EventExcluded:
		line = fmt.Sprintf("%s: %s (%s)", e.Identity, strings.ReplaceAll(string(e.Type), "-", " "), reasonText(e.Cause))
	case capture.EventError:
		line = "error: " + e.Message
	case EventUploadBehind:
		line = "upload to " + e.Cause + " is behind: " + e.Message + "; recording goes on into the spool, retrying"
	case EventUploadCaughtUp:
		line = fmt.Sprintf("upload to %s caught up after %.1f s", e.Cause, e.Duration)
	case EventUploading:
		line = "uploading " + e.Message
	case EventUploaded:
		line = "uploaded to " + e.Cause + ": " + e.Message
	default:
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Type {
	case EventUploadBehind:
		p.behind = e.Time
		if p.behind.IsZero() {
			p.behind = time.Now()
		}
	case EventUploadCaughtUp:
		p.behind = time.Time{}
	}
	erase := "" // on a terminal, the line goes over the status line
	if p.terminal {
		erase = "\r\033[K"
	}
	// Names and causes come from the room: control characters in them must not drive the terminal.
	fmt.Fprintf(p.stderr, "%s%s %s\n", erase, Clock(e.At), safetext.TermN(line, safetext.MaxText))
}

// reasonText says a consent decision's reason in the words the user gave it: the ledger keeps
// codes of its own (session.Reason*), the terminal names the flag or the policy behind each.
func reasonText(cause string) string {
	switch cause {
	case session.ReasonAllowList:
		return "--allow"
	case session.ReasonExcludeList:
		return "--exclude"
	case session.ReasonPolicyAnnounced:
		return "policy announced"
	case session.ReasonPolicyAssume:
		return "policy assume"
	case session.ReasonConsentGiven:
		return "consent given"
	case session.ReasonNoConsent:
		return "opt-in: no consent"
	}
	return cause
}

func nameOf(e capture.Event) string {
	if e.Name != "" && e.Name != e.Identity {
		return fmt.Sprintf("%s (%s)", e.Name, e.Identity)
	}
	return e.Identity
}

// Clock shows a session time in seconds as [HH:MM:SS].
func Clock(s float64) string {
	d := time.Duration(s * float64(time.Second)).Truncate(time.Second)
	return fmt.Sprintf("[%02d:%02d:%02d]", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

type heard struct {
	packets uint64
	at      time.Time
}

// staleLevel is how long a track may get no packet before its meter shows silence: its level is
// only updated by packets, so a speaker who stops sending (mute, a pause without DTX) would
// otherwise keep their last level.
const staleLevel = 750 * time.Millisecond

// Update draws the live status line on a terminal: elapsed, speakers with level meters, loss,
// bytes on disk.
func (p *Text) Update(st capture.Stats, dir string) {
	if !p.terminal {
		return
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	var (
		recv, lost uint64
		speakers   []statusSpeaker
	)
	for _, t := range st.Tracks {
		recv += t.Received
		lost += t.Lost
		h := p.heard[t.ID]
		if t.Received != h.packets || h.at.IsZero() {
			h = heard{packets: t.Received, at: now}
			p.heard[t.ID] = h
		}
		if !t.Active {
			continue
		}
		level := t.Level
		if now.Sub(h.at) > staleLevel {
			level = math.Inf(-1)
		}
		speakers = append(speakers, statusSpeaker{name: safetext.Term(t.Identity), meter: meter(level)})
	}
	var tail string
	if recv > 0 {
		tail = fmt.Sprintf("  loss %.1f%%", 100*float64(lost)/float64(recv+lost))
	}
	tail += fmt.Sprintf("  %.1f MiB", float64(DiskBytes(dir))/(1<<20))
	if !p.behind.IsZero() {
		tail += fmt.Sprintf("  upload behind %s", now.Sub(p.behind).Truncate(time.Second))
	}
	// The last column stays free: a line that fills it leaves some terminals waiting to wrap.
	line := fitStatus("⏺ REC "+Clock(st.Elapsed.Seconds()), speakers, tail, terminalWidth(p.stderr)-1)
	fmt.Fprintf(p.stderr, "\r\033[K%s", line)
	p.drawn = true
}

// Clear removes the status line.
func (p *Text) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *Text) clearLocked() {
	if p.drawn {
		fmt.Fprint(p.stderr, "\r\033[K")
		p.drawn = false
	}
}

// Summary prints what the recording did and, when the session is complete, what to do next.
func (p *Text) Summary(s RecordSummary) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintf(p.stdout, "recorded %s into %s (%s): %d track(s)\n", s.Elapsed.Truncate(time.Second), s.Session, s.Reason, len(s.Tracks))
	for _, t := range s.Tracks {
		fmt.Fprintf(p.stdout, "  %-4s %-24s %7d packets, %d lost\n", safetext.Term(t.ID), safetext.Term(t.Identity), t.Packets, t.Lost)
	}
	for _, n := range s.NeverSeen {
		fmt.Fprintf(p.stdout, "  note: %s %s never appeared in the room (check the spelling of the identity)\n", n.Flag, safetext.Term(n.Identity))
	}
	if s.Finalized { // a session in a bucket too: mix reads it where it lies
		fmt.Fprintf(p.stdout, "next: spacecast mix %s -o episode.mp3\n", s.Session)
	}
}

type statusSpeaker struct{ name, meter string }

// statusNameCols is how far a speaker's name is shortened when the line does not fit.
const statusNameCols = 12

// fitStatus joins head, the speakers and tail in at most width columns: names are shortened when
// the line is too long, and the speakers that still do not fit are counted as "+N". head and tail
// are always shown (cut only on a terminal too narrow for them).
func fitStatus(head string, speakers []statusSpeaker, tail string, width int) string {
	part := func(sp statusSpeaker, short bool) string {
		name := sp.name
		if short && displayWidth(name) > statusNameCols {
			name = cutToWidth(name, statusNameCols-1) + "~"
		}
		return "  " + name + " " + sp.meter
	}
	build := func(n int, short bool) string {
		var b strings.Builder
		b.WriteString(head)
		for _, sp := range speakers[:n] {
			b.WriteString(part(sp, short))
		}
		if n < len(speakers) {
			fmt.Fprintf(&b, "  +%d", len(speakers)-n)
		}
		b.WriteString(tail)
		return b.String()
	}
	if line := build(len(speakers), false); displayWidth(line) <= width {
		return line
	}
	for n := len(speakers); n >= 0; n-- {
		if line := build(n, true); displayWidth(line) <= width {
			return line
		}
	}
	return cutToWidth(build(0, true), width)
}

// terminalWidth is the width in columns of the terminal w is, or 80.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return 80
}

// displayWidth is how many columns s takes on a terminal: East Asian wide and fullwidth runes take two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// cutToWidth returns the longest prefix of s that takes at most cols columns.
func cutToWidth(s string, cols int) string {
	n := 0
	for i, r := range s {
		if n += runeWidth(r); n > cols {
			return s[:i]
		}
	}
	return s
}

// meter draws a level in dBFS as five blocks from -60 to 0.
func meter(db float64) string {
	if math.IsNaN(db) || math.IsInf(db, -1) {
		db = -100
	}
	n := int(math.Round((db + 60) / 12))
	n = max(0, min(5, n))
	return strings.Repeat("▮", n) + strings.Repeat("▯", 5-n)
}

// DiskBytes is how many bytes the files under dir take.
func DiskBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
