package fleet

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func validJob(t testing.TB) Job {
	j := recordJob("panel")
	j.Version = JobVersion
	id, err := newID(j.RoomKey())
	if err != nil {
		t.Fatal(err)
	}
	j.ID = id
	return j
}

func TestParseJob(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(j *Job)
		raw   string // used instead of the edited job when set
		field string // the *JobError's field; "-" for a valid job
	}{
		{name: "a valid job reads back as written", edit: func(*Job) {}, field: "-"},
		{name: "a job with every option reads back", edit: func(j *Job) {
			r := j.Record
			r.Consent, r.Allow, r.Exclude = "opt-in", []string{"host"}, []string{"guest"}
			r.Retain, r.Duration, r.StopWhenEmpty, r.Wait = Duration(720*60*60e9), Duration(3600e9), Duration(120e9), Duration(30e9)
			r.Token, r.SignKey = "file:/run/secrets/token", "file:/etc/spacecast/sign.key"
		}, field: "-"},
		{name: "a secret given in clear is refused", edit: func(j *Job) { j.Record.APISecret = "hunter2hunter2" }, field: "record.api_secret"},
		{name: "a secret file by a relative path is refused", edit: func(j *Job) { j.Record.SignKey = "file:keys/sign.key" }, field: "record.sign_key"},
		{name: "an environment variable name with a space is refused", edit: func(j *Job) { j.Record.Token = "env:A B" }, field: "record.token"},
		{name: "an unknown protocol is refused", edit: func(j *Job) { j.Record.Protocol = "sip" }, field: "record.protocol"},
		{name: "a URL of another scheme is refused", edit: func(j *Job) { j.Record.URL = "file:///etc/passwd" }, field: "record.url"},
		{name: "a URL with credentials is refused", edit: func(j *Job) { j.Record.URL = "wss://u:p@example.com" }, field: "record.url"},
		{name: "a LiveKit job without a room is refused", edit: func(j *Job) { j.Record.Room = "" }, field: "record.room"},
		{name: "a session outside a bucket is refused", edit: func(j *Job) { j.Record.Session = "/tmp/x" }, field: "record.session"},
		{name: "a session that is a whole bucket is refused", edit: func(j *Job) { j.Record.Session = "s3://shows" }, field: "record.session"},
		{name: "an unknown consent policy is refused", edit: func(j *Job) { j.Record.Consent = "none" }, field: "record.consent"},
		{name: "allow without opt-in is refused", edit: func(j *Job) { j.Record.Allow = []string{"host"} }, field: "record.allow"},
		{name: "an empty identity is refused", edit: func(j *Job) { j.Record.Exclude = []string{" "} }, field: "record.exclude"},
		{name: "a negative duration is refused", edit: func(j *Job) { j.Record.Duration = -1 }, field: "record.duration"},
		{name: "control characters in a room are refused", edit: func(j *Job) { j.Record.Room = "a\x1b[2Jb" }, field: "record.room"},
		{name: "an ID of another room is refused", edit: func(j *Job) { j.ID = JobID(strings.Repeat("a", 16) + "-00000000") }, field: "id"},
		{name: "an ID of another form is refused", edit: func(j *Job) { j.ID = "../../x" }, field: "id"},
		{name: "another kind is refused", edit: func(j *Job) { j.Kind = "mix" }, field: "kind"},
		{name: "a later version is refused", raw: `{"version":2,"kind":"record"}`, field: "version"},
		{name: "a job without a version is refused", raw: `{"kind":"record"}`, field: "version"},
		{name: "a field this version does not know is refused", raw: `{"version":1,"kind":"record","extra":1}`, field: ""},
		{name: "a duration that is not a string is refused", raw: `{"version":1,"kind":"record","record":{"retain":5}}`, field: ""},
		{name: "not JSON is refused", raw: "\xff\x00", field: ""},
		{name: "two values are refused", raw: `{"version":1} {}`, field: ""},
		{name: "a job over the size limit is refused", raw: `{"version":1,"x":"` + strings.Repeat("a", MaxJobBytes) + `"}`, field: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := []byte(c.raw)
			var want Job
			if c.raw == "" {
				want = validJob(t)
				c.edit(&want)
				var err error
				if raw, err = json.Marshal(want); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ParseJob(raw)
			if c.field == "-" {
				if err != nil {
					t.Fatalf("ParseJob: %v", err)
				}
				a, _ := json.Marshal(got)
				if string(a) != string(raw) {
					t.Fatalf("read back\n%s\nwant\n%s", a, raw)
				}
				return
			}
			var je *JobError
			if !errors.As(err, &je) {
				t.Fatalf("ParseJob: %v, want a *JobError", err)
			}
			if c.field != "" && je.Field != c.field {
				t.Fatalf("ParseJob: %v: field %q, want %q", err, je.Field, c.field)
			}
		})
	}
}

func TestRoomKey(t *testing.T) {
	base := RoomKey("livekit", "wss://example.com", "panel")
	cases := []struct {
		name           string
		proto, u, room string
		same           bool
	}{
		{"the host in capitals is the same room", "livekit", "wss://EXAMPLE.com", "panel", true},
		{"a trailing slash is the same room", "livekit", "wss://example.com/", "panel", true},
		{"another room name is another room", "livekit", "wss://example.com", "Panel", false},
		{"another server is another room", "livekit", "wss://example.org", "panel", false},
		{"another protocol is another room", "janus", "wss://example.com", "panel", false},
		{"a room name cannot shift into the URL", "livekit", "wss://example.com\npanel", "", false},
	}
	for _, c := range cases {
		if got := RoomKey(c.proto, c.u, c.room) == base; got != c.same {
			t.Errorf("%s: same=%v", c.name, got)
		}
	}
	if len(base) != 16 {
		t.Errorf("key %q is not 16 hex digits", base)
	}
}

// FuzzParseJob: a job from the network never panics the parser, and what it accepts is valid and
// reads back the same.
func FuzzParseJob(f *testing.F) {
	good, _ := json.Marshal(validJob(f))
	f.Add(good)
	f.Add([]byte(`{"version":1,"kind":"record","record":{"url":"ws://h","protocol":"livekit"}}`))
	f.Add([]byte(`{"version":1,"record":{"retain":"-5h"}}`))
	f.Add([]byte(`{"version":1e400}`))
	fu, _ := json.Marshal(validFollowup(f))
	f.Add(fu)
	withThen := validJob(f)
	withThen.Record.Then = &Then{Mix: &MixStep{To: "s3://shows/mixes", Format: "mp3", LoudnessLUFS: -16, TruePeakDBTP: -1},
		Publish: &PublishStep{Site: "s3://sites/show", Title: "{room} {date}"}}
	wt, _ := json.Marshal(withThen)
	f.Add(wt)
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := ParseJob(b)
		if err != nil {
			return
		}
		if err := j.Check(); err != nil {
			t.Fatalf("accepted an invalid job: %v", err)
		}
		again, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseJob(again); err != nil {
			t.Fatalf("accepted job does not read back: %v\n%s", err, again)
		}
	})
}

func TestParseStatus(t *testing.T) {
	job, _ := json.Marshal(validJob(t))
	cases := []struct {
		name string
		raw  string
		ok   bool
	}{
		{"a queued status reads", `{"version":1,"state":"queued","job":` + string(job) + `}`, true},
		{"a state this version does not know is refused", `{"version":1,"state":"paused","job":` + string(job) + `}`, false},
		{"another version is refused", `{"version":2,"state":"queued","job":` + string(job) + `}`, false},
		{"a status whose job does not check is refused", `{"version":1,"state":"queued","job":{"version":1,"kind":"record"}}`, false},
		{"not JSON is refused", `{"version":`, false},
	}
	for _, c := range cases {
		st, err := parseStatus([]byte(c.raw), 7)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.ok && (st.Revision != 7 || st.Job.ID == "") {
			t.Errorf("%s: %+v", c.name, st)
		}
	}
}

// FuzzParseStatus: a bucket entry (written by anyone with access to the bucket) never panics the
// reader, and one it accepts holds a valid job.
func FuzzParseStatus(f *testing.F) {
	job, _ := json.Marshal(validJob(f))
	f.Add([]byte(`{"version":1,"state":"running","claim":9,"job":` + string(job) + `}`))
	f.Add([]byte(`{"version":1,"state":"done","job":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStatus(b, 1)
		if err != nil {
			return
		}
		if err := st.Job.Check(); err != nil {
			t.Fatalf("accepted a status with an invalid job: %v", err)
		}
	})
}
