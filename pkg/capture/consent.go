package capture

import (
	"fmt"
	"time"

	"github.com/spacecast/spacecast/pkg/session"
)

// Consent policies (session.Consent.Policy).
const (
	PolicyAnnounced = "announced"
	PolicyAssume    = "assume"
	PolicyOptIn     = "opt-in"
)

// gate decides per identity whether their audio is recorded, and keeps the consent ledger: every
// decision, with its reason (a session.Reason* code, or the caller's own words), and the events
// still to tell the observer. No lock: the Recorder's lock serialises it.
type gate struct {
	policy  string
	allow   map[string]bool
	exclude map[string]bool
	given   map[string]bool // identity → their own signal says yes
	seen    map[string]bool // identity → their first appearance is in the ledger
	paused  bool
	endGap  func() // ends the room-wide "paused" gap
	ledger  []session.ConsentEvent
	pending []Event // ledger events not yet emitted
}

// stamp is when a ledger entry happens, on both clocks.
type stamp struct {
	t     time.Time
	ticks int64
}

func newGate(c session.Consent) (*gate, error) {
	g := &gate{policy: c.Policy, allow: map[string]bool{}, exclude: map[string]bool{}, given: map[string]bool{},
		seen: map[string]bool{}, ledger: []session.ConsentEvent{}}
	switch g.policy {
	case "":
		g.policy = PolicyAnnounced
	case PolicyAnnounced, PolicyAssume, PolicyOptIn:
	default:
		return nil, fmt.Errorf("capture: %w: %q (use announced, assume or opt-in)", ErrPolicy, c.Policy)
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

// wants says whether identity is recorded now.
func (g *gate) wants(identity string) bool { return !g.paused && g.allowed(identity) }

// offCause is the gap cause of a track not recorded now.
func (g *gate) offCause() string {
	if g.paused {
		return "paused"
	}
	return "not-recording"
}

// why is the reason identity is (or is not) recorded, for the ledger.
func (g *gate) why(identity string) string {
	switch {
	case g.exclude[identity]:
		return session.ReasonExcludeList
	case g.policy == PolicyAnnounced:
		return session.ReasonPolicyAnnounced
	case g.policy == PolicyAssume:
		return session.ReasonPolicyAssume
	case g.allow[identity]:
		return session.ReasonAllowList
	case g.given[identity]:
		return session.ReasonConsentGiven
	default:
		return session.ReasonNoConsent
	}
}

// note appends an entry to the ledger and queues its event.
func (g *gate) note(at stamp, identity, typ, reason string) {
	g.ledger = append(g.ledger, session.ConsentEvent{
		Identity: identity, Type: typ, AtTicks: at.ticks, Time: at.t.UTC().Truncate(time.Millisecond), Reason: reason,
	})
	g.pending = append(g.pending, Event{Type: EventKind(typ), Identity: identity, Time: at.t, Cause: reason})
}

// takeEvents returns the queued events and forgets them.
func (g *gate) takeEvents() []Event {
	p := g.pending
	g.pending = nil
	return p
}

// firstSeen writes the ledger entry of a person who just appeared: recorded or not, and why.
func (g *gate) firstSeen(at stamp, identity string) {
	if g.seen[identity] {
		return
	}
	g.seen[identity] = true
	switch {
	case g.exclude[identity]:
		g.note(at, identity, session.ConsentExcluded, session.ReasonExcludeList)
	case g.allowed(identity):
		g.note(at, identity, session.ConsentRecording, g.why(identity))
	default:
		g.note(at, identity, session.ConsentNotRecording, g.why(identity))
	}
}

// setConsent takes identity's own signal; false when it repeats their current state.
func (g *gate) setConsent(at stamp, identity string, given bool, reason string) bool {
	if g.given[identity] == given {
		return false
	}
	before := g.allowed(identity)
	g.given[identity] = given
	if given {
		g.note(at, identity, session.ConsentGiven, reason)
	} else {
		g.note(at, identity, session.ConsentWithdrawn, reason)
	}
	if !g.seen[identity] {
		g.firstSeen(at, identity)
	} else if after := g.allowed(identity); after != before {
		if after {
			g.note(at, identity, session.ConsentRecording, reason)
		} else {
			g.note(at, identity, session.ConsentNotRecording, reason)
		}
	}
	return true
}

// pause stops everyone's recording; false when it already was.
func (g *gate) pause(at stamp, reason string) bool {
	if g.paused {
		return false
	}
	g.paused = true
	g.note(at, "", session.ConsentPaused, reason)
	return true
}

// resume ends a pause and returns the function that ends its gap; false when it was not paused.
func (g *gate) resume(at stamp, reason string) (endGap func(), ok bool) {
	if !g.paused {
		return nil, false
	}
	g.paused = false
	endGap, g.endGap = g.endGap, nil
	g.note(at, "", session.ConsentResumed, reason)
	return endGap, true
}
