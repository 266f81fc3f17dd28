package janus

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/session"
)

// onsetTolerance is how far a tone may start from where its sender put it on the session clock.
const onsetTolerance = 40 * time.Millisecond

// Two VideoRoom publishers with their own tones; one unpublishes and publishes again (a new
// PeerConnection, a new SSRC), the other leaves. Each gets one track file with their tone at the
// right time, judged through pkg/session, ffmpeg and opusdec.
func TestVideoRoomRecordsEachPublisher(t *testing.T) {
	t.Parallel()
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		testutil.Require(t, "ffmpeg")
		testutil.Require(t, "opusdec")
		j := startJanus(t, ns)
		alice := newSpeaker(t, ns, j.URL, VideoRoom, vrRoom, "Alice", 440)
		bob := newSpeaker(t, ns, j.URL, VideoRoom, vrRoom, "Bob", 1250)
		alice.Publish()
		bob.Publish()

		rec := newRecording(t, j.URL)
		conn, err := Dial(context.Background(), j.URL, Options{
			Options: room.Options{Identity: room.Identity{Name: recName}, Events: rec.add},
			Room:    vrRoom, Plugin: VideoRoom, RTC: testRTC(ns),
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := runConn(t, conn, rec)
		rec.speakerJoined("Alice", 1)
		rec.speakerJoined("Bob", 1)

		// The room sees the recorder by its display name (a publisher of data only: its announcements).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ev, err := ask(ctx, alice, map[string]any{"request": "listparticipants", "room": parseRoomID(vrRoom)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		seen := false
		for _, p := range ev.Participants {
			seen = seen || p.Display == recName
		}
		if !seen {
			t.Errorf("the room's participants %+v do not show the recorder as %q", ev.Participants, recName)
		}

		time.Sleep(300 * time.Millisecond)
		aliceOn := alice.Say(time.Second)
		time.Sleep(400 * time.Millisecond)
		bobOn := bob.Say(time.Second)
		time.Sleep(1300 * time.Millisecond)

		bobUnpublished := time.Now()
		bob.Unpublish()
		bobID := rec.identity("Bob")
		rec.left(func() string { return bobID }, 1)
		time.Sleep(300 * time.Millisecond)
		bob.Publish()
		rec.speakerJoined("Bob", 2)
		time.Sleep(300 * time.Millisecond)
		bobOn2 := bob.Say(600 * time.Millisecond)
		time.Sleep(900 * time.Millisecond)

		aliceLeft := time.Now()
		alice.Leave()
		aliceID := rec.identity("Alice")
		rec.left(func() string { return aliceID }, 1)
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}

		for _, e := range rec.snapshot() {
			if e.Type == "error" || e.Type == "reconnecting" {
				t.Errorf("unexpected event %+v", e)
			}
		}
		s, err := session.Open(rec.Dir())
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if len(m.Tracks) != 2 {
			t.Fatalf("%d tracks, want one per publisher (2): %+v", len(m.Tracks), m.Tracks)
		}
		want := map[string]struct {
			freq, other float64
			onsets      []time.Time
			lengths     []time.Duration
			ssrcs       int
		}{
			"Alice": {440, 1250, []time.Time{aliceOn}, []time.Duration{time.Second}, 1},
			"Bob":   {1250, 440, []time.Time{bobOn, bobOn2}, []time.Duration{time.Second, 600 * time.Millisecond}, 2},
		}
		for i := range m.Tracks {
			tr := &m.Tracks[i]
			p := m.Participant(tr.Participant)
			if p == nil {
				t.Fatalf("track %s: participant %q not in the manifest (%s)", tr.ID, tr.Participant, names(m))
			}
			w, ok := want[p.Name]
			if !ok {
				t.Fatalf("track %s belongs to %q (%s), not a publisher", tr.ID, p.Name, names(m))
			}
			if len(tr.SSRCs) != w.ssrcs {
				t.Errorf("%s: %d SSRCs %v, want %d", p.Name, len(tr.SSRCs), tr.SSRCs, w.ssrcs)
			}
			x, start := trackAudio(t, s, tr)
			got := parts(x, start)
			if len(got) != len(w.onsets) {
				t.Logf("track %+v", *tr)
				t.Logf("tones due at %v on the session clock", sinceStart(rec.Start(), w.onsets))
				for _, e := range rec.snapshot() {
					t.Logf("event %+v", e)
				}
				t.Fatalf("%s: audible parts %v, want %d", p.Name, got, len(w.onsets))
			}
			for k, part := range got {
				d, ok := near(part.start, rec.Start(), w.onsets[k], onsetTolerance)
				t.Logf("%s tone %d: %v, onset %+v from where it was sent", p.Name, k+1, part, d)
				if !ok {
					t.Errorf("%s tone %d starts %v from where it was sent (tolerance %v)", p.Name, k+1, d, onsetTolerance)
				}
				if l := session.Duration(part.end - part.start); (l - w.lengths[k]).Abs() > onsetTolerance {
					t.Errorf("%s tone %d lasts %v, want %v", p.Name, k+1, l, w.lengths[k])
				}
				seg := slice(x, start, part.start, part.end)
				if a, b := power(seg, w.freq), power(seg, w.other); a < 100*b {
					t.Errorf("%s tone %d: power at %.0f Hz %.3g is not 20 dB over %.0f Hz %.3g", p.Name, k+1, w.freq, a, w.other, b)
				}
			}
			judgeFile(t, s, tr, w.freq, len(w.onsets))
		}
		for _, name := range []string{"Alice", "Bob"} {
			var p *session.Participant
			for i := range m.Participants {
				if m.Participants[i].Name == name {
					p = &m.Participants[i]
				}
			}
			if p == nil {
				t.Fatalf("%s is not among the participants (%s)", name, names(m))
			}
			// Bob: published, unpublished, published again; Alice: one stretch until she left.
			wantStretches := map[string]int{"Alice": 1, "Bob": 2}[name]
			if len(p.Presence) != wantStretches {
				t.Errorf("%s: presence %+v, want %d stretches", name, p.Presence, wantStretches)
			}
		}
		// Presence ends when the publisher unpublished or left (an event away: allow 300 ms).
		for _, c := range []struct {
			id      string
			stretch int
			at      time.Time
		}{{aliceID, 0, aliceLeft}, {bobID, 0, bobUnpublished}} {
			p := m.Participant(c.id)
			if p == nil || len(p.Presence) <= c.stretch {
				t.Errorf("participant %s: no presence stretch %d (%s)", c.id, c.stretch, names(m))
				continue
			}
			end := p.Presence[c.stretch].EndTicks
			if d := session.Duration(end) - c.at.Sub(rec.Start()); d < 0 || d > 300*time.Millisecond {
				t.Errorf("%s (%s): presence stretch %d ends %v after they went", p.Name, c.id, c.stretch, d)
			}
		}
	})
}

// judgeFile decodes a track file with ffmpeg and opusdec: both must find the file's length the
// manifest states, and the tone in as many parts.
func judgeFile(t *testing.T, s *session.Session, tr *session.Track, freq float64, nParts int) {
	t.Helper()
	path := s.Path(tr.File)
	ff := testutil.FFmpegDecode(t, path, 48000, 1)
	od := testutil.Mono(testutil.OpusdecDecode(t, path), tr.Channels)
	for _, dec := range []struct {
		name string
		x    []float32
	}{{"ffmpeg", ff}, {"opusdec", od}} {
		if d := int64(len(dec.x)) - tr.Samples; d < -960 || d > 960 {
			t.Errorf("%s: %s decodes %d samples, the manifest says %d", filepath.Base(path), dec.name, len(dec.x), tr.Samples)
		}
		ps := parts(dec.x, 0)
		if len(ps) < nParts {
			t.Errorf("%s: %s finds audible parts %v, want at least %d", filepath.Base(path), dec.name, ps, nParts)
			continue
		}
		for _, p := range ps {
			seg := dec.x[p.start:p.end]
			if power(seg, freq) < 100*power(seg, freq*1.37) {
				t.Errorf("%s: %s: part %v is not a %.0f Hz tone", filepath.Base(path), dec.name, p, freq)
			}
		}
	}
}

// Two AudioBridge participants with their own tones, overlapping: the recorder, found by asking
// both plugins, records AudioBridge's mix as one track holding both tones, and lists the
// participants with the stretches they were in the room.
func TestAudioBridgeRecordsTheMix(t *testing.T) {
	t.Parallel()
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		testutil.Require(t, "ffmpeg")
		testutil.Require(t, "opusdec")
		j := startJanus(t, ns)
		alice := newSpeaker(t, ns, j.URL, AudioBridge, abRoom, "Alice", 440)
		bob := newSpeaker(t, ns, j.URL, AudioBridge, abRoom, "Bob", 1250)
		alice.Publish()
		bob.Publish()

		rec := newRecording(t, j.URL)
		conn, err := Dial(context.Background(), j.URL, Options{
			Options: room.Options{Identity: room.Identity{Name: recName}},
			Room:    abRoom, RTC: testRTC(ns), // no Plugin: detected
		})
		if err != nil {
			t.Fatal(err)
		}
		if c := asConn(conn); c.plugin != AudioBridge || !c.room.str {
			t.Errorf("joined %s room %+v, want AudioBridge's room as a string id (its string_ids)", c.plugin, c.room)
		}
		stop := runConn(t, conn, rec)
		rec.speakerJoined(MixName, 1)
		if err := conn.Announce(context.Background(), "recording"); !errors.Is(err, room.ErrNoMessages) {
			t.Errorf("Announce: %v, want room.ErrNoMessages", err)
		}

		time.Sleep(300 * time.Millisecond)
		aliceOn := alice.Say(1200 * time.Millisecond)
		time.Sleep(600 * time.Millisecond)
		bobOn := bob.Say(1200 * time.Millisecond)
		time.Sleep(1500 * time.Millisecond)
		bobLeft := time.Now()
		bob.Leave()
		bobID := rec.identity("Bob")
		rec.left(func() string { return bobID }, 1)
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}

		s, err := session.Open(rec.Dir())
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if len(m.Tracks) != 1 || m.Tracks[0].Participant != MixIdentity {
			t.Fatalf("tracks %+v, want the one mix track of %s", m.Tracks, MixIdentity)
		}
		for _, name := range []string{MixName, "Alice", "Bob"} {
			found := false
			for _, p := range m.Participants {
				found = found || p.Name == name
			}
			if !found {
				t.Errorf("%q is not among the participants (%s)", name, names(m))
			}
		}
		if p := m.Participant(bobID); p == nil || len(p.Presence) != 1 {
			t.Errorf("Bob's presence: %+v", p)
		} else if d := session.Duration(p.Presence[0].EndTicks) - bobLeft.Sub(rec.Start()); d < 0 || d > 300*time.Millisecond {
			t.Errorf("Bob's presence ends %v after he left", d)
		}
		for _, p := range m.Participants {
			if p.Name == recName {
				t.Errorf("the recorder lists itself as a participant: %+v", p)
			}
		}

		tr := &m.Tracks[0]
		x, start := trackAudio(t, s, tr)
		got := parts(x, start)
		if len(got) != 1 {
			t.Fatalf("mix: audible parts %v, want one (Alice's tone running into Bob's)", got)
		}
		// AudioBridge mixes 20 ms frames after a jitter buffer: the mix runs a little behind.
		d, _ := near(got[0].start, rec.Start(), aliceOn, 0)
		t.Logf("mix: %v; Alice's onset %+v from where she sent it", got[0], d)
		if d < -onsetTolerance || d > mixTolerance {
			t.Errorf("the mix starts %v from Alice's onset (allowed %v to %v)", d, -onsetTolerance, mixTolerance)
		}
		// AudioBridge runs a jitter buffer per participant, so each speaker has a lag of their
		// own (70–150 ms apart measured): Alice's is read at her onset, Bob's at his end.
		aliceEnd := aliceOn.Add(1200 * time.Millisecond)
		bobEnd := bobOn.Add(1200 * time.Millisecond)
		lagA := d
		lagB := session.Duration(got[0].end) - bobEnd.Sub(rec.Start())
		t.Logf("mix lag: Alice %v, Bob %v", lagA, lagB)
		if lagB < -onsetTolerance || lagB > mixTolerance {
			t.Errorf("the mix ends %v from Bob's end (allowed %v to %v)", lagB, -onsetTolerance, mixTolerance)
		}
		atA := func(w time.Time) int64 { return session.Ticks(w.Sub(rec.Start()) + lagA) }
		atB := func(w time.Time) int64 { return session.Ticks(w.Sub(rec.Start()) + lagB) }
		margin := session.Ticks(60 * time.Millisecond)
		for _, c := range []struct {
			what       string
			from, to   int64
			alice, bob bool
		}{
			{"Alice alone", atA(aliceOn) + margin, atB(bobOn) - margin, true, false},
			{"both", atB(bobOn) + margin, atA(aliceEnd) - margin, true, true},
			{"Bob alone", atA(aliceEnd) + margin, atB(bobEnd) - margin, false, true},
		} {
			seg := slice(x, start, c.from, c.to)
			if len(seg) < 4800 {
				t.Fatalf("%s: only %d samples in the mix", c.what, len(seg))
			}
			// A tone is there when it is within 20 dB of the stronger one, gone when 40 dB under it.
			pa, pb := power(seg, 440), power(seg, 1250)
			level := max(pa, pb)
			t.Logf("%s: 440 Hz %.3g, 1250 Hz %.3g", c.what, pa, pb)
			for _, tone := range []struct {
				freq  float64
				p     float64
				there bool
			}{{440, pa, c.alice}, {1250, pb, c.bob}} {
				if (tone.there && tone.p < level/100) || (!tone.there && tone.p > level/10000) {
					t.Errorf("%s: %.0f Hz at %.3g of %.3g, want it there: %v", c.what, tone.freq, tone.p, level, tone.there)
				}
			}
		}
		judgeMix(t, s, tr)
	})
}

// mixTolerance is how late AudioBridge's mix may carry a tone: its jitter buffer and mixing period.
const mixTolerance = 200 * time.Millisecond

// judgeMix decodes the mix track with ffmpeg and opusdec: the length the manifest states, and both
// tones in it.
func judgeMix(t *testing.T, s *session.Session, tr *session.Track) {
	t.Helper()
	path := s.Path(tr.File)
	for _, dec := range []struct {
		name string
		x    []float32
	}{{"ffmpeg", testutil.FFmpegDecode(t, path, 48000, 1)}, {"opusdec", testutil.Mono(testutil.OpusdecDecode(t, path), tr.Channels)}} {
		if d := int64(len(dec.x)) - tr.Samples; d < -960 || d > 960 {
			t.Errorf("%s: %s decodes %d samples, the manifest says %d", filepath.Base(path), dec.name, len(dec.x), tr.Samples)
		}
		floor := power(dec.x, 3000)
		if pa, pb := power(dec.x, 440), power(dec.x, 1250); pa < 100*floor || pb < 100*floor {
			t.Errorf("%s: %s: 440 Hz %.3g and 1250 Hz %.3g are not both 20 dB over 3000 Hz %.3g", filepath.Base(path), dec.name, pa, pb, floor)
		}
	}
}

// Janus is killed and started again while a publisher speaks: the recorder notices the lost
// session, records a reconnecting gap, joins again and puts the publisher's audio after the
// restart (a new Janus id, the same display name) in the same track.
func TestVideoRoomSurvivesJanusRestart(t *testing.T) {
	t.Parallel()
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		j := startJanus(t, ns)
		alice := newSpeaker(t, ns, j.URL, VideoRoom, vrRoom, "Alice", 440)
		alice.Publish()
		rec := newRecording(t, j.URL)
		conn, err := Dial(context.Background(), j.URL, Options{
			Options: room.Options{Identity: room.Identity{Name: recName}, ReconnectTimeout: 20 * time.Second, Events: rec.add},
			Room:    vrRoom, Plugin: VideoRoom, RTC: testRTC(ns),
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := runConn(t, conn, rec)
		rec.speakerJoined("Alice", 1)
		time.Sleep(300 * time.Millisecond)
		on1 := alice.Say(600 * time.Millisecond)
		time.Sleep(800 * time.Millisecond)

		killed := time.Now()
		j.Restart()
		restarted := time.Now()
		alice.Close()
		alice = newSpeaker(t, ns, j.URL, VideoRoom, vrRoom, "Alice", 440)
		alice.Publish()
		rec.wait("reconnected", 1, func(e capture.Event) bool { return e.Type == "reconnected" })
		rec.speakerJoined("Alice", 2)
		time.Sleep(300 * time.Millisecond)
		on2 := alice.Say(600 * time.Millisecond)
		time.Sleep(800 * time.Millisecond)
		// The session lost on the dead network was destroyed once it was back: one recorder in the room.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ev, err := ask(ctx, alice, map[string]any{"request": "listparticipants", "room": parseRoomID(vrRoom)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		recorders := 0
		for _, p := range ev.Participants {
			if p.Display == recName {
				recorders++
			}
		}
		if recorders != 1 {
			t.Errorf("the room lists the recorder %d times after the rejoin: %+v", recorders, ev.Participants)
		}
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}

		s, err := session.Open(rec.Dir())
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if len(m.Tracks) != 1 {
			t.Fatalf("%d tracks, want Alice's one track across the restart: %+v (%s)", len(m.Tracks), m.Tracks, names(m))
		}
		tr := &m.Tracks[0]
		if len(tr.SSRCs) != 2 {
			t.Errorf("SSRCs %v, want two (before and after the restart)", tr.SSRCs)
		}
		x, start := trackAudio(t, s, tr)
		got := parts(x, start)
		if len(got) != 2 {
			t.Fatalf("audible parts %v, want Alice's two tones", got)
		}
		for k, on := range []time.Time{on1, on2} {
			d, ok := near(got[k].start, rec.Start(), on, onsetTolerance)
			t.Logf("tone %d: %v, onset %+v from where it was sent", k+1, got[k], d)
			if !ok {
				t.Errorf("tone %d starts %v from where it was sent", k+1, d)
			}
		}
		var gap *session.Gap
		for i := range m.Gaps {
			if m.Gaps[i].Cause == "reconnecting" {
				gap = &m.Gaps[i]
			}
		}
		if gap == nil {
			t.Fatalf("no reconnecting gap in %+v", m.Gaps)
		}
		gapStart := session.Duration(gap.StartTicks)
		gapEnd := session.Duration(gap.StartTicks + gap.DurationTicks)
		t.Logf("reconnecting gap [%v, %v); Janus killed at %v", gapStart, gapEnd, killed.Sub(rec.Start()))
		// The gap opens when the long poll finds nothing listening (within a second of the kill)
		// and closes once the recorder is back in the room: after Janus answers again, before the
		// second tone.
		if gapStart < killed.Sub(rec.Start()) || gapStart > killed.Sub(rec.Start())+time.Second ||
			gapEnd < restarted.Sub(rec.Start()) || gapEnd > on2.Sub(rec.Start()) {
			t.Errorf("the reconnecting gap [%v, %v) does not run from the kill (%v) to after the restart (%v) and before the second tone (%v)",
				gapStart, gapEnd, killed.Sub(rec.Start()), restarted.Sub(rec.Start()), on2.Sub(rec.Start()))
		}
	})
}

// Errors a user makes or meets: each is the right room error, within seconds.
func TestDialErrorsAgainstJanus(t *testing.T) {
	t.Parallel()
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		j := startJanus(t, ns)
		rtcOpts := testRTC(ns)
		pat := newSpeaker(t, ns, j.URL, VideoRoom, pinRoom, "Pat", 440)
		pat.Publish()
		for _, c := range []struct {
			name   string
			url    string
			opts   Options
			want   error
			within time.Duration
		}{
			{"a room neither plugin has is ErrNoRoom", j.URL, Options{Room: "999"}, room.ErrNoRoom, time.Second},
			{"a room the named plugin lacks is ErrNoRoom", j.URL, Options{Room: abRoom, Plugin: VideoRoom}, room.ErrNoRoom, time.Second},
			{"an empty room without --wait is ErrEmptyRoom", j.URL, Options{Room: vrRoom}, room.ErrEmptyRoom, time.Second},
			{"an empty room after --wait is ErrEmptyRoom", j.URL, Options{Room: vrRoom, Options: room.Options{Wait: 700 * time.Millisecond}}, room.ErrEmptyRoom, 2 * time.Second},
			{"a wrong PIN is ErrAuth", j.URL, Options{Room: pinRoom, Plugin: VideoRoom, PIN: "0000"}, room.ErrAuth, time.Second},
			{"the right PIN joins", j.URL, Options{Room: pinRoom, PIN: roomPIN}, nil, time.Second},
			{"a path that is not the API is ErrURL", "http://" + ns.ClientIP + ":8088/nope", Options{Room: vrRoom}, room.ErrURL, time.Second},
			{"a closed port is ErrUnreachable", "http://" + ns.ClientIP + ":8099/janus", Options{Room: vrRoom}, room.ErrUnreachable, time.Second},
			{"a silent address is ErrUnreachable", "http://10.77.0.9:8088/janus", Options{Room: vrRoom}, room.ErrUnreachable, connectTimeout + time.Second},
		} {
			t.Run(c.name, func(t *testing.T) {
				c.opts.RTC = rtcOpts
				begin := time.Now()
				conn, err := Dial(context.Background(), c.url, c.opts)
				took := time.Since(begin)
				if conn != nil {
					conn.Close()
				}
				t.Logf("%v after %v", err, took.Round(time.Millisecond))
				if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
					t.Errorf("Dial: %v, want %v", err, c.want)
				}
				if took > c.within {
					t.Errorf("took %v, want under %v", took, c.within)
				}
			})
		}
		t.Run("a kicked recorder stops with ErrRoomClosed", func(t *testing.T) {
			conn, err := Dial(context.Background(), j.URL, Options{Room: pinRoom, PIN: roomPIN, RTC: rtcOpts})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			rec := newRecording(t, j.URL)
			errc := make(chan error, 1)
			go func() { errc <- conn.Run(context.Background(), rec) }()
			rec.speakerJoined("Pat", 1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			kick := map[string]any{"request": "kick", "room": parseRoomID(pinRoom), "id": asConn(conn).selfID}
			if _, err := ask(ctx, pat, kick); err != nil {
				t.Fatalf("kick: %v", err)
			}
			select {
			case err := <-errc:
				if !errors.Is(err, room.ErrRoomClosed) {
					t.Errorf("Run: %v, want room.ErrRoomClosed", err)
				}
				t.Logf("Run: %v", err)
			case <-time.After(3 * time.Second):
				t.Error("Run did not end within 3 s of the kick")
			}
		})
	})
}

// --wait: the recorder waits for a speaker; with a room in both plugins it takes the plugin where
// someone speaks.
func TestDialWaitsForASpeaker(t *testing.T) {
	t.Parallel()
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		j := startJanus(t, ns)
		joined := make(chan time.Time, 1)
		go func() {
			time.Sleep(time.Second)
			s := newSpeaker(t, ns, j.URL, AudioBridge, bothRoom, "Late", 440)
			joined <- time.Now()
			_ = s
		}()
		begin := time.Now()
		rc, err := Dial(context.Background(), j.URL, Options{Room: bothRoom, RTC: testRTC(ns),
			Options: room.Options{Wait: 10 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		took := time.Since(begin)
		at := <-joined
		if c := asConn(rc); c.plugin != AudioBridge {
			t.Errorf("plugin %q, want %q: the speaker is in AudioBridge's room %s", c.plugin, AudioBridge, bothRoom)
		}
		if late := time.Since(at); took < time.Second || late > pollEvery+time.Second {
			t.Errorf("Dial returned after %v, %v after the speaker joined", took, late)
		}
	})
}

// The network dies for a few seconds (the veth loses carrier) while a publisher speaks: missed
// keepalives lose the session, the recorder records a reconnecting gap, tries until the network
// is back, and continues the publisher's track.
func TestVideoRoomSurvivesADeadNetwork(t *testing.T) {
	t.Parallel()
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		j := startJanus(t, ns)
		alice := newSpeaker(t, ns, j.URL, VideoRoom, vrRoom, "Alice", 440)
		alice.Publish()
		rec := newRecording(t, j.URL)
		conn, err := Dial(context.Background(), j.URL, Options{
			Options: room.Options{Identity: room.Identity{Name: recName}, ReconnectTimeout: 30 * time.Second, Events: rec.add},
			Room:    vrRoom, Plugin: VideoRoom, RTC: testRTC(ns),
			// Find the dead network in seconds, not tens of them.
			iv: intervals{keepalive: time.Second, keepaliveTimeout: time.Second},
		})
		if err != nil {
			t.Fatal(err)
		}
		stop := runConn(t, conn, rec)
		rec.speakerJoined("Alice", 1)
		time.Sleep(300 * time.Millisecond)
		on1 := alice.Say(600 * time.Millisecond)
		time.Sleep(800 * time.Millisecond)

		down := time.Now()
		if ns.LinkDown() != nil {
			t.FailNow()
		}
		lost := rec.wait("reconnecting", 1, func(e capture.Event) bool { return e.Type == "reconnecting" })
		t.Logf("lost after %v: %s", lost.Time.Sub(down).Round(time.Millisecond), lost.Cause)
		time.Sleep(time.Second) // attempts fail while the network is dead
		up := time.Now()        // the recorder cannot be back before this; LinkUp returns once carrier is up
		if ns.LinkUp() != nil {
			t.FailNow()
		}
		rec.wait("reconnected", 1, func(e capture.Event) bool { return e.Type == "reconnected" })
		rec.speakerJoined("Alice", 2)
		time.Sleep(300 * time.Millisecond)
		on2 := alice.Say(600 * time.Millisecond)
		time.Sleep(800 * time.Millisecond)
		// The session lost on the dead network was destroyed once it was back: one recorder in the room.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ev, err := ask(ctx, alice, map[string]any{"request": "listparticipants", "room": parseRoomID(vrRoom)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		recorders := 0
		for _, p := range ev.Participants {
			if p.Display == recName {
				recorders++
			}
		}
		if recorders != 1 {
			t.Errorf("the room lists the recorder %d times after the rejoin: %+v", recorders, ev.Participants)
		}
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}

		s, err := session.Open(rec.Dir())
		if err != nil {
			t.Fatal(err)
		}
		m := s.Manifest
		if len(m.Tracks) != 1 {
			t.Fatalf("%d tracks, want Alice's one: %+v (%s)", len(m.Tracks), m.Tracks, names(m))
		}
		x, start := trackAudio(t, s, &m.Tracks[0])
		got := parts(x, start)
		if len(got) != 2 {
			t.Fatalf("audible parts %v, want Alice's two tones", got)
		}
		for k, on := range []time.Time{on1, on2} {
			if d, ok := near(got[k].start, rec.Start(), on, onsetTolerance); !ok {
				t.Errorf("tone %d starts %v from where it was sent", k+1, d)
			}
		}
		var gap *session.Gap
		for i := range m.Gaps {
			if m.Gaps[i].Cause == "reconnecting" {
				gap = &m.Gaps[i]
			}
		}
		if gap == nil {
			t.Fatalf("no reconnecting gap in %+v", m.Gaps)
		}
		gapStart := session.Duration(gap.StartTicks)
		gapEnd := session.Duration(gap.StartTicks + gap.DurationTicks)
		t.Logf("reconnecting gap [%v, %v); link down at %v, up at %v", gapStart, gapEnd, down.Sub(rec.Start()), up.Sub(rec.Start()))
		if gapStart < down.Sub(rec.Start()) || gapStart > down.Sub(rec.Start())+5*time.Second ||
			gapEnd < up.Sub(rec.Start()) || gapEnd > on2.Sub(rec.Start()) {
			t.Errorf("the reconnecting gap [%v, %v) does not run from the outage (%v) to after the network came back (%v)",
				gapStart, gapEnd, down.Sub(rec.Start()), up.Sub(rec.Start()))
		}
	})
}

func asConn(c room.Conn) *conn { return c.(*conn) }

// sinceStart says where each wall-clock time falls on a recording that began at start.
func sinceStart(start time.Time, at []time.Time) []time.Duration {
	out := make([]time.Duration, len(at))
	for i, t := range at {
		out[i] = t.Sub(start).Round(time.Millisecond)
	}
	return out
}
