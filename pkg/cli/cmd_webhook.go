package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/room/protocols"
	"github.com/spacecast/spacecast/pkg/webhook"
)

// The paths the webhook receiver serves.
const (
	webhookPath = "/livekit"
	healthPath  = "/healthz"
	metricsPath = "/metrics"
)

type webhookOptions struct {
	job            submitRecordOptions
	listen         string
	livekitURL     string
	recordRooms    []string
	recordAll      bool
	noMetadata     bool
	enqueueTimeout time.Duration
}

func newWebhookCommand(g *globalOptions) *cobra.Command {
	o := &webhookOptions{}
	cmd := &cobra.Command{
		Use:   "webhook --livekit-url URL --store s3://BUCKET/PREFIX [flags]",
		Short: "Receive LiveKit's webhooks and queue a record job for each room that starts",
		Long: `Webhook serves LiveKit's webhooks over HTTP and turns them into record jobs for the workers of a
fleet (docs/fleet.md, "Auto-record"). Point LiveKit's livekit.yaml at it:

  webhook:
    api_key: KEY
    urls: ["http://HOST:8090` + webhookPath + `"]

Every request is verified as LiveKit signs it (a JWT from the API secret carrying the body's
SHA-256): a forged or replayed one is refused (401), a malformed one too (400). The API key is
--api-key, its secret is read from --api-secret-from (env:NAME or file:/PATH), never from a flag
value, and never printed.

Which rooms: those whose metadata asks ({"spacecast":{"record":true}}) by default; --record-rooms
GLOB (repeatable, path.Match: "standup-*") adds rooms by name; --record-all records every room. A
room whose metadata says {"spacecast":{"record":false}} is never recorded.

room_started queues a record job of the room at --livekit-url (the server the workers dial) into a
new session STORE/ROOM-YYYYMMDD-HHMMSS-SID: the room's name made safe for a key, the UTC time of
the webhook, LiveKit's room SID. One job per run of a room: LiveKit's retries, or the event
reaching two receivers, queue nothing more. The template flags (--consent, --retain,
--sign-key-from, ...) mean what they mean for 'spacecast submit record', and travel with each job;
so do the follow-ups (--mix-to, --publish-to, --push, --title-template, ...): each room recorded is
then mixed and published as its own episode.

room_finished cancels the room's job if no worker has taken it yet. A job being recorded is left
alone: its recorder sees the room close and seals the session.

If queueing fails (NATS down), the answer is 503 and LiveKit delivers the event again. It also
serves ` + healthPath + ` (200 while NATS is connected, else 503) and Prometheus ` + metricsPath + `. It logs
structured lines on stderr (JSON with --json). SIGTERM or Ctrl-C stops it gracefully: requests
under way are answered first.

` + natsHelp + ` NATS unreachable at start is exit status 5.`,
		Example: `  LIVEKIT_API_SECRET=... spacecast webhook --nats nats://nats:4222 --listen 0.0.0.0:8090 \
      --livekit-url wss://lk.example.com --api-key APIxyz --api-secret-from env:LIVEKIT_API_SECRET \
      --store s3://shows/auto --record-rooms 'standup-*' --record-rooms 'podcast-*'
  spacecast webhook --livekit-url ws://livekit:7880 --api-key devkey --api-secret-from file:/run/secrets/lk \
      --store s3://shows/all --record-all --consent opt-in --retain 90d --sign-key-from file:/run/secrets/sign.key --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWebhook(cmd.Context(), o, g)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.listen, "listen", "127.0.0.1:8090", "HOST:PORT to serve on")
	fl.StringVar(&o.livekitURL, "livekit-url", "", "the LiveKit server the workers dial, ws:// or wss:// (required)")
	fl.StringArrayVar(&o.recordRooms, "record-rooms", nil, "record rooms whose name matches this glob (repeatable)")
	fl.BoolVar(&o.recordAll, "record-all", false, "record every room")
	fl.BoolVar(&o.noMetadata, "no-metadata-opt-in", false, "do not record rooms just because their metadata asks")
	fl.DurationVar(&o.enqueueTimeout, "enqueue-timeout", webhook.DefaultEnqueueTimeout, "answer 503 when queueing a job takes longer")
	o.job.addTemplateFlags(cmd)
	o.job.nats.addFlags(cmd)
	return cmd
}

func runWebhook(ctx context.Context, o *webhookOptions, g *globalOptions) error {
	const command = "webhook"
	if o.livekitURL == "" {
		return usageErr("webhook: which LiveKit server do the workers dial? Give --livekit-url ws://HOST:7880")
	}
	if o.enqueueTimeout <= 0 {
		return usageErr("webhook: --enqueue-timeout %s: give a positive duration", o.enqueueTimeout)
	}
	o.job.protocol = string(protocols.LiveKit)
	tmpl, store, err := recordTemplate(command, &o.job, o.livekitURL)
	if err != nil {
		return err
	}
	if tmpl.APIKey == "" {
		return usageErr("webhook: which API key signs LiveKit's webhooks? Give --api-key (or LIVEKIT_API_KEY)")
	}
	secret, err := tmpl.APISecret.Resolve()
	if err != nil {
		return inputErr(fmt.Errorf("webhook: --api-secret-from: %w", err))
	}
	rules := webhook.Rules{All: o.recordAll, Names: o.recordRooms, Metadata: !o.noMetadata}
	if !rules.All && len(rules.Names) == 0 && !rules.Metadata {
		return usageErr("webhook: no room would be recorded: give --record-rooms GLOB or --record-all, or drop --no-metadata-opt-in")
	}
	if err := rules.Check(); err != nil {
		return usageErr("webhook: --record-rooms: %v", err)
	}
	log, h := serviceLog(g, command)
	reg := serviceRegistry()
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "spacecast_webhook_deliveries_total", Help: "Webhook requests answered, by HTTP status code.",
	}, []string{"code"})
	jobs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "spacecast_webhook_jobs_total",
		Help: "Room events acted on, by outcome: submitted, deduped, replaced (room_started); withdrawn, left, no-job (room_finished).",
	}, []string{"outcome"})
	enqueueErrors := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "spacecast_webhook_enqueue_errors_total", Help: "Room events that could not be queued (answered 503).",
	})
	reg.MustRegister(deliveries, jobs, enqueueErrors)
	for _, code := range []string{"200", "400", "401", "503"} {
		deliveries.WithLabelValues(code)
	}
	for _, oc := range []fleet.Outcome{fleet.Submitted, fleet.Deduped, fleet.Replaced, fleet.Withdrawn, fleet.Left, fleet.NoJob} {
		jobs.WithLabelValues(string(oc))
	}

	storeURL := "s3://" + store.Bucket + "/" + store.Prefix
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usageErr("webhook: --listen %s: %v", o.listen, err)
	}
	defer ln.Close()
	q, _, done, err := o.job.nats.open(ctx, command)
	if err != nil {
		return err
	}
	defer done()
	enq := &fleet.RoomEnqueuer{Queue: q, Template: tmpl, Store: storeURL, Log: log,
		Observe: func(oc fleet.Outcome) { jobs.WithLabelValues(string(oc)).Inc() }}
	if err := enq.Check(); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	handler, err := webhook.New(webhook.Config{
		Keys:     map[string]string{tmpl.APIKey: secret},
		Rules:    rules,
		Enqueuer: countErrors{enq, enqueueErrors},
		Log:      log, EnqueueTimeout: o.enqueueTimeout,
	})
	if err != nil {
		return usageErr("webhook: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(webhookPath, promhttp.InstrumentHandlerCounter(deliveries, handler))
	mux.Handle(healthPath, healthHandler(func() string {
		if !q.Connected() {
			return "nats: not connected"
		}
		return ""
	}))
	mux.Handle(metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := serviceServer(mux, h, o.enqueueTimeout+30*time.Second)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", "http://"+ln.Addr().String(), "webhook", webhookPath,
		"livekit", printableURL(o.livekitURL), "store", storeURL, "record_all", rules.All,
		"record_rooms", strings.Join(rules.Names, ","), "metadata_opt_in", rules.Metadata)
	select {
	case err := <-served:
		return fmt.Errorf("webhook: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	log.Info("stopping: answering the requests under way")
	sctx, cancel := context.WithTimeout(context.Background(), o.enqueueTimeout+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("webhook: shut down: %w", err)
	}
	log.Info("stopped")
	return nil
}

// countErrors counts the room events the Enqueuer could not queue.
type countErrors struct {
	webhook.Enqueuer
	errs prometheus.Counter
}

func (c countErrors) RoomStarted(ctx context.Context, r webhook.Room) error {
	return c.count(c.Enqueuer.RoomStarted(ctx, r))
}

func (c countErrors) RoomFinished(ctx context.Context, r webhook.Room) error {
	return c.count(c.Enqueuer.RoomFinished(ctx, r))
}

func (c countErrors) count(err error) error {
	if err != nil {
		c.errs.Inc()
	}
	return err
}
