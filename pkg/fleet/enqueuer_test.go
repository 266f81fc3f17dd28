package fleet

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/webhook"
)

func TestSlug(t *testing.T) {
	for _, c := range []struct{ why, in, want string }{
		{"a plain name stays", "standup-7", "standup-7"},
		{"slashes and dots cannot climb out of the prefix", "../../etc/passwd", "etc-passwd"},
		{"runs of other characters become one dash", "town  hall: Q&A", "town-hall-Q-A"},
		{"non-ASCII letters go, the rest stays", "café-ünïcode", "caf-n-code"},
		{"nothing left is room", "///", "room"},
		{"control characters go", "a\x00\nb", "a-b"},
		{"no hidden name", ".hidden", "hidden"},
		{"length is bounded", strings.Repeat("x", 100), strings.Repeat("x", 64)},
	} {
		if got := Slug(c.in, 64); got != c.want {
			t.Errorf("%s: Slug(%q) = %q, want %q", c.why, c.in, got, c.want)
		}
	}
}

func FuzzSlug(f *testing.F) {
	f.Add("../a/b", 64)
	f.Add("RM_abc", 32)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = 4 + abs(max)%100
		got := Slug(s, max)
		if got == "" || len(got) > max || strings.Contains(got, "..") || strings.ContainsAny(got, "/\\ \x00") ||
			strings.HasPrefix(got, ".") || strings.HasPrefix(got, "-") {
			t.Fatalf("Slug(%q, %d) = %q", s, max, got)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// The enqueuer, against a real nats-server: a start retried or seen twice is one job, in the
// session of the run; a finish cancels the queued job of its run only; a room started again under
// the same name (a new SID) while its earlier job is queued replaces that job, and while it is
// running waits (an error, so LiveKit retries); a finish of a running job leaves it.
func TestRoomEnqueuer(t *testing.T) {
	q, _ := open(t)
	ctx := testCtx(t)
	var outcomes []Outcome
	at := time.Date(2026, 12, 7, 22, 15, 0, 0, time.UTC)
	e := &RoomEnqueuer{Queue: q, Store: "s3://shows/auto",
		Template: RecordJob{URL: "ws://127.0.0.1:7880", Protocol: "livekit", Consent: "announced",
			APIKey: "devkey", APISecret: "env:LIVEKIT_API_SECRET", SignKey: "file:/run/keys/sign"},
		Observe: func(o Outcome) { outcomes = append(outcomes, o) },
		Now:     func() time.Time { return at },
	}
	if err := e.Check(); err != nil {
		t.Fatal(err)
	}
	run1 := webhook.Room{Name: "town/hall", SID: "RM_first1"}
	for range 2 {
		if err := e.RoomStarted(ctx, run1); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Second) // a retry later: still the first run's session
	}
	list, err := q.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].State != Queued {
		t.Fatalf("after two starts: %+v, want one queued job", list)
	}
	first := list[0]
	if want := "s3://shows/auto/town-hall-20261207-221500-RM_first1"; first.Job.Record.Session != want || first.Job.Record.Room != "town/hall" || first.Job.Record.SignKey != "file:/run/keys/sign" {
		t.Errorf("job: %+v, want session %s in room town/hall with the sign key reference", first.Job.Record, want)
	}
	if got := streamMsgs(t, q); got != 1 {
		t.Errorf("%d messages in the stream, want 1", got)
	}

	// A finish of another run leaves the job; the room starts again under its name: the queued job
	// of the earlier run is replaced.
	if err := e.RoomFinished(ctx, webhook.Room{Name: "town/hall", SID: "RM_other"}); err != nil {
		t.Fatal(err)
	}
	run2 := webhook.Room{Name: "town/hall", SID: "RM_second"}
	if err := e.RoomStarted(ctx, run2); err != nil {
		t.Fatal(err)
	}
	if st, _ := q.Get(ctx, first.Job.ID); st.State != Cancelled {
		t.Errorf("first run's job is %s, want cancelled", st.State)
	}
	list, _ = q.List(ctx)
	if len(list) != 1 || list[0].State != Queued || !strings.HasSuffix(list[0].Job.Record.Session, "-RM_second") {
		t.Fatalf("after the second run started: %+v", list)
	}
	second := list[0].Job.ID

	// The second run finishes before a worker took its job: cancelled.
	if err := e.RoomFinished(ctx, run2); err != nil {
		t.Fatal(err)
	}
	if st, _ := q.Get(ctx, second); st.State != Cancelled || !strings.Contains(st.Reason, "room finished") {
		t.Errorf("second run's job after its finish: %s %q, want cancelled", st.State, st.Reason)
	}

	// A retry of the second run's start, late (after its finish): no new job.
	if err := e.RoomStarted(ctx, run2); err != nil {
		t.Fatal(err)
	}
	if list, _ = q.List(ctx); len(list) != 1 || list[0].Job.ID != second {
		t.Errorf("after a late retry of a finished run's start: %+v, want its cancelled job only", list)
	}

	// A third run whose job a worker takes: its finish leaves it running, and a fourth run waits.
	run3 := webhook.Room{Name: "town/hall", SID: "RM_third"}
	if err := e.RoomStarted(ctx, run3); err != nil {
		t.Fatal(err)
	}
	c := take(t, q, "w1", 10*time.Second)
	if err := e.RoomFinished(ctx, run3); err != nil {
		t.Fatal(err)
	}
	if st, _ := q.Get(ctx, c.ID()); st.State != Running {
		t.Errorf("taken job after its room finished: %s, want running", st.State)
	}
	if err := e.RoomStarted(ctx, webhook.Room{Name: "town/hall", SID: "RM_fourth"}); !errors.Is(err, ErrEarlierRunRecording) {
		t.Errorf("start during the earlier run's recording: %v, want ErrEarlierRunRecording", err)
	}
	want := []Outcome{Submitted, Deduped, NoJob, Replaced, Withdrawn, Deduped, Submitted, Left}
	if strings.Join(outcomeStrings(outcomes), " ") != strings.Join(outcomeStrings(want), " ") {
		t.Errorf("outcomes %v, want %v", outcomes, want)
	}
}

func outcomeStrings(o []Outcome) []string {
	s := make([]string, len(o))
	for i, v := range o {
		s[i] = string(v)
	}
	return s
}

// BenchmarkRoomStarted: the queue's part of webhook → first audio, one room_started turned into a
// queued job (the job built, its room's entry created in the bucket, its message published) on a
// real nats-server on 127.0.0.1. One new room per iteration.
func BenchmarkRoomStarted(b *testing.B) {
	q, _ := open(b)
	ctx := testCtx(b)
	e := &RoomEnqueuer{Queue: q, Store: "s3://shows/auto",
		Template: RecordJob{URL: "ws://127.0.0.1:7880", Protocol: "livekit", Consent: "announced",
			APIKey: "devkey", APISecret: "env:LIVEKIT_API_SECRET"}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := e.RoomStarted(ctx, webhook.Room{Name: "room-" + strconv.Itoa(i), SID: "RM_" + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
