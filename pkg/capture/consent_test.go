package capture

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	hopus "gopkg.in/hraban/opus.v2"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/session"
)

// consentRoom is a simulated room (like simRoom) whose speakers each hold one steady tone, so a
// decoded file shows whose audio it holds and when.
type consentRoom struct {
	*simRoom
	names []string
	pkts  [][][]byte // per speaker, 20 ms packets of their tone
}

func newConsentRoom(t *testing.T, c session.Consent, names []string, freqs []float64) *consentRoom {
	t.Helper()
	sr := &simRoom{start: time.Now(), stop: make(chan struct{})}
	now := func() time.Time { return sr.start.Add(time.Duration(sr.now.Load())) }
	rec, err := Create(Options{Dir: filepath.Join(t.TempDir(), "s"), Room: session.Room{Name: "sim", Protocol: "test"},
		Now: now, manual: true, Consent: c})
	if err != nil {
		t.Fatal(err)
	}
	sr.rec = rec
	cr := &consentRoom{simRoom: sr, names: names}
	for i, name := range names {
		enc, err := hopus.NewEncoder(48000, 1, hopus.AppAudio)
		if err != nil {
			t.Fatal(err)
		}
		enc.SetBitrate(48000)
		buf := make([]byte, 1500)
		var pkts [][]byte
		for k := range 50 { // one second, looped: 50 Hz steps keep the phase continuous
			pcm := testutil.Sine(960*(k+1), 48000, 1, freqs[i], 0.2)[960*k:]
			n, err := enc.EncodeFloat32(pcm, buf)
			if err != nil {
				t.Fatal(err)
			}
			pkts = append(pkts, append([]byte(nil), buf[:n]...))
		}
		cr.pkts = append(cr.pkts, pkts)
		blocked := func(b []byte) (int, error) { <-sr.stop; return 0, os.ErrClosed }
		if err := rec.AddTrack(Source{Participant: name, ID: name, Channels: 1, ReadRTP: blocked}); err != nil {
			t.Fatal(err)
		}
	}
	sr.tracks = rec.snapshot()
	return cr
}

// step simulates 20 ms: one packet per speaker, pumped and mixed; a sync every second.
func (cr *consentRoom) step() error {
	sr := cr.simRoom
	sr.now.Add(int64(20 * time.Millisecond))
	at := sr.rec.now()
	for i, tr := range sr.tracks {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: sr.seq, Timestamp: sr.ts,
			SSRC: uint32(i + 1)}, Payload: cr.pkts[i][int(sr.seq)%50]}
		sr.rec.push(tr, &pkt, at)
	}
	sr.seq++
	sr.ts += 960
	sr.rec.pump(at, false)
	if err := sr.rec.mixTo(at); err != nil {
		return err
	}
	if sr.seq%50 == 0 {
		return sr.rec.sync()
	}
	return nil
}

// toneLevel is the amplitude of freq in x (a Hann-windowed Goertzel).
func toneLevel(x []float32, freq float64) float64 {
	n := len(x)
	k := 2 * math.Cos(2*math.Pi*freq/48000)
	var s1, s2 float64
	for i, v := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		s := float64(v)*w + k*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return 4 * math.Sqrt(math.Max(p, 0)) / float64(n)
}

// heard decodes one file of the session and returns, per 20 ms window placed on the session
// clock (its start tick), the level of each frequency.
func heard(t *testing.T, dir string, m *session.Manifest, rel string, freqs []float64) map[int64][]float64 {
	t.Helper()
	pcm := testutil.OpusdecDecode(t, filepath.Join(dir, filepath.FromSlash(rel)))
	var tr *session.Track
	for i := range m.Tracks {
		if m.Tracks[i].File == rel {
			tr = &m.Tracks[i]
		}
	}
	out := map[int64][]float64{}
	for i := 0; i+960 <= len(pcm); i += 960 {
		at := int64(i)
		if tr != nil {
			at = tr.SessionTicks(int64(i))
		}
		var lv []float64
		for _, f := range freqs {
			lv = append(lv, toneLevel(pcm[i:i+960], f))
		}
		out[at] = lv
	}
	return out
}

// TestConsentGate records a simulated room of three speakers under opt-in: alice is allowed,
// bob is excluded, carol consents at 2 s and withdraws at 4 s, and the room is paused from 5 to
// 6 s. Every file of the session is decoded with opusdec: bob's tone is nowhere, carol's only
// inside 2–4 s, nobody's inside the pause; bob has no file; the ledger lists exactly what happened.
func TestConsentGate(t *testing.T) {
	testutil.Require(t, "opusdec")
	names := []string{"alice", "bob", "carol"}
	freqs := []float64{440, 1250, 820}
	cr := newConsentRoom(t, session.Consent{Policy: PolicyOptIn, Allow: []string{"alice"}, Exclude: []string{"bob"}}, names, freqs)
	rec := cr.rec
	for k := 1; k <= 400; k++ { // 8 s
		switch k {
		case 100:
			rec.SetConsent("carol", true, "attribute spacecast.consent=yes")
			rec.SetConsent("carol", true, "attribute spacecast.consent=yes") // a repeat changes nothing
		case 200:
			rec.SetConsent("carol", false, "attribute spacecast.consent removed")
		case 250:
			if !rec.Pause("SIGUSR1") || rec.Pause("again") {
				t.Fatal("Pause: want true, then false while paused")
			}
		case 300:
			if !rec.Resume("control socket") || rec.Resume("again") {
				t.Fatal("Resume: want true, then false when running")
			}
		}
		if err := cr.step(); err != nil {
			t.Fatal(err)
		}
	}
	cr.close(t)
	dir := rec.Dir()
	b, err := os.ReadFile(filepath.Join(dir, session.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.Parse(b)
	if err != nil {
		t.Fatal(err)
	}

	// Files: alice's and carol's tracks and the mix; nothing of bob's.
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".opus") {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(files) != 3 {
		t.Fatalf("files %v, want alice's and carol's tracks and the mix", files)
	}
	for _, f := range files {
		if strings.Contains(f, "bob") {
			t.Errorf("bob, excluded, has a file: %s", f)
		}
	}
	for _, tr := range m.Tracks {
		if tr.Participant == "bob" {
			t.Errorf("bob, excluded, has a track in the manifest: %+v", tr)
		}
	}

	const tick = session.ClockRate
	in := func(at int64, from, to float64) bool {
		return at+960 > int64(from*tick) && at < int64(to*tick)
	}
	carolHeard := 0
	aliceHeard := 0
	for _, f := range files {
		for at, lv := range heard(t, dir, m, f, freqs) {
			if lv[1] > 0.01 {
				t.Errorf("%s: bob's tone (excluded) at %.2f s, level %.3f", f, float64(at)/tick, lv[1])
			}
			if lv[2] > 0.01 && !in(at, 2-0.1, 4+0.1) {
				t.Errorf("%s: carol's tone outside her consent (2–4 s) at %.2f s, level %.3f", f, float64(at)/tick, lv[2])
			}
			if lv[2] > 0.1 && in(at, 2.2, 3.8) {
				carolHeard++
			}
			for i := range freqs {
				if lv[i] > 0.01 && in(at, 5+0.1, 6-0.1) {
					t.Errorf("%s: %s's tone inside the pause (5–6 s) at %.2f s", f, names[i], float64(at)/tick)
				}
			}
			if lv[0] > 0.1 && !in(at, 4.9, 6.1) {
				aliceHeard++
			}
		}
	}
	// Carol's track and the mix each hold her 1.6 s: 80 windows each; alice about 7 s in two files.
	if carolHeard < 150 {
		t.Errorf("carol's tone heard in %d windows inside 2.2–3.8 s, want about 160 (her track and the mix)", carolHeard)
	}
	if aliceHeard < 600 {
		t.Errorf("alice's tone heard in %d windows outside the pause, want about 700", aliceHeard)
	}

	// The ledger.
	type ev struct {
		id, typ string
		at      float64
	}
	want := []ev{
		{"alice", "recording", 0}, {"bob", "excluded", 0}, {"carol", "not-recording", 0},
		{"carol", "consent-given", 2}, {"carol", "recording", 2},
		{"carol", "consent-withdrawn", 4}, {"carol", "not-recording", 4},
		{"", "paused", 5}, {"", "resumed", 6},
	}
	if m.Consent == nil {
		t.Fatal("no consent ledger in the manifest")
	}
	if m.Consent.Policy != PolicyOptIn || len(m.Consent.Allow) != 1 || len(m.Consent.Exclude) != 1 {
		t.Errorf("ledger policy %q allow %v exclude %v", m.Consent.Policy, m.Consent.Allow, m.Consent.Exclude)
	}
	var got []ev
	for _, e := range m.Consent.Events {
		got = append(got, ev{e.Identity, e.Type, float64(e.AtTicks) / tick})
		if e.Time.IsZero() {
			t.Errorf("event %+v has no time", e)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("ledger %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].id != want[i].id || got[i].typ != want[i].typ || math.Abs(got[i].at-want[i].at) > 0.021 {
			t.Errorf("ledger event %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	// The reasons: the recorder's own decisions in the ledger's codes, the callers' in their words.
	for i, want := range []string{session.ReasonAllowList, session.ReasonExcludeList, session.ReasonNoConsent,
		"attribute spacecast.consent=yes", "attribute spacecast.consent=yes",
		"attribute spacecast.consent removed", "attribute spacecast.consent removed", "SIGUSR1", "control socket"} {
		if got := m.Consent.Events[i].Reason; got != want {
			t.Errorf("ledger event %d (%s %s): reason %q, want %q", i, m.Consent.Events[i].Identity, m.Consent.Events[i].Type, got, want)
		}
	}

	// The gaps: the pause in the session and in alice's track; carol's track from 4 s on.
	if len(m.Gaps) != 1 || m.Gaps[0].Cause != "paused" || math.Abs(float64(m.Gaps[0].StartTicks)/tick-5) > 0.021 ||
		math.Abs(float64(m.Gaps[0].DurationTicks)/tick-1) > 0.021 {
		t.Errorf("session gaps %+v, want one paused from 5 s for 1 s", m.Gaps)
	}
	for _, tr := range m.Tracks {
		want := map[string]string{"alice": "paused", "carol": "not-recording"}[tr.Participant]
		if len(tr.Gaps) != 1 || tr.Gaps[0].Cause != want {
			t.Errorf("%s's track gaps %+v, want one %q", tr.Participant, tr.Gaps, want)
		}
	}
}

// TestGateAllowed: who is recorded under each policy, pauses aside.
func TestGateAllowed(t *testing.T) {
	cases := []struct {
		name     string
		c        session.Consent
		given    []string
		identity string
		want     bool
	}{
		{"announced records everyone", session.Consent{Policy: PolicyAnnounced}, nil, "ann", true},
		{"the default policy is announced", session.Consent{}, nil, "ann", true},
		{"assume records everyone", session.Consent{Policy: PolicyAssume}, nil, "ann", true},
		{"announced never records the excluded", session.Consent{Exclude: []string{"bob"}}, nil, "bob", false},
		{"opt-in records nobody without a signal", session.Consent{Policy: PolicyOptIn}, nil, "ann", false},
		{"opt-in records the allowed", session.Consent{Policy: PolicyOptIn, Allow: []string{"ann"}}, nil, "ann", true},
		{"opt-in records who consented", session.Consent{Policy: PolicyOptIn}, []string{"ann"}, "ann", true},
		{"exclusion beats consent", session.Consent{Policy: PolicyOptIn, Exclude: []string{"ann"}}, []string{"ann"}, "ann", false},
		{"exclusion beats --allow", session.Consent{Policy: PolicyOptIn, Allow: []string{"ann"}, Exclude: []string{"ann"}}, nil, "ann", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := newGate(c.c)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range c.given {
				g.given[id] = true
			}
			if got := g.allowed(c.identity); got != c.want {
				t.Errorf("allowed(%q) = %v, want %v", c.identity, got, c.want)
			}
		})
	}
	if _, err := newGate(session.Consent{Policy: "optin"}); err == nil {
		t.Error("an unknown policy was accepted")
	}
}

// TestGateLedger: what the gate writes to the ledger, and with which reason code, as people
// appear, signal, and the room pauses.
func TestGateLedger(t *testing.T) {
	type entry struct{ identity, typ, reason string }
	cases := []struct {
		why  string
		c    session.Consent
		run  func(g *gate, at stamp)
		want []entry
	}{
		{"under announced everyone appears recorded by the policy",
			session.Consent{Policy: PolicyAnnounced}, func(g *gate, at stamp) { g.firstSeen(at, "ann") },
			[]entry{{"ann", session.ConsentRecording, session.ReasonPolicyAnnounced}}},
		{"under assume everyone appears recorded by the policy",
			session.Consent{Policy: PolicyAssume}, func(g *gate, at stamp) { g.firstSeen(at, "ann") },
			[]entry{{"ann", session.ConsentRecording, session.ReasonPolicyAssume}}},
		{"the excluded appear excluded, by the exclude list, under any policy",
			session.Consent{Policy: PolicyAssume, Exclude: []string{"bob"}}, func(g *gate, at stamp) { g.firstSeen(at, "bob") },
			[]entry{{"bob", session.ConsentExcluded, session.ReasonExcludeList}}},
		{"under opt-in the allowed appear recorded by the allow list, others not, for want of consent",
			session.Consent{Policy: PolicyOptIn, Allow: []string{"ann"}}, func(g *gate, at stamp) {
				g.firstSeen(at, "ann")
				g.firstSeen(at, "cat")
			},
			[]entry{{"ann", session.ConsentRecording, session.ReasonAllowList}, {"cat", session.ConsentNotRecording, session.ReasonNoConsent}}},
		{"a person appears once in the ledger however often they come",
			session.Consent{}, func(g *gate, at stamp) { g.firstSeen(at, "ann"); g.firstSeen(at, "ann") },
			[]entry{{"ann", session.ConsentRecording, session.ReasonPolicyAnnounced}}},
		{"consent signalled before the first appearance is why they are recorded",
			session.Consent{Policy: PolicyOptIn}, func(g *gate, at stamp) { g.setConsent(at, "cat", true, "attr") },
			[]entry{{"cat", session.ConsentGiven, "attr"}, {"cat", session.ConsentRecording, session.ReasonConsentGiven}}},
		{"under opt-in consent starts and withdrawal stops the recording, in the signal's words",
			session.Consent{Policy: PolicyOptIn}, func(g *gate, at stamp) {
				g.firstSeen(at, "cat")
				g.setConsent(at, "cat", true, "yes")
				g.setConsent(at, "cat", true, "yes again")
				g.setConsent(at, "cat", false, "no")
			},
			[]entry{{"cat", session.ConsentNotRecording, session.ReasonNoConsent}, {"cat", session.ConsentGiven, "yes"},
				{"cat", session.ConsentRecording, "yes"}, {"cat", session.ConsentWithdrawn, "no"}, {"cat", session.ConsentNotRecording, "no"}}},
		{"under announced a signal is written and changes nothing",
			session.Consent{}, func(g *gate, at stamp) { g.firstSeen(at, "ann"); g.setConsent(at, "ann", true, "yes") },
			[]entry{{"ann", session.ConsentRecording, session.ReasonPolicyAnnounced}, {"ann", session.ConsentGiven, "yes"}}},
		{"a pause and a resume are the whole room's, once each",
			session.Consent{}, func(g *gate, at stamp) {
				g.pause(at, "SIGUSR1")
				g.pause(at, "again")
				g.resume(at, "control socket")
				g.resume(at, "again")
			},
			[]entry{{"", session.ConsentPaused, "SIGUSR1"}, {"", session.ConsentResumed, "control socket"}}},
	}
	for _, c := range cases {
		t.Run(c.why, func(t *testing.T) {
			g, err := newGate(c.c)
			if err != nil {
				t.Fatal(err)
			}
			at := stamp{t: time.Unix(1_700_000_000, 0), ticks: 480}
			c.run(g, at)
			evs := g.takeEvents()
			if len(g.ledger) != len(c.want) || len(evs) != len(c.want) {
				t.Fatalf("ledger %+v (%d events), want %+v", g.ledger, len(evs), c.want)
			}
			for i, w := range c.want {
				e := g.ledger[i]
				if e.Identity != w.identity || e.Type != w.typ || e.Reason != w.reason || e.AtTicks != 480 {
					t.Errorf("entry %d: %+v, want %+v at tick 480", i, e, w)
				}
				if ev := evs[i]; ev.Identity != w.identity || string(ev.Type) != w.typ || ev.Cause != w.reason {
					t.Errorf("event %d: %+v, want %+v", i, ev, w)
				}
			}
			if len(g.takeEvents()) != 0 {
				t.Error("takeEvents: the events were handed out twice")
			}
		})
	}
}
