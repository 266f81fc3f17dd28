package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spacecast/spacecast/internal/testutil/natsserver"
)

// open starts a nats-server and opens the queue on it.
func open(t testing.TB) (*Queue, *natsserver.Server) {
	t.Helper()
	s := natsserver.Start(t)
	js, err := jetstream.New(s.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	q, err := Open(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	return q, s
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// recordJob is a valid job for room.
func recordJob(room string) Job {
	return Job{Kind: KindRecord, Record: &RecordJob{
		URL: "ws://127.0.0.1:7880", Protocol: "livekit", Room: room,
		Session: "s3://shows/fleet/" + room, Consent: "announced",
		APIKey: "devkey", APISecret: "env:LIVEKIT_API_SECRET",
	}}
}

func streamMsgs(t testing.TB, q *Queue) uint64 {
	t.Helper()
	info, err := q.stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func take(t testing.TB, q *Queue, worker string, within time.Duration) *Claim {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	c, err := q.Take(ctx, worker)
	if err != nil {
		t.Fatalf("take by %s: %v", worker, err)
	}
	return c
}

// takeNone checks that no job comes within d.
func takeNone(t testing.TB, q *Queue, worker string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if c, err := q.Take(ctx, worker); err == nil {
		t.Fatalf("%s took job %s (claim %d), want none", worker, c.ID(), c.Number)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("take by %s: %v, want the deadline", worker, err)
	}
}

// A job submitted twice (once with the URL spelt differently), and one submitted by eight
// goroutines at once, are one job each and one message each.
func TestSubmitTwiceOneJob(t *testing.T) {
	q, _ := open(t)
	ctx := testCtx(t)
	id1, created, err := q.Submit(ctx, recordJob("panel"))
	if err != nil || !created {
		t.Fatalf("first submit: %s created=%v %v", id1, created, err)
	}
	again := recordJob("panel")
	again.Record.URL = "WS://127.0.0.1:7880/"
	id2, created, err := q.Submit(ctx, again)
	if err != nil || created || id2 != id1 {
		t.Fatalf("second submit: %s created=%v %v, want %s not created", id2, created, err, id1)
	}
	var wg sync.WaitGroup
	ids := make([]JobID, 8)
	made := make([]bool, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() { ids[i], made[i], errs[i] = q.Submit(ctx, recordJob("town-hall")) })
	}
	wg.Wait()
	n := 0
	for i := range 8 {
		if errs[i] != nil {
			t.Fatalf("concurrent submit %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("concurrent submit %d gave job %s, another %s", i, ids[i], ids[0])
		}
		if made[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d of 8 concurrent submits created a job, want 1", n)
	}
	if got := streamMsgs(t, q); got != 2 {
		t.Errorf("stream holds %d messages, want 2 (one per room)", got)
	}
	list, err := q.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %d jobs, %v; want 2", len(list), err)
	}
}

// A second message for a running job (a submit repeated after the dedupe window) is dropped: it
// does not take the job from the worker holding it.
func TestDuplicateMessageKeepsClaim(t *testing.T) {
	q, _ := open(t)
	ctx := testCtx(t)
	id, _, err := q.Submit(ctx, recordJob("panel"))
	if err != nil {
		t.Fatal(err)
	}
	c := take(t, q, "w1", 10*time.Second)
	st, err := q.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(st.Job)
	m := &nats.Msg{Subject: SubjectRecord, Data: body, Header: nats.Header{}}
	m.Header.Set(HeaderJob, string(id))
	if _, err := q.js.PublishMsg(ctx, m, jetstream.WithMsgID("past-the-window")); err != nil {
		t.Fatal(err)
	}
	takeNone(t, q, "w2", 2*time.Second)
	if err := c.Progress(ctx); err != nil {
		t.Fatalf("progress of the holder: %v", err)
	}
	if got := streamMsgs(t, q); got != 1 {
		t.Errorf("stream holds %d messages, want 1 (the held job's)", got)
	}
}

// A room whose job is running refuses a new one (the running job comes back); once it is done, a
// submit makes a new job, and the old one is still found by its ID.
func TestSubmitAfterDone(t *testing.T) {
	q, _ := open(t)
	ctx := testCtx(t)
	id1, _, err := q.Submit(ctx, recordJob("panel"))
	if err != nil {
		t.Fatal(err)
	}
	c := take(t, q, "w1", 10*time.Second)
	if id, created, err := q.Submit(ctx, recordJob("panel")); err != nil || created || id != id1 {
		t.Fatalf("submit while running: %s created=%v %v, want %s", id, created, err, id1)
	}
	if err := c.Done(ctx, "s3://shows/fleet/panel"); err != nil {
		t.Fatal(err)
	}
	id2, created, err := q.Submit(ctx, recordJob("panel"))
	if err != nil || !created || id2 == id1 {
		t.Fatalf("submit after done: %s created=%v %v, want a new job", id2, created, err)
	}
	old, err := q.Get(ctx, id1)
	if err != nil || old.State != Done || old.Session != "s3://shows/fleet/panel" {
		t.Fatalf("old job: %+v %v, want done with its session", old, err)
	}
	if c2 := take(t, q, "w2", 10*time.Second); c2.ID() != id2 {
		t.Fatalf("took %s, want the new job %s", c2.ID(), id2)
	}
}

// Cancel: a queued job is never taken; a running one's worker learns it from Progress and Watch,
// and its Done keeps the job cancelled with the session; a finished job cannot be cancelled.
func TestListGetCancel(t *testing.T) {
	q, _ := open(t)
	ctx := testCtx(t)
	a, _, err := q.Submit(ctx, recordJob("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := q.Submit(ctx, recordJob("b"))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := q.Cancel(ctx, a, "by test"); err != nil || st.State != Cancelled || st.Reason != "by test" {
		t.Fatalf("cancel queued: %+v %v", st, err)
	}
	var fe *FinishedError
	if _, err := q.Cancel(ctx, a, ""); !errors.As(err, &fe) || fe.State != Cancelled {
		t.Fatalf("cancel twice: %v, want *FinishedError", err)
	}
	c := take(t, q, "w1", 10*time.Second)
	if c.ID() != b {
		t.Fatalf("took %s, want %s (a is cancelled)", c.ID(), b)
	}
	watch, err := q.Watch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if st := <-watch; st.State != Running || st.Claim != c.Number || st.Worker != "w1" {
		t.Fatalf("watch first: %+v, want running by w1 with claim %d", st, c.Number)
	}
	if _, err := q.Cancel(ctx, b, "stop"); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-watch:
		if st.State != Cancelled {
			t.Fatalf("watch after cancel: %s", st.State)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watch did not see the cancel")
	}
	if err := c.Progress(ctx); !errors.Is(err, ErrCancelled) {
		t.Fatalf("progress after cancel: %v, want ErrCancelled", err)
	}
	if err := c.Done(ctx, "s3://shows/fleet/b"); err != nil {
		t.Fatalf("done after cancel: %v", err)
	}
	st, err := q.Get(ctx, b)
	if err != nil || st.State != Cancelled || st.Session != "s3://shows/fleet/b" {
		t.Fatalf("after done: %+v %v, want cancelled with the session", st, err)
	}
	if _, err := q.Get(ctx, JobID(strings.Repeat("0", 16)+"-00000000")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get unknown: %v", err)
	}
	list, err := q.List(ctx)
	if err != nil || len(list) != 2 || list[0].Job.ID != a || list[1].Job.ID != b {
		t.Fatalf("list: %+v %v", list, err)
	}
	takeNone(t, q, "w2", 2*time.Second)
	if got := streamMsgs(t, q); got != 0 {
		t.Errorf("stream holds %d messages, want 0", got)
	}
}

// A worker calling Progress every ProgressEvery keeps its job past AckWait: nobody else gets it.
func TestProgressHoldsJob(t *testing.T) {
	t.Parallel()
	q, _ := open(t)
	ctx := testCtx(t)
	if _, _, err := q.Submit(ctx, recordJob("long")); err != nil {
		t.Fatal(err)
	}
	c := take(t, q, "w1", 10*time.Second)
	stop := make(chan struct{})
	progressed := make(chan error, 1)
	go func() {
		tick := time.NewTicker(ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				progressed <- nil
				return
			case <-tick.C:
				if err := c.Progress(ctx); err != nil {
					progressed <- err
					return
				}
			}
		}
	}()
	takeNone(t, q, "w2", AckWait+4*time.Second)
	close(stop)
	if err := <-progressed; err != nil {
		t.Fatalf("progress: %v", err)
	}
	if err := c.Done(ctx, "s3://shows/fleet/long"); err != nil {
		t.Fatal(err)
	}
}

// A worker that stops calling Progress (dead) loses its job within AckWait: another worker claims
// it with a higher claim number, and the first one's Progress and Done are refused.
func TestDeadTakerFailover(t *testing.T) {
	t.Parallel()
	q, _ := open(t)
	ctx := testCtx(t)
	id, _, err := q.Submit(ctx, recordJob("failover"))
	if err != nil {
		t.Fatal(err)
	}
	dead := take(t, q, "w1", 10*time.Second)
	died := time.Now()
	c := take(t, q, "w2", AckWait+5*time.Second)
	took := time.Since(died)
	t.Logf("job %s: taken again %s after its worker's last sign of life (AckWait %s)", id, took.Round(10*time.Millisecond), AckWait)
	if took > AckWait+2*time.Second {
		t.Errorf("failover took %s, want at most %s", took, AckWait+2*time.Second)
	}
	if c.ID() != id || c.Number <= dead.Number {
		t.Fatalf("w2 claimed %s with number %d, want %s with a number above %d", c.ID(), c.Number, id, dead.Number)
	}
	var se *SupersededError
	if err := dead.Progress(ctx); !errors.As(err, &se) || se.By != c.Number {
		t.Fatalf("progress of the lost claim: %v, want superseded by %d", err, c.Number)
	}
	if err := dead.Done(ctx, "s3://shows/fleet/failover"); !errors.As(err, &se) {
		t.Fatalf("done of the lost claim: %v, want *SupersededError", err)
	}
	st, err := q.Get(ctx, id)
	if err != nil || st.State != Running || st.Worker != "w2" || st.Claims != 2 || st.Claim != c.Number {
		t.Fatalf("status: %+v %v, want running by w2, 2 claims, claim %d", st, err, c.Number)
	}
	if err := c.Done(ctx, "s3://shows/fleet/failover"); err != nil {
		t.Fatal(err)
	}
}

// nats-server restarted while jobs are queued, running and done: none is lost, a job done before
// the restart is not delivered again, and a claim made before it goes on after it.
func TestServerRestart(t *testing.T) {
	q, s := open(t)
	ctx := testCtx(t)
	var ids []JobID
	for i := range 5 {
		id, _, err := q.Submit(ctx, recordJob(fmt.Sprintf("room-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	done := map[JobID]int{}
	for range 2 {
		c := take(t, q, "w1", 10*time.Second)
		if err := c.Done(ctx, c.Job.Record.Session); err != nil {
			t.Fatal(err)
		}
		done[c.ID()]++
	}
	running := take(t, q, "w1", 10*time.Second)
	s.Restart(t)
	if err := running.Progress(ctx); err != nil {
		t.Fatalf("progress after the restart: %v", err)
	}
	if err := running.Done(ctx, running.Job.Record.Session); err != nil {
		t.Fatal(err)
	}
	done[running.ID()]++
	for range 2 {
		c := take(t, q, "w2", 15*time.Second)
		if err := c.Done(ctx, c.Job.Record.Session); err != nil {
			t.Fatal(err)
		}
		done[c.ID()]++
	}
	takeNone(t, q, "w3", 2*time.Second)
	for _, id := range ids {
		if done[id] != 1 {
			t.Errorf("job %s done %d times, want once", id, done[id])
		}
		if st, err := q.Get(ctx, id); err != nil || st.State != Done {
			t.Errorf("job %s: %+v %v, want done", id, st, err)
		}
	}
}

// A worker waiting in Take while nats-server restarts gets the job submitted after the restart:
// its pull request, lost with the server, is made again.
func TestTakeAcrossRestart(t *testing.T) {
	q, s := open(t)
	ctx := testCtx(t)
	got := make(chan *Claim, 1)
	go func() {
		c, err := q.Take(ctx, "waiting")
		if err != nil {
			t.Errorf("take: %v", err)
		}
		got <- c
	}()
	time.Sleep(500 * time.Millisecond) // the pull is waiting on the server
	s.Restart(t)
	id, _, err := q.Submit(ctx, recordJob("after-restart"))
	if err != nil {
		t.Fatal(err)
	}
	submitted := time.Now()
	select {
	case c := <-got:
		if c == nil || c.ID() != id {
			t.Fatalf("took %v, want %s", c, id)
		}
		t.Logf("taken %s after the submit that followed the restart", time.Since(submitted).Round(time.Millisecond))
	case <-time.After(fetchWait + 5*time.Second):
		t.Fatal("the waiting worker did not get the job submitted after the restart")
	}
}

// Messages that are not jobs are terminated, never taken and never fatal; a queued job named by
// a malformed message fails with the reason.
func TestMalformedMessage(t *testing.T) {
	q, _ := open(t)
	ctx := testCtx(t)
	victim := recordJob("victim")
	victim.Version = JobVersion
	id, err := newID(victim.RoomKey())
	if err != nil {
		t.Fatal(err)
	}
	victim.ID = id
	if _, _, err := q.create(ctx, victim.RoomKey(), victim); err != nil {
		t.Fatal(err)
	}
	forged := recordJob("elsewhere")
	forged.Version, forged.ID = JobVersion, id // an ID of another room
	forgedBody, _ := json.Marshal(forged)
	for i, body := range [][]byte{
		[]byte(`{"version":1,"kind":"record","record":{"url":"javascript:alert(1)"}}`),
		[]byte("\x00\xff not json"),
		[]byte(`{"version":2}`),
		forgedBody,
	} {
		m := &nats.Msg{Subject: SubjectRecord, Data: body, Header: nats.Header{}}
		m.Header.Set(HeaderJob, string(id))
		if _, err := q.js.PublishMsg(ctx, m, jetstream.WithMsgID(fmt.Sprint("junk-", i))); err != nil {
			t.Fatal(err)
		}
	}
	good, _, err := q.Submit(ctx, recordJob("good"))
	if err != nil {
		t.Fatal(err)
	}
	if c := take(t, q, "w1", 10*time.Second); c.ID() != good {
		t.Fatalf("took %s, want the good job %s", c.ID(), good)
	}
	st, err := q.Get(ctx, id)
	if err != nil || st.State != Failed || !strings.Contains(st.Reason, "rejected") {
		t.Fatalf("victim: %+v %v, want failed with the reason", st, err)
	}
}

// Submit to take to done through a real nats-server: the latency a webhook's room waits for a
// worker, on an idle queue.
func BenchmarkSubmitTake(b *testing.B) {
	q, _ := open(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := q.Submit(ctx, recordJob(fmt.Sprint("bench-", i))); err != nil {
			b.Fatal(err)
		}
		c, err := q.Take(ctx, "w")
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Done(ctx, c.Job.Record.Session); err != nil {
			b.Fatal(err)
		}
	}
}

// TestProgressAnswerLost: a Progress whose write reached the bucket but whose answer was lost (a
// timeout, a nats-server restart) leaves the claim's revision behind the entry's. The next
// Progress must find the entry still this claim's and go on, not take the claim for superseded.
func TestProgressAnswerLost(t *testing.T) {
	t.Parallel()
	q, _ := open(t)
	ctx := testCtx(t)
	if _, _, err := q.Submit(ctx, recordJob("lost-answer")); err != nil {
		t.Fatal(err)
	}
	c := take(t, q, "w1", 10*time.Second)
	// The write of a Progress as it reached the bucket, its answer never read by the claim.
	st := c.st
	st.Heartbeat = time.Now().UTC()
	if _, err := q.kv.Update(ctx, c.Job.ID.roomKey(), st.marshal(), c.rev); err != nil {
		t.Fatal(err)
	}
	if err := c.Progress(ctx); err != nil {
		t.Fatalf("progress after a write whose answer was lost: %v, want the claim to hold", err)
	}
	if err := c.Done(ctx, "s3://shows/fleet/lost-answer"); err != nil {
		t.Fatal(err)
	}
	got, err := q.Get(ctx, c.Job.ID)
	if err != nil || got.State != Done {
		t.Fatalf("job after Done: %+v, %v", got, err)
	}
}
