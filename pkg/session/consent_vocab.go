package session

// The consent ledger's vocabulary (Consent.Events): the event types, and the reason codes the
// recorder writes for its own decisions. The codes are the on-disk format: they name what
// happened, never how a command line or a room spelled it, and they do not change once written.
//
// A reason that is not one of the codes below is free text from whoever caused the event: the
// room's signal ("attribute spacecast.consent=yes"), the operator's channel ("SIGUSR1",
// "control socket"), an edit ("redact"). Readers show it as it is.

// Consent ledger event types (ConsentEvent.Type). Readers must accept types they do not know.
const (
	ConsentRecording    = "recording"         // the person's audio is recorded from here
	ConsentNotRecording = "not-recording"     // it is not, from here
	ConsentExcluded     = "excluded"          // never recorded: on the session's exclude list
	ConsentGiven        = "consent-given"     // the person's own signal says yes
	ConsentWithdrawn    = "consent-withdrawn" // and no longer
	ConsentPaused       = "paused"            // nobody is recorded from here (Identity empty)
	ConsentResumed      = "resumed"           // the pause ends (Identity empty)
	ConsentRedacted     = "redacted"          // a stretch of the person's audio was removed later
)

// Reason codes the recorder writes for its own decisions (ConsentEvent.Reason).
const (
	// ReasonPolicyAnnounced: recorded because the policy is "announced" (everyone on stage).
	ReasonPolicyAnnounced = "policy-announced"
	// ReasonPolicyAssume: recorded because the policy is "assume".
	ReasonPolicyAssume = "policy-assume"
	// ReasonAllowList: recorded under "opt-in" because the identity is in Consent.Allow.
	ReasonAllowList = "allow-list"
	// ReasonExcludeList: never recorded because the identity is in Consent.Exclude.
	ReasonExcludeList = "exclude-list"
	// ReasonConsentGiven: recorded under "opt-in" from their first appearance, because they
	// signalled consent before it.
	ReasonConsentGiven = "consent-given"
	// ReasonNoConsent: not recorded under "opt-in": not allowed and no consent signalled.
	ReasonNoConsent = "no-consent"
)

// legacyReasons maps the reasons earlier versions wrote (flag spellings and phrases, until the
// ledger had codes of its own) to the codes that replaced them.
var legacyReasons = map[string]string{
	"policy announced":   ReasonPolicyAnnounced,
	"policy assume":      ReasonPolicyAssume,
	"--allow":            ReasonAllowList,
	"--exclude":          ReasonExcludeList,
	"consent given":      ReasonConsentGiven,
	"opt-in: no consent": ReasonNoConsent,
}

// ConsentReason returns the reason code for a ledger reason as any version wrote it: a reason an
// earlier version wrote in its own spelling ("--exclude") becomes its code ("exclude-list"); any
// other reason (a code, or free text) is returned as it is. Readers call it on what they read; the
// manifest itself is never rewritten (its bytes are sealed).
func ConsentReason(reason string) string {
	if code, ok := legacyReasons[reason]; ok {
		return code
	}
	return reason
}

// ReasonCode is e.Reason as a reason code (ConsentReason): the same for sessions of every version.
func (e ConsentEvent) ReasonCode() string { return ConsentReason(e.Reason) }
