package capture

import (
	"slices"

	"github.com/spacecast/spacecast/pkg/session"
)

// roster is who is and was in the room: each person's name and presence on the session clock, in
// order of first appearance. No lock: the Recorder's lock serialises it.
type roster struct {
	people map[string]*person
	order  []string // identities in order of first appearance
}

type person struct {
	p        Participant
	presence []session.Interval
	in       bool
}

func newRoster() roster { return roster{people: map[string]*person{}} }

// add makes p known, or updates their display name when p has one; first says they are new.
func (ro *roster) add(p Participant) (first bool) {
	ps := ro.people[p.Identity]
	if ps == nil {
		ps = &person{p: p}
		ro.people[p.Identity] = ps
		ro.order = append(ro.order, p.Identity)
		first = true
	}
	if p.Name != "" {
		ps.p.Name = p.Name
	}
	return first
}

// enter says identity (added before) is in the room from session tick now; false when they already were.
func (ro *roster) enter(identity string, now int64) bool {
	ps := ro.people[identity]
	if ps == nil || ps.in {
		return false
	}
	ps.in = true
	ps.presence = append(ps.presence, session.Interval{StartTicks: now, EndTicks: now})
	return true
}

// leave says identity left the room at session tick now; false when they were not in it.
func (ro *roster) leave(identity string, now int64) bool {
	ps := ro.people[identity]
	if ps == nil || !ps.in {
		return false
	}
	ps.in = false
	ps.presence[len(ps.presence)-1].EndTicks = now
	return true
}

// leaveAll ends everyone's presence at session tick now (the recording ends).
func (ro *roster) leaveAll(now int64) {
	for _, id := range ro.order {
		ro.leave(id, now)
	}
}

// in says whether identity is in the room.
func (ro *roster) in(identity string) bool {
	ps := ro.people[identity]
	return ps != nil && ps.in
}

// name is identity's display name ("" when unknown).
func (ro *roster) name(identity string) string {
	if ps := ro.people[identity]; ps != nil {
		return ps.p.Name
	}
	return ""
}

// seen lists the identities that appeared so far, in order.
func (ro *roster) seen() []string { return slices.Clone(ro.order) }

// participants appends everyone to dst for the manifest, as of session tick now: the presence of
// someone still in the room runs to now.
func (ro *roster) participants(dst []session.Participant, now int64) []session.Participant {
	for _, id := range ro.order {
		ps := ro.people[id]
		pres := append([]session.Interval(nil), ps.presence...)
		if ps.in && len(pres) > 0 {
			pres[len(pres)-1].EndTicks = now
		}
		dst = append(dst, session.Participant{Identity: id, Name: ps.p.Name, Presence: pres})
	}
	return dst
}
