package cli

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// What the long-running commands (webhook, worker) share: their structured log, their metrics
// registry and their /healthz.

// serviceLog is a long-running command's log on stderr: text, JSON with --json, warnings only
// with --quiet; each line names the command. The handler is for the HTTP server's own log.
func serviceLog(g *globalOptions, command string) (*slog.Logger, slog.Handler) {
	level := slog.LevelInfo
	if g.quiet {
		level = slog.LevelWarn
	}
	var h slog.Handler = slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level})
	if g.json {
		h = slog.NewJSONHandler(g.stderr, &slog.HandlerOptions{Level: level})
	}
	return slog.New(h).With("cmd", command), h
}

// serviceRegistry is a Prometheus registry with the Go and process collectors.
func serviceRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// healthHandler answers 200 "ok" while unhealthy returns "", else 503 with what it says.
func healthHandler(unhealthy func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if why := unhealthy(); why != "" {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

// serviceServer is the HTTP server of a long-running command, its timeouts bounded; writeTimeout
// bounds the slowest answer.
func serviceServer(mux http.Handler, h slog.Handler, writeTimeout time.Duration) *http.Server {
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: writeTimeout, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(h, slog.LevelWarn)}
}
