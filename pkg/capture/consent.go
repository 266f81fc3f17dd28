package capture

import (
	"fmt"
	"slices"
	"time"

	"github.com/spacecast/spacecast/pkg/capture/jitter"
	"github.com/spacecast/spacecast/pkg/session"
)

// Consent policies (session.Consent.Policy).
const (
	PolicyAnnounced = "announced"
	PolicyAssume    = "assume"
	PolicyOptIn     = "opt-in"
)

// gate decides per identity whether their audio is recorded. Guarded by Recorder.mu.
type gate struct {
	policy  string
	allow   map[string]bool
	exclude map[string]bool
	given   map[string]bool // identity → their own signal says yes
	paused  bool
	endGap  func() // ends the room-wide "paused" gap
	seen    map[string]bool
}

func newGate(c session.Consent) (gate, error) {
	g := gate{policy: c.Policy, allow: map[string]bool{}, exclude: map[string]bool{}, given: map[string]bool{}, seen: map[string]bool{}}
	switch g.policy {
	case "":
		g.policy = PolicyAnnounced
	case PolicyAnnounced, PolicyAssume, PolicyOptIn:
	default:
		return g, fmt.Errorf("capture: %w: %q (use announced, assume or opt-in)", ErrPolicy, c.Policy)
	}
	for _, id := range c.Allow {
		g.allow[id] = true
	}
	for _, id := range c.Exclude {
		g.exclude[id] = true
	}
	return g, nil
}

// allowed says whether identity may be recorded, pauses aside.
func (g *gate) allowed(identity string) bool {
	if g.exclude[identity] {
		return false
	}
	if g.policy != PolicyOptIn {
		return true
	}
	return g.allow[identity] || g.given[identity]
}

// why is the reason identity is (or is not) recorded, for the ledger.
func (g *gate) why(identity string) string {
	switch {
	case g.exclude[identity]:
		return "--exclude"
	case g.policy != PolicyOptIn:
		return "policy " + g.policy
	case g.allow[identity]:
		return "--allow"
	case g.given[identity]:
		return "consent given"
	default:
		return "opt-in: no consent"
	}
}

// ledgerLocked appends an event to the consent ledger and queues it for OnEvent.
func (r *Recorder) ledgerLocked(identity, typ, reason string) {
	now := r.now()
	r.man.Consent.Events = append(r.man.Consent.Events, session.ConsentEvent{
		Identity: identity, Type: typ, AtTicks: r.ticks(now), Time: now.UTC().Truncate(time.Millisecond), Reason: reason,
	})
	r.pending = append(r.pending, Event{Type: typ, Identity: identity, Time: now, Cause: reason})
}

func (r *Recorder) takePendingLocked() []Event {
	p := r.pending
	r.pending = nil
	return p
}

func (r *Recorder) emitAll(evs []Event) {
	for _, e := range evs {
		r.emit(e)
	}
}

// firstSeenLocked writes the ledger entry of a person who just appeared: recorded or not, and why.
func (r *Recorder) firstSeenLocked(identity string) {
	if r.gate.seen[identity] {
		return
	}
	r.gate.seen[identity] = true
	switch {
	case r.gate.exclude[identity]:
		r.ledgerLocked(identity, "excluded", "--exclude")
	case r.gate.allowed(identity):
		r.ledgerLocked(identity, "recording", r.gate.why(identity))
	default:
		r.ledgerLocked(identity, "not-recording", r.gate.why(identity))
	}
}

// Seen lists the identities that appeared in the room so far (joined or spoke), in order.
func (r *Recorder) Seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.order)
}

// SetConsent takes a person's own signal: given true from the moment they consent, false from
// the moment they withdraw. Under "opt-in" it starts or stops their recording; under the other
// policies it is only written to the ledger. A repeat of the current state changes nothing.
func (r *Recorder) SetConsent(identity string, given bool, reason string) {
	r.mu.Lock()
	if r.closed || r.gate.given[identity] == given {
		r.mu.Unlock()
		return
	}
	before := r.gate.allowed(identity)
	r.gate.given[identity] = given
	if given {
		r.ledgerLocked(identity, "consent-given", reason)
	} else {
		r.ledgerLocked(identity, "consent-withdrawn", reason)
	}
	if !r.gate.seen[identity] {
		r.firstSeenLocked(identity)
	} else if after := r.gate.allowed(identity); after != before {
		if after {
			r.ledgerLocked(identity, "recording", reason)
		} else {
			r.ledgerLocked(identity, "not-recording", reason)
		}
	}
	err := r.applyLocked()
	pending := r.takePendingLocked()
	r.mu.Unlock()
	r.emitAll(pending)
	if err != nil {
		r.fail(err)
	}
}

// Pause stops recording everyone until Resume: a "paused" gap in the session and in every track.
// It reports false when the recorder was already paused (or closed).
func (r *Recorder) Pause(reason string) bool {
	r.mu.Lock()
	if r.closed || r.gate.paused {
		r.mu.Unlock()
		return false
	}
	r.gate.paused = true
	r.ledgerLocked("", "paused", reason)
	err := r.applyLocked()
	pending := r.takePendingLocked()
	r.mu.Unlock()
	end := r.BeginGap("paused", time.Time{})
	r.mu.Lock()
	r.gate.endGap = end
	r.mu.Unlock()
	r.emitAll(pending)
	if err != nil {
		r.fail(err)
	}
	return true
}

// Resume ends a Pause. It reports false when the recorder was not paused (or closed).
func (r *Recorder) Resume(reason string) bool {
	r.mu.Lock()
	if r.closed || !r.gate.paused {
		r.mu.Unlock()
		return false
	}
	r.gate.paused = false
	end := r.gate.endGap
	r.gate.endGap = nil
	r.ledgerLocked("", "resumed", reason)
	err := r.applyLocked()
	pending := r.takePendingLocked()
	r.mu.Unlock()
	if end != nil {
		end()
	}
	r.emitAll(pending)
	if err != nil {
		r.fail(err)
	}
	return true
}

// Paused says whether the recorder is paused.
func (r *Recorder) Paused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gate.paused
}

// endPause closes a pause still running when the recorder closes: its gap runs to the end.
func (r *Recorder) endPause() {
	r.mu.Lock()
	end := r.gate.endGap
	r.gate.endGap = nil
	r.mu.Unlock()
	if end != nil {
		end()
	}
}

// applyLocked brings every track's gate in line with the consent state.
func (r *Recorder) applyLocked() error {
	var first error
	for _, t := range r.tracks {
		if err := r.gateLocked(t); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// gateLocked opens or closes one track's gate. A track recorded for the first time gets its file
// now; one that stops gets a gap ("paused" or "not-recording") until it starts again.
func (r *Recorder) gateLocked(t *track) error {
	want := !r.gate.paused && r.gate.allowed(t.identity)
	if want == t.on.Load() {
		return nil
	}
	now := r.ticks(r.now())
	if !want {
		t.on.Store(false)
		t.pmu.Lock()
		if t.tw != nil {
			t.offAt, t.offCause = now, "not-recording"
			if r.gate.paused {
				t.offCause = "paused"
			}
		}
		t.pmu.Unlock()
		return nil
	}
	if t.tw == nil {
		if err := r.openLocked(t); err != nil {
			return err
		}
	} else {
		t.pmu.Lock()
		if t.offAt >= 0 {
			t.offGaps = append(t.offGaps, session.Gap{StartTicks: t.offAt, DurationTicks: now - t.offAt, Cause: t.offCause})
			t.offAt = -1
		}
		t.fresh = true
		t.pmu.Unlock()
	}
	t.on.Store(true)
	return nil
}

// restartStreamsLocked gives every stream a new jitter buffer after a stretch that was not
// recorded: the packets dropped meanwhile are not loss, and must not be concealed (forward error
// correction would bring back audio from the stretch). The old buffers drain in the next pump.
func (t *track) restartStreamsLocked(latency time.Duration) {
	t.fresh = false
	fresh := make(map[uint32]*stream, len(t.streams))
	for ssrc, s := range t.streams {
		t.retired = append(t.retired, s)
		n := &stream{ssrc: ssrc, jb: jitter.New(jitter.WithLatency(latency)), pl: s.pl}
		n.pl.reset()
		fresh[ssrc] = n
	}
	t.streams = fresh
}

// allGapsLocked appends the track's gaps to dst in order: losses, and the stretches it was not
// recorded (one still running ends at now).
func (t *track) allGapsLocked(dst []session.Gap, now int64) []session.Gap {
	dst = append(dst, t.gaps...)
	dst = append(dst, t.offGaps...)
	if t.offAt >= 0 && now > t.offAt {
		dst = append(dst, session.Gap{StartTicks: t.offAt, DurationTicks: now - t.offAt, Cause: t.offCause})
	}
	slices.SortStableFunc(dst, func(a, b session.Gap) int { return int(min(max(a.StartTicks-b.StartTicks, -1), 1)) })
	return dst
}

// ID is the session's unique id (Manifest.ID).
func (r *Recorder) ID() string { return r.man.ID }
