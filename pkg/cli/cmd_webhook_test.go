package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spacecast/spacecast/internal/testutil/lkserver"
	"github.com/spacecast/spacecast/internal/testutil/lkspeaker"
	"github.com/spacecast/spacecast/internal/testutil/natsserver"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// lockedBuffer is a bytes.Buffer a running command and a test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWebhookE2E: `spacecast webhook` (the whole command, in-process on 127.0.0.1) between a real
// livekit-server that sends it its webhooks and a real nats-server. Judged by reading JetStream
// with pkg/fleet's List and the stream's own count:
//   - a speaker opening a room the rule selects gives exactly one queued record job, of that room,
//     into s3://shows/auto/ROOM-YYYYMMDD-HHMMSS-SID with LiveKit's SID; its finish before any
//     worker took the job cancels it;
//   - a room no rule selects gives no job;
//   - a room whose earlier run (same name, other SID) is still being recorded is answered 503;
//     once that recording ends, LiveKit's retry queues the new run's job, once;
//   - a forged POST is 401, a malformed one 400, and neither queues anything;
//   - /healthz is 200 while NATS is up and 503 once it is gone, /metrics counts deliveries by code,
//     jobs by outcome and enqueue errors;
//   - SIGTERM (the context) stops it with exit 0.
//
// It logs the delay from a speaker's join to the job in JetStream (LiveKit's send included).
func TestWebhookE2E(t *testing.T) {
	ns := natsserver.Start(t)
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CREDS", "")
	t.Setenv("LK_TEST_SECRET", lkserver.APISecret)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	base := "http://" + addr
	lk := lkserver.Start(t, lkserver.Config{Webhook: &lkserver.Webhook{URLs: []string{base + webhookPath}}})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmdCtx, stop := context.WithCancel(ctx)
	var stdout, stderr lockedBuffer
	exited := make(chan error, 1)
	go func() {
		exited <- Run(cmdCtx, BuildInfo{Version: "test"}, []string{"webhook", "--nats", ns.URL, "--listen", addr,
			"--livekit-url", lk.URL, "--api-key", lkserver.APIKey, "--api-secret-from", "env:LK_TEST_SECRET",
			"--store", "s3://shows/auto", "--record-rooms", "standup-*", "--retain", "90d",
			"--sign-key-from", "file:/run/keys/sign.key", "--json"}, &stdout, &stderr)
	}()
	defer func() {
		stop()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("webhook after SIGTERM: %v, want exit 0", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("webhook did not stop within 20 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("webhook's log:\n%s", stderr.String())
		}
		if strings.Contains(stderr.String(), lkserver.APISecret) {
			t.Error("the API secret is in the log")
		}
		// --json: every log line is one JSON object with slog's keys.
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		for _, l := range lines {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Errorf("--json log line is not JSON: %v: %q", err, l)
				continue
			}
			for _, k := range []string{"time", "level", "msg"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("--json log line has no %q: %q", k, l)
				}
			}
		}
		if len(lines) < 2 {
			t.Errorf("--json: %d log lines, want its start and its stop at least", len(lines))
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	get := func(path string) (int, string) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _ := get(healthPath); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not 200 within 20 s; log:\n%s", stderr.String())
		}
	}

	js, err := jetstream.New(ns.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	q, err := fleet.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	jobsOf := func(room string) []fleet.Status {
		t.Helper()
		list, err := q.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(list, func(s fleet.Status) bool { return s.Job.Record.Room != room })
	}
	awaitJob := func(room string, within time.Duration) fleet.Status {
		t.Helper()
		for deadline := time.Now().Add(within); ; time.Sleep(5 * time.Millisecond) {
			if j := jobsOf(room); len(j) > 0 && j[0].State == fleet.Queued {
				return j[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no queued job for room %s within %s: %+v", room, within, jobsOf(room))
			}
		}
	}
	join := func(room string) {
		t.Helper()
		tok, err := lkspeaker.Token(lk.APIKey, lk.APISecret, room, "speaker-"+room, "Speaker", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		s, err := lkspeaker.Join(ctx, lk.URL, tok, rtc.Options{Loopback: true})
		if err != nil {
			t.Fatalf("join %s: %v", room, err)
		}
		t.Cleanup(s.Close)
	}
	streamMsgs := func() uint64 {
		t.Helper()
		st, err := js.Stream(ctx, fleet.Stream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}

	// An earlier run of standup-retry is being recorded (a job with another SID, taken by a
	// worker); its new run, later, is answered 503 until that recording ends.
	old := fleet.Job{Kind: fleet.KindRecord, Record: &fleet.RecordJob{URL: lk.URL, Protocol: "livekit", Room: "standup-retry",
		Session: "s3://shows/auto/standup-retry-20260101-000000-RM_earlier", Consent: "announced", APIKey: lkserver.APIKey,
		APISecret: "env:LK_TEST_SECRET"}}
	if _, _, err := q.Submit(ctx, old); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 10*time.Second)
	claim, err := q.Take(tctx, "test-worker")
	tcancel()
	if err != nil {
		t.Fatal(err)
	}

	// Rooms the rule selects: one queued job each, in the run's session.
	var delays []time.Duration
	const n = 5
	for i := range n {
		room := fmt.Sprintf("standup-%c", 'a'+i)
		t0 := time.Now()
		join(room)
		st := awaitJob(room, 10*time.Second)
		delays = append(delays, time.Since(t0))
		rec := st.Job.Record
		prefix := "s3://shows/auto/" + room + "-" + time.Now().UTC().Format("20060102") + "-"
		if !strings.HasPrefix(rec.Session, prefix) || !strings.Contains(rec.Session, "-RM_") || rec.URL != lk.URL ||
			rec.APISecret != "env:LK_TEST_SECRET" || rec.SignKey != "file:/run/keys/sign.key" || time.Duration(rec.Retain) != 90*24*time.Hour {
			t.Errorf("job of %s: %+v; want session %s…-RM_…, the LiveKit URL, the references and 90 days", room, rec, prefix)
		}
	}
	// A room no rule selects.
	join("lobby")

	join("standup-retry")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(metric(t, get, `spacecast_webhook_deliveries_total{code="503"}`), " 1"); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no 503 for standup-retry within 10 s")
		}
	}
	if err := claim.Done(ctx, old.Record.Session); err != nil {
		t.Fatal(err)
	}
	retried := awaitJob("standup-retry", 40*time.Second)
	if strings.HasSuffix(retried.Job.Record.Session, "RM_earlier") {
		t.Errorf("retried run's job records into the earlier run's session %s", retried.Job.Record.Session)
	}

	// Forged and malformed deliveries: refused, nothing queued.
	before := streamMsgs()
	body := []byte(`{"id":"EV_forged","event":"room_started","room":{"name":"standup-forged","sid":"RM_forged"}}`)
	for _, c := range []struct {
		why    string
		body   []byte
		secret string
		want   int
	}{
		{"a body signed with another secret is forged", body, "not-the-server-secret-0123456789abcdef", http.StatusUnauthorized},
		{"a body LiveKit's key signed that is no event is malformed", []byte(`{"event":`), lkserver.APISecret, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodPost, base+webhookPath, bytes.NewReader(c.body))
		req.Header.Set("Content-Type", "application/webhook+json")
		req.Header.Set("Authorization", lkserver.WebhookToken(t, lkserver.APIKey, c.secret, c.body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: HTTP %d, want %d", c.why, resp.StatusCode, c.want)
		}
	}

	// The first room is deleted before any worker took its job: cancelled.
	first := jobsOf("standup-a")[0]
	if err := lk.RoomService(ctx, "DeleteRoom", map[string]any{"room": "standup-a"}, nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, err := q.Get(ctx, first.Job.ID)
		if err == nil && st.State == fleet.Cancelled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job of deleted room standup-a: %+v %v, want cancelled", st, err)
		}
	}

	time.Sleep(500 * time.Millisecond) // any late duplicate would show by now
	if got := streamMsgs(); got != before {
		t.Errorf("stream holds %d messages after the forged and malformed posts, had %d", got, before)
	}
	if j := jobsOf("lobby"); len(j) != 0 {
		t.Errorf("room lobby, which no rule selects, has jobs: %+v", j)
	}
	if j := jobsOf("standup-forged"); len(j) != 0 {
		t.Errorf("the forged room has jobs: %+v", j)
	}
	// One message per job: the five rooms, the earlier run of standup-retry (taken: gone from the
	// work queue) and its new run.
	if got := streamMsgs(); got != n+1 {
		t.Errorf("stream holds %d messages, want %d (one per queued job)", got, n+1)
	}
	for _, m := range []string{`spacecast_webhook_jobs_total{outcome="submitted"} 6`, `spacecast_webhook_jobs_total{outcome="withdrawn"} 1`,
		`spacecast_webhook_deliveries_total{code="401"} 1`, `spacecast_webhook_deliveries_total{code="400"} 1`} {
		name, _, _ := strings.Cut(m, " ")
		if got := metric(t, get, name); got != m {
			t.Errorf("metrics: %q, want %q", got, m)
		}
	}
	// Every 503 was a job that could not be queued, and counted so.
	errs, _ := strings.CutPrefix(metric(t, get, "spacecast_webhook_enqueue_errors_total"), "spacecast_webhook_enqueue_errors_total ")
	got503, _ := strings.CutPrefix(metric(t, get, `spacecast_webhook_deliveries_total{code="503"}`), `spacecast_webhook_deliveries_total{code="503"} `)
	if errs == "" || errs == "0" || errs != got503 {
		t.Errorf("metrics: %s enqueue errors, %s deliveries answered 503; want the same, at least 1", errs, got503)
	}
	// NATS gone: /healthz says so.
	ns.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _ := get(healthPath); code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz not 503 within 10 s of NATS stopping")
		}
	}
	slices.Sort(delays)
	t.Logf("speaker join → job queued in JetStream (LiveKit's send included): median %s, max %s (%v)", delays[len(delays)/2], delays[len(delays)-1], delays)
}

// metric is the line of /metrics that starts with name.
func metric(t *testing.T, get func(string) (int, string), name string) string {
	t.Helper()
	code, body := get(metricsPath)
	if code != http.StatusOK {
		t.Fatalf("/metrics: HTTP %d", code)
	}
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, name+" ") {
			return line
		}
	}
	return ""
}

// TestWebhookStartErrors: what keeps `spacecast webhook` from starting, each with its exit status
// and a message naming the input.
func TestWebhookStartErrors(t *testing.T) {
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CREDS", "")
	t.Setenv("LK_TEST_SECRET", "a-secret-never-printed")
	t.Setenv("LK_UNSET_SECRET", "")
	base := []string{"webhook", "--listen", "127.0.0.1:0", "--api-key", "devkey", "--store", "s3://shows/auto",
		"--nats", "nats://127.0.0.1:1", "--nats-timeout", "2s"}
	for _, c := range []struct {
		why  string
		args []string
		code int
		want string
	}{
		{"without the LiveKit URL the workers dial it cannot make jobs", []string{"--api-secret-from", "env:LK_TEST_SECRET"}, ExitUsage, "--livekit-url"},
		{"a secret reference to an unset variable is bad input", []string{"--livekit-url", "ws://127.0.0.1:7880", "--api-secret-from", "env:LK_UNSET_SECRET"}, ExitBadInput, "LK_UNSET_SECRET is unset"},
		{"a secret given in clear is refused, not echoed", []string{"--livekit-url", "ws://127.0.0.1:7880", "--api-secret-from", "hunter2hunter2"}, ExitBadInput, "not a reference to a secret"},
		{"rules that record nothing are a usage error", []string{"--livekit-url", "ws://127.0.0.1:7880", "--api-secret-from", "env:LK_TEST_SECRET", "--no-metadata-opt-in"}, ExitUsage, "no room would be recorded"},
		{"a bad name pattern is a usage error", []string{"--livekit-url", "ws://127.0.0.1:7880", "--api-secret-from", "env:LK_TEST_SECRET", "--record-rooms", "standup-["}, ExitUsage, `"standup-["`},
		{"NATS unreachable at start is the store's status", []string{"--livekit-url", "ws://127.0.0.1:7880", "--api-secret-from", "env:LK_TEST_SECRET"}, ExitStore, "NATS is unavailable"},
	} {
		_, stderr, code := run(t, append(slices.Clone(base), c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "a-secret-never-printed") || strings.Contains(stderr, "hunter2hunter2") {
			t.Errorf("%s: exit %d, %q; want exit %d and %q, no secret", c.why, code, stderr, c.code, c.want)
		}
	}
}
