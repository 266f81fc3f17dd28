package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spacecast/spacecast/pkg/objstore"
)

// KindFollowup is the kind of a job that works on a recorded session: mix it, then (optionally)
// publish the mix into a site and push the site. A record job that carries follow-ups (RecordJob.Then)
// gets one follow-up job when it is done: its steps run in order, since each needs the one before.
const KindFollowup = "followup"

// Follow-up limits.
const (
	// MaxFollowupAttempts bounds how often a follow-up job runs and fails before it stays failed;
	// the error of each attempt is kept in its status (Status.Errors).
	MaxFollowupAttempts = 3
	// FollowupRetryDelay is how long a failed follow-up waits before it is taken again, times
	// the attempts it failed.
	FollowupRetryDelay = 2 * time.Second
)

// Mix formats a follow-up writes (the extension of the mix's object).
var mixFormats = []string{"mp3", "opus", "wav"}

// Then is what a record job's submitter wants done with the session once it is recorded. Mix is
// required when Publish is set: what is published is the mix.
type Then struct {
	Mix     *MixStep     `json:"mix,omitempty"`
	Publish *PublishStep `json:"publish,omitempty"`
}

// MixStep mixes the session as 'spacecast mix' does and uploads the mix beside it.
type MixStep struct {
	// To is where the mix goes, s3://BUCKET[/PREFIX]: the object PREFIX/NAME.FORMAT, NAME the
	// session's name. Never inside the session: a sealed session holds only what its manifest lists.
	To string `json:"to"`
	// Format is mp3, opus or wav; publish needs mp3.
	Format string `json:"format"`
	// LoudnessLUFS and TruePeakDBTP are mix's --loudness and --true-peak.
	LoudnessLUFS float64 `json:"loudness_lufs"`
	TruePeakDBTP float64 `json:"true_peak_dbtp"`
}

// PublishStep publishes the mix as an episode of a site kept in a bucket, and pushes the site.
type PublishStep struct {
	// Site is the site's folder kept in a bucket, s3://BUCKET[/PREFIX]: podcast.yaml,
	// episodes.json and the rest, as 'spacecast feed init' and 'publish' make them.
	Site string `json:"site"`
	// Push, when set, is where the site is served from, s3://BUCKET[/PREFIX]: it is pushed there
	// as 'spacecast site push' does after the episode is published. "" pushes to the
	// podcast.yaml's push line, if it has one.
	Push string `json:"push,omitempty"`
	// Title is the episode's title: a template where {room} is the room's name, {date} the
	// recording's UTC date (YYYY-MM-DD) and {session} the session's name.
	Title string `json:"title"`
}

// TitleFields are the placeholders PublishStep.Title may hold.
var TitleFields = []string{"{room}", "{date}", "{session}"}

// FollowupJob is the follow-up of one record job: its steps, on the session it recorded.
type FollowupJob struct {
	// RecordJob is the record job whose session this works on; the follow-up's ID derives from it
	// (FollowupID), so one record job has at most one follow-up job.
	RecordJob JobID `json:"record_job"`
	// Session is the recorded session, joined and sealed: s3://BUCKET/PREFIX/NAME.
	Session string `json:"session"`
	// Room is the room's name (for the title).
	Room    string       `json:"room,omitempty"`
	Mix     *MixStep     `json:"mix"`
	Publish *PublishStep `json:"publish,omitempty"`
}

// FollowupID is the ID of the follow-up job of record job id: its bucket key is the first 16 hex
// digits of the SHA-256 of "followup", a line break and id; its random part is id's. Deriving
// it makes an enqueue repeated (a retried finish, a worker that took the record job over) find
// the follow-up already there.
func FollowupID(id JobID) JobID {
	sum := sha256.Sum256([]byte(KindFollowup + "\n" + string(id)))
	return JobID(hex.EncodeToString(sum[:8]) + string(id[16:]))
}

// MixObject is where a mix step puts the mix of the session at session: To's prefix, the
// session's name, the format's extension.
func (m *MixStep) MixObject(session objstore.URL) objstore.URL {
	to, _ := objstore.ParseURL(m.To) // checked
	return objstore.URL{Bucket: to.Bucket, Prefix: to.Key(path.Base(session.Prefix) + "." + m.Format)}
}

func (m *MixStep) check(field string, session string) error {
	if m == nil {
		return &JobError{Field: field, Reason: "is missing"}
	}
	if reason := badText(m.To); reason != "" {
		return &JobError{Field: field + ".to", Reason: reason}
	}
	to, err := objstore.ParseURL(m.To)
	if err != nil {
		return &JobError{Field: field + ".to", Reason: err.Error()}
	}
	found := false
	for _, f := range mixFormats {
		found = found || m.Format == f
	}
	if !found {
		return &JobError{Field: field + ".format", Reason: fmt.Sprintf("is %q: want mp3, opus or wav", m.Format)}
	}
	if math.IsNaN(m.LoudnessLUFS) || m.LoudnessLUFS < -40 || m.LoudnessLUFS > -5 {
		return &JobError{Field: field + ".loudness_lufs", Reason: fmt.Sprintf("is %g: want -40 to -5", m.LoudnessLUFS)}
	}
	if math.IsNaN(m.TruePeakDBTP) || m.TruePeakDBTP < -20 || m.TruePeakDBTP > 0 {
		return &JobError{Field: field + ".true_peak_dbtp", Reason: fmt.Sprintf("is %g: want -20 to 0", m.TruePeakDBTP)}
	}
	if s, err := objstore.ParseURL(session); err == nil && s.Prefix != "" {
		obj := m.MixObject(s)
		if obj.Bucket == s.Bucket && strings.HasPrefix(obj.Prefix, s.Dir()) {
			return &JobError{Field: field + ".to", Reason: fmt.Sprintf("%s puts the mix inside the session %s: a sealed session holds only what its manifest lists; put it beside the session", to, s)}
		}
	}
	return nil
}

func (p *PublishStep) check(field string, mix *MixStep) error {
	for _, t := range []struct{ f, v string }{{"site", p.Site}, {"push", p.Push}, {"title", p.Title}} {
		if reason := badText(t.v); reason != "" {
			return &JobError{Field: field + "." + t.f, Reason: reason}
		}
	}
	if _, err := objstore.ParseURL(p.Site); err != nil {
		return &JobError{Field: field + ".site", Reason: err.Error()}
	}
	if p.Push != "" {
		if _, err := objstore.ParseURL(p.Push); err != nil {
			return &JobError{Field: field + ".push", Reason: err.Error()}
		}
	}
	rest := p.Title
	for _, f := range TitleFields {
		rest = strings.ReplaceAll(rest, f, "")
	}
	if strings.TrimSpace(rest) == "" && !strings.Contains(p.Title, "{") {
		return &JobError{Field: field + ".title", Reason: "is empty"}
	}
	if strings.ContainsAny(rest, "{}") {
		return &JobError{Field: field + ".title", Reason: "holds a placeholder other than {room}, {date} and {session}"}
	}
	if mix == nil {
		return &JobError{Field: field, Reason: "needs a mix: what is published is the mix"}
	}
	if mix.Format != "mp3" {
		return &JobError{Field: field, Reason: fmt.Sprintf("needs an mp3 mix, not %s: a podcast feed carries MP3", mix.Format)}
	}
	return nil
}

// check checks the follow-ups of a record job recording into session.
func (t *Then) check(session string) error {
	if t.Mix == nil && t.Publish == nil {
		return &JobError{Field: "record.then", Reason: "names no step (mix, publish)"}
	}
	if t.Mix != nil {
		if err := t.Mix.check("record.then.mix", session); err != nil {
			return err
		}
	}
	if t.Publish != nil {
		if err := t.Publish.check("record.then.publish", t.Mix); err != nil {
			return err
		}
	}
	return nil
}

func (f *FollowupJob) check(id JobID) error {
	if _, err := ParseJobID(string(f.RecordJob)); err != nil {
		return &JobError{Field: "followup.record_job", Reason: err.Error()}
	}
	if id != FollowupID(f.RecordJob) {
		return &JobError{Field: "id", Reason: "is not the follow-up ID of its record job"}
	}
	if reason := badText(f.Session); reason != "" {
		return &JobError{Field: "followup.session", Reason: reason}
	}
	if u, err := objstore.ParseURL(f.Session); err != nil {
		return &JobError{Field: "followup.session", Reason: err.Error()}
	} else if u.Prefix == "" {
		return &JobError{Field: "followup.session", Reason: "names a bucket, not a session in it (s3://BUCKET/PREFIX/NAME)"}
	}
	if reason := badText(f.Room); reason != "" {
		return &JobError{Field: "followup.room", Reason: reason}
	}
	if err := f.Mix.check("followup.mix", f.Session); err != nil {
		return err
	}
	if f.Publish != nil {
		if err := f.Publish.check("followup.publish", f.Mix); err != nil {
			return err
		}
	}
	return nil
}

// Followup is the follow-up job of a record job done with its session at sessionURL, or nil
// when the record job asks for none.
func Followup(job Job, sessionURL string) *FollowupJob {
	if job.Record == nil || job.Record.Then == nil {
		return nil
	}
	t := job.Record.Then
	f := &FollowupJob{RecordJob: job.ID, Session: sessionURL, Room: job.Record.Name, Mix: t.Mix, Publish: t.Publish}
	if f.Room == "" {
		f.Room = job.Record.Room
	}
	if f.Mix == nil { // Check refuses a publish without a mix; a job from an older submitter
		return nil
	}
	return f
}

// Enqueue queues the follow-up job f once: its ID derives from its record job (FollowupID), and
// its entry is created with a compare-and-set, so an enqueue repeated (a retried finish, a worker
// that took the record job over) queues nothing more and returns created false. A repeated
// enqueue of a follow-up still queued publishes its message again with the same Nats-Msg-Id (an
// enqueuer that died between the two steps leaves no job without a message; the dedupe window
// keeps it one message).
func (q *Queue) Enqueue(ctx context.Context, f FollowupJob) (JobID, bool, error) {
	if _, err := ParseJobID(string(f.RecordJob)); err != nil {
		return "", false, &JobError{Field: "followup.record_job", Reason: err.Error()}
	}
	job := Job{Version: JobVersion, ID: FollowupID(f.RecordJob), Kind: KindFollowup, Followup: &f}
	if err := job.Check(); err != nil {
		return "", false, err
	}
	key := job.ID.roomKey()
	now := q.now().UTC()
	st := Status{Job: job, State: Queued, Submitted: now, Updated: now}
	created := true
	if _, err := q.kv.Create(ctx, key, st.marshal()); errors.Is(err, jetstream.ErrKeyExists) {
		created = false
		if st, err = q.get(ctx, key); err != nil {
			return "", false, err
		}
		if st.Job.ID != job.ID {
			return "", false, fmt.Errorf("fleet: enqueue follow-up %s: its key holds job %s", job.ID, st.Job.ID)
		}
	} else if err != nil {
		return "", false, q.wrap("enqueue follow-up "+string(job.ID), err)
	}
	if st.State == Queued {
		if err := q.publish(ctx, st.Job); err != nil {
			return "", false, err
		}
	}
	return job.ID, created, nil
}

// TakeFollowup is Take for follow-up jobs: they have a consumer of their own, so a worker takes
// them within a capacity of their own and they never wait behind recordings (or hold them up).
func (q *Queue) TakeFollowup(ctx context.Context, worker string) (*Claim, error) {
	return q.take(ctx, worker, q.followups)
}

// retry records a failed attempt of a follow-up job: the job is queued again, the error kept
// (Status.Errors), and its message redelivered after FollowupRetryDelay times the attempts
// failed; after MaxFollowupAttempts it fails for good. It reports whether the job is queued again.
func (c *Claim) retry(ctx context.Context, reason string) (bool, error) {
	if len(c.st.Errors)+1 >= MaxFollowupAttempts {
		return false, nil
	}
	delay := FollowupRetryDelay * time.Duration(len(c.st.Errors)+1)
	err := c.update(ctx, func(st *Status) {
		st.State, st.Reason = Queued, reason
		st.Errors = append(append([]string(nil), st.Errors...), reason)
	}, func() error { return c.msg.NakWithDelay(delay) })
	return err == nil, err
}
