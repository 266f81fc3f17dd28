// Package worker runs the recordings a fleet's queue hands out: it takes record jobs (package
// fleet) while it has room for them, records each through package record into the job's session
// in a bucket, tells the queue it still works on them, and finishes, fails or hands back each
// job. A job taken over from a lost worker whose session place already holds that worker's part
// is recorded into a numbered continuation beside it (Continuation).
package worker
