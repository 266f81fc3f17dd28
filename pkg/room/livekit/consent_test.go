package livekit

import (
	"testing"

	lkp "github.com/livekit/protocol/livekit"
)

// TestConsentChange: which attribute updates deliver a consent signal, and which.
func TestConsentChange(t *testing.T) {
	info := func(attrs map[string]string) *lkp.ParticipantInfo { return &lkp.ParticipantInfo{Attributes: attrs} }
	yes := map[string]string{ConsentAttribute: "yes"}
	cases := []struct {
		name      string
		prev, cur *lkp.ParticipantInfo
		given     bool
		changed   bool
	}{
		{"a newcomer saying yes consents", nil, info(yes), true, true},
		{"a newcomer without the attribute is delivered as not consenting (a no-op for the recorder)", nil, info(nil), false, true},
		{"yes set later gives consent", info(nil), info(yes), true, true},
		{"yes repeated changes nothing", info(yes), info(yes), true, false},
		{"another attribute changing changes nothing", info(yes), info(map[string]string{ConsentAttribute: "yes", "x": "1"}), true, false},
		{"removing the attribute withdraws", info(yes), info(nil), false, true},
		{"any other value withdraws", info(yes), info(map[string]string{ConsentAttribute: "no"}), false, true},
		{"Yes in capitals is not yes", info(nil), info(map[string]string{ConsentAttribute: "Yes"}), false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			given, reason, changed := consentChange(c.prev, c.cur)
			if given != c.given || changed != c.changed {
				t.Errorf("given %v changed %v (%s), want %v %v", given, changed, reason, c.given, c.changed)
			}
			if reason == "" {
				t.Error("no reason")
			}
		})
	}
}
