package studio_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spacecast/spacecast/pkg/session"
	"github.com/spacecast/spacecast/pkg/studio"
)

// v1Consent is a session recorded and sealed by the recorder before the consent ledger had reason
// codes of its own: its ledger's reasons are the flag spellings of the time ("--allow",
// "--exclude", "opt-in: no consent"). Opt-in, alice allowed, bob excluded, carol consenting at 1 s,
// a pause from 2 to 2.3 s; 3 s.
var v1Consent = filepath.Join("..", "..", "testdata", "sessions", "v1-consent")

// TestV1ConsentSessionReadsVerifiesAndMixes: a session written by an earlier version still opens,
// verifies against its seal (its manifest's bytes untouched by reading), shows its ledger's old
// reasons as today's codes, and mixes, with bob, excluded, nowhere in it.
func TestV1ConsentSessionReadsVerifiesAndMixes(t *testing.T) {
	before, err := os.ReadFile(filepath.Join(v1Consent, session.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.Open(v1Consent)
	if err != nil {
		t.Fatalf("the v1 session does not open: %v", err)
	}
	m := s.Manifest
	if m.Version != 1 || m.Consent == nil || m.Consent.Policy != "opt-in" {
		t.Fatalf("version %d, consent %+v: not the v1 opt-in session", m.Version, m.Consent)
	}

	// The ledger, as a reader shows it: old spellings become codes, free text stays.
	want := []struct{ identity, typ, reason string }{
		{"alice", session.ConsentRecording, session.ReasonAllowList},
		{"bob", session.ConsentExcluded, session.ReasonExcludeList},
		{"carol", session.ConsentNotRecording, session.ReasonNoConsent},
		{"carol", session.ConsentGiven, "attribute spacecast.consent=yes"},
		{"carol", session.ConsentRecording, "attribute spacecast.consent=yes"},
		{"", session.ConsentPaused, "SIGUSR1"},
		{"", session.ConsentResumed, "control socket"},
	}
	if len(m.Consent.Events) != len(want) {
		t.Fatalf("%d ledger events, want %d: %+v", len(m.Consent.Events), len(want), m.Consent.Events)
	}
	for i, e := range m.Consent.Events {
		w := want[i]
		if e.Identity != w.identity || e.Type != w.typ || e.ReasonCode() != w.reason {
			t.Errorf("ledger event %d: %q %q reason %q (read as %q), want %q %q %q",
				i, e.Identity, e.Type, e.Reason, e.ReasonCode(), w.identity, w.typ, w.reason)
		}
	}

	check := func(when string) {
		rep, err := session.Verify(v1Consent, nil)
		if err != nil {
			t.Fatalf("%s: verify: %v", when, err)
		}
		if !rep.OK || !rep.Sealed || rep.Files != 3 {
			t.Errorf("%s: verify %+v, want sealed, 3 files, OK", when, rep)
		}
	}
	check("before mixing")

	opts := studio.DefaultMixOptions()
	opts.Inputs = []string{v1Consent}
	opts.Output = filepath.Join(t.TempDir(), "v1.wav")
	res, err := studio.Mix(context.Background(), opts, nil)
	if err != nil {
		t.Fatalf("the v1 session does not mix: %v", err)
	}
	var ids []string
	for _, sp := range res.Speakers {
		ids = append(ids, sp.Identity)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"alice", "carol"}) {
		t.Errorf("speakers mixed %v, want alice and carol (bob was excluded)", ids)
	}
	if fi, err := os.Stat(opts.Output); err != nil || fi.Size() < 44+48000*2 {
		t.Errorf("mix output: %v, %v", fi, err)
	}

	check("after mixing")
	after, err := os.ReadFile(filepath.Join(v1Consent, session.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Error("reading and mixing the session rewrote its manifest")
	}
}
