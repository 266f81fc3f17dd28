package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/record"
	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/protocols"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/sessionstore"
	"github.com/spacecast/spacecast/pkg/worker"
)

// The worker's capacity by default: at under 1 % of a core per speaker (docs/benchmarks.md),
// 80 speakers use under one core of a small machine, leaving the rest for uploads and bursts.
const (
	defaultMaxRooms    = 20
	defaultMaxSpeakers = 80
)

type workerOptions struct {
	nats         natsOptions
	s3           s3Options
	store        string
	spool        string
	name         string
	maxRooms     int
	maxSpeakers  int
	maxFollowups int
	listen       string
	drainTimeout time.Duration
	loopback     bool
	interfaces   []string
}

func newWorkerCommand(g *globalOptions) *cobra.Command {
	o := &workerOptions{}
	cmd := &cobra.Command{
		Use:   "worker --store s3://BUCKET[/PREFIX] [flags]",
		Short: "Take record jobs from the fleet's queue (NATS JetStream) and record them into a bucket",
		Long: `Worker takes the record jobs that 'spacecast submit record' and 'spacecast webhook' queue, and
records each room into its job's session in the bucket, as 'spacecast record -o s3://...' would
(docs/fleet.md, "Workers"). Run one or more on each machine that records; they share the work.

A job whose session is not under --store fails with that reason. Secrets are read where the job
says (env:NAME from this worker's environment, file:/PATH from its files).

Capacity: the worker takes a job only while it records fewer than --max-rooms rooms and fewer than
--max-speakers speakers over all of them (a room it is joining counts as one). The defaults, 20
rooms and 80 speakers, keep a small machine under one core: a speaker costs under 1 % of a core.
Measure yours (docs/benchmarks.md) and raise them.

Follow-ups: when a record job that asks for them ('submit record --mix-to/--publish-to') is done,
the worker queues its follow-up job once. Follow-up jobs (mix the session from the bucket, upload
the mix, publish it into a site folder kept in a bucket, push the site) come from a queue of their
own, up to --max-followups at once: they never count against --max-rooms or --max-speakers, and a
worker busy recording still takes them. A failed one is tried again, 3 times in all. Their work
folders are under --spool; the buckets they name use this worker's S3 settings.

While it records, it tells the queue every ` + fmt.Sprint(fleet.ProgressEvery) + ` that it still holds each job. A worker that dies
or is cut off from NATS loses its jobs ` + fmt.Sprint(fleet.AckWait) + ` after its last word; another worker takes each one and
records into a continuation of the session beside it (NAME-part2, ...); the worker that finishes
the job joins the parts into one session at NAME (as 'spacecast recover' does), the outage a gap
with cause "failover", before it marks the job done. A worker that cannot reach
NATS for ` + fmt.Sprint(fleet.AckWait-fleet.ProgressEvery) + ` stops its recordings itself (each finished and uploaded as its own part),
before another can take them: two workers never write one place.

SIGTERM or Ctrl-C: it takes no more jobs and lets its rooms go on for up to --drain-timeout (1h,
as LiveKit Egress's grace period), then stops them (each finished and uploaded) and hands their
jobs back, so another worker continues them. A second signal hands them back at once.

It serves ` + healthPath + ` (200 while connected to NATS and taking jobs; 503 while draining or
disconnected) and Prometheus ` + metricsPath + `, and logs structured lines on stderr (JSON with --json).

Before it takes any job, it checks NATS and the store: NATS unreachable, the store unreachable, the
bucket missing or the credentials refused is exit status 5, naming what is wrong.

` + natsHelp + `

` + s3Help,
		Example: `  LIVEKIT_API_SECRET=... spacecast worker --nats nats://nats:4222 --store s3://shows --listen 0.0.0.0:8091
  SPACECAST_WORKER_NAME=rec-3 spacecast worker --store s3://shows/auto --max-rooms 40 --max-speakers 200 \
      --spool /var/spool/spacecast --creds /run/secrets/nats.creds --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), o, g)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.store, "store", "", "the bucket (and prefix) this worker records into: s3://BUCKET[/PREFIX] (required)")
	fl.StringVar(&o.spool, "spool", "", "the folder under which each recording keeps what is not uploaded yet (default: spacecast/spool under the user's cache folder, as for 'record')")
	fl.StringVar(&o.name, "name", "", "the worker's name in the jobs it holds (default: SPACECAST_WORKER_NAME, else the host name)")
	fl.IntVar(&o.maxRooms, "max-rooms", defaultMaxRooms, "take a job only while recording fewer rooms")
	fl.IntVar(&o.maxSpeakers, "max-speakers", defaultMaxSpeakers, "take a job only while recording fewer speakers over all rooms (0: no bound)")
	fl.IntVar(&o.maxFollowups, "max-followups", 1, "run at most this many follow-up jobs (mix, publish) at once, beside the recordings (0: none)")
	fl.StringVar(&o.listen, "listen", "127.0.0.1:8091", "HOST:PORT to serve "+healthPath+" and "+metricsPath+" on")
	fl.DurationVar(&o.drainTimeout, "drain-timeout", time.Hour, "on SIGTERM, let the rooms go on this long before handing their jobs back")
	fl.BoolVar(&o.loopback, "loopback", false, "gather ICE candidates on loopback only (room servers on this machine)")
	fl.StringSliceVar(&o.interfaces, "interface", nil, "gather ICE candidates only on these network interfaces")
	o.nats.addFlags(cmd)
	o.s3.addFlags(cmd)
	cmd.MarkFlagDirname("spool")
	return cmd
}

func runWorker(ctx context.Context, o *workerOptions, g *globalOptions) error {
	const command = "worker"
	if o.store == "" {
		return usageErr("worker: which bucket does it record into? Give --store s3://BUCKET[/PREFIX]")
	}
	store, err := objstore.ParseURL(o.store)
	if err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("worker: --store: %w", err)}
	}
	if o.maxRooms < 1 {
		return usageErr("worker: --max-rooms %d: give 1 or more", o.maxRooms)
	}
	if o.maxSpeakers < 0 {
		return usageErr("worker: --max-speakers %d: give 0 (no bound) or more", o.maxSpeakers)
	}
	if o.maxFollowups < 0 {
		return usageErr("worker: --max-followups %d: give 0 (none) or more", o.maxFollowups)
	}
	if o.drainTimeout < 0 {
		return usageErr("worker: --drain-timeout %s: give 0 or a positive duration", o.drainTimeout)
	}
	name := o.name
	if name == "" {
		name = os.Getenv("SPACECAST_WORKER_NAME")
	}
	if name == "" {
		if name, err = os.Hostname(); err != nil || name == "" {
			return usageErr("worker: no host name (%v): give --name", err)
		}
	}
	spool := o.spool
	if spool == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return inputErr(fmt.Errorf("worker: no cache folder for the spool (%w): give one with --spool DIR", err))
		}
		spool = filepath.Join(cache, "spacecast", "spool")
	}
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return inputErr(fmt.Errorf("worker: --spool: %w", err))
	}
	log, h := serviceLog(g, command)

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return usageErr("worker: --listen %s: %v", o.listen, err)
	}
	defer ln.Close()
	// NATS, then the store: both answer before any job is taken.
	q, _, closeQ, err := o.nats.open(ctx, command)
	if err != nil {
		return err
	}
	defer closeQ()
	sctx, cancel := context.WithTimeout(ctx, o.nats.timeout+30*time.Second)
	cl, err := o.s3.client(sctx, store.Bucket)
	cancel()
	if err != nil {
		return fmt.Errorf("worker: --store %s: %w", store, err)
	}

	w, err := worker.New(worker.Options{
		Source: worker.QueueSource{Q: q}, Name: name,
		MaxRooms: o.maxRooms, MaxSpeakers: o.maxSpeakers,
		Store: cl, Bucket: store.Bucket, Prefix: store.Prefix, Spool: spool,
		Base: record.Options{Dial: protocols.DialOptions{
			Options: room.Options{Identity: room.DefaultIdentity, ReconnectTimeout: 2 * time.Minute},
			RTC:     rtc.Options{Loopback: o.loopback, Interfaces: o.interfaces},
		}},
		DrainTimeout: o.drainTimeout,
		Log:          log,
		Join: func(ctx context.Context, u objstore.URL, key ed25519.PrivateKey) (string, error) {
			return joinParts(ctx, cl, u, key, spool, log)
		},
		Followups: worker.FollowupOptions{Queue: worker.QueueSource{Q: q}, Max: o.maxFollowups,
			Bucket: followupBuckets(&o.s3, store.Bucket, cl)},
	})
	if err != nil {
		return usageErr("worker: %v", err)
	}
	reg := serviceRegistry()
	reg.MustRegister(w.Collectors()...)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "spacecast_worker_jobs_waiting", Help: "Jobs on the queue that no worker has taken yet (-1: NATS did not answer).",
	}, func() float64 {
		wctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := q.Waiting(wctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
	mux := http.NewServeMux()
	mux.Handle(healthPath, healthHandler(func() string {
		switch {
		case !q.Connected():
			return "nats: not connected"
		case w.Draining():
			return "draining"
		}
		return ""
	}))
	mux.Handle(metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := serviceServer(mux, h, 30*time.Second)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Close()

	// The first signal (or the end of ctx) stops taking jobs; a second one hands the rooms back
	// at once.
	takeCtx, stopTaking := context.WithCancel(ctx)
	defer stopTaking()
	sigC := make(chan os.Signal, 2)
	signal.Notify(sigC, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigC)
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		signals := 0
		for {
			select {
			case <-finished:
				return
			case err := <-served:
				if !errors.Is(err, http.ErrServerClosed) {
					log.Error("serving "+healthPath+" and "+metricsPath+" stopped", "err", err)
				}
			case <-sigC:
				signals++
				if signals == 1 {
					log.Info("signal: taking no more jobs; a second signal hands the rooms back at once")
					stopTaking()
				} else {
					log.Info("second signal: stopping the recordings and handing their jobs back")
					w.StopNow()
				}
			}
		}
	}()
	log.Info("worker started", "name", name, "addr", "http://"+ln.Addr().String(), "store", store.String(),
		"spool", spool, "max_rooms", o.maxRooms, "max_speakers", o.maxSpeakers, "max_followups", o.maxFollowups, "drain_timeout", o.drainTimeout)
	err = w.Run(takeCtx)
	sctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	log.Info("stopped")
	return nil
}

// joinParts makes a session a fleet job recorded in parts one session (sessionstore.JoinParts):
// each part whose recorder died recovered and sealed as 'recover' does, the whole signed with
// key. A part whose live manifest is still too young to take its recorder for dead (a worker
// that was cut off may be finishing its part) is waited for, until ctx ends. It returns where the
// joined session is.
func joinParts(ctx context.Context, st sessionstore.LiveStore, u objstore.URL, key ed25519.PrivateKey, work string, log *slog.Logger) (string, error) {
	opt := sessionstore.JoinOptions{Key: key, Work: work, Finalize: func(dir string) error {
		_, _, err := recoverFolder(dir, nil)
		return err
	}}
	for {
		rep, err := sessionstore.JoinParts(ctx, st, u, opt)
		var pre *sessionstore.PartRecordingError
		if !errors.As(err, &pre) {
			if err != nil {
				return "", err
			}
			log.Info("session parts joined", "session", rep.URL, "parts", len(rep.Parts), "failover_gaps", len(rep.Gaps))
			return rep.URL, nil
		}
		log.Info("a part of the session may still be written: waiting before joining", "part", pre.URL)
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w (waited until the join's time ran out)", err)
		case <-time.After(2 * time.Second):
		}
	}
}

// followupBuckets opens the buckets follow-ups read and write with the worker's S3 settings, each
// once (the worker's own bucket is cl).
func followupBuckets(o *s3Options, own string, cl *objstore.Client) func(ctx context.Context, bucket string) (worker.Bucket, error) {
	var mu sync.Mutex
	open := map[string]*objstore.Client{own: cl}
	return func(ctx context.Context, bucket string) (worker.Bucket, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := open[bucket]; ok {
			return c, nil
		}
		c, err := o.client(ctx, bucket)
		if err != nil {
			return nil, err
		}
		open[bucket] = c
		return c, nil
	}
}
