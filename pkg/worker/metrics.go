package worker

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a worker's Prometheus metrics (names in docs/fleet.md, "Workers"): counters of
// jobs, and gauges read from the worker when scraped.
type Metrics struct {
	Taken, Done, Failed, HandedBack, Lost, Fenced, Failovers, UploadedBytes prometheus.Counter
	// FollowupsTaken, FollowupsDone and FollowupsFailed count follow-up jobs: claims taken,
	// finished, and attempts failed (the queue retries a failed one up to its limit).
	FollowupsTaken, FollowupsDone, FollowupsFailed prometheus.Counter

	gauges []prometheus.Collector
}

// metricName is a worker metric's full name.
func metricName(name string) string { return prometheus.BuildFQName("spacecast", "worker", name) }

func newMetrics(w *Worker) *Metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: metricName(name), Help: help})
	}
	g := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: metricName(name), Help: help}, f)
	}
	return &Metrics{
		Taken:           c("jobs_taken_total", "Jobs taken."),
		Done:            c("jobs_done_total", "Jobs finished with a session (cancelled ones included)."),
		Failed:          c("jobs_failed_total", "Jobs failed."),
		HandedBack:      c("jobs_handed_back_total", "Jobs handed back to the queue unfinished (the worker stopping)."),
		Lost:            c("jobs_lost_total", "Jobs this worker stopped recording because another claim holds them or the queue was unreachable past the fence."),
		Fenced:          c("fenced_total", "Recordings the store fenced off: another worker took their part's place (a join or a recovery), so this one stopped writing it and kept its spool."),
		Failovers:       c("failovers_total", "Jobs taken that an earlier claim had held (a worker lost, or one handing back): takeovers."),
		UploadedBytes:   c("uploaded_bytes_total", "Bytes of finished sessions (parts) uploaded to the bucket."),
		FollowupsTaken:  c("followups_taken_total", "Follow-up jobs (mix, publish, push after a recording) taken."),
		FollowupsDone:   c("followups_done_total", "Follow-up jobs finished (cancelled ones included)."),
		FollowupsFailed: c("followups_failed_total", "Follow-up attempts failed (each is retried up to the queue's limit)."),
		gauges: []prometheus.Collector{
			g("rooms", "Rooms being recorded (or joined).", func() float64 { return float64(w.Rooms()) }),
			g("speakers", "Speakers being recorded now, over all rooms.", func() float64 { return float64(w.Speakers()) }),
			g("capacity_rooms", "Rooms the worker records at most at once.", func() float64 { return float64(w.o.MaxRooms) }),
			g("followups", "Follow-up jobs being run now.", func() float64 { return float64(w.followupsRunning.Load()) }),
			g("capacity_followups", "Follow-up jobs the worker runs at most at once.", func() float64 { return float64(w.o.Followups.Max) }),
			g("capacity_speakers", "Speakers past which the worker takes no job (0: no bound).", func() float64 { return float64(w.o.MaxSpeakers) }),
			g("draining", "1 once the worker takes no more jobs (stopping).", func() float64 {
				if w.Draining() {
					return 1
				}
				return 0
			}),
		},
	}
}

// Collectors are the worker's metrics, to register with a Prometheus registry.
func (w *Worker) Collectors() []prometheus.Collector {
	m := w.m
	return append([]prometheus.Collector{m.Taken, m.Done, m.Failed, m.HandedBack, m.Lost, m.Fenced, m.Failovers, m.UploadedBytes,
		m.FollowupsTaken, m.FollowupsDone, m.FollowupsFailed}, m.gauges...)
}

// Metrics are the worker's counters.
func (w *Worker) Metrics() *Metrics { return w.m }

func (m *Metrics) taken(failover bool) {
	m.Taken.Inc()
	if failover {
		m.Failovers.Inc()
	}
}
