package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names in JetStream.
const (
	// Stream is the work-queue stream of jobs; a message leaves it when a worker acks or
	// terminates it.
	Stream = "SPACECAST_JOBS"
	// SubjectRecord is the subject of record jobs.
	SubjectRecord = "spacecast.jobs.record"
	// SubjectFollowup is the subject of follow-up jobs.
	SubjectFollowup = "spacecast.jobs.followup"
	// Consumer is the durable pull consumer of record jobs all workers share.
	Consumer = "spacecast-workers"
	// ConsumerFollowups is the durable pull consumer of follow-up jobs all workers share.
	ConsumerFollowups = "spacecast-followups"
	// Bucket is the key-value bucket of job states, one key per room (RoomKey).
	Bucket = "spacecast-jobs"
	// HeaderJob carries the job ID on a job's message (and Nats-Msg-Id does, for dedupe).
	HeaderJob = "Spacecast-Job"
)

// Timing of claims. A worker calls Progress every ProgressEvery; JetStream hands the job to
// another worker AckWait after the last one, and the worker stops writing on its own at
// AckWait − ProgressEvery without a word through (its fence). With 1 s and 7 s, a nats-server
// restart (down for seconds, its JetStream answering a second or two after it is back) passes
// without a recording stopped (the fence is 6 s), and a dead worker's room is taken again 6–7 s
// after its death plus the time to join the room: within the 15 s the fleet promises, and, with
// the dead worker's last seconds not yet uploaded (its pieces go up every 2 s), within the 10 s
// of a room's audio the fleet may lose. (6 s and 2 s, the first choice, made a 2 s restart reach
// the fence in most runs; 8 s and 2 s lost 8.9–9.0 s of a killed worker's rooms.)
const (
	AckWait       = 7 * time.Second
	ProgressEvery = 1 * time.Second
	// MaxClaims bounds how often one job is taken: a job that kills or loses every worker that
	// takes it fails after that many claims rather than going round for ever.
	MaxClaims = 20
	// history is how many states of a room the bucket keeps: Get finds a room's earlier jobs there.
	history = 16
)

// Queue is the job stream and the job bucket of one NATS JetStream account.
type Queue struct {
	js       jetstream.JetStream
	stream   jetstream.Stream
	consumer jetstream.Consumer
	// followups is the consumer of follow-up jobs.
	followups jetstream.Consumer
	kv        jetstream.KeyValue
	now       func() time.Time
	nc        *nats.Conn // Connect's connection, closed by Close
}

// Open makes sure the stream, its consumer and the bucket exist (creating or updating them) and
// returns the queue.
func Open(ctx context.Context, js jetstream.JetStream) (*Queue, error) {
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       Stream,
		Subjects:   []string{SubjectRecord, SubjectFollowup},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		MaxMsgSize: MaxJobBytes + 1024,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: stream %s: %w", Stream, err)
	}
	c, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       Consumer,
		FilterSubject: SubjectRecord,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxDeliver:    -1, // MaxClaims bounds a job, in the bucket where it shows
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: consumer %s: %w", Consumer, err)
	}
	fc, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       ConsumerFollowups,
		FilterSubject: SubjectFollowup,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxDeliver:    -1, // MaxFollowupAttempts and MaxClaims bound a follow-up, in the bucket
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: consumer %s: %w", ConsumerFollowups, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:  Bucket,
		History: history,
		Storage: jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: bucket %s: %w", Bucket, err)
	}
	return &Queue{js: js, stream: st, consumer: c, followups: fc, kv: kv, now: time.Now}, nil
}

// Submit queues a record job for its room, unless the room has an unfinished job: then it returns
// that job's ID with created false. job.ID is set here; the job must pass Check.
func (q *Queue) Submit(ctx context.Context, job Job) (JobID, bool, error) {
	job.Version, job.Kind = JobVersion, KindRecord
	if job.Record == nil {
		return "", false, &JobError{Field: "record", Reason: "is missing"}
	}
	key := job.RoomKey()
	id, err := newID(key)
	if err != nil {
		return "", false, err
	}
	job.ID = id
	if err := job.Check(); err != nil {
		return "", false, err
	}
	for range 10 {
		st, created, err := q.create(ctx, key, job)
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // another submit changed the room's entry meanwhile: look again
		}
		if err != nil {
			return "", false, err
		}
		if st.State == Queued {
			// Published again when not created: its submitter may have died before publishing.
			// The same Nats-Msg-Id keeps it one message.
			if err := q.publish(ctx, st.Job); err != nil {
				return "", false, err
			}
		}
		return st.Job.ID, created, nil
	}
	return "", false, fmt.Errorf("fleet: submit job for room %s: its entry keeps changing", key)
}

// create writes job as the room's queued job if the room has none unfinished, and returns the
// room's status: the new one (created) or the unfinished one.
func (q *Queue) create(ctx context.Context, key string, job Job) (Status, bool, error) {
	now := q.now().UTC()
	st := Status{Job: job, State: Queued, Submitted: now, Updated: now}
	rev, err := q.kv.Create(ctx, key, st.marshal())
	if err == nil {
		st.Revision = rev
		return st, true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return Status{}, false, q.wrap("submit job for room "+key, err)
	}
	cur, err := q.get(ctx, key)
	if err != nil {
		return Status{}, false, err
	}
	if !cur.State.Finished() {
		return cur, false, nil
	}
	rev, err = q.kv.Update(ctx, key, st.marshal(), cur.Revision)
	if err != nil {
		return Status{}, false, err // a conflict is retried by Submit
	}
	st.Revision = rev
	return st, true, nil
}

// publish puts the job's message on the stream, deduplicated by its ID.
func (q *Queue) publish(ctx context.Context, job Job) error {
	body, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("fleet: job %s: %w", job.ID, err)
	}
	subject := SubjectRecord
	if job.Kind == KindFollowup {
		subject = SubjectFollowup
	}
	msg := &nats.Msg{Subject: subject, Data: body, Header: nats.Header{}}
	msg.Header.Set(HeaderJob, string(job.ID))
	if _, err := q.js.PublishMsg(ctx, msg, jetstream.WithMsgID(string(job.ID))); err != nil {
		return q.wrap("publish job "+string(job.ID), err)
	}
	return nil
}

// get reads a room's status.
func (q *Queue) get(ctx context.Context, key string) (Status, error) {
	e, err := q.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Status{}, ErrNotFound
	}
	if err != nil {
		return Status{}, q.wrap("read room "+key, err)
	}
	st, err := parseStatus(e.Value(), e.Revision())
	if err != nil {
		return Status{}, fmt.Errorf("fleet: room %s in bucket %s: %w", key, Bucket, err)
	}
	return st, nil
}

// Get returns the job's status: its room's current job, or an earlier job of the room while the
// bucket's history keeps it.
func (q *Queue) Get(ctx context.Context, id JobID) (Status, error) {
	if _, err := ParseJobID(string(id)); err != nil {
		return Status{}, err
	}
	cur, err := q.get(ctx, id.roomKey())
	if err != nil {
		return Status{}, err
	}
	if cur.Job.ID == id {
		return cur, nil
	}
	entries, err := q.kv.History(ctx, id.roomKey())
	if err != nil {
		return Status{}, q.wrap("read the history of room "+id.roomKey(), err)
	}
	for _, e := range slices.Backward(entries) {
		if st, err := parseStatus(e.Value(), e.Revision()); err == nil && st.Job.ID == id {
			return st, nil
		}
	}
	return Status{}, ErrNotFound
}

// List returns the current job of every room, oldest submitted first. A room entry that does not
// read is left out.
func (q *Queue) List(ctx context.Context) ([]Status, error) {
	keys, err := q.kv.ListKeys(ctx)
	if err != nil {
		return nil, q.wrap("list jobs", err)
	}
	var out []Status
	for key := range keys.Keys() {
		st, err := q.get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		var je *JobError
		if errors.As(err, &je) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Status) int { return a.Submitted.Compare(b.Submitted) })
	return out, nil
}

// Cancel ends a job: queued, it will not run (the worker that receives its message drops it);
// running, its worker learns it from Progress or Watch and stops the recording, sealing what it
// recorded. A finished job is a *FinishedError.
func (q *Queue) Cancel(ctx context.Context, id JobID, reason string) (Status, error) {
	for range 10 {
		st, err := q.Get(ctx, id)
		if err != nil {
			return Status{}, err
		}
		if st.State.Finished() {
			return st, &FinishedError{ID: id, State: st.State}
		}
		st.State, st.Reason, st.Updated = Cancelled, reason, q.now().UTC()
		rev, err := q.kv.Update(ctx, id.roomKey(), st.marshal(), st.Revision)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		}
		if err != nil {
			return Status{}, q.wrap("cancel job "+string(id), err)
		}
		st.Revision = rev
		return st, nil
	}
	return Status{}, fmt.Errorf("fleet: cancel job %s: its entry keeps changing", id)
}

// Watch sends the job's status each time it changes, starting with the current one, until ctx
// ends or the room takes another job; then the channel is closed. A worker watches the job it
// holds to stop at once when it is cancelled or claimed by another worker.
func (q *Queue) Watch(ctx context.Context, id JobID) (<-chan Status, error) {
	if _, err := ParseJobID(string(id)); err != nil {
		return nil, err
	}
	w, err := q.kv.Watch(ctx, id.roomKey(), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, q.wrap("watch job "+string(id), err)
	}
	out := make(chan Status, 1)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					continue // the end of the initial values
				}
				st, err := parseStatus(e.Value(), e.Revision())
				if err != nil {
					continue
				}
				if st.Job.ID != id {
					return
				}
				select {
				case out <- st:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// wrap says what failed; a NATS that cannot be reached is an *UnavailableError.
func (q *Queue) wrap(what string, err error) error {
	return wrapNATS(what, err)
}
