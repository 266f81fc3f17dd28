package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotFound means that no job has that ID (never submitted, or its room has had many jobs since).
var ErrNotFound = errors.New("fleet: no such job")

// ErrCancelled means that the claimed job was cancelled (Queue.Cancel); the worker stops its recording.
var ErrCancelled = errors.New("fleet: the job was cancelled")

// FinishedError is the error of cancelling a job that is done, failed or cancelled already.
type FinishedError struct {
	ID    JobID
	State State
}

func (e *FinishedError) Error() string {
	return fmt.Sprintf("fleet: job %s is %s already", e.ID, e.State)
}

// SupersededError means that another claim of the job has been made since this one (the worker was
// presumed dead); the holder of the older claim must stop writing its session.
type SupersededError struct {
	ID    JobID
	Claim uint64 // this claim's number
	By    uint64 // the newer claim's number (0: the job is no longer running)
	State State  // the job's state now
}

func (e *SupersededError) Error() string {
	if e.By != 0 {
		return fmt.Sprintf("fleet: claim %d of job %s is superseded by claim %d", e.Claim, e.ID, e.By)
	}
	return fmt.Sprintf("fleet: claim %d of job %s is over: the job is %s", e.Claim, e.ID, e.State)
}

// JobError means that a job (from a submitter, a message or the bucket) is not one this version
// can run.
type JobError struct {
	Field  string // the JSON field, "" for the whole job
	Reason string
}

func (e *JobError) Error() string {
	if e.Field == "" {
		return "fleet: job: " + e.Reason
	}
	return fmt.Sprintf("fleet: job: %s %s", e.Field, e.Reason)
}

// IDError is a job ID that is not one (the form is ROOMKEY-RANDOM: 16 and 8 lowercase hex digits).
type IDError struct{ ID string }

func (e *IDError) Error() string {
	return fmt.Sprintf("fleet: %q is not a job ID (16 hex digits, '-', 8 hex digits)", e.ID)
}

// UnavailableError means that NATS (or its JetStream) could not be reached or did not answer; the job
// system is down for this caller, like an object store that does not answer.
type UnavailableError struct {
	What string // what was being done: "connect to nats://…", "submit job for room …"
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("fleet: %s: NATS is unavailable: %v", e.What, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// wrapNATS says what failed; a NATS that cannot be reached becomes an *UnavailableError.
func wrapNATS(what string, err error) error {
	for _, target := range []error{nats.ErrNoServers, nats.ErrConnectionClosed, nats.ErrTimeout, nats.ErrNoResponders,
		nats.ErrAuthorization, nats.ErrAuthExpired, context.DeadlineExceeded, jetstream.ErrNoStreamResponse,
		jetstream.ErrJetStreamNotEnabled, jetstream.ErrJetStreamNotEnabledForAccount} {
		if errors.Is(err, target) {
			return &UnavailableError{What: what, Err: err}
		}
	}
	return fmt.Errorf("fleet: %s: %w", what, err)
}
