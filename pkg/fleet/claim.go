package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Claim is a worker's hold on one job, from Take to Done or Fail.
type Claim struct {
	Job    Job
	Worker string
	// Number is the claim's fencing number: the bucket revision of the entry that recorded it. A
	// later claim of the same job always has a higher number; the worker writes it where it
	// writes the session, and refuses to go on where a higher number stands.
	Number uint64

	q   *Queue
	msg jetstream.Msg
	rev uint64 // the entry's revision as this claim last wrote it
	st  Status
}

// fetchWait is how long one pull waits on the server before Take asks again.
const fetchWait = 5 * time.Second

// Take waits for a job and claims it for worker (its name, shown in the job's status), until ctx
// ends. A message whose job does not read is terminated (and its job, if the message names one
// that is queued, failed with the reason); one whose job finished, was cancelled or was replaced
// by a newer job of the room is dropped. A job taken MaxClaims times fails.
func (q *Queue) Take(ctx context.Context, worker string) (*Claim, error) {
	return q.take(ctx, worker, q.consumer)
}

// take is Take from consumer.
func (q *Queue) take(ctx context.Context, worker string, consumer jetstream.Consumer) (*Claim, error) {
	if worker == "" || badText(worker) != "" {
		return nil, fmt.Errorf("fleet: take: worker name %q: want a short printable name", worker)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fctx, cancel := context.WithTimeout(ctx, fetchWait)
		msg, err := consumer.Next(jetstream.FetchContext(fctx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) {
				continue
			}
			if errors.Is(err, nats.ErrConnectionClosed) {
				return nil, wrapNATS("take a job", err)
			}
			// A server restarting or a reconnect: ask again shortly.
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		c, err := q.claim(ctx, msg, worker)
		if err != nil {
			// The bucket could not be read or written: the job goes back to the queue at once
			// rather than after AckWait.
			_ = msg.Nak()
			return nil, err
		}
		if c != nil {
			return c, nil
		}
	}
}

// claim claims the job of msg, or drops msg and returns nil.
func (q *Queue) claim(ctx context.Context, msg jetstream.Msg, worker string) (*Claim, error) {
	job, err := ParseJob(msg.Data())
	if err != nil {
		q.reject(ctx, msg, err)
		return nil, nil
	}
	if h := msg.Headers().Get(HeaderJob); h != string(job.ID) {
		q.reject(ctx, msg, &JobError{Field: "id", Reason: fmt.Sprintf("is %s but the message is for %q", job.ID, h)})
		return nil, nil
	}
	key := job.ID.roomKey()
	for range 10 {
		st, err := q.get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			_ = msg.TermWithReason("no such job in the bucket")
			return nil, nil
		}
		if err != nil {
			var je *JobError
			if errors.As(err, &je) {
				_ = msg.TermWithReason("the room's entry does not read: " + err.Error())
				return nil, nil
			}
			return nil, err
		}
		if st.Job.ID != job.ID || st.State.Finished() {
			// An older job of the room, or one finished: it never runs again.
			_ = msg.TermWithReason("job " + string(st.State))
			return nil, nil
		}
		meta, err := msg.Metadata()
		if err != nil {
			_ = msg.TermWithReason("no metadata: " + err.Error())
			return nil, nil
		}
		if st.State == Running && st.Message != meta.Sequence.Stream {
			// A second message for a job a worker holds: not a redelivery, so not a sign that the
			// worker is lost.
			_ = msg.TermWithReason("a duplicate of a running job's message")
			return nil, nil
		}
		// Queued, or running under a worker whose message JetStream handed back after AckWait
		// without progress: presumed dead; this claim supersedes its claim.
		now := q.now().UTC()
		prev := st.Revision
		st.Claims++
		if st.Claims > MaxClaims {
			st.State, st.Updated = Failed, now
			st.Reason = fmt.Sprintf("taken %d times without finishing (workers lost or killed)", MaxClaims)
			if _, err := q.kv.Update(ctx, key, st.marshal(), prev); errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				continue
			} else if err != nil {
				return nil, wrapNATS("fail job "+string(job.ID), err)
			}
			_ = msg.TermWithReason(st.Reason)
			return nil, nil
		}
		st.State, st.Worker, st.Since, st.Heartbeat, st.Updated = Running, worker, now, now, now
		st.Claim, st.Message, st.Session, st.Reason = 0, meta.Sequence.Stream, "", ""
		rev, err := q.kv.Update(ctx, key, st.marshal(), prev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // cancelled or claimed meanwhile: look again
		}
		if err != nil {
			return nil, wrapNATS("claim job "+string(job.ID), err)
		}
		// The claim's number is the revision just written; write it into the entry, so that
		// everyone reading the job sees which claim holds it.
		st.Claim = rev
		rev2, err := q.kv.Update(ctx, key, st.marshal(), rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		}
		if err != nil {
			return nil, wrapNATS("claim job "+string(job.ID), err)
		}
		st.Revision = rev2
		_ = msg.InProgress()
		return &Claim{Job: st.Job, Worker: worker, Number: rev, q: q, msg: msg, rev: rev2, st: st}, nil
	}
	return nil, fmt.Errorf("fleet: claim job %s: its entry keeps changing", job.ID)
}

// reject terminates a message whose job does not read; if the message names a queued job, that
// job fails with the reason.
func (q *Queue) reject(ctx context.Context, msg jetstream.Msg, why error) {
	reason := "job message rejected: " + why.Error()
	_ = msg.TermWithReason(reason)
	id, err := ParseJobID(msg.Headers().Get(HeaderJob))
	if err != nil {
		return
	}
	st, err := q.get(ctx, id.roomKey())
	if err != nil || st.Job.ID != id || st.State != Queued {
		return
	}
	st.State, st.Reason, st.Updated = Failed, reason, q.now().UTC()
	_, _ = q.kv.Update(ctx, id.roomKey(), st.marshal(), st.Revision)
}

// ID is the claimed job's ID.
func (c *Claim) ID() JobID { return c.Job.ID }

// Progress tells JetStream the worker still works on the job (so it is not handed to another
// worker) and writes a heartbeat into the job's entry. Call it every ProgressEvery. It returns
// ErrCancelled when the job was cancelled and a *SupersededError when another worker claimed it:
// either way the worker stops writing the session. Any other error (NATS unavailable) leaves the
// claim as it is: the worker keeps recording and tries again; if AckWait passes without a
// Progress that reached NATS, another worker takes the job.
func (c *Claim) Progress(ctx context.Context) error {
	return c.update(ctx, func(st *Status) { st.Heartbeat = c.q.now().UTC() }, func() error { return c.msg.InProgress() })
}

// Done records the job as done with its session's URL and acks its message: it leaves the stream.
// A job cancelled while it ran stays cancelled, with the session's URL. Once the state is written
// the job is finished whatever becomes of the ack: a message that comes back is dropped by Take.
func (c *Claim) Done(ctx context.Context, sessionURL string) error {
	if c.st.State == Cancelled { // Progress said so already
		return c.finishCancelled(ctx, sessionURL)
	}
	err := c.update(ctx, func(st *Status) { st.State, st.Session = Done, sessionURL },
		func() error { _ = c.msg.DoubleAck(ctx); return nil })
	if errors.Is(err, ErrCancelled) {
		return c.finishCancelled(ctx, sessionURL)
	}
	return err
}

// Fail records the job as failed with the reason and terminates its message: no worker takes it
// again. A follow-up job is queued again instead, with the reason kept in Status.Errors, until
// it has failed MaxFollowupAttempts times.
func (c *Claim) Fail(ctx context.Context, reason string) error {
	if c.st.State == Cancelled {
		return c.finishCancelled(ctx, "")
	}
	followup := c.Job.Kind == KindFollowup
	if followup {
		again, err := c.retry(ctx, reason)
		if errors.Is(err, ErrCancelled) {
			return c.finishCancelled(ctx, "")
		}
		if again || err != nil {
			return err
		}
	}
	err := c.update(ctx, func(st *Status) {
		st.State, st.Reason = Failed, reason
		if followup {
			st.Errors = append(append([]string(nil), st.Errors...), reason)
		}
	},
		func() error { _ = c.msg.TermWithReason(reason); return nil })
	if errors.Is(err, ErrCancelled) {
		return c.finishCancelled(ctx, "")
	}
	return err
}

// update writes the claim's entry changed by change, if the claim still holds the job, then
// tells JetStream with ack.
func (c *Claim) update(ctx context.Context, change func(*Status), ack func() error) error {
	st := c.st
	change(&st)
	st.Updated = c.q.now().UTC()
	rev, err := c.q.kv.Update(ctx, c.Job.ID.roomKey(), st.marshal(), c.rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		// An earlier write of this claim may have gone through with its answer lost (a timeout,
		// a nats-server restart): the entry is newer than c.rev but still this claim's. Then the
		// claim holds the job, and the write is made again on that revision.
		if cur, gerr := c.q.Get(ctx, c.Job.ID); gerr == nil && cur.State == Running && cur.Claim == c.Number {
			c.rev = cur.Revision
			rev, err = c.q.kv.Update(ctx, c.Job.ID.roomKey(), st.marshal(), c.rev)
		}
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return c.lost(ctx)
		}
	}
	if err != nil {
		return wrapNATS("job "+string(c.Job.ID)+" claim "+fmt.Sprint(c.Number), err)
	}
	st.Revision = rev
	c.st, c.rev = st, rev
	if err := ack(); err != nil {
		return wrapNATS("ack job "+string(c.Job.ID), err)
	}
	return nil
}

// lost says why the claim no longer holds the job.
func (c *Claim) lost(ctx context.Context) error {
	st, err := c.q.Get(ctx, c.Job.ID)
	if err != nil {
		return err
	}
	if st.State == Cancelled && st.Claim == c.Number {
		c.st, c.rev = st, st.Revision
		return ErrCancelled
	}
	by := uint64(0)
	if st.State == Running || st.Claim > c.Number {
		by = st.Claim
	}
	return &SupersededError{ID: c.Job.ID, Claim: c.Number, By: by, State: st.State}
}

// finishCancelled ends the claim of a job cancelled while it ran: the entry keeps its state and
// gets the session's URL, the message leaves the stream.
func (c *Claim) finishCancelled(ctx context.Context, sessionURL string) error {
	return c.update(ctx, func(st *Status) { st.Session = sessionURL }, func() error { _ = c.msg.TermWithReason("cancelled"); return nil })
}
