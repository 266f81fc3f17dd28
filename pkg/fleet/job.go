package fleet

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/room/protocols"
)

// JobVersion is the version of the job JSON this package writes and reads.
const JobVersion = 1

// KindRecord is the kind of a job that records a room.
const KindRecord = "record"

// Limits on a job from the network.
const (
	MaxJobBytes   = 64 << 10 // the whole JSON
	maxTextBytes  = 2048     // a URL, a room, a name, a reference
	maxIdentities = 1000     // allow and exclude lists, each
)

// JobID names one job: the room's key (16 hex digits), '-', 8 random hex digits.
type JobID string

var idPattern = regexp.MustCompile(`^[0-9a-f]{16}-[0-9a-f]{8}$`)

// ParseJobID checks the form of an ID a user or a message gave.
func ParseJobID(s string) (JobID, error) {
	if !idPattern.MatchString(s) {
		return "", &IDError{ID: s}
	}
	return JobID(s), nil
}

// roomKey is the bucket key of the job's room.
func (id JobID) roomKey() string { return string(id[:16]) }

// Job is one unit of work: a record job (Kind KindRecord, Record) or the follow-up of one (Kind
// KindFollowup, Followup).
type Job struct {
	Version  int          `json:"version"`
	ID       JobID        `json:"id"` // set by Submit (by Enqueue for a follow-up)
	Kind     string       `json:"kind"`
	Record   *RecordJob   `json:"record,omitempty"`
	Followup *FollowupJob `json:"followup,omitempty"`
}

// RecordJob asks for a room to be recorded into a session in a bucket: what pkg/record's Options
// take that can travel. Durations are Go durations in JSON ("90m", "720h").
type RecordJob struct {
	URL      string `json:"url"`
	Protocol string `json:"protocol"` // livekit, janus or whep: resolved by the submitter
	Room     string `json:"room,omitempty"`
	// Name is the room's name in the manifest (default Room).
	Name string `json:"name,omitempty"`
	// Session is where the session goes: s3://BUCKET/PREFIX/NAME. It is fixed when the job is
	// submitted, so a worker that takes over a job records into the same session.
	Session       string   `json:"session"`
	Consent       string   `json:"consent"` // announced, assume or opt-in
	Allow         []string `json:"allow,omitempty"`
	Exclude       []string `json:"exclude,omitempty"`
	Retain        Duration `json:"retain,omitempty"`
	Duration      Duration `json:"duration,omitempty"`
	StopWhenEmpty Duration `json:"stop_when_empty,omitempty"`
	Wait          Duration `json:"wait,omitempty"`
	JanusPlugin   string   `json:"janus_plugin,omitempty"`
	// APIKey is LiveKit's API key: a name, not a secret.
	APIKey string `json:"api_key,omitempty"`
	// Secrets are named, never given: the worker reads them where the reference points.
	APISecret      SecretRef `json:"api_secret,omitempty"`
	Token          SecretRef `json:"token,omitempty"`
	JanusAPISecret SecretRef `json:"janus_api_secret,omitempty"`
	PIN            SecretRef `json:"pin,omitempty"`
	SignKey        SecretRef `json:"sign_key,omitempty"`
	// Then is what is done with the session once it is recorded: a follow-up job (KindFollowup)
	// queued when this job is done.
	Then *Then `json:"then,omitempty"`
}

// SecretRef names where a worker finds a secret: "env:NAME" (an environment variable of the
// worker) or "file:/ABSOLUTE/PATH" (a file on the worker, such as a mounted Kubernetes secret).
// A job never carries the secret itself.
type SecretRef string

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (r SecretRef) check() string {
	if r == "" {
		return ""
	}
	kind, rest, _ := strings.Cut(string(r), ":")
	switch kind {
	case "env":
		if !envName.MatchString(rest) {
			return "names no environment variable (env:NAME, letters, digits and '_')"
		}
	case "file":
		if !filepath.IsAbs(rest) || filepath.Clean(rest) != rest {
			return "names no file (file:/ABSOLUTE/PATH, clean)"
		}
	default:
		return "is not a reference to a secret (env:NAME or file:/PATH): a job never carries a secret itself"
	}
	return ""
}

// Duration is a time.Duration written as a Go duration string.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("not a duration string: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// RoomKey is the key of a room in the job bucket: the first 16 hex digits of the SHA-256 of its
// protocol, its URL (scheme and host in lowercase, no trailing '/') and its room name or ID.
// Two jobs with one key are jobs for the same room.
func RoomKey(protocol, rawURL, room string) string {
	u := rawURL
	if p, err := url.Parse(rawURL); err == nil {
		p.Scheme, p.Host = strings.ToLower(p.Scheme), strings.ToLower(p.Host)
		p.Path = strings.TrimRight(p.Path, "/")
		u = p.String()
	}
	sum := sha256.Sum256([]byte(protocol + "\n" + u + "\n" + room))
	return hex.EncodeToString(sum[:8])
}

// newID is a fresh ID for a job of the room with key key.
func newID(key string) (JobID, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("fleet: job id: %w", err)
	}
	return JobID(key + "-" + hex.EncodeToString(b[:])), nil
}

// RoomKey is the job's key in the bucket: its room's for a record job, the one its ID derives
// from its record job's for a follow-up (FollowupID).
func (j *Job) RoomKey() string {
	if j.Kind == KindFollowup && j.Followup != nil {
		return FollowupID(j.Followup.RecordJob).roomKey()
	}
	if j.Record == nil {
		return ""
	}
	return RoomKey(j.Record.Protocol, j.Record.URL, j.Record.Room)
}

// ParseJob reads a job's JSON, as it comes from the stream or the bucket, and checks every field
// (Check). A version other than JobVersion or a field this version does not know is refused.
func ParseJob(b []byte) (Job, error) {
	if len(b) > MaxJobBytes {
		return Job{}, &JobError{Reason: fmt.Sprintf("is %d bytes, more than %d", len(b), MaxJobBytes)}
	}
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return Job{}, &JobError{Reason: "is not JSON: " + err.Error()}
	}
	if v.Version == nil {
		return Job{}, &JobError{Field: "version", Reason: "is missing"}
	}
	if *v.Version != JobVersion {
		return Job{}, &JobError{Field: "version", Reason: fmt.Sprintf("is %d: this spacecast reads version %d", *v.Version, JobVersion)}
	}
	var j Job
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Job{}, &JobError{Reason: "does not read: " + err.Error()}
	}
	if dec.More() {
		return Job{}, &JobError{Reason: "has data after its end"}
	}
	if err := j.Check(); err != nil {
		return Job{}, err
	}
	return j, nil
}

// Check says whether the job is one a worker can run: a known version and kind, an ID that
// belongs to its room, a room URL of its protocol, a session URL in a bucket, a consent policy,
// no negative duration, secrets by reference only, and nothing too long.
func (j *Job) Check() error {
	if j.Version != JobVersion {
		return &JobError{Field: "version", Reason: fmt.Sprintf("is %d, want %d", j.Version, JobVersion)}
	}
	switch j.Kind {
	case KindRecord:
		if j.Record == nil {
			return &JobError{Field: "record", Reason: "is missing"}
		}
		if j.Followup != nil {
			return &JobError{Field: "followup", Reason: "is not part of a record job"}
		}
		if err := j.Record.check(); err != nil {
			return err
		}
	case KindFollowup:
		if j.Followup == nil {
			return &JobError{Field: "followup", Reason: "is missing"}
		}
		if j.Record != nil {
			return &JobError{Field: "record", Reason: "is not part of a follow-up job"}
		}
		if _, err := ParseJobID(string(j.ID)); err != nil {
			return &JobError{Field: "id", Reason: err.Error()}
		}
		return j.Followup.check(j.ID)
	default:
		return &JobError{Field: "kind", Reason: fmt.Sprintf("is %q: the kinds are %q and %q", j.Kind, KindRecord, KindFollowup)}
	}
	if _, err := ParseJobID(string(j.ID)); err != nil {
		return &JobError{Field: "id", Reason: err.Error()}
	}
	if j.ID.roomKey() != j.RoomKey() {
		return &JobError{Field: "id", Reason: "does not belong to the job's room"}
	}
	return nil
}

func (r *RecordJob) check() error {
	texts := []struct{ field, v string }{
		{"record.url", r.URL}, {"record.room", r.Room}, {"record.name", r.Name}, {"record.session", r.Session},
		{"record.janus_plugin", r.JanusPlugin}, {"record.api_key", r.APIKey},
		{"record.api_secret", string(r.APISecret)}, {"record.token", string(r.Token)},
		{"record.janus_api_secret", string(r.JanusAPISecret)}, {"record.pin", string(r.PIN)},
		{"record.sign_key", string(r.SignKey)},
	}
	for _, t := range texts {
		if reason := badText(t.v); reason != "" {
			return &JobError{Field: t.field, Reason: reason}
		}
	}
	proto, err := protocols.Detect(r.URL, r.Protocol)
	if err != nil || r.Protocol == "" {
		return &JobError{Field: "record.protocol", Reason: fmt.Sprintf("is %q: want livekit, janus or whep", r.Protocol)}
	}
	if u, err := url.Parse(r.URL); err != nil || u.Host == "" || u.User != nil ||
		(u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https") {
		return &JobError{Field: "record.url", Reason: "is not a ws://, wss://, http:// or https:// URL with a host and no credentials"}
	}
	if (proto == protocols.LiveKit || proto == protocols.Janus) && r.Room == "" {
		return &JobError{Field: "record.room", Reason: "is missing: " + string(proto) + " needs a room"}
	}
	if r.Session == "" {
		return &JobError{Field: "record.session", Reason: "is missing"}
	}
	if u, err := objstore.ParseURL(r.Session); err != nil {
		return &JobError{Field: "record.session", Reason: err.Error()}
	} else if u.Prefix == "" {
		return &JobError{Field: "record.session", Reason: "names a bucket, not a session in it (s3://BUCKET/PREFIX/NAME)"}
	}
	switch r.Consent {
	case capture.PolicyAnnounced, capture.PolicyAssume, capture.PolicyOptIn:
	default:
		return &JobError{Field: "record.consent", Reason: fmt.Sprintf("is %q: want announced, assume or opt-in", r.Consent)}
	}
	for field, ids := range map[string][]string{"record.allow": r.Allow, "record.exclude": r.Exclude} {
		if len(ids) > maxIdentities {
			return &JobError{Field: field, Reason: fmt.Sprintf("lists %d identities, more than %d", len(ids), maxIdentities)}
		}
		for _, id := range ids {
			if strings.TrimSpace(id) == "" {
				return &JobError{Field: field, Reason: "holds an empty identity"}
			}
			if reason := badText(id); reason != "" {
				return &JobError{Field: field, Reason: "holds an identity that " + reason}
			}
		}
	}
	if proto == protocols.WHEP && r.Consent != capture.PolicyAssume {
		return &JobError{Field: "record.consent", Reason: "must be assume for a WHEP room: it has no participant list, so the room cannot see the recorder"}
	}
	if len(r.Allow) > 0 && r.Consent != capture.PolicyOptIn {
		return &JobError{Field: "record.allow", Reason: "only goes with consent opt-in"}
	}
	for _, d := range []struct {
		field string
		v     Duration
	}{{"record.retain", r.Retain}, {"record.duration", r.Duration}, {"record.stop_when_empty", r.StopWhenEmpty}, {"record.wait", r.Wait}} {
		if d.v < 0 {
			return &JobError{Field: d.field, Reason: "is negative"}
		}
	}
	refs := []struct {
		field string
		v     SecretRef
	}{{"record.api_secret", r.APISecret}, {"record.token", r.Token}, {"record.janus_api_secret", r.JanusAPISecret}, {"record.pin", r.PIN}, {"record.sign_key", r.SignKey}}
	for _, s := range refs {
		if reason := s.v.check(); reason != "" {
			return &JobError{Field: s.field, Reason: reason}
		}
	}
	if r.Then != nil {
		return r.Then.check(r.Session)
	}
	return nil
}

// badText says why s cannot be a field of a job, or "".
func badText(s string) string {
	switch {
	case len(s) > maxTextBytes:
		return fmt.Sprintf("is longer than %d bytes", maxTextBytes)
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "holds control characters"
	}
	return ""
}
