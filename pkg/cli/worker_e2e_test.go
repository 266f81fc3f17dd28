package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/lkserver"
	"github.com/spacecast/spacecast/internal/testutil/lkspeaker"
	"github.com/spacecast/spacecast/internal/testutil/natsserver"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/internal/testutil/rtptone"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/fleet"
	"github.com/spacecast/spacecast/pkg/room/rtc"
	"github.com/spacecast/spacecast/pkg/session"
)

// fleetRig is a fleet on one machine: a real nats-server, versitygw and livekit-server, the
// spacecast binary for the workers, and the job queue as the test sees it.
type fleetRig struct {
	t     *testing.T
	nats  *natsserver.Server
	s3    *s3server.Server
	lk    *lkserver.Server
	q     *fleet.Queue
	store string // s3://BUCKET/shows
	ctx   context.Context
	wg    sync.WaitGroup
}

func newFleetRig(t *testing.T) *fleetRig {
	return newFleetRigWith(t, lkserver.Config{BindIP: "127.0.0.1"})
}

// newFleetRigWith is newFleetRig with its livekit-server configured as lk says.
func newFleetRigWith(t *testing.T, lk lkserver.Config) *fleetRig {
	t.Helper()
	spacecastBinary(t)
	testutil.Require(t, "aws")
	r := &fleetRig{t: t, nats: natsserver.Start(t), s3: s3server.Start(t)}
	r.s3.Setenv(t)
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CREDS", "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	r.lk = lkserver.Start(t, lk)
	r.store = "s3://" + r.s3.Bucket + "/shows"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	r.ctx = ctx
	t.Cleanup(func() { cancel(); r.wg.Wait() })
	js, err := jetstream.New(r.nats.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.q, err = fleet.Open(ctx, js); err != nil {
		t.Fatal(err)
	}
	return r
}

// speaker is a pion participant playing a tone into a room; it leaves when the tone ends.
type speaker struct {
	room       string
	freq       float64
	start, end time.Time // when the tone was sent (end: zero until it ended)
	mu         sync.Mutex
}

func (s *speaker) ended() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.end }

// speak joins a speaker to room and plays freq for d.
func (r *fleetRig) speak(room string, freq float64, d time.Duration) *speaker {
	r.t.Helper()
	tok, err := lkspeaker.Token(r.lk.APIKey, r.lk.APISecret, room, "spk-"+room, "Speaker "+room, time.Hour)
	if err != nil {
		r.t.Fatal(err)
	}
	s, err := lkspeaker.Join(r.ctx, r.lk.URL, tok, rtc.Options{Loopback: true})
	if err != nil {
		r.t.Fatalf("join %s: %v", room, err)
	}
	tr, err := s.Publish(r.ctx, "mic")
	if err != nil {
		s.Close()
		r.t.Fatal(err)
	}
	sp := &speaker{room: room, freq: freq, start: time.Now()}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer s.Close()
		_ = rtptone.Send(r.ctx, tr, rtptone.Tone{Freq: freq, Amp: toneAmp, Duration: d})
		sp.mu.Lock()
		sp.end = time.Now()
		sp.mu.Unlock()
	}()
	return sp
}

// submit queues the recording of room into STORE/ROOM; it stops 3 s after its speaker left.
func (r *fleetRig) submit(room string) fleet.JobID {
	r.t.Helper()
	id, created, err := r.q.Submit(r.ctx, fleet.Job{Kind: fleet.KindRecord, Record: &fleet.RecordJob{
		URL: r.lk.URL, Protocol: "livekit", Room: room, Session: r.store + "/" + room, Consent: "assume",
		APIKey: r.lk.APIKey, APISecret: "env:LK_WORKER_SECRET", StopWhenEmpty: fleet.Duration(3 * time.Second),
	}})
	if err != nil || !created {
		r.t.Fatalf("submit %s: %v (created %v)", room, err, created)
	}
	return id
}

// workerProc is a `spacecast worker` process; its JSON log lines are kept.
type workerProc struct {
	name string
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  []map[string]any
	raw  strings.Builder
	done chan struct{}
}

// startWorker starts a worker of the rig named name.
func (r *fleetRig) startWorker(name string, extra ...string) *workerProc {
	r.t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(r.t))
	args := append([]string{"worker", "--nats", r.nats.URL, "--store", r.store, "--listen", addr, "--loopback",
		"--name", name, "--spool", filepath.Join(r.t.TempDir(), "spool"), "--json"}, extra...)
	return r.startProc(name, addr, args...)
}

func (w *workerProc) text() string { w.mu.Lock(); defer w.mu.Unlock(); return w.raw.String() }

// get fetches a path of the worker's HTTP server.
func (w *workerProc) get(path string) (int, string) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get("http://" + w.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// lines are the worker's log lines with that message.
func (w *workerProc) lines(msg string) []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []map[string]any
	for _, e := range w.log {
		if e["msg"] == msg {
			out = append(out, e)
		}
	}
	return out
}

// recording is when the worker started recording room (its log line), and into which part.
func (w *workerProc) recording(room string) (at time.Time, part int, ok bool) {
	for _, e := range w.lines("recording") {
		if e["room"] == room {
			at, _ = time.Parse(time.RFC3339Nano, fmt.Sprint(e["time"]))
			p, _ := e["part"].(float64)
			return at, int(p), true
		}
	}
	return time.Time{}, 0, false
}

// metricValue is the value of a metric line of the worker's /metrics ("" when absent).
func (w *workerProc) metricValue(t *testing.T, name string) string {
	t.Helper()
	line := metric(t, w.get, name)
	v, _ := strings.CutPrefix(line, name+" ")
	return v
}

// awaitJobs waits until every job is in state (a finished state or running).
func (r *fleetRig) awaitJobs(ids []fleet.JobID, state fleet.State, within time.Duration) map[fleet.JobID]fleet.Status {
	r.t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(200 * time.Millisecond) {
		all := map[fleet.JobID]fleet.Status{}
		for _, id := range ids {
			st, err := r.q.Get(r.ctx, id)
			if err != nil {
				r.t.Fatal(err)
			}
			if st.State == state {
				all[id] = st
			}
		}
		if len(all) == len(ids) {
			return all
		}
		if time.Now().After(deadline) {
			var not []string
			for _, id := range ids {
				if _, ok := all[id]; !ok {
					st, _ := r.q.Get(r.ctx, id)
					not = append(not, fmt.Sprintf("%s %s (%s)", st.Job.Record.Room, st.State, st.Reason))
				}
			}
			r.t.Fatalf("within %s, %d of %d jobs are not %s: %s", within, len(not), len(ids), state, strings.Join(not, "; "))
		}
	}
}

// keys lists the keys under STORE/ as the aws CLI sees them, relative to it.
func (r *fleetRig) keys() []string {
	r.t.Helper()
	out := awsCLI(r.t, r.s3, "s3", "ls", "--recursive", r.store+"/")
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 4 {
			keys = append(keys, strings.TrimPrefix(f[3], "shows/"))
		}
	}
	return keys
}

// judged is a session of the bucket, verified where it lies and copied out by the aws CLI.
type judged struct {
	m   *session.Manifest
	mix []float32 // the live mix on the session's clock, 48 kHz mono
}

// judge verifies the session at STORE/name in the bucket (`spacecast verify s3://…`), copies it
// with the aws CLI and decodes its mix with ffmpeg.
func (r *fleetRig) judge(name string) judged {
	r.t.Helper()
	url := r.store + "/" + name
	if _, stderr, code := run(r.t, "verify", url); code != 0 {
		r.t.Fatalf("verify %s: exit %d: %s", url, code, stderr)
	}
	dir := filepath.Join(r.t.TempDir(), name)
	awsCLI(r.t, r.s3, "s3", "cp", "--recursive", "--quiet", url+"/", dir)
	s, err := session.Open(dir)
	if err != nil {
		r.t.Fatal(err)
	}
	if !s.Manifest.Finalized || s.Manifest.Mix == nil {
		r.t.Fatalf("%s: finalized %v, mix %v", url, s.Manifest.Finalized, s.Manifest.Mix)
	}
	return judged{m: s.Manifest, mix: testutil.FFmpegDecode(r.t, s.Path(s.Manifest.Mix.File), 48000, 1)}
}

// toneWall is where the tone freq is on in the session, in wall-clock time.
func (j judged) toneWall(freq float64) (on, off time.Time, ok bool) {
	a, b := toneSpan(j.mix, freq)
	if a < 0 {
		return time.Time{}, time.Time{}, false
	}
	return j.m.StartedAt.Add(a), j.m.StartedAt.Add(b), true
}

// joinedTone judges a session joined from two parts: its manifest lists two parts and one
// failover gap, and the tone freq is on in both, with one silent hole between them; it returns
// where the tone stops before the hole, where it starts again after it, and where it ends, in
// wall-clock time.
func (j judged) joinedTone(t *testing.T, name string, freq float64) (off1, on2, off2 time.Time, ok bool) {
	t.Helper()
	gaps := 0
	var gap time.Duration
	for _, g := range j.m.Gaps {
		if g.Cause == session.GapFailover {
			gaps, gap = gaps+1, session.Duration(g.StartTicks)
		}
	}
	if len(j.m.Parts) != 2 || gaps != 1 {
		t.Errorf("%s: %d parts and %d failover gaps in the joined session, want 2 and 1", name, len(j.m.Parts), gaps)
		return
	}
	on, from, to, off := toneHole(j.mix, freq)
	switch {
	case on < 0:
		t.Errorf("%s: no %.0f Hz tone in the joined session's mix", name, freq)
		return
	case from == to: // no hole: nothing lost at the failover gap
		from, to = gap, gap
	}
	if on > from || off < to {
		t.Errorf("%s: the tone is not on both sides of its hole %v–%v (on %v–%v)", name, from, to, on, off)
	}
	return j.m.StartedAt.Add(from), j.m.StartedAt.Add(to), j.m.StartedAt.Add(off), true
}

// toneHole finds, in 20 ms windows, where the tone freq is first on (on), the longest stretch
// without it between its first and last window (holeFrom, holeTo; equal if there is none), and
// where it is last on (off); on is -1 if the tone is not there.
func toneHole(x []float32, freq float64) (on, holeFrom, holeTo, off time.Duration) {
	const w = 20 * time.Millisecond
	on, off = -1, -1
	var lastOn time.Duration = -1
	for at := time.Duration(0); session.Ticks(at+w) <= int64(len(x)); at += w {
		if toneIn(x, at, at+w, freq) <= toneAmp/math.Sqrt2/2 {
			continue
		}
		if on < 0 {
			on = at
		} else if at-lastOn-w > holeTo-holeFrom {
			holeFrom, holeTo = lastOn+w, at
		}
		lastOn, off = at, at+w
	}
	return on, holeFrom, holeTo, off
}

// TestWorkerFleetE2E: three `spacecast worker` processes, twelve LiveKit rooms of one pion speaker
// each (a tone of its own), jobs submitted with fleet.Submit; then the worker holding most rooms
// is killed with SIGKILL.
//   - every room is recorded exactly once: one job, done; the rooms of the living workers are
//     one session at their place (no part 2), which `spacecast verify s3://…` passes, their tone
//     in it from the recording's start to when the speaker stopped;
//   - each room of the killed worker is taken by another worker within 15 s of the kill
//     (measured to its "recording" log line) and recorded into part 2; when the room ends, that
//     worker joins part 1 (the dead worker's pieces) and part 2 into one session at the room's
//     place (no part left beside it), which verifies, lists two parts and one failover gap, and
//     loses at most 10 s of the tone between them;
//   - /healthz and /metrics answer with the worker's metric names; the rooms, jobs taken and
//     failovers add up.
func TestWorkerFleetE2E(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		r := newFleetRig(t)
		const rooms = 12
		workers := []*workerProc{
			r.startWorker("w1", "--max-rooms", "6"), r.startWorker("w2", "--max-rooms", "6"), r.startWorker("w3", "--max-rooms", "6")}
		for _, w := range workers {
			_, body := w.get(metricsPath)
			for _, name := range []string{"spacecast_worker_rooms", "spacecast_worker_speakers", "spacecast_worker_capacity_rooms 6",
				"spacecast_worker_capacity_speakers 80", "spacecast_worker_jobs_taken_total", "spacecast_worker_jobs_done_total",
				"spacecast_worker_jobs_failed_total", "spacecast_worker_failovers_total", "spacecast_worker_uploaded_bytes_total",
				"spacecast_worker_jobs_waiting", "spacecast_worker_draining 0", "go_goroutines", "process_resident_memory_bytes"} {
				if !strings.Contains(body, "\n"+name) {
					t.Errorf("worker %s's /metrics lacks %q", w.name, name)
				}
			}
		}
		const toneLen = 50 * time.Second
		speakers := map[string]*speaker{}
		var ids []fleet.JobID
		for i := range rooms {
			room := fmt.Sprintf("room-%02d", i+1)
			speakers[room] = r.speak(room, float64(300+60*i), toneLen)
		}
		submitted := time.Now()
		for i := range rooms {
			ids = append(ids, r.submit(fmt.Sprintf("room-%02d", i+1)))
		}
		r.awaitJobs(ids, fleet.Running, 30*time.Second)
		holder := map[string]*workerProc{}
		for deadline := time.Now().Add(30 * time.Second); len(holder) < rooms; time.Sleep(100 * time.Millisecond) {
			for room := range speakers {
				for _, w := range workers {
					if _, _, ok := w.recording(room); ok {
						holder[room] = w
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("within 30 s of the submit only %d of %d rooms are recording", len(holder), rooms)
			}
		}
		var firstAudio []time.Duration
		for room, w := range holder {
			at, _, _ := w.recording(room)
			firstAudio = append(firstAudio, at.Sub(submitted))
		}
		slices.Sort(firstAudio)
		total := 0
		for _, w := range workers {
			n := 0
			fmt.Sscan(w.metricValue(t, "spacecast_worker_rooms"), &n)
			total += n
			t.Logf("worker %s records %d rooms", w.name, n)
		}
		if total != rooms {
			t.Errorf("the workers' spacecast_worker_rooms add up to %d, want %d", total, rooms)
		}

		// Kill the worker with most rooms once its pieces are up (they go up every 2 s); meanwhile
		// measure what a room costs a worker: CPU and resident memory (Prometheus' process
		// collector), over the 8 s.
		cpu := func(w *workerProc) (sec float64) {
			fmt.Sscan(w.metricValue(t, "process_cpu_seconds_total"), &sec)
			return sec
		}
		cpu0, t0 := map[*workerProc]float64{}, time.Now()
		for _, w := range workers {
			cpu0[w] = cpu(w)
		}
		time.Sleep(8 * time.Second)
		for _, w := range workers {
			var rss float64
			n := 0
			fmt.Sscan(w.metricValue(t, "process_resident_memory_bytes"), &rss)
			fmt.Sscan(w.metricValue(t, "spacecast_worker_rooms"), &n)
			t.Logf("worker %s, %d rooms of 1 speaker: %.1f %% of a core, %.0f MiB resident", w.name, n,
				100*(cpu(w)-cpu0[w])/time.Since(t0).Seconds(), rss/(1<<20))
		}
		victim := workers[0]
		for _, w := range workers {
			if w.metricValue(t, "spacecast_worker_rooms") > victim.metricValue(t, "spacecast_worker_rooms") {
				victim = w
			}
		}
		var lost []string
		for room, w := range holder {
			if w == victim {
				lost = append(lost, room)
			}
		}
		slices.Sort(lost)
		if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		<-victim.done
		t.Logf("killed worker %s holding %d rooms: %v", victim.name, len(lost), lost)
		takeover := map[string]time.Duration{}
		for deadline := time.Now().Add(30 * time.Second); len(takeover) < len(lost); time.Sleep(100 * time.Millisecond) {
			for _, room := range lost {
				for _, w := range workers {
					if w == victim {
						continue
					}
					if at, part, ok := w.recording(room); ok && part == 2 {
						takeover[room] = at.Sub(killed)
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("30 s after the kill, %d of %d rooms were taken over: %v", len(takeover), len(lost), takeover)
			}
		}
		for room, d := range takeover {
			if d > 15*time.Second {
				t.Errorf("room %s recording again %s after the kill, want under 15 s", room, d.Round(time.Millisecond))
			}
		}

		// The speakers stop; each recording stops 3 s later and its job is done.
		done := r.awaitJobs(ids, fleet.Done, toneLen+90*time.Second)
		for _, st := range done {
			room := st.Job.Record.Room
			if want := r.store + "/" + room; st.Session != want {
				t.Errorf("job of %s is done with session %q, want %q", room, st.Session, want)
			}
			if wantClaims := 1 + btoi(slices.Contains(lost, room)); st.Claims != wantClaims {
				t.Errorf("job of %s was taken %d times, want %d", room, st.Claims, wantClaims)
			}
		}
		keys := strings.Join(r.keys(), "\n")
		lostAudio := map[string]time.Duration{}
		for room, sp := range speakers {
			if !slices.Contains(lost, room) {
				if strings.Contains(keys, room+"-part") {
					t.Errorf("room %s, whose worker lived, has a continuation part", room)
				}
				j := r.judge(room)
				on, off, ok := j.toneWall(sp.freq)
				if !ok {
					t.Errorf("room %s: no %.0f Hz tone in its session", room, sp.freq)
					continue
				}
				if d := on.Sub(j.m.StartedAt); d > 1500*time.Millisecond {
					t.Errorf("room %s: the tone starts %s into the session, the speaker was on from the start", room, d)
				}
				if d := sp.ended().Sub(off); d.Abs() > 1500*time.Millisecond {
					t.Errorf("room %s: the tone ends %s before the speaker stopped", room, d)
				}
				continue
			}
			// The dead worker's part (its pieces) and the new worker's, joined into one session at
			// the room's place by the worker that finished the job.
			if strings.Contains(keys, room+"-part") {
				t.Errorf("room %s: a part is left beside its session after the join", room)
			}
			j := r.judge(room)
			off1, on2, off2, ok := j.joinedTone(t, room, sp.freq)
			if !ok {
				continue
			}
			lostAudio[room] = on2.Sub(off1)
			if lostAudio[room] > 10*time.Second {
				t.Errorf("room %s: %s of its tone lost between part 1 (until %s) and part 2 (from %s), want at most 10 s",
					room, lostAudio[room].Round(time.Millisecond), off1.Format("15:04:05.000"), on2.Format("15:04:05.000"))
			}
			if d := sp.ended().Sub(off2); d.Abs() > 1500*time.Millisecond {
				t.Errorf("room %s: part 2's tone ends %s before the speaker stopped", room, d)
			}
		}
		failovers := 0
		for _, w := range workers {
			if w == victim {
				continue
			}
			n := 0
			fmt.Sscan(w.metricValue(t, "spacecast_worker_failovers_total"), &n)
			failovers += n
		}
		if failovers != len(lost) {
			t.Errorf("the living workers count %d failovers, want %d", failovers, len(lost))
		}
		t.Logf("submit → recording: median %s, max %s", firstAudio[len(firstAudio)/2].Round(time.Millisecond), firstAudio[len(firstAudio)-1].Round(time.Millisecond))
		t.Logf("kill -9 → recording again: %v", takeover)
		t.Logf("audio lost per taken-over room: %v", lostAudio)
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestWorkerDrainE2E: SIGTERM to a worker recording two rooms, with --drain-timeout 15s: /healthz
// turns 503 at once and it takes no job; the room whose speaker stops within the drain is
// finished by it (done, one session); the other is stopped at the drain's end, its part
// uploaded, and its job handed back: the second worker continues it in part 2 within seconds.
// The worker exits 0. No room is lost.
func TestWorkerDrainE2E(t *testing.T) { drainE2E(t, false) }

// TestWorkerSecondSignalE2E: as TestWorkerDrainE2E, with --drain-timeout 1h and a second SIGTERM
// once the short room is done: the long room is handed back at once.
func TestWorkerSecondSignalE2E(t *testing.T) { drainE2E(t, true) }

func drainE2E(t *testing.T, secondSignal bool) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		r := newFleetRig(t)
		drain := "15s"
		if secondSignal {
			drain = "1h"
		}
		w1 := r.startWorker("w1", "--drain-timeout", drain)
		short := r.speak("drain-short", 500, 8*time.Second)
		long := r.speak("drain-long", 700, 45*time.Second)
		ids := []fleet.JobID{r.submit("drain-short"), r.submit("drain-long")}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			_, _, a := w1.recording("drain-short")
			_, _, b := w1.recording("drain-long")
			if a && b {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("w1 is not recording both rooms within 30 s")
			}
		}
		time.Sleep(2 * time.Second)
		if err := w1.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		termAt := time.Now()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if code, body := w1.get(healthPath); code == http.StatusServiceUnavailable && strings.Contains(body, "draining") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("/healthz is not 503 draining within 5 s of SIGTERM")
			}
		}
		w2 := r.startWorker("w2")
		if secondSignal {
			for deadline := time.Now().Add(30 * time.Second); len(w1.lines("job done")) == 0; time.Sleep(100 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("w1 did not finish drain-short within 30 s of SIGTERM")
				}
			}
			select {
			case <-w1.done:
				t.Fatal("w1 exited before the second signal, within its 1 h drain")
			default:
			}
			if err := w1.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			termAt = time.Now()
		}
		select {
		case <-w1.done:
		case <-time.After(90 * time.Second):
			t.Fatal("w1 did not exit within 90 s of SIGTERM")
		}
		if code := w1.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("w1 exited %d after SIGTERM, want 0", code)
		}
		if d := time.Since(termAt); !secondSignal && d < 15*time.Second {
			t.Errorf("w1 exited %s after SIGTERM, before its 15 s drain", d)
		} else if secondSignal && d > 15*time.Second {
			t.Errorf("w1 exited %s after the second SIGTERM, want at once (its part finished and uploaded)", d)
		}
		if len(w1.lines("job handed back")) != 1 || len(w1.lines("job done")) != 1 {
			t.Errorf("w1: %d jobs handed back, %d done; want 1 and 1", len(w1.lines("job handed back")), len(w1.lines("job done")))
		}
		var handedBack time.Time
		for _, e := range w1.lines("job handed back") {
			handedBack, _ = time.Parse(time.RFC3339Nano, fmt.Sprint(e["time"]))
		}
		var again time.Time
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			at, part, ok := w2.recording("drain-long")
			if ok {
				if part != 2 {
					t.Errorf("w2 records drain-long into part %d, want 2", part)
				}
				again = at
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("w2 did not take drain-long within 20 s of w1's end")
			}
		}
		done := r.awaitJobs(ids, fleet.Done, 90*time.Second)
		for _, st := range done {
			if want := r.store + "/" + st.Job.Record.Room; st.Session != want {
				t.Errorf("job of %s done with %q, want %q", st.Job.Record.Room, st.Session, want)
			}
		}
		s := r.judge("drain-short")
		if _, off, ok := s.toneWall(short.freq); !ok || short.ended().Sub(off).Abs() > 1500*time.Millisecond {
			t.Errorf("drain-short: tone until %v (found %v), speaker stopped %v", off, ok, short.ended())
		}
		if keys := strings.Join(r.keys(), "\n"); strings.Contains(keys, "drain-long-part") {
			t.Errorf("a part of drain-long is left beside it after the join:\n%s", keys)
		}
		off1, on2, off2, ok := r.judge("drain-long").joinedTone(t, "drain-long", long.freq)
		if !ok {
			t.FailNow()
		}
		gap := on2.Sub(off1)
		if gap > 10*time.Second {
			t.Errorf("drain-long: %s of tone lost between the parts", gap)
		}
		if long.ended().Sub(off2).Abs() > 1500*time.Millisecond {
			t.Errorf("drain-long: part 2's tone ends %v, the speaker stopped %v", off2, long.ended())
		}
		t.Logf("handed back → recording again on w2: %s; tone lost between the parts: %s", again.Sub(handedBack).Round(time.Millisecond), gap.Round(time.Millisecond))
	})
}

// forward accepts TCP connections on ip (a port of its own) and joins each to target, until the
// test ends; it returns the address it listens on. It lets a client namespace reach a server of
// the test that listens on 127.0.0.1 only (nats-server, versitygw): the client's link, not the
// forwarder, is what the test cuts.
func forward(t *testing.T, ip, target string) string {
	t.Helper()
	ln, err := net.Listen("tcp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp4", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			pipe := func(to, from net.Conn) {
				_, _ = io.Copy(to, from)
				to.Close()
				from.Close()
			}
			go pipe(c, s)
			go pipe(s, c)
		}
	}()
	return ln.Addr().String()
}

// startWorkerIn starts a worker of the rig named name in the client namespace c, reaching NATS,
// the store and LiveKit over c's link: NATS and the store through forwarders on the server side
// of it, LiveKit (which must listen on netns.ServerIP) directly. Its /healthz is on c's address.
func (r *fleetRig) startWorkerIn(ns *netns.NS, c *netns.Client, name string) *workerProc {
	r.t.Helper()
	natsURL := "nats://" + forward(r.t, ns.ServerIP, strings.TrimPrefix(r.nats.URL, "nats://"))
	s3 := "http://" + forward(r.t, ns.ServerIP, strings.TrimPrefix(r.s3.Endpoint, "http://"))
	addr := net.JoinHostPort(c.IP(), fmt.Sprint(testutil.FreePort(r.t)))
	cmd := c.Command(context.Background(), spacecastBinary(r.t), "worker", "--nats", natsURL, "--store", r.store,
		"--listen", addr, "--interface", netns.ClientIface, "--name", name, "--spool", filepath.Join(r.t.TempDir(), "spool"), "--json")
	cmd.Env = append(os.Environ(), "LK_WORKER_SECRET="+r.lk.APISecret, "AWS_ENDPOINT_URL="+s3)
	return r.startCmd(name, addr, cmd)
}

// watchHealth asks /healthz of the worker at addr, from inside the client namespace c (so it
// gets an answer while c's link is down), every 100 ms from now until it answers 503 or within
// after since has passed; it sends the last answer and when it came, measured from since.
func watchHealth(c *netns.Client, addr string, since time.Time, within time.Duration) <-chan healthAnswer {
	out := make(chan healthAnswer, 1)
	go func() {
		var last string
		for deadline := since.Add(within); ; time.Sleep(100 * time.Millisecond) {
			h, err := healthIn(c, addr)
			if err != nil {
				h = err.Error()
			}
			last = h
			if strings.HasPrefix(h, "503 ") || time.Now().After(deadline) {
				break
			}
		}
		out <- healthAnswer{last, time.Since(since)}
	}()
	return out
}

// healthAnswer is what /healthz said (status line and body) and when.
type healthAnswer struct {
	text  string
	after time.Duration
}

// healthIn asks /healthz of the worker at addr from inside the client namespace c and returns
// the status line and body.
func healthIn(c *netns.Client, addr string) (string, error) {
	var conn net.Conn
	if err := c.InClient(func() (err error) { conn, err = net.DialTimeout("tcp4", addr, 5*time.Second); return err }); err != nil {
		return "", fmt.Errorf("dial %s in its namespace: %w", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", healthPath, addr); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", fmt.Errorf("%s of %s: %w", healthPath, addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + strings.TrimSpace(string(b)), nil
}

// logTime is when the first of the worker's log lines with message msg (and, when room is not
// "", that room) was written; zero if there is none.
func (w *workerProc) logTime(msg, room string) time.Time {
	for _, e := range w.lines(msg) {
		if room == "" || e["room"] == room {
			at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(e["time"]))
			return at
		}
	}
	return time.Time{}
}

// TestWorkerCutOffFromNATS: a worker recording a room is cut off, its link down: NATS, the store
// and LiveKit all out of its reach, while the room goes on. It stops recording on its own within
// its fence (fleet.AckWait − fleet.ProgressEvery after its last Progress), before the other worker
// claims the job, and the other worker records part 2: no place is written by two workers. Its
// /healthz, asked inside its namespace, says 503 within three NATS pings of the cut. The
// link comes back once the job is claimed again, while part 2 is recorded: the cut-off worker
// uploads its finished part 1 (all it heard until the cut), answers /healthz and records the next
// room within 15 s (the other worker is full). The job is done once, by the second worker, which
// joins the two parts into one session that holds the tone with at most 10 s lost; the cut-off
// worker never marks it.
func TestWorkerCutOffFromNATS(t *testing.T) {
	netns.Run(t, func(t *testing.T, ns *netns.NS) {
		r := newFleetRigWith(t, lkserver.Config{BindIP: ns.ServerIP, Interfaces: []string{ns.ServerIface}})
		c := ns.NewClient(t)
		w1 := r.startWorkerIn(ns, c, "w1")
		sp := r.speak("cut", 440, 40*time.Second)
		id := r.submit("cut")
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if _, _, ok := w1.recording("cut"); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("w1 is not recording within 30 s")
			}
		}
		w2 := r.startWorker("w2", "--max-rooms", "1") // once it holds the room it takes no other job
		time.Sleep(5 * time.Second)
		if err := c.LinkDown(); err != nil {
			t.FailNow()
		}
		cut := time.Now()
		healthWatch := watchHealth(c, w1.addr, cut, 3*fleet.PingEvery+2*time.Second)
		var fenced, taken time.Time
		for deadline := time.Now().Add(30 * time.Second); fenced.IsZero() || taken.IsZero(); time.Sleep(50 * time.Millisecond) {
			fenced = w1.logTime("queue unreachable: stopping before another worker takes the job", "")
			taken = w2.logTime("job taken", "cut")
			if time.Now().After(deadline) {
				t.Fatalf("30 s after the cut: w1 fenced at %v, w2 took the job at %v", fenced, taken)
			}
		}
		// Its own namespace still reaches w1's /healthz: not ready once NATS has missed its pings
		// (fleet.PingEvery: 4 to 6 s after the link died), so an orchestrator stops counting on it.
		health := <-healthWatch
		if !strings.HasPrefix(health.text, "503 ") {
			t.Errorf("w1's %s %s after its link died: %s, want 503", healthPath, health.after.Round(time.Millisecond), health.text)
		}
		if err := c.LinkUp(); err != nil {
			t.FailNow()
		}
		up := time.Now()
		fence := fleet.AckWait - fleet.ProgressEvery
		if d := fenced.Sub(cut); d > fence+500*time.Millisecond {
			t.Errorf("w1 stopped %s after its link died, want within its fence %s", d.Round(time.Millisecond), fence)
		}
		if !fenced.Before(taken) {
			t.Errorf("w1 stopped at %s, after w2 claimed the job at %s", fenced.Format("15:04:05.000"), taken.Format("15:04:05.000"))
		}
		if _, part, ok := w2.recording("cut"); !ok || part != 2 {
			t.Errorf("w2 records the room into part %d (%v), want 2", part, ok)
		}

		// Back on the network, w1 is healthy and records the next room: w2, holding its one room, cannot.
		r.speak("after", 660, 8*time.Second)
		after := r.submit("after")
		var again time.Time
		for deadline := time.Now().Add(15 * time.Second); again.IsZero(); time.Sleep(100 * time.Millisecond) {
			again, _, _ = w1.recording("after")
			if time.Now().After(deadline) {
				t.Fatalf("w1 is not recording another room within 15 s of its link coming back")
			}
		}
		if code, body := w1.get(healthPath); code != http.StatusOK {
			t.Errorf("w1's %s after its link came back: %d %s", healthPath, code, body)
		}

		jobs := r.awaitJobs([]fleet.JobID{id, after}, fleet.Done, 90*time.Second)
		if st := jobs[id]; st.Session != r.store+"/cut" || st.Worker != "w2" {
			t.Errorf("job done by %s with %s, want w2 with the joined session", st.Worker, st.Session)
		}
		if st := jobs[after]; st.Worker != "w1" {
			t.Errorf("the room after the cut was recorded by %s, want w1", st.Worker)
		}
		if w1.logTime("job done", "cut") != (time.Time{}) || w1.logTime("job handed back", "cut") != (time.Time{}) {
			t.Error("w1, cut off, told the queue how the job ended")
		}
		// w1 finished its part only once the store was in reach again: the part's last upload waited
		// for the link.
		if stopped := w1.logTime("job no longer held by this worker: stopped recording", "cut"); !stopped.After(up) {
			t.Errorf("w1 was done with its part at %s, before its link came back at %s", stopped.Format("15:04:05.000"), up.Format("15:04:05.000"))
		}
		// w2 joined w1's part with its own. w1 heard the room until its link died, and all it heard
		// is in part 1: the tone stops at the cut.
		off1, on2, _, ok := r.judge("cut").joinedTone(t, "cut", sp.freq)
		if !ok {
			t.FailNow()
		}
		if d := off1.Sub(cut); d.Abs() > time.Second {
			t.Errorf("part 1 holds the tone until %s, w1's link died at %s", off1.Format("15:04:05.000"), cut.Format("15:04:05.000"))
		}
		if !off1.Before(on2.Add(time.Second)) {
			t.Errorf("part 1 (until %s) overlaps part 2 (from %s)", off1.Format("15:04:05.000"), on2.Format("15:04:05.000"))
		}
		if lost := on2.Sub(off1); lost > 10*time.Second {
			t.Errorf("%s of tone lost between the parts, want at most 10 s", lost.Round(time.Millisecond))
		}
		t.Logf("link down → w1 stopped: %s (fence %s); → w2 took the job: %s; part 1's tone ends %s after the cut; tone lost between the parts: %s; link up → w1 recording another room: %s",
			fenced.Sub(cut).Round(time.Millisecond), fence, taken.Sub(cut).Round(time.Millisecond), off1.Sub(cut).Round(time.Millisecond),
			on2.Sub(off1).Round(time.Millisecond), again.Sub(up).Round(time.Millisecond))
		t.Logf("w1's %s while cut off: %s (%s after the cut)", healthPath, health.text, health.after.Round(time.Millisecond))
	})
}

// TestWorkerStartErrors: a worker that cannot reach NATS or its store exits 5 before it takes
// any job, naming what is wrong; a bad flag exits 2.
func TestWorkerStartErrors(t *testing.T) {
	ns := natsserver.Start(t)
	srv := s3server.Start(t)
	srv.Setenv(t)
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CREDS", "")
	dead := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	base := func(extra ...string) []string {
		return append([]string{"worker", "--listen", "127.0.0.1:0", "--spool", t.TempDir(), "--nats-timeout", "3s", "--name", "w"}, extra...)
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"NATS down", nil, base("--nats", "nats://"+dead, "--store", "s3://"+srv.Bucket),
			ExitStore, []string{"worker: fleet: connect to nats://" + dead, "NATS is unavailable", "is nats-server running"}},
		{"the store down", map[string]string{"AWS_ENDPOINT_URL": "http://" + dead}, base("--nats", ns.URL, "--store", "s3://"+srv.Bucket),
			ExitStore, []string{"worker: check bucket s3://" + srv.Bucket, "the store does not answer", "--endpoint-url"}},
		{"no such bucket", nil, base("--nats", ns.URL, "--store", "s3://no-such-bucket-here/shows"),
			ExitStore, []string{"no-such-bucket-here", "check the bucket's name"}},
		{"credentials refused", map[string]string{"AWS_SECRET_ACCESS_KEY": "not-the-secret-0123456789"}, base("--nats", ns.URL, "--store", "s3://"+srv.Bucket),
			ExitStore, []string{"worker: check bucket s3://" + srv.Bucket, "refused the credentials", "AWS_SECRET_ACCESS_KEY"}},
		{"no store", nil, base("--nats", ns.URL), ExitUsage, []string{"--store s3://BUCKET[/PREFIX]"}},
		{"no rooms", nil, base("--nats", ns.URL, "--store", "s3://"+srv.Bucket, "--max-rooms", "0"), ExitUsage, []string{"--max-rooms 0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			start := time.Now()
			_, stderr, code := run(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d: %s", code, c.code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if d := time.Since(start); d > 45*time.Second {
				t.Errorf("took %s to fail", d)
			}
		})
	}
}
