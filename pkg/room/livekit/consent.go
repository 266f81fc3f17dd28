package livekit

import (
	"fmt"

	lkp "github.com/livekit/protocol/livekit"
)

// ConsentAttribute is the participant attribute by which a person consents to being recorded
// under the opt-in consent policy: the value ConsentYes gives consent, any other value (or removing the
// attribute) withdraws it.
const (
	ConsentAttribute = "spacecast.consent"
	ConsentYes       = "yes"
)

// consentChange compares a participant's consent attribute before (prev, nil at first sight)
// and now. At first sight the current state is always delivered (the recorder ignores a repeat),
// so a reconnect that missed a change still ends in the right state.
func consentChange(prev, cur *lkp.ParticipantInfo) (given bool, reason string, changed bool) {
	v, ok := cur.GetAttributes()[ConsentAttribute]
	given = ok && v == ConsentYes
	switch {
	case !ok:
		reason = "attribute " + ConsentAttribute + " removed"
		if prev == nil {
			reason = "no attribute " + ConsentAttribute
		}
	default:
		reason = fmt.Sprintf("attribute %s=%s", ConsentAttribute, v)
	}
	if prev == nil {
		return given, reason, true
	}
	pv, pok := prev.GetAttributes()[ConsentAttribute]
	return given, reason, pok != ok || pv != v
}
