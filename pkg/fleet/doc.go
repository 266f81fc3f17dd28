// Package fleet is the work shared by many recorders through NATS JetStream: record jobs and
// their follow-ups in a durable work-queue stream, and each job's state in a JetStream key-value
// bucket.
//
// A record job (Job) asks for one room to be recorded into one session in a bucket; it may carry
// the follow-ups its submitter wants once the session is sealed (a mix, a publish, a site push),
// which a worker queues as one follow-up job with an ID made from the record job's, so it is
// queued once however often the recording's end is retried (followup.go). A job's JSON is
// versioned and checked field by field when read (ParseJob): jobs come from the network. Secrets
// never travel in a job: a job names where the worker finds them (SecretRef: an environment
// variable or a file the worker has), so the stream and the bucket hold no LiveKit API secret,
// token, PIN or signing key.
//
// A room is recorded by exactly one job at a time. Its entry in the bucket is keyed by the room
// (RoomKey: protocol, URL and room) and created with a compare-and-set: of two submits for one
// room (a webhook retried, two operators) one creates the job and the other gets that job back.
// A submit for a room whose last job finished (done, failed, cancelled) starts a new job; one for
// a room whose job is queued or running returns that job. The job's message carries the job ID as
// Nats-Msg-Id, so a submit retried after a lost answer publishes it once.
//
// A worker takes jobs (Queue.Take) and holds a Claim: it calls Progress about every ProgressEvery
// while it records (an in-progress ack to JetStream and a heartbeat in the bucket), and Done or
// Fail at the end. A worker that stops calling Progress (dead, or cut off from NATS) loses the job
// AckWait after its last call: JetStream hands the message to another worker, which claims the
// job again. Every claim has a number, the bucket revision of the entry that recorded it, which
// only grows: a later claim of a job has a higher number than any earlier one. Each claim records
// into a part of its own (pkg/worker), and the bucket fences a late writer on its side: a part's
// live manifest is written only with a condition on its writer's last ETag, and the claim that
// joins the parts takes that place first (pkg/sessionstore, ErrFenced). A worker learns that its claim is superseded or the job cancelled from
// Progress's error, or at once through Queue.Watch (a watch of the job's key).
package fleet
