package capture

import (
	"slices"
	"testing"

	"github.com/spacecast/spacecast/pkg/session"
)

// TestRoster: presence as people come and go, in order of first appearance.
func TestRoster(t *testing.T) {
	type step struct {
		op   string // "join" or "leave"
		who  string
		name string
		at   int64
		want bool // what join (entered) or leave reports
	}
	cases := []struct {
		why   string
		steps []step
		now   int64
		want  []session.Participant
	}{
		{"someone still in the room is present until now", []step{{"join", "ann", "Ann", 10, true}}, 50,
			[]session.Participant{{Identity: "ann", Name: "Ann", Presence: []session.Interval{{StartTicks: 10, EndTicks: 50}}}}},
		{"leaving ends the interval, coming back starts another", []step{
			{"join", "ann", "", 0, true}, {"leave", "ann", "", 20, true}, {"join", "ann", "", 30, true}, {"leave", "ann", "", 40, true}}, 50,
			[]session.Participant{{Identity: "ann", Presence: []session.Interval{{StartTicks: 0, EndTicks: 20}, {StartTicks: 30, EndTicks: 40}}}}},
		{"a second join while in the room changes nothing but the name", []step{
			{"join", "ann", "", 0, true}, {"join", "ann", "Ann B.", 5, false}}, 9,
			[]session.Participant{{Identity: "ann", Name: "Ann B.", Presence: []session.Interval{{StartTicks: 0, EndTicks: 9}}}}},
		{"leaving without being in the room changes nothing", []step{{"leave", "ann", "", 5, false}}, 9, []session.Participant{}},
		{"people are listed in order of first appearance", []step{
			{"join", "bob", "", 0, true}, {"join", "ann", "", 1, true}, {"leave", "bob", "", 2, true}, {"join", "bob", "", 3, true}}, 4,
			[]session.Participant{
				{Identity: "bob", Presence: []session.Interval{{StartTicks: 0, EndTicks: 2}, {StartTicks: 3, EndTicks: 4}}},
				{Identity: "ann", Presence: []session.Interval{{StartTicks: 1, EndTicks: 4}}}}},
	}
	for _, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			ro := newRoster()
			for i, s := range c.steps {
				var got bool
				if s.op == "join" {
					ro.add(Participant{Identity: s.who, Name: s.name})
					got = ro.enter(s.who, s.at)
				} else {
					got = ro.leave(s.who, s.at)
				}
				if got != s.want {
					t.Errorf("step %d (%s %s) reported %v, want %v", i, s.op, s.who, got, s.want)
				}
			}
			got := ro.participants([]session.Participant{}, c.now)
			if !slices.EqualFunc(got, c.want, func(a, b session.Participant) bool {
				return a.Identity == b.Identity && a.Name == b.Name && slices.Equal(a.Presence, b.Presence)
			}) {
				t.Errorf("participants %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestRosterFirstAppearance: add says who is new once, leaveAll ends everyone's presence.
func TestRosterFirstAppearance(t *testing.T) {
	ro := newRoster()
	if !ro.add(Participant{Identity: "ann"}) || ro.add(Participant{Identity: "ann", Name: "Ann"}) {
		t.Error("add: want new the first time only")
	}
	ro.enter("ann", 0)
	ro.add(Participant{Identity: "bob"})
	ro.enter("bob", 5)
	ro.leaveAll(9)
	if ro.in("ann") || ro.in("bob") || ro.name("ann") != "Ann" || !slices.Equal(ro.seen(), []string{"ann", "bob"}) {
		t.Errorf("after leaveAll: in %v %v, name %q, seen %v", ro.in("ann"), ro.in("bob"), ro.name("ann"), ro.seen())
	}
	for _, p := range ro.participants(nil, 20) {
		if end := p.Presence[len(p.Presence)-1].EndTicks; end != 9 {
			t.Errorf("%s present until %d, want 9", p.Identity, end)
		}
	}
}
