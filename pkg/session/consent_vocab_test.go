package session

import "testing"

// TestConsentReason: a ledger reason reads as the same code whichever version wrote it.
func TestConsentReason(t *testing.T) {
	cases := []struct {
		why, reason, want string
	}{
		{"an exclusion written as the flag's spelling reads as its code", "--exclude", ReasonExcludeList},
		{"an allowance written as the flag's spelling reads as its code", "--allow", ReasonAllowList},
		{"the announced policy's old phrase reads as its code", "policy announced", ReasonPolicyAnnounced},
		{"the assume policy's old phrase reads as its code", "policy assume", ReasonPolicyAssume},
		{"consent before the first appearance reads as its code", "consent given", ReasonConsentGiven},
		{"no consent under opt-in reads as its code", "opt-in: no consent", ReasonNoConsent},
		{"a code is its own code", ReasonExcludeList, ReasonExcludeList},
		{"free text from the room stays as it is", "attribute spacecast.consent=yes", "attribute spacecast.consent=yes"},
		{"free text from the operator stays as it is", "SIGUSR1", "SIGUSR1"},
		{"an empty reason stays empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			if got := ConsentReason(c.reason); got != c.want {
				t.Errorf("ConsentReason(%q) = %q, want %q", c.reason, got, c.want)
			}
			if got := (ConsentEvent{Reason: c.reason}).ReasonCode(); got != c.want {
				t.Errorf("ReasonCode of %q = %q, want %q", c.reason, got, c.want)
			}
		})
	}
}

// TestConsentReasonCodesAreDistinct: no two codes are spelled alike, and none is an old spelling.
func TestConsentReasonCodesAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range []string{ReasonPolicyAnnounced, ReasonPolicyAssume, ReasonAllowList, ReasonExcludeList,
		ReasonConsentGiven, ReasonNoConsent} {
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
		if _, old := legacyReasons[c]; old {
			t.Errorf("code %q is also an old spelling", c)
		}
	}
}
