package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/cli/ui"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/janus"
	"github.com/spacecast/spacecast/pkg/room/protocols"
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
	spool            string
	s3               s3Options
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
While it runs, 'spacecast clip DIR --last 30s -o clip.mp3' cuts the last 30 seconds.

Into a bucket: -o s3://BUCKET/PREFIX/NAME writes the session as usual into a local spool folder
(--spool; default under the user's cache folder, e.g. ~/.cache/spacecast/spool/BUCKET/PREFIX/NAME)
and sends what was recorded to the bucket every 5 s, in pieces under NAME/.live/ with the manifest
after them, so a recorder that dies loses at most about the last 10 s: 'spacecast recover
s3://BUCKET/PREFIX/NAME' finishes it (from the spool if this machine still has it, else from the
pieces). The credentials, the bucket and the place (no session there yet) are checked before the
room is joined; a store that cannot be used is exit status 5. A store that goes away meanwhile
does not stop the recording: the spool keeps everything, uploads are retried and catch up when it
is back (events upload-behind, upload-caught-up). When the recording ends the finished session
is uploaded as 'spacecast push' leaves it (the manifest last), the pieces are deleted and the
spool removed; a store still down 2 minutes later is exit status 5, the spool is kept, and
'spacecast recover s3://...' uploads it once the store is back (docs/session-format.md).

` + s3Help,
		Example: `  spacecast record wss://example.livekit.cloud --room town-hall --api-key KEY --api-secret SECRET -o town-hall
  LIVEKIT_URL=ws://localhost:7880 spacecast record --room standup --token "$TOKEN" --stop-when-empty 2m
  spacecast record http://localhost:8088/janus --room 1234 -o janus-room --duration 1h
  spacecast record https://media.example.com/whep/live --consent assume -o live --json
  spacecast record ws://localhost:7880 --room panel --token "$TOKEN" --consent opt-in --allow host -o panel
  spacecast record ws://localhost:7880 --room q-and-a --token "$TOKEN" --exclude guest-42 -o qa
  spacecast record --pause panel      # go off the record (or: kill -USR1 PID)
  spacecast record --resume panel     # back on the record (or: kill -USR2 PID)
  spacecast record ws://localhost:7880 --room panel --token "$TOKEN" -o s3://shows/2026/panel`,
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
	fl.StringVarP(&o.output, "output", "o", "", "session folder to create (default: ROOM-YYYYMMDD-HHMMSS), or s3://BUCKET/PREFIX/NAME to record into a bucket")
	fl.StringVar(&o.spool, "spool", "", "with -o s3://…: the local folder holding what is not uploaded yet (default: under the user's cache folder)")
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
	o.s3.addFlags(cmd)
	cmd.MarkFlagDirname("output")
	cmd.MarkFlagDirname("spool")
	cmd.RegisterFlagCompletionFunc("protocol", cobra.FixedCompletions([]string{"livekit", "janus", "whep"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("consent", cobra.FixedCompletions([]string{"announced", "assume", "opt-in"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("janus-plugin", cobra.FixedCompletions([]string{"audiobridge", "videoroom"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runRecord(ctx context.Context, o *recordOptions, g *globalOptions, rawURL string) error {
	// Pause and resume signals are taken from the start: one sent while the recorder still waits
	// for the room must not kill it (their default action); it is acted on once recording runs.
	sigC := make(chan os.Signal, 2)
	signal.Notify(sigC, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigC)
	proto, err := protocols.Detect(rawURL, o.protocol)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	ro, err := checkRecord(o, proto)
	if err != nil {
		return err
	}
	out, dest := o.output, ""
	if objstore.IsURL(out) {
		spool, up, err := prepareUpload(ctx, o)
		if err != nil {
			return err
		}
		out, dest, ro.Upload = spool, o.output, up
	} else if o.spool != "" {
		return usageErr("record: --spool is for a recording into a bucket (-o s3://BUCKET/PREFIX/NAME)")
	}
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
	ro.URL, ro.Protocol, ro.Dir = rawURL, proto, out

	p := newRecordPrinter(g)
	ro.Observer = ui.Observe(p, warning("record"))
	if !g.json && !g.quiet {
		if o.wait > 0 {
			fmt.Fprintf(g.stderr, "record: joining %s (%s), waiting up to %s for the room and a first speaker…\n", printableURL(rawURL), proto, o.wait)
		} else {
			fmt.Fprintf(g.stderr, "record: joining %s (%s)…\n", printableURL(rawURL), proto)
		}
	}
	rec, err := record.Start(ctx, ro)
	if err != nil {
		return err // the error table words it (errors.go)
	}
	go func() {
		for {
			select {
			case sig := <-sigC:
				// The one error is record.ErrStopping: a signal while the recording stops changes nothing.
				if sig == syscall.SIGUSR1 {
					_, _ = rec.Pause("SIGUSR1")
				} else {
					_, _ = rec.Resume("SIGUSR2")
				}
			case <-rec.Done():
				return
			}
		}
	}()
	res, err := ui.Show(rec, p)

	st := res.Stats
	if res.Uploaded {
		out = dest
	}
	sum := ui.RecordSummary{Session: out, Reason: stopReason(res.Reason, o), Duration: st.Elapsed.Seconds(), Bytes: st.Bytes,
		Elapsed: st.Elapsed, NeverSeen: neverSeen(res.Seen, o), Finalized: res.Sealed}
	for _, t := range st.Tracks {
		sum.Tracks = append(sum.Tracks, ui.RecordTrack{ID: t.ID, Identity: t.Identity, Name: t.Name, Packets: t.Received, Lost: t.Lost})
	}
	if err != nil {
		sum.Error = summaryError(err)
	}
	p.Summary(sum)
	return err
}

// checkRecord checks the flags that need the protocol, and turns them into the recording's options.
func checkRecord(o *recordOptions, proto protocols.Protocol) (record.Options, error) {
	retain, err := session.ParseAge(o.retain)
	if err != nil {
		return record.Options{}, usageErr("record: --retain %s is not a duration: use days (30d), weeks (2w) or a Go duration (720h, 90m)", o.retain)
	}
	var signKey ed25519.PrivateKey
	if o.signKey != "" {
		if signKey, err = session.LoadPrivateKey(o.signKey); err != nil {
			return record.Options{}, inputErr(fmt.Errorf("record: --sign-key: %w", err))
		}
	}
	switch o.consent {
	case capture.PolicyAnnounced, capture.PolicyAssume, capture.PolicyOptIn:
	default:
		return record.Options{}, usageErr("record: --consent %q: want announced, assume or opt-in", o.consent)
	}
	if proto == protocols.WHEP && o.consent != capture.PolicyAssume {
		return record.Options{}, usageErr("record: WHEP has no participant list, so the room cannot see the recorder and --consent %s cannot hold; "+
			"if you told the room it is being recorded another way, pass --consent assume", o.consent)
	}
	if len(o.allow) > 0 && o.consent != capture.PolicyOptIn {
		return record.Options{}, usageErr("record: --allow only means something with --consent opt-in (under %s everyone not excluded is recorded)", o.consent)
	}
	for _, id := range append(append([]string(nil), o.allow...), o.exclude...) {
		if strings.TrimSpace(id) == "" {
			return record.Options{}, usageErr("record: --allow/--exclude with an empty identity")
		}
	}
	consent := session.Consent{Policy: o.consent, Allow: o.allow, Exclude: o.exclude}
	if proto == protocols.Janus && record.PerSpeaker(consent) && strings.EqualFold(o.plugin, janus.AudioBridge) {
		return record.Options{}, &record.ServerMixesError{Policy: o.consent, Exclude: o.exclude}
	}
	if !strings.Contains(o.name, "REC") {
		return record.Options{}, usageErr("record: --name %q must keep the REC marker so the room sees it is being recorded", o.name)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--wait", o.wait}, {"--duration", o.duration}, {"--stop-when-empty", o.stopWhenEmpty}, {"--reconnect-timeout", o.reconnectTimeout}} {
		if d.v < 0 {
			return record.Options{}, usageErr("record: %s %s is negative", d.flag, d.v)
		}
	}
	janusSecret := o.apiSecret
	if janusSecret == os.Getenv("LIVEKIT_API_SECRET") {
		janusSecret = "" // LiveKit's secret from the environment is not Janus's
	}
	return record.Options{
		Dial: protocols.DialOptions{
			Options: room.Options{Identity: room.Identity{Identity: o.identity, Name: o.name}, Wait: o.wait, ReconnectTimeout: o.reconnectTimeout},
			Room:    o.room, Token: o.token, APIKey: o.apiKey, APISecret: o.apiSecret, JanusAPISecret: janusSecret,
			JanusPlugin: o.plugin, PIN: o.pin, RTC: rtc.Options{Loopback: o.loopback, Interfaces: o.interfaces},
		},
		Retain: retain, Consent: consent,
		Duration: o.duration, StopWhenEmpty: o.stopWhenEmpty, SignKey: signKey,
		Announce: o.consent != capture.PolicyAssume, Control: true,
	}, nil
}

// newRecordPrinter is the printer of record's and demo's recordings: JSON lines with --json,
// nothing with --quiet, else text.
func newRecordPrinter(g *globalOptions) ui.RecordPrinter {
	switch {
	case g.json:
		return ui.NewJSON(g.stdout)
	case g.quiet:
		return ui.Quiet{}
	}
	return ui.NewText(g.stdout, g.stderr, g.isTerminal)
}

// stopReason says why the recording stopped, as the summary says it.
func stopReason(r record.StopReason, o *recordOptions) string {
	if r == record.StopEmpty {
		return fmt.Sprintf("no speaker for %s", o.stopWhenEmpty)
	}
	return r.String()
}

// summaryError is the summary's "error": what stopped the recording or its finalizing.
func summaryError(err error) string {
	if fin := finalizeOf(err); fin != nil {
		return fin.Err.Error()
	}
	if lost := find[*record.LostError](err); lost != nil {
		return lost.Err.Error()
	}
	return err.Error()
}

// warning words a warning (the recording goes on) for command's printer, as the error table says.
func warning(command string) func(error) string {
	return func(err error) string { return explain(command, err).Error() }
}

// neverSeen lists the --allow and --exclude identities not among those seen.
func neverSeen(seen []string, o *recordOptions) []ui.NeverSeen {
	in := map[string]bool{}
	for _, id := range seen {
		in[id] = true
	}
	var out []ui.NeverSeen
	for _, l := range []struct {
		flag string
		ids  []string
	}{{"--allow", o.allow}, {"--exclude", o.exclude}} {
		for _, id := range l.ids {
			if !in[id] {
				out = append(out, ui.NeverSeen{Flag: l.flag, Identity: id})
			}
		}
	}
	return out
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
