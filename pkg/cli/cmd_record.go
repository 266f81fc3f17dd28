package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/text/width"

	"github.com/spacecast/spacecast/internal/safetext"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/session"
)

type recordOptions struct {
	output           string
	protocol         string
	room             string
	token            string
	apiKey           string
	apiSecret        string
	identity         string
	name             string
	consent          string
	wait             time.Duration
	duration         time.Duration
	stopWhenEmpty    time.Duration
	reconnectTimeout time.Duration
	plugin           string
	pin              string
	loopback         bool
	interfaces       []string
	allow            []string
	exclude          []string
	pause            bool
	resume           bool
	retain           string
	signKey          string
}

func newRecordCommand(g *globalOptions) *cobra.Command {
	o := &recordOptions{}
	cmd := &cobra.Command{
		Use:   "record URL [-o SESSION_DIR] [flags]",
		Short: "Join a live room as a visible recorder and capture every speaker losslessly",
		Long: `Record joins a room as a WebRTC participant that publishes nothing, subscribes to every
speaker's audio and writes a session folder: one Ogg Opus file per speaker holding the packets as
they were sent (no transcoding), a live mix (mix.opus) and manifest.json, synced to disk every
second. Every track sits on one session clock taken from the senders' RTCP reports, so speakers
line up and do not drift.

The recorder never hides: it joins as "spacecast-recorder" with a REC name, marks itself as a
recorder in its metadata/attributes, and announces "recording started/stopped/paused/resumed" where
the protocol carries messages (LiveKit data messages; Janus VideoRoom: a data channel).
--consent announced (the default) refuses rooms that cannot see the recorder (WHEP has no
participant list); --consent assume is for an admin who told the room another way.

Consent (docs/record.md, "Consent"): under announced and assume everyone on stage is recorded but
the identities given with --exclude. Under --consent opt-in a speaker is recorded only from the
moment they signal consent (LiveKit participant attribute spacecast.consent=yes) or when listed
with --allow, and no longer from the moment they withdraw it. Audio of someone not recorded is
dropped on arrival: it reaches neither their track nor the live mix, and a person never recorded
has no track file. Every change is written to the manifest's consent ledger. Where the server
mixes the room (Janus AudioBridge) per-speaker consent cannot be honoured: opt-in and --exclude
refuse to start there (exit 2).

Pause and resume (off the record): SIGUSR1 pauses, SIGUSR2 resumes, and
'spacecast record --pause DIR' / '--resume DIR' ask the recorder writing DIR through its control
socket (the socket's path is in DIR/control while it runs). A pause is a gap "paused" in the
manifest; nobody's audio inside it is kept, and the room is told.

Protocols (from the URL, or --protocol):
  livekit  ws:// or wss:// URL with --room, and --token or --api-key/--api-secret
           (or LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)
  janus    the Janus HTTP API URL (…/janus) with --room; AudioBridge or VideoRoom (--janus-plugin)
  whep     a WHEP endpoint (draft-ietf-wish-whep; RFC 9725 is its ingest twin WHIP), --token as its bearer token

It stops, finalizing the session, on --duration, on --stop-when-empty (no speaker for that
long), when the room closes, or on Ctrl-C/SIGTERM. A lost network is reconnected with backoff;
the silence is recorded as a gap. If the process is killed, 'spacecast recover DIR' finishes the
session (at most the last 2 s are lost); mix, clip and inspect read an unrecovered session too.
While it runs, 'spacecast clip DIR --last 30s -o clip.mp3' cuts the last 30 seconds.`,
		Example: `  spacecast record wss://example.livekit.cloud --room town-hall --api-key KEY --api-secret SECRET -o town-hall
  LIVEKIT_URL=ws://localhost:7880 spacecast record --room standup --token "$TOKEN" --stop-when-empty 2m
  spacecast record http://localhost:8088/janus --room 1234 -o janus-room --duration 1h
  spacecast record https://media.example.com/whep/live --consent assume -o live --json
  spacecast record ws://localhost:7880 --room panel --token "$TOKEN" --consent opt-in --allow host -o panel
  spacecast record ws://localhost:7880 --room q-and-a --token "$TOKEN" --exclude guest-42 -o qa
  spacecast record --pause panel      # go off the record (or: kill -USR1 PID)
  spacecast record --resume panel     # back on the record (or: kill -USR2 PID)`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.pause || o.resume {
				if o.pause && o.resume {
					return usageErr("record: --pause and --resume: give one")
				}
				if len(args) != 1 {
					return usageErr("record: --pause/--resume need the session folder the recorder writes: 'spacecast record --pause DIR'")
				}
				op := map[bool]string{true: "pause", false: "resume"}[o.pause]
				return runRecordControl(op, args[0], g)
			}
			u := os.Getenv("LIVEKIT_URL")
			if len(args) == 1 {
				u = args[0]
			}
			if u == "" {
				return usageErr("record: which room? Give its URL (or set LIVEKIT_URL); see 'spacecast record --help'")
			}
			return runRecord(cmd.Context(), o, g, u)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.output, "output", "o", "", "session folder to create (default: ROOM-YYYYMMDD-HHMMSS)")
	fl.StringVar(&o.protocol, "protocol", "", "livekit, janus or whep (default: from the URL)")
	fl.StringVar(&o.room, "room", "", "room name (LiveKit) or room ID (Janus)")
	fl.StringVar(&o.token, "token", "", "LiveKit join token, Janus token or WHEP bearer token")
	fl.StringVar(&o.apiKey, "api-key", os.Getenv("LIVEKIT_API_KEY"), "LiveKit API key, to mint a recorder token (env LIVEKIT_API_KEY)")
	fl.StringVar(&o.apiSecret, "api-secret", os.Getenv("LIVEKIT_API_SECRET"), "LiveKit API secret (env LIVEKIT_API_SECRET)")
	fl.StringVar(&o.identity, "identity", room.DefaultIdentity.Identity, "the recorder's identity in the room")
	fl.StringVar(&o.name, "name", room.DefaultIdentity.Name, "the recorder's display name (keep the REC marker)")
	fl.StringVar(&o.retain, "retain", "30d", "keep the raw session this long: its delete-after date for 'spacecast prune' (30d, 2w, 720h)")
	fl.StringVar(&o.signKey, "sign-key", "", "private key file from 'spacecast keygen': sign the manifest when the session is sealed at the end")
	fl.StringVar(&o.consent, "consent", "announced", "announced: the room sees and is told about the recorder; assume: you told the room another way; "+
		"opt-in: record only who sets spacecast.consent=yes (or --allow)")
	fl.StringArrayVar(&o.allow, "allow", nil, "opt-in: record this identity without a signal (repeatable)")
	fl.StringArrayVar(&o.exclude, "exclude", nil, "never record this identity, under any --consent (repeatable)")
	fl.BoolVar(&o.pause, "pause", false, "pause the recorder writing the session folder given as argument")
	fl.BoolVar(&o.resume, "resume", false, "resume the recorder writing the session folder given as argument")
	fl.DurationVar(&o.wait, "wait", 0, "wait up to this long for the room to open and a first speaker (default: fail at once)")
	fl.DurationVar(&o.duration, "duration", 0, "stop after this long (default: until the room ends)")
	fl.DurationVar(&o.stopWhenEmpty, "stop-when-empty", 0, "stop when no speaker has been on for this long")
	fl.DurationVar(&o.reconnectTimeout, "reconnect-timeout", 2*time.Minute, "give up (and finalize) when the room cannot be reached for this long")
	fl.StringVar(&o.plugin, "janus-plugin", "", "Janus: audiobridge or videoroom (default: whichever has the room)")
	fl.StringVar(&o.pin, "pin", "", "Janus: the room's PIN")
	fl.BoolVar(&o.loopback, "loopback", false, "gather ICE candidates on loopback only (a server on this machine)")
	fl.StringSliceVar(&o.interfaces, "interface", nil, "gather ICE candidates only on these network interfaces")
	cmd.MarkFlagDirname("output")
	cmd.RegisterFlagCompletionFunc("protocol", cobra.FixedCompletions([]string{"livekit", "janus", "whep"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("consent", cobra.FixedCompletions([]string{"announced", "assume", "opt-in"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("janus-plugin", cobra.FixedCompletions([]string{"audiobridge", "videoroom"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// protocolOf picks the protocol from the URL: WebSocket URLs are LiveKit, a path naming janus is
// Janus, and any other http(s) URL is WHEP.
func protocolOf(raw, flag string) (string, error) {
	if flag != "" {
		switch flag {
		case "livekit", "janus", "whep":
			return flag, nil
		}
		return "", usageErr("record: --protocol %q: want livekit, janus or whep", flag)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		// The URL is not repeated: it may carry a key, and it did not parse, so it cannot be redacted.
		return "", usageErr("record: the room URL does not parse as a URL with a host (want ws://, wss://, http:// or https://HOST/…)")
	}
	switch {
	case u.Scheme == "ws" || u.Scheme == "wss":
		return "livekit", nil
	case (u.Scheme == "http" || u.Scheme == "https") && strings.Contains(strings.ToLower(u.Path), "janus"):
		return "janus", nil
	case u.Scheme == "http" || u.Scheme == "https":
		return "whep", nil
	}
	return "", usageErr("record: %q: scheme %q is not a room URL; pass --protocol if the URL is right", raw, u.Scheme)
}

func runRecord(ctx context.Context, o *recordOptions, g *globalOptions, rawURL string) error {
	// Pause and resume signals are taken from the start: one sent while the recorder still waits
	// for the room must not kill it (their default action); it is acted on once recording runs.
	sigC := make(chan os.Signal, 2)
	signal.Notify(sigC, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigC)
	proto, err := protocolOf(rawURL, o.protocol)
	if err != nil {
		return err
	}
	retain, err := session.ParseAge(o.retain)
	if err != nil {
		return usageErr("record: --retain %s is not a duration: use days (30d), weeks (2w) or a Go duration (720h, 90m)", o.retain)
	}
	var signKey ed25519.PrivateKey
	if o.signKey != "" {
		if signKey, err = session.LoadPrivateKey(o.signKey); err != nil {
			return inputErr(fmt.Errorf("record: --sign-key: %w", err))
		}
	}
	switch o.consent {
	case capture.PolicyAnnounced, capture.PolicyAssume, capture.PolicyOptIn:
	default:
		return usageErr("record: --consent %q: want announced, assume or opt-in", o.consent)
	}
	if proto == "whep" && o.consent != capture.PolicyAssume {
		return usageErr("record: WHEP has no participant list, so the room cannot see the recorder and --consent %s cannot hold; "+
			"if you told the room it is being recorded another way, pass --consent assume", o.consent)
	}
	if len(o.allow) > 0 && o.consent != capture.PolicyOptIn {
		return usageErr("record: --allow only means something with --consent opt-in (under %s everyone not excluded is recorded)", o.consent)
	}
	for _, id := range append(append([]string(nil), o.allow...), o.exclude...) {
		if strings.TrimSpace(id) == "" {
			return usageErr("record: --allow/--exclude with an empty identity")
		}
	}
	perSpeaker := o.consent == capture.PolicyOptIn || len(o.exclude) > 0
	if proto == "janus" && perSpeaker && strings.EqualFold(o.plugin, "audiobridge") {
		return audioBridgeConsentErr(o)
	}
	if !strings.Contains(o.name, "REC") {
		return usageErr("record: --name %q must keep the REC marker so the room sees it is being recorded", o.name)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--wait", o.wait}, {"--duration", o.duration}, {"--stop-when-empty", o.stopWhenEmpty}, {"--reconnect-timeout", o.reconnectTimeout}} {
		if d.v < 0 {
			return usageErr("record: %s %s is negative", d.flag, d.v)
		}
	}
	out := o.output
	if out == "" {
		name := o.room
		if name == "" {
			name = "room"
		}
		out = fmt.Sprintf("%s-%s", safeName(name), time.Now().UTC().Format("20060102-150405"))
	}
	if err := checkOutput("record", "-o", out); err != nil {
		return err
	}
	if err := checkNotInSite("record", "-o", out, "a raw recording"); err != nil {
		return err
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return inputErr(fmt.Errorf("record: %s already holds files: choose another -o or remove it", out))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return inputErr(fmt.Errorf("record: %w", err))
	}

	ev := newEventPrinter(g)
	ropts := room.Options{
		Identity:         room.Identity{Identity: o.identity, Name: o.name},
		Wait:             o.wait,
		ReconnectTimeout: o.reconnectTimeout,
		Events:           ev.print,
	}
	network := rtc.Options{Loopback: o.loopback, Interfaces: o.interfaces}
	if !g.json && !g.quiet {
		if o.wait > 0 {
			fmt.Fprintf(g.stderr, "record: joining %s (%s), waiting up to %s for the room and a first speaker…\n", printableURL(rawURL), proto, o.wait)
		} else {
			fmt.Fprintf(g.stderr, "record: joining %s (%s)…\n", printableURL(rawURL), proto)
		}
	}
	conn, err := dialRoom(ctx, proto, rawURL, o, ropts, network)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return roomErr(err)
	}
	defer conn.Close()
	if m, ok := conn.(interface{ ServerMixes() bool }); ok && perSpeaker && m.ServerMixes() {
		return audioBridgeConsentErr(o)
	}

	rec, err := capture.Create(capture.Options{
		Dir:     out,
		Retain:  retain,
		Room:    session.Room{Name: o.room, Protocol: proto, URL: session.RedactURL(rawURL)},
		OnEvent: ev.print,
		Consent: session.Consent{Policy: o.consent, Allow: o.allow, Exclude: o.exclude},
	})
	if err != nil {
		if errors.Is(err, capture.ErrExists) {
			return inputErr(fmt.Errorf("record: %w", err))
		}
		return fmt.Errorf("record: %w", err)
	}
	ev.print(capture.Event{Type: "joined", Message: out})
	ctl, err := startControl(out, rec.ID())
	if err != nil {
		ev.warn(fmt.Sprintf("%v; --pause/--resume will not reach this recorder (SIGUSR1/SIGUSR2 still do)", err))
	} else {
		defer ctl.close()
	}
	var ctlC <-chan controlRequest
	if ctl != nil {
		ctlC = ctl.requests
	}
	tellRoom := o.consent != capture.PolicyAssume

	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- conn.Run(runCtx, rec) }()
	// Announce once tracks are being read: the data channel may take seconds to open, and tracks
	// left unread meanwhile would arrive in one burst.
	if tellRoom {
		text := "⏺ recording started by spacecast"
		if o.consent == capture.PolicyOptIn {
			text += " (opt-in: only those who set spacecast.consent=yes are recorded)"
		}
		if err := conn.Announce(ctx, text); err != nil && !errors.Is(err, room.ErrNoMessages) {
			ev.warn(fmt.Sprintf("could not announce the recording in the room: %v (the recorder is still visible as %q)", err, o.name))
		}
	}

	status := newRecordStatus(g, rec, out)
	defer status.finish()
	var (
		reason  string
		failure error
	)
	var durC <-chan time.Time
	if o.duration > 0 {
		t := time.NewTimer(o.duration)
		defer t.Stop()
		durC = t.C
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	emptySince := time.Now()
loop:
	for {
		select {
		case <-ctx.Done():
			reason = "interrupted"
			break loop
		case <-durC:
			reason = "duration reached"
			break loop
		case <-rec.Failed():
			reason = "failed"
			break loop
		case err := <-runErr:
			runErr = nil
			if err == nil || errors.Is(err, room.ErrRoomClosed) {
				reason = "the room closed"
			} else {
				reason, failure = "lost the room", err
			}
			break loop
		case req := <-ctlC:
			req.reply <- pauseResume(ctx, rec, conn, ev, req.op, req.reason, tellRoom)
		case sig := <-sigC:
			op, why := "resume", "SIGUSR2"
			if sig == syscall.SIGUSR1 {
				op, why = "pause", "SIGUSR1"
			}
			pauseResume(ctx, rec, conn, ev, op, why, tellRoom)
		case <-tick.C:
			status.draw()
			if rec.Speakers() > 0 {
				emptySince = time.Now()
			} else if o.stopWhenEmpty > 0 && time.Since(emptySince) >= o.stopWhenEmpty {
				reason = fmt.Sprintf("no speaker for %s", o.stopWhenEmpty)
				break loop
			}
		}
	}
	status.finish()
	if ctl != nil {
		ctl.close()
	}
	if tellRoom && runErr != nil {
		actx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn.Announce(actx, "⏹ recording stopped")
		cancel()
	}
	stopRun()
	if runErr != nil {
		<-runErr
	}
	conn.Close()
	closeErr := rec.Close()
	if closeErr == nil {
		if err := session.Seal(out, signKey); err != nil {
			closeErr = fmt.Errorf("seal: %w (the recording is complete; 'spacecast recover %s' seals it)", err, out)
		}
	}
	st := rec.Stats()
	summary := recordSummary{Session: out, Reason: reason, Duration: st.Elapsed.Seconds(), Bytes: st.Bytes}
	for _, t := range st.Tracks {
		summary.Tracks = append(summary.Tracks, recordTrack{ID: t.ID, Identity: t.Identity, Name: t.Name, Packets: t.Received, Lost: t.Lost})
	}
	summary.NeverSeen = neverSeen(rec.Seen(), o)
	if closeErr != nil {
		summary.Error = closeErr.Error()
	} else if failure != nil {
		summary.Error = failure.Error()
	}
	if g.json {
		writeJSONLine(g.stdout, summary)
	} else if !g.quiet {
		fmt.Fprintf(g.stdout, "recorded %s into %s (%s): %d track(s)\n", st.Elapsed.Truncate(time.Second), out, reason, len(st.Tracks))
		for _, t := range st.Tracks {
			fmt.Fprintf(g.stdout, "  %-4s %-24s %7d packets, %d lost\n", term(t.ID), term(t.Identity), t.Received, t.Lost)
		}
		for _, n := range summary.NeverSeen {
			fmt.Fprintf(g.stdout, "  note: %s %s never appeared in the room (check the spelling of the identity)\n", n.Flag, term(n.Identity))
		}
		if closeErr == nil {
			fmt.Fprintf(g.stdout, "next: spacecast mix %s -o episode.mp3\n", out)
		}
	}
	if closeErr != nil && errors.Is(closeErr, syscall.ENOSPC) {
		// The first failure names the file; the rest (every writer hit the same wall) add nothing.
		first, _, _ := strings.Cut(closeErr.Error(), "\n")
		return fmt.Errorf("record: the disk is full: %s\n"+
			"  The recording stopped after %s; everything up to the last sync (every second) is in %s.\n"+
			"  Free space on that disk (or move the folder to a disk with room), then run 'spacecast recover %s' to finish the session.",
			first, st.Elapsed.Truncate(time.Second), out, out)
	}
	if closeErr != nil {
		return fmt.Errorf("record: stopped: %w; everything up to the last sync is in %s ('spacecast recover %s' finishes it once the problem is fixed)", closeErr, out, out)
	}
	if failure != nil {
		return &exitError{code: ExitRoom, err: fmt.Errorf("record: %w; the session in %s is finalized up to then", failure, out)}
	}
	return nil
}

type recordSummary struct {
	Session  string        `json:"session"`
	Reason   string        `json:"reason"`
	Duration float64       `json:"duration"`
	Bytes    int64         `json:"bytes"`
	Tracks   []recordTrack `json:"tracks"`
	// NeverSeen are --allow/--exclude identities that never appeared in the room (a typo?).
	NeverSeen []neverSeenIdentity `json:"never_seen,omitempty"`
	Error     string              `json:"error,omitempty"`
}

type neverSeenIdentity struct {
	Flag     string `json:"flag"` // "--allow" or "--exclude"
	Identity string `json:"identity"`
}

// neverSeen lists the --allow and --exclude identities not among those seen.
func neverSeen(seen []string, o *recordOptions) []neverSeenIdentity {
	in := map[string]bool{}
	for _, id := range seen {
		in[id] = true
	}
	var out []neverSeenIdentity
	for _, l := range []struct {
		flag string
		ids  []string
	}{{"--allow", o.allow}, {"--exclude", o.exclude}} {
		for _, id := range l.ids {
			if !in[id] {
				out = append(out, neverSeenIdentity{Flag: l.flag, Identity: id})
			}
		}
	}
	return out
}

// audioBridgeConsentErr refuses per-speaker consent in a room the server mixes.
func audioBridgeConsentErr(o *recordOptions) error {
	what := "--consent opt-in"
	if o.consent != capture.PolicyOptIn {
		what = "--exclude"
	}
	return usageErr("record: %s cannot be honoured in a Janus AudioBridge room: the server mixes every speaker into one track, "+
		"so the recorder cannot leave one person out. Record a VideoRoom (or LiveKit) room instead, or use --consent announced/assume "+
		"without --exclude", what)
}

// pauseResume pauses or resumes the recorder and tells the room.
func pauseResume(ctx context.Context, rec *capture.Recorder, conn room.Conn, ev *eventPrinter, op, reason string, tellRoom bool) controlReply {
	var ok bool
	var text string
	if op == "pause" {
		ok, text = rec.Pause(reason), "⏸ recording paused"
	} else {
		ok, text = rec.Resume(reason), "⏺ recording resumed"
	}
	paused := rec.Paused()
	if !ok {
		return controlReply{Paused: paused, Message: map[bool]string{true: "already paused", false: "not paused"}[paused]}
	}
	if tellRoom {
		go func() {
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if err := conn.Announce(actx, text); err != nil && !errors.Is(err, room.ErrNoMessages) && actx.Err() == nil {
				ev.warn(fmt.Sprintf("could not tell the room %q: %v", text, err))
			}
		}()
	}
	return controlReply{OK: true, Paused: paused, Message: map[bool]string{true: "recording paused", false: "recording resumed"}[paused]}
}

type recordTrack struct {
	ID       string `json:"id"`
	Identity string `json:"identity"`
	Name     string `json:"name,omitempty"`
	Packets  uint64 `json:"packets"`
	Lost     uint64 `json:"lost"`
}

// roomErr maps an adapter's error to an exit status: a malformed URL is a usage error, anything
// that kept the recorder out of the room is ExitRoom.
func roomErr(err error) error {
	switch {
	case errors.Is(err, room.ErrURL):
		return &exitError{code: ExitUsage, err: fmt.Errorf("record: %w", err)}
	case errors.Is(err, room.ErrAuth), errors.Is(err, room.ErrNoRoom), errors.Is(err, room.ErrEmptyRoom),
		errors.Is(err, room.ErrUnreachable), errors.Is(err, room.ErrNotSupported):
		return &exitError{code: ExitRoom, err: fmt.Errorf("record: %w", err)}
	}
	return &exitError{code: ExitRoom, err: fmt.Errorf("record: could not join: %w", err)}
}

func safeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c == '/' || c == '\\' || c == ':' || c < ' ' {
			c = '-'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// eventPrinter prints events as JSON lines with --json; otherwise the notable ones as lines on
// stderr (the status line shows the rest).
type eventPrinter struct {
	g  *globalOptions
	mu sync.Mutex
}

func newEventPrinter(g *globalOptions) *eventPrinter { return &eventPrinter{g: g} }

func (p *eventPrinter) print(e capture.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.g.json {
		writeJSONLine(p.g.stdout, e)
		return
	}
	if p.g.quiet {
		return
	}
	var line string
	switch e.Type {
	case "joined":
		line = "recording into " + e.Message
	case "speaker-joined":
		line = fmt.Sprintf("%s started speaking (%s)", nameOf(e), e.Track)
		if e.Track == "" {
			line = fmt.Sprintf("%s is on stage (not recorded)", nameOf(e))
		}
	case "speaker-left":
		line = fmt.Sprintf("%s stopped (%s)", e.Identity, e.Track)
	case "reconnecting":
		line = "connection lost (" + e.Cause + "); reconnecting…"
	case "reconnected":
		line = fmt.Sprintf("reconnected after %.1f s", e.Duration)
	case "gap":
		line = fmt.Sprintf("gap of %.1f s at %s (%s) recorded in the manifest", e.Duration, fmtSecs(e.At), e.Cause)
	case "paused", "resumed":
		line = "recording " + string(e.Type) + " (" + e.Cause + ")"
	case "consent-given", "consent-withdrawn", "recording", "not-recording", "excluded":
		line = fmt.Sprintf("%s: %s (%s)", e.Identity, strings.ReplaceAll(string(e.Type), "-", " "), e.Cause)
	case "error":
		line = "error: " + e.Message
	default:
		return
	}
	erase := "" // on a terminal, the line goes over the status line
	if p.g.isTerminal {
		erase = "\r\033[K"
	}
	// Names and causes come from the room: control characters in them must not drive the terminal.
	fmt.Fprintf(p.g.stderr, "%s%s %s\n", erase, fmtSecs(e.At), safetext.TermN(line, safetext.MaxText))
}

func (p *eventPrinter) warn(msg string) {
	p.print(capture.Event{Type: "error", Message: msg})
}

func nameOf(e capture.Event) string {
	if e.Name != "" && e.Name != e.Identity {
		return fmt.Sprintf("%s (%s)", e.Name, e.Identity)
	}
	return e.Identity
}

func fmtSecs(s float64) string {
	d := time.Duration(s * float64(time.Second)).Truncate(time.Second)
	return fmt.Sprintf("[%02d:%02d:%02d]", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// recordStatus draws the live status line: elapsed, speakers with level meters, loss, bytes.
type recordStatus struct {
	g     *globalOptions
	rec   *capture.Recorder
	dir   string
	on    bool
	drawn bool
	heard map[string]heard // per track: packets written, and when that count last grew
}

type heard struct {
	packets uint64
	at      time.Time
}

// staleLevel is how long a track may get no packet before its meter shows silence: its level is
// only updated by packets, so a speaker who stops sending (mute, a pause without DTX) would
// otherwise keep their last level.
const staleLevel = 750 * time.Millisecond

func newRecordStatus(g *globalOptions, rec *capture.Recorder, dir string) *recordStatus {
	return &recordStatus{g: g, rec: rec, dir: dir, on: g.isTerminal && !g.json && !g.quiet, heard: map[string]heard{}}
}

func (s *recordStatus) draw() {
	if !s.on {
		return
	}
	st := s.rec.Stats()
	now := time.Now()
	var (
		recv, lost uint64
		speakers   []statusSpeaker
	)
	for _, t := range st.Tracks {
		recv += t.Received
		lost += t.Lost
		h := s.heard[t.ID]
		if t.Received != h.packets || h.at.IsZero() {
			h = heard{packets: t.Received, at: now}
			s.heard[t.ID] = h
		}
		if !t.Active {
			continue
		}
		level := t.Level
		if now.Sub(h.at) > staleLevel {
			level = math.Inf(-1)
		}
		speakers = append(speakers, statusSpeaker{name: term(t.Identity), meter: meter(level)})
	}
	var tail string
	if recv > 0 {
		tail = fmt.Sprintf("  loss %.1f%%", 100*float64(lost)/float64(recv+lost))
	}
	tail += fmt.Sprintf("  %.1f MiB", float64(diskBytes(s.dir))/(1<<20))
	// The last column stays free: a line that fills it leaves some terminals waiting to wrap.
	line := fitStatus("⏺ REC "+fmtSecs(st.Elapsed.Seconds()), speakers, tail, terminalWidth(s.g.stderr)-1)
	fmt.Fprintf(s.g.stderr, "\r\033[K%s", line)
	s.drawn = true
}

func (s *recordStatus) finish() {
	if s.drawn {
		fmt.Fprint(s.g.stderr, "\r\033[K")
		s.drawn = false
	}
}

type statusSpeaker struct{ name, meter string }

// statusNameCols is how far a speaker's name is shortened when the line does not fit.
const statusNameCols = 12

// fitStatus joins head, the speakers and tail in at most width columns: names are shortened when
// the line is too long, and the speakers that still do not fit are counted as "+N". head and tail
// are always shown (cut only on a terminal too narrow for them).
func fitStatus(head string, speakers []statusSpeaker, tail string, width int) string {
	part := func(sp statusSpeaker, short bool) string {
		name := sp.name
		if short && displayWidth(name) > statusNameCols {
			name = cutToWidth(name, statusNameCols-1) + "~"
		}
		return "  " + name + " " + sp.meter
	}
	build := func(n int, short bool) string {
		var b strings.Builder
		b.WriteString(head)
		for _, sp := range speakers[:n] {
			b.WriteString(part(sp, short))
		}
		if n < len(speakers) {
			fmt.Fprintf(&b, "  +%d", len(speakers)-n)
		}
		b.WriteString(tail)
		return b.String()
	}
	if line := build(len(speakers), false); displayWidth(line) <= width {
		return line
	}
	for n := len(speakers); n >= 0; n-- {
		if line := build(n, true); displayWidth(line) <= width {
			return line
		}
	}
	return cutToWidth(build(0, true), width)
}

// terminalWidth is the width in columns of the terminal w is, or 80.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return 80
}

// displayWidth is how many columns s takes on a terminal: East Asian wide and fullwidth runes take two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// cutToWidth returns the longest prefix of s that takes at most cols columns.
func cutToWidth(s string, cols int) string {
	n := 0
	for i, r := range s {
		if n += runeWidth(r); n > cols {
			return s[:i]
		}
	}
	return s
}

// meter draws a level in dBFS as five blocks from -60 to 0.
func meter(db float64) string {
	if math.IsNaN(db) || math.IsInf(db, -1) {
		db = -100
	}
	n := int(math.Round((db + 60) / 12))
	n = max(0, min(5, n))
	return strings.Repeat("▮", n) + strings.Repeat("▯", 5-n)
}

func diskBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// writeJSONLine writes v as one line of JSON: record's output is a stream of events. Names in
// events come from the room: safetext.JSON escapes what encoding/json leaves raw.
func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		w.Write(append(safetext.JSON(b), '\n'))
	}
}
