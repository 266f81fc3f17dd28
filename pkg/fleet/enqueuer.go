package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/webhook"
)

// Outcome is what RoomEnqueuer did with one room event.
type Outcome string

// The outcomes of RoomEnqueuer's calls.
const (
	Submitted Outcome = "submitted" // room_started: a new job is queued
	Deduped   Outcome = "deduped"   // room_started: the room's run has its job already
	Replaced  Outcome = "replaced"  // room_started: a queued job of an earlier run was cancelled, a new one queued
	Withdrawn Outcome = "withdrawn" // room_finished: the run's job was still queued, now cancelled
	Left      Outcome = "left"      // room_finished: the job runs (its recorder sees the room close) or is over
	NoJob     Outcome = "no-job"    // room_finished: the room has no job of this run
)

// ErrEarlierRunRecording means that a room started again while the job of its earlier run (by the
// same name) is still running: the new run gets its job once that one ends. The webhook receiver
// answers 503 and LiveKit delivers the event again later.
var ErrEarlierRunRecording = errors.New("fleet: the room's earlier run is still being recorded")

// RoomEnqueuer turns LiveKit's room events into record jobs (it is a webhook.Enqueuer). Each run
// of a room (LiveKit's room SID) gets its own session, named when the run starts:
// STORE/ROOM-YYYYMMDD-HHMMSS-SID, the room's name made safe (SessionName).
//
// room_started submits Template for the room. The queue dedupes by room, so a retried webhook, or
// the event reaching two receivers, gives one job; so does a retry that arrives after the run's
// job ended (the room finished meanwhile): a run has one job. A job whose session carries another SID belongs
// to an earlier run of the same name: queued, it is cancelled (that run is over) and replaced;
// running, the call fails with ErrEarlierRunRecording.
//
// room_finished cancels the run's job if it is still queued (no worker took it: there is nothing
// left to record). A running job is left alone: its recorder sees the room close and ends the
// recording itself, sealing the session.
type RoomEnqueuer struct {
	Queue *Queue
	// Template is the record job of every room: URL (the LiveKit server the workers dial),
	// Protocol, APIKey, APISecret reference, consent, retention, signing key reference, stop
	// conditions. Its Room and Session are set per room.
	Template RecordJob
	// Store is where sessions go: s3://BUCKET or s3://BUCKET/PREFIX.
	Store string
	// Log receives a line per job submitted, deduped or cancelled. Default: none.
	Log *slog.Logger
	// Observe, when set, is told the outcome of each call that did not fail (metrics).
	Observe func(Outcome)
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

var _ webhook.Enqueuer = (*RoomEnqueuer)(nil)

// Check reports whether the enqueuer can make jobs: a store URL and a template that passes the
// job checks for a room.
func (e *RoomEnqueuer) Check() error {
	if e.Queue == nil {
		return errors.New("fleet: room enqueuer: no queue")
	}
	if _, err := e.job(webhook.Room{Name: "room", SID: "RM_check"}); err != nil {
		return err
	}
	return nil
}

// job is the record job of one run of a room.
func (e *RoomEnqueuer) job(room webhook.Room) (Job, error) {
	store, err := objstore.ParseURL(e.Store)
	if err != nil {
		return Job{}, fmt.Errorf("fleet: room enqueuer: store: %w", err)
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	rec := e.Template
	rec.Allow, rec.Exclude = append([]string(nil), rec.Allow...), append([]string(nil), rec.Exclude...)
	rec.Room, rec.Name = room.Name, room.Name
	rec.Session = objstore.Scheme + store.Bucket + "/" + strings.Trim(store.Prefix+"/"+SessionName(room.Name, room.SID, now()), "/")
	j := Job{Version: JobVersion, Kind: KindRecord, Record: &rec}
	// The ID is set by Submit; check the rest now with a stand-in of the right room.
	j.ID = JobID(j.RoomKey() + "-00000000")
	if err := j.Check(); err != nil {
		return Job{}, err
	}
	j.ID = ""
	return j, nil
}

// SessionName is the session's name for a run of a room that started at t: the room's name and
// its SID made safe (Slug), the UTC time between them.
func SessionName(room, sid string, t time.Time) string {
	return Slug(room, 64) + "-" + t.UTC().Format("20060102-150405") + "-" + Slug(sid, 32)
}

// Slug makes outside text (a room's name) a safe piece of an object key: letters, digits, '.',
// '_' and '-' stay, every other run of characters becomes one '-', no '.' or '-' at either end
// (no "..", no hidden name), at most max bytes (4 at least); "room" when nothing is left.
func Slug(s string, max int) string {
	max = maxInt(max, len("room"))
	var b strings.Builder
	dash := false
	for _, c := range s {
		ok := c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-')
		if !ok || c == '-' {
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		if b.Len() >= max {
			break
		}
		b.WriteRune(c)
	}
	out := strings.Trim(b.String(), ".-")
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	if len(out) > max {
		out = strings.Trim(out[:max], ".-")
	}
	if out == "" {
		return "room"
	}
	return out
}

// ofRun reports whether a job is the one of the room's run sid.
func ofRun(st Status, sid string) bool {
	return st.Job.Record != nil && strings.HasSuffix(st.Job.Record.Session, "-"+Slug(sid, 32))
}

func (e *RoomEnqueuer) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

func (e *RoomEnqueuer) observe(o Outcome) {
	if e.Observe != nil {
		e.Observe(o)
	}
}

// RoomStarted submits the record job of the room's run.
func (e *RoomEnqueuer) RoomStarted(ctx context.Context, room webhook.Room) error {
	job, err := e.job(room)
	if err != nil {
		return err
	}
	log := e.log().With("room", room.Name, "sid", room.SID)
	// The run has had its job (even one that ended: a retry arriving after the room finished
	// and its queued job was cancelled must not queue it again).
	if st, err := e.Queue.get(ctx, job.RoomKey()); err == nil && ofRun(st, room.SID) {
		log.Info("job exists", "job", st.Job.ID, "state", st.State, "outcome", Deduped)
		e.observe(Deduped)
		return nil
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	outcome := Submitted
	for range 3 {
		id, created, err := e.Queue.Submit(ctx, job)
		if err != nil {
			return err
		}
		if created {
			log.Info("job queued", "job", id, "session", job.Record.Session, "outcome", outcome)
			e.observe(outcome)
			return nil
		}
		st, err := e.Queue.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if ofRun(st, room.SID) {
			log.Info("job exists", "job", id, "state", st.State, "outcome", Deduped)
			e.observe(Deduped)
			return nil
		}
		// The job of an earlier run of this room's name.
		if st.State == Running {
			return fmt.Errorf("%w: job %s (room %q)", ErrEarlierRunRecording, id, room.Name)
		}
		if _, err := e.cancelQueued(ctx, st, "room "+room.Name+" started again (sid "+room.SID+") before a worker took the job"); err != nil {
			return err
		}
		log.Info("job of an earlier run withdrawn", "job", id)
		outcome = Replaced
	}
	return fmt.Errorf("fleet: submit job for room %q: its jobs keep changing", room.Name)
}

// RoomFinished cancels the run's job when no worker has taken it yet.
func (e *RoomEnqueuer) RoomFinished(ctx context.Context, room webhook.Room) error {
	key := RoomKey(e.Template.Protocol, e.Template.URL, room.Name)
	log := e.log().With("room", room.Name, "sid", room.SID)
	for range 10 {
		st, err := e.Queue.get(ctx, key)
		if errors.Is(err, ErrNotFound) || err == nil && !ofRun(st, room.SID) {
			e.observe(NoJob)
			return nil
		}
		if err != nil {
			return err
		}
		if st.State != Queued {
			log.Info("room finished, job left to its recorder", "job", st.Job.ID, "state", st.State)
			e.observe(Left)
			return nil
		}
		ok, err := e.cancelQueued(ctx, st, "room finished before a worker took the job")
		if err != nil {
			return err
		}
		if ok {
			log.Info("room finished, queued job cancelled", "job", st.Job.ID)
			e.observe(Withdrawn)
			return nil
		}
	}
	return fmt.Errorf("fleet: room %q finished: its job keeps changing", room.Name)
}

// cancelQueued cancels a job read queued at st.Revision, if it is still that (a compare-and-set:
// a worker that took it meanwhile keeps it); false when it changed.
func (e *RoomEnqueuer) cancelQueued(ctx context.Context, st Status, reason string) (bool, error) {
	q := e.Queue
	st.State, st.Reason, st.Updated = Cancelled, reason, q.now().UTC()
	_, err := q.kv.Update(ctx, st.Job.ID.roomKey(), st.marshal(), st.Revision)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return false, nil
	}
	if err != nil {
		return false, q.wrap("cancel job "+string(st.Job.ID), err)
	}
	return true, nil
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
