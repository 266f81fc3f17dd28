package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// followupOf is the follow-up of a valid record job of room, done with its session.
func followupOf(t testing.TB, room string) FollowupJob {
	t.Helper()
	j := recordJob(room)
	id, err := newID(j.RoomKey())
	if err != nil {
		t.Fatal(err)
	}
	return FollowupJob{
		RecordJob: id, Session: j.Record.Session, Room: room,
		Mix:     &MixStep{To: "s3://shows/mixes", Format: "mp3", LoudnessLUFS: -16, TruePeakDBTP: -1},
		Publish: &PublishStep{Site: "s3://sites/show", Push: "s3://podcast.example.com", Title: "{room}, {date}"},
	}
}

func validFollowup(t testing.TB) Job {
	f := followupOf(t, "panel")
	return Job{Version: JobVersion, ID: FollowupID(f.RecordJob), Kind: KindFollowup, Followup: &f}
}

func TestParseFollowupJob(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(j *Job)
		field string // the *JobError's field; "-" for a valid job
	}{
		{name: "a valid follow-up reads back as written", edit: func(*Job) {}, field: "-"},
		{name: "a follow-up that only mixes reads back", edit: func(j *Job) { j.Followup.Publish = nil }, field: "-"},
		{name: "a follow-up without a mix is refused", edit: func(j *Job) { j.Followup.Mix = nil }, field: "followup.mix"},
		{name: "an ID not derived from its record job is refused", edit: func(j *Job) { j.ID = JobID(strings.Repeat("b", 16) + string(j.ID[16:])) }, field: "id"},
		{name: "a record job ID of another form is refused", edit: func(j *Job) { j.Followup.RecordJob = "x" }, field: "followup.record_job"},
		{name: "a session that is a whole bucket is refused", edit: func(j *Job) { j.Followup.Session = "s3://shows" }, field: "followup.session"},
		{name: "a mix inside the sealed session is refused", edit: func(j *Job) { j.Followup.Mix.To = "s3://shows/fleet/panel" }, field: "followup.mix.to"},
		{name: "a mix of an unknown format is refused", edit: func(j *Job) { j.Followup.Mix.Format = "flac" }, field: "followup.mix.format"},
		{name: "a loudness out of range is refused", edit: func(j *Job) { j.Followup.Mix.LoudnessLUFS = 3 }, field: "followup.mix.loudness_lufs"},
		{name: "a true peak over 0 dBTP is refused", edit: func(j *Job) { j.Followup.Mix.TruePeakDBTP = 1 }, field: "followup.mix.true_peak_dbtp"},
		{name: "publishing an Opus mix is refused", edit: func(j *Job) { j.Followup.Mix.Format = "opus" }, field: "followup.publish"},
		{name: "a site outside a bucket is refused", edit: func(j *Job) { j.Followup.Publish.Site = "/srv/site" }, field: "followup.publish.site"},
		{name: "a title with an unknown placeholder is refused", edit: func(j *Job) { j.Followup.Publish.Title = "{host} live" }, field: "followup.publish.title"},
		{name: "an empty title is refused", edit: func(j *Job) { j.Followup.Publish.Title = " " }, field: "followup.publish.title"},
		{name: "control characters in a title are refused", edit: func(j *Job) { j.Followup.Publish.Title = "a\x07" }, field: "followup.publish.title"},
		{name: "a follow-up that carries a record job is refused", edit: func(j *Job) { j.Record = recordJob("panel").Record }, field: "record"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := validFollowup(t)
			c.edit(&want)
			raw, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseJob(raw)
			if c.field == "-" {
				if err != nil {
					t.Fatalf("ParseJob: %v", err)
				}
				if a, _ := json.Marshal(got); string(a) != string(raw) {
					t.Fatalf("read back\n%s\nwant\n%s", a, raw)
				}
				return
			}
			var je *JobError
			if !errors.As(err, &je) || je.Field != c.field {
				t.Fatalf("ParseJob: %v, want a *JobError on %q", err, c.field)
			}
		})
	}
}

func TestParseRecordJobThen(t *testing.T) {
	mix := &MixStep{To: "s3://shows/mixes", Format: "mp3", LoudnessLUFS: -16, TruePeakDBTP: -1}
	cases := []struct {
		name  string
		then  Then
		field string
	}{
		{"a mix and a publish read back", Then{Mix: mix, Publish: &PublishStep{Site: "s3://sites", Title: "{room}"}}, "-"},
		{"a mix beside the session reads back", Then{Mix: &MixStep{To: "s3://shows/fleet", Format: "wav", LoudnessLUFS: -23, TruePeakDBTP: -2}}, "-"},
		{"no step is refused", Then{}, "record.then"},
		{"a publish without a mix is refused", Then{Publish: &PublishStep{Site: "s3://sites", Title: "x"}}, "record.then.publish"},
		{"a mix into the session is refused", Then{Mix: &MixStep{To: "s3://shows/fleet/panel/mixes", Format: "mp3", LoudnessLUFS: -16, TruePeakDBTP: -1}}, "record.then.mix.to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := validJob(t)
			then := c.then
			j.Record.Then = &then
			raw, _ := json.Marshal(j)
			_, err := ParseJob(raw)
			if c.field == "-" {
				if err != nil {
					t.Fatalf("ParseJob: %v", err)
				}
				return
			}
			var je *JobError
			if !errors.As(err, &je) || je.Field != c.field {
				t.Fatalf("ParseJob: %v, want a *JobError on %q", err, c.field)
			}
		})
	}
}

func TestFollowupID(t *testing.T) {
	a, b := validJob(t), validJob(t)
	fa, fb := FollowupID(a.ID), FollowupID(b.ID)
	if fa != FollowupID(a.ID) {
		t.Fatal("the follow-up ID of one record job changes")
	}
	if fa == fb {
		t.Fatalf("two record jobs of a room have one follow-up ID %s", fa)
	}
	if _, err := ParseJobID(string(fa)); err != nil {
		t.Fatal(err)
	}
	if fa.roomKey() == a.ID.roomKey() {
		t.Fatal("the follow-up has its room's key: it would replace the room's job")
	}
}

// Enqueue repeated (a finish retried, a takeover, eight at once) queues one follow-up and one
// message; the follow-up is taken from its own consumer, never by Take (the record jobs').
func TestEnqueueFollowupOnce(t *testing.T) {
	q, _ := open(t)
	ctx := testCtx(t)
	f := followupOf(t, "panel")
	var wg sync.WaitGroup
	created := make(chan bool, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, c, err := q.Enqueue(ctx, f)
			if err != nil {
				t.Error(err)
				return
			}
			if id != FollowupID(f.RecordJob) {
				t.Errorf("enqueued %s, want %s", id, FollowupID(f.RecordJob))
			}
			created <- c
		}()
	}
	wg.Wait()
	close(created)
	n := 0
	for c := range created {
		if c {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d enqueues created the follow-up, want 1", n)
	}
	if m := streamMsgs(t, q); m != 1 {
		t.Fatalf("%d messages on the stream, want 1", m)
	}
	takeNone(t, q, "recorder", 1500*time.Millisecond)
	c := takeFollowup(t, q, "w1", 10*time.Second)
	if c.Job.Kind != KindFollowup || c.Job.Followup.Session != f.Session {
		t.Fatalf("took %+v", c.Job)
	}
	if err := c.Done(ctx, "s3://shows/mixes/panel.mp3"); err != nil {
		t.Fatal(err)
	}
	// A finish retried after the follow-up ran queues nothing again.
	if _, created, err := q.Enqueue(ctx, f); err != nil || created {
		t.Fatalf("enqueue after done: created %v, %v", created, err)
	}
	st, err := q.Get(ctx, FollowupID(f.RecordJob))
	if err != nil || st.State != Done {
		t.Fatalf("follow-up %+v, %v: want done", st, err)
	}
	if m := streamMsgs(t, q); m != 0 {
		t.Fatalf("%d messages on the stream after done, want 0", m)
	}
	list, err := q.List(ctx)
	if err != nil || len(list) != 1 || list[0].Job.Kind != KindFollowup {
		t.Fatalf("List: %+v, %v", list, err)
	}
}

// A follow-up that fails is taken again after a delay, MaxFollowupAttempts times in all, and
// then stays failed with every attempt's error.
func TestFollowupRetries(t *testing.T) {
	q, _ := open(t)
	ctx := testCtx(t)
	f := followupOf(t, "panel")
	id, _, err := q.Enqueue(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	var failedAt time.Time
	for attempt := 1; attempt <= MaxFollowupAttempts; attempt++ {
		c := takeFollowup(t, q, "w1", 20*time.Second)
		if attempt > 1 {
			if waited := time.Since(failedAt); waited < FollowupRetryDelay*time.Duration(attempt-1)-200*time.Millisecond {
				t.Errorf("attempt %d taken %s after the failure, want at least %s", attempt, waited, FollowupRetryDelay*time.Duration(attempt-1))
			}
		}
		if err := c.Progress(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Fail(ctx, "attempt failed: no site at s3://sites/show"); err != nil {
			t.Fatal(err)
		}
		failedAt = time.Now()
		st, err := q.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := Queued
		if attempt == MaxFollowupAttempts {
			want = Failed
		}
		if st.State != want || len(st.Errors) != attempt || !strings.Contains(st.Reason, "no site") {
			t.Fatalf("after attempt %d: state %s, errors %q, reason %q; want %s with %d errors", attempt, st.State, st.Errors, st.Reason, want, attempt)
		}
	}
	takeNoFollowup(t, q, "w1", FollowupRetryDelay*time.Duration(MaxFollowupAttempts)+time.Second)
	if m := streamMsgs(t, q); m != 0 {
		t.Fatalf("%d messages on the stream after the last attempt, want 0", m)
	}
}

func takeFollowup(t testing.TB, q *Queue, worker string, within time.Duration) *Claim {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	c, err := q.TakeFollowup(ctx, worker)
	if err != nil {
		t.Fatalf("take a follow-up by %s: %v", worker, err)
	}
	return c
}

func takeNoFollowup(t testing.TB, q *Queue, worker string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if c, err := q.TakeFollowup(ctx, worker); err == nil {
		t.Fatalf("%s took follow-up %s, want none", worker, c.ID())
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("take by %s: %v, want the deadline", worker, err)
	}
}
