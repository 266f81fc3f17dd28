package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/room/protocols"
	"github.com/spacecast/spacecast/pkg/session"
)

type submitRecordOptions struct {
	protocol       string
	room           string
	name           string
	store          string
	consent        string
	allow, exclude []string
	retain         string
	duration       time.Duration
	stopWhenEmpty  time.Duration
	wait           time.Duration
	plugin         string
	apiKey         string
	apiSecret      string
	token          string
	janusAPISecret string
	pin            string
	signKey        string
	then           thenOptions
	nats           natsOptions
}

// thenOptions are the follow-ups of a record job: what a worker does with the session once it is
// recorded (docs/fleet.md, "Follow-ups").
type thenOptions struct {
	mixTo         string
	mixFormat     string
	loudness      float64
	truePeak      float64
	publishTo     string
	push          string
	titleTemplate string
}

func newSubmitCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "submit",
		Short: "Queue a job for the workers of a fleet (NATS JetStream)",
		Long: `Submit queues a job on NATS JetStream for the machines that record (docs/fleet.md). The only
job so far is 'submit record'. 'spacecast worker' takes the jobs and records them; until one does,
a submitted job waits in the queue, and 'spacecast jobs' shows it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr("submit: what? 'spacecast submit record URL ...' (see 'spacecast submit --help')")
		},
	}
	cmd.AddCommand(newSubmitRecordCommand(g))
	return cmd
}

func newSubmitRecordCommand(g *globalOptions) *cobra.Command {
	o := &submitRecordOptions{}
	cmd := &cobra.Command{
		Use:   "record URL --room ROOM --store s3://BUCKET/PREFIX [flags]",
		Short: "Queue a recording of a room into a bucket",
		Long: `Submit record queues a job that asks a worker to record the room at URL into a new session
under --store: s3://BUCKET/PREFIX/ROOM-YYYYMMDD-HHMMSS (UTC, the time of the submit), or the name
given with --session-name. The session's place is fixed in the job, so a worker that takes over
from a lost one records into the same session.

A room has one job at a time. Submitting a room whose job is queued or running queues nothing: it
prints that job ("created": false in --json). Once the room's job is done, failed or cancelled, a
submit queues a new job. A retried submit (a lost answer, two operators) is one job.

Secrets never travel in a job. The job names where the worker finds each one: env:NAME (the
worker's environment) or file:/PATH (a file on the worker, such as a mounted secret):
  --api-secret-from    LiveKit API secret (default env:LIVEKIT_API_SECRET for a LiveKit room
                       without --token-from)
  --token-from         LiveKit join token, Janus token or WHEP bearer token
  --janus-api-secret-from, --pin-from, --sign-key-from (a key file from 'spacecast keygen')
The LiveKit API key (--api-key) is a name, not a secret, and travels as it is.

Consent (--consent, --allow, --exclude), retention (--retain) and the stop conditions (--duration,
--stop-when-empty, --wait) mean what they mean for 'spacecast record', and travel with the job.

Follow-ups: once the room is recorded (its session joined and sealed in the bucket), the worker
queues one follow-up job that runs these steps in order, retried up to 3 times if it fails:
  --mix-to s3://BUCKET[/PREFIX]     mix the session as 'spacecast mix' does (--mix-format,
                                    --loudness, --true-peak) into PREFIX/NAME.mp3, beside the session
  --publish-to s3://BUCKET[/PREFIX] publish the mix as an episode (--title-template) of the site
                                    folder kept there ('spacecast feed init' made it), then push the
                                    site to --push (default: its podcast.yaml's push line)
--publish-to without --mix-to puts the mix beside the session, under --store.

It prints the job's ID. 'spacecast jobs' lists jobs, 'spacecast jobs show ID' shows one and
'spacecast jobs cancel ID' cancels it.

` + natsHelp,
		Example: `  spacecast submit record wss://lk.example.com --room town-hall --store s3://shows/2026 --nats nats://nats:4222
  NATS_URL=nats://nats:4222 spacecast submit record http://janus:8088/janus --room 1234 --store s3://shows/janus \
      --consent opt-in --allow host --retain 90d --json
  spacecast submit record https://media.example.com/whep/live --consent assume --token-from file:/run/secrets/whep \
      --store s3://shows/live --creds ~/.nats/ops.creds`,
		Args: exactArgs("submit record", 1, "URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSubmitRecord(cmd.Context(), o, g, args[0])
		},
	}
	fl := cmd.Flags()
	o.addTemplateFlags(cmd)
	fl.StringVar(&o.name, "session-name", "", "the session's name under --store (default: ROOM-YYYYMMDD-HHMMSS)")
	fl.StringVar(&o.protocol, "protocol", "", "livekit, janus or whep (default: from the URL)")
	fl.StringVar(&o.room, "room", "", "room name (LiveKit) or room ID (Janus)")
	fl.StringVar(&o.plugin, "janus-plugin", "", "Janus: audiobridge or videoroom (default: whichever has the room)")
	fl.StringVar(&o.token, "token-from", "", "where the worker finds the room's token: env:NAME or file:/PATH")
	fl.StringVar(&o.janusAPISecret, "janus-api-secret-from", "", "where the worker finds the Janus api_secret: env:NAME or file:/PATH")
	fl.StringVar(&o.pin, "pin-from", "", "where the worker finds the Janus room's PIN: env:NAME or file:/PATH")
	o.nats.addFlags(cmd)
	cmd.RegisterFlagCompletionFunc("protocol", cobra.FixedCompletions([]string{"livekit", "janus", "whep"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// addTemplateFlags adds the flags of a record job that submit record and webhook share: where the
// session goes, consent, retention, stop conditions, LiveKit's key and the secrets' references.
func (o *submitRecordOptions) addTemplateFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&o.store, "store", "", "where the session goes: s3://BUCKET/PREFIX (required)")
	fl.StringVar(&o.consent, "consent", "announced", "announced, assume or opt-in (as for 'spacecast record')")
	fl.StringArrayVar(&o.allow, "allow", nil, "opt-in: record this identity without a signal (repeatable)")
	fl.StringArrayVar(&o.exclude, "exclude", nil, "never record this identity (repeatable)")
	fl.StringVar(&o.retain, "retain", "30d", "keep the raw session this long (30d, 2w, 720h)")
	fl.DurationVar(&o.duration, "duration", 0, "stop after this long (default: until the room ends)")
	fl.DurationVar(&o.stopWhenEmpty, "stop-when-empty", 0, "stop when no speaker has been on for this long")
	fl.DurationVar(&o.wait, "wait", 0, "wait up to this long for the room to open and a first speaker")
	fl.StringVar(&o.apiKey, "api-key", os.Getenv("LIVEKIT_API_KEY"), "LiveKit API key (env LIVEKIT_API_KEY)")
	fl.StringVar(&o.apiSecret, "api-secret-from", "", "where the worker finds the LiveKit API secret: env:NAME or file:/PATH")
	fl.StringVar(&o.signKey, "sign-key-from", "", "where the worker finds the key that signs the session: env:NAME or file:/PATH")
	fl.StringVar(&o.then.mixTo, "mix-to", "", "after the recording, mix it into s3://BUCKET[/PREFIX]/NAME.FORMAT (default with --publish-to: beside the session)")
	fl.StringVar(&o.then.mixFormat, "mix-format", "mp3", "the mix's format: mp3, opus or wav")
	fl.Float64Var(&o.then.loudness, "loudness", -16, "the mix's integrated loudness target in LUFS (as for 'spacecast mix')")
	fl.Float64Var(&o.then.truePeak, "true-peak", -1, "the mix's true-peak ceiling in dBTP (as for 'spacecast mix')")
	fl.StringVar(&o.then.publishTo, "publish-to", "", "after the mix, publish it as an episode of the site folder kept in s3://BUCKET[/PREFIX]")
	fl.StringVar(&o.then.push, "push", "", "after publishing, push the site to s3://BUCKET[/PREFIX] (default: podcast.yaml's push)")
	fl.StringVar(&o.then.titleTemplate, "title-template", "{room}, {date}", "the episode's title: {room}, {date} (UTC, YYYY-MM-DD) and {session} are replaced")
	cmd.RegisterFlagCompletionFunc("mix-format", cobra.FixedCompletions([]string{"mp3", "opus", "wav"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("consent", cobra.FixedCompletions([]string{"announced", "assume", "opt-in"}, cobra.ShellCompDirectiveNoFileComp))
}

func runSubmitRecord(ctx context.Context, o *submitRecordOptions, g *globalOptions, rawURL string) error {
	job, err := submitRecordJob(o, rawURL, time.Now())
	if err != nil {
		return err
	}
	q, ctx, done, err := o.nats.open(ctx, "submit record")
	if err != nil {
		return err
	}
	defer done()
	id, created, err := q.Submit(ctx, job)
	if err != nil {
		return fmt.Errorf("submit record: %w", err)
	}
	st, err := q.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("submit record: %w", err)
	}
	if g.json {
		return writeJSON(g.stdout, map[string]any{"id": id, "created": created, "job": st})
	}
	fmt.Fprintln(g.stdout, id)
	switch {
	case g.quiet:
	case created:
		fmt.Fprintf(g.stderr, "submit record: queued job %s: %s into %s\n", id, printableURL(rawURL), term(st.Job.Record.Session))
	default:
		fmt.Fprintf(g.stderr, "submit record: the room has a job already, %s (%s): nothing queued\n", id, st.State)
	}
	return nil
}

// submitRecordJob is the job the flags ask for, before the queue checks it.
func submitRecordJob(o *submitRecordOptions, rawURL string, now time.Time) (fleet.Job, error) {
	rec, store, err := recordTemplate("submit record", o, rawURL)
	if err != nil {
		return fleet.Job{}, err
	}
	name := o.name
	if name == "" {
		room := o.room
		if room == "" {
			room = "room"
		}
		name = fmt.Sprintf("%s-%s", safeName(room), now.UTC().Format("20060102-150405"))
	}
	if strings.Contains(name, "/") {
		return fleet.Job{}, usageErr("submit record: --session-name %q: a name, without '/'", name)
	}
	rec.Session = objstore.Scheme + store.Bucket + "/" + name
	if store.Prefix != "" {
		rec.Session = objstore.Scheme + store.Bucket + "/" + store.Prefix + "/" + name
	}
	return fleet.Job{Kind: fleet.KindRecord, Record: &rec}, nil
}

// recordTemplate is the record job the flags ask for, but for its session (the store is returned
// for the caller to name it).
func recordTemplate(command string, o *submitRecordOptions, rawURL string) (fleet.RecordJob, objstore.URL, error) {
	proto, err := protocols.Detect(rawURL, o.protocol)
	if err != nil {
		return fleet.RecordJob{}, objstore.URL{}, fmt.Errorf("%s: %w", command, err)
	}
	if o.store == "" {
		return fleet.RecordJob{}, objstore.URL{}, usageErr("%s: where does the session go? Give --store s3://BUCKET/PREFIX", command)
	}
	store, err := objstore.ParseURL(o.store)
	if err != nil {
		return fleet.RecordJob{}, objstore.URL{}, fmt.Errorf("%s: --store: %w", command, err)
	}
	retain, err := session.ParseAge(o.retain)
	if err != nil {
		return fleet.RecordJob{}, objstore.URL{}, usageErr("%s: --retain %s is not a duration: use days (30d), weeks (2w) or a Go duration (720h, 90m)", command, o.retain)
	}
	apiSecret := o.apiSecret
	if apiSecret == "" && proto == protocols.LiveKit && o.token == "" {
		apiSecret = "env:LIVEKIT_API_SECRET"
	}
	consent := o.consent
	if consent == "" {
		consent = capture.PolicyAnnounced
	}
	then, err := o.then.then(command, store)
	if err != nil {
		return fleet.RecordJob{}, objstore.URL{}, err
	}
	return fleet.RecordJob{Then: then,
		URL: rawURL, Protocol: string(proto), Room: o.room,
		Consent: consent, Allow: o.allow, Exclude: o.exclude,
		Retain: fleet.Duration(retain), Duration: fleet.Duration(o.duration),
		StopWhenEmpty: fleet.Duration(o.stopWhenEmpty), Wait: fleet.Duration(o.wait),
		JanusPlugin: o.plugin, APIKey: o.apiKey,
		APISecret: fleet.SecretRef(apiSecret), Token: fleet.SecretRef(o.token),
		JanusAPISecret: fleet.SecretRef(o.janusAPISecret), PIN: fleet.SecretRef(o.pin), SignKey: fleet.SecretRef(o.signKey),
	}, store, nil
}

// then is the follow-ups the flags ask for (nil: none); store is where the sessions go, beside
// which the mix goes by default.
func (o *thenOptions) then(command string, store objstore.URL) (*fleet.Then, error) {
	if o.publishTo == "" && (o.push != "" || o.titleTemplate != "{room}, {date}") {
		return nil, usageErr("%s: --push and --title-template go with --publish-to s3://BUCKET[/PREFIX] (the site's folder)", command)
	}
	if o.mixTo == "" && o.publishTo == "" {
		if o.mixFormat != "mp3" || o.loudness != -16 || o.truePeak != -1 {
			return nil, usageErr("%s: --mix-format, --loudness and --true-peak go with --mix-to s3://BUCKET[/PREFIX] (or --publish-to)", command)
		}
		return nil, nil
	}
	if o.loudness > -5 || o.loudness < -40 {
		return nil, usageErr("%s: --loudness %g LUFS is out of range (use -40 to -5; podcasts use -16)", command, o.loudness)
	}
	if o.truePeak > 0 || o.truePeak < -20 {
		return nil, usageErr("%s: --true-peak %g dBTP is out of range (use -20 to 0; -1 is usual)", command, o.truePeak)
	}
	mixTo := o.mixTo
	if mixTo == "" {
		mixTo = store.String()
	}
	for _, u := range []struct{ flag, v string }{{"--mix-to", mixTo}, {"--publish-to", o.publishTo}, {"--push", o.push}} {
		if u.v == "" {
			continue
		}
		if _, err := objstore.ParseURL(u.v); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", command, u.flag, err)
		}
	}
	t := &fleet.Then{Mix: &fleet.MixStep{To: mixTo, Format: o.mixFormat, LoudnessLUFS: o.loudness, TruePeakDBTP: o.truePeak}}
	if o.publishTo != "" {
		if o.mixFormat != "mp3" {
			return nil, usageErr("%s: --publish-to publishes an MP3: drop --mix-format %s", command, o.mixFormat)
		}
		t.Publish = &fleet.PublishStep{Site: o.publishTo, Push: o.push, Title: o.titleTemplate}
	}
	return t, nil
}
