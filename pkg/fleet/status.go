package fleet

import (
	"encoding/json"
	"fmt"
	"time"
)

// State is where a job is.
type State string

// The states of a job. Queued and running jobs are unfinished: their room takes no other job.
const (
	Queued    State = "queued"    // submitted, not taken yet (or its worker's claim lapsed)
	Running   State = "running"   // a worker holds it: Worker, Since, Heartbeat, Claim
	Done      State = "done"      // recorded: Session
	Failed    State = "failed"    // Reason
	Cancelled State = "cancelled" // by Queue.Cancel
)

// Finished reports whether a job in state s will not run again.
func (s State) Finished() bool { return s == Done || s == Failed || s == Cancelled }

// statusVersion is the version of a Status's JSON in the bucket.
const statusVersion = 1

// Status is a job and where it is: the value of its room's key in the bucket.
type Status struct {
	Version   int       `json:"version"`
	Job       Job       `json:"job"`
	State     State     `json:"state"`
	Submitted time.Time `json:"submitted"`
	Updated   time.Time `json:"updated"`
	// Claims counts the times the job was taken; more than one means a worker was lost.
	Claims int `json:"claims"`
	// While running (and, for the record, after): the worker holding it, since when, its last
	// heartbeat, and the claim's number (see the package doc on fencing).
	Worker    string    `json:"worker,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	Heartbeat time.Time `json:"heartbeat,omitzero"`
	Claim     uint64    `json:"claim,omitempty"`
	// Message is the stream sequence of the job's message the claim holds: a redelivery of that
	// message means its worker was lost, another message for the job (a publish repeated after
	// the dedupe window) is dropped.
	Message uint64 `json:"message,omitempty"`
	// Session is where a done job's session is (s3://…).
	Session string `json:"session,omitempty"`
	// Reason says why a job failed or was cancelled (for a follow-up queued again after a failed
	// attempt, why that attempt failed).
	Reason string `json:"reason,omitempty"`
	// Errors are the errors of a follow-up's failed attempts, oldest first (at most
	// MaxFollowupAttempts).
	Errors []string `json:"errors,omitempty"`
	// Revision is the bucket revision this status was read at (not stored: the bucket knows it).
	Revision uint64 `json:"revision,omitempty"`
}

// parseStatus reads a bucket value: it comes from the network too, so its job is checked.
func parseStatus(b []byte, rev uint64) (Status, error) {
	var raw struct {
		Status
		Job json.RawMessage `json:"job"`
	}
	if len(b) > 2*MaxJobBytes {
		return Status{}, &JobError{Reason: fmt.Sprintf("status is %d bytes, more than %d", len(b), 2*MaxJobBytes)}
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Status{}, &JobError{Reason: "status is not JSON: " + err.Error()}
	}
	if raw.Version != statusVersion {
		return Status{}, &JobError{Field: "version", Reason: fmt.Sprintf("of the status is %d: this spacecast reads version %d", raw.Version, statusVersion)}
	}
	j, err := ParseJob(raw.Job)
	if err != nil {
		return Status{}, err
	}
	switch raw.State {
	case Queued, Running, Done, Failed, Cancelled:
	default:
		return Status{}, &JobError{Field: "state", Reason: fmt.Sprintf("is %q", raw.State)}
	}
	if len(raw.Errors) > MaxFollowupAttempts {
		return Status{}, &JobError{Field: "errors", Reason: fmt.Sprintf("lists %d errors, more than %d", len(raw.Errors), MaxFollowupAttempts)}
	}
	s := raw.Status
	s.Job, s.Revision = j, rev
	return s, nil
}

// marshal is the status as the bucket stores it.
func (s *Status) marshal() []byte {
	s.Version = statusVersion
	stored := *s
	stored.Revision = 0
	b, _ := json.Marshal(stored) // a Status always marshals
	return b
}
