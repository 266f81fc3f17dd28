package worker

import (
	"errors"
	"fmt"
)

// ErrNoPlace means that every continuation of a session place is taken.
var ErrNoPlace = errors.New("worker: no free place for the session")

// SecretError says a job's secret reference could not be read on this worker.
type SecretError struct {
	Field string // the job's field: api_secret, token…
	Ref   string // env:NAME or file:/PATH
	Err   error
}

func (e *SecretError) Error() string {
	return fmt.Sprintf("worker: the job's %s (%s): %v", e.Field, e.Ref, e.Err)
}

func (e *SecretError) Unwrap() error { return e.Err }

// BucketError says a job's session is outside the bucket (and prefix) this worker records into.
type BucketError struct {
	Session string // the job's session URL
	Store   string // the worker's s3://BUCKET[/PREFIX]
}

func (e *BucketError) Error() string {
	return fmt.Sprintf("worker: the job's session %s is not under %s, where this worker records", e.Session, e.Store)
}

// CapacityError is a capacity a worker cannot have.
type CapacityError struct {
	What string // "rooms" or "speakers"
	N    int
}

func (e *CapacityError) Error() string {
	if e.What == "rooms" {
		return fmt.Sprintf("worker: capacity of %d rooms: want 1 or more", e.N)
	}
	return fmt.Sprintf("worker: capacity of %d %s: want 0 (no bound) or more", e.N, e.What)
}

// JoinError says the parts of a session recorded by several claims could not be joined.
type JoinError struct {
	Session string // the job's session place
	Part    int    // the last part, this claim's
	Err     error
}

func (e *JoinError) Error() string {
	return fmt.Sprintf("worker: join the parts of %s (up to part %d, which stay in the bucket): %v", e.Session, e.Part, e.Err)
}

func (e *JoinError) Unwrap() error { return e.Err }

// StepError says which step of a follow-up job failed, on what.
type StepError struct {
	Step string // "mix" or "publish"
	URL  string // the mix's object, or the site
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("worker: follow-up %s (%s): %v", e.Step, e.URL, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// ErrNoSite means that a publishing follow-up's site folder in a bucket holds no site.
var ErrNoSite = errors.New("worker: no site there")

// NoSiteError is a publishing follow-up's site folder that holds no podcast.yaml.
type NoSiteError struct{ Site string }

func (e *NoSiteError) Error() string {
	return fmt.Sprintf("worker: %s holds no site (no podcast.yaml): make one with 'spacecast feed init' and copy its folder there", e.Site)
}

func (e *NoSiteError) Unwrap() error { return ErrNoSite }
