package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spacecast/spacecast/internal/testutil/golden"
	"github.com/spacecast/spacecast/internal/testutil/natsserver"
	"github.com/spacecast/spacecast/pkg/fleet"
)

// TestSubmitJobsE2E: submit record and jobs against a real nats-server, judged by reading the
// stream and the bucket with nats.go's own JetStream client: one job per room, the secret named
// and never carried, list/show/cancel as they say, and the exit status of each mistake.
func TestSubmitJobsE2E(t *testing.T) {
	s := natsserver.Start(t)
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CREDS", "")
	t.Setenv("LIVEKIT_API_KEY", "devkey")
	t.Setenv("LIVEKIT_API_SECRET", "topsecret-4f1e9a")
	nats := []string{"--nats", s.URL}
	submit := append([]string{"submit", "record", "ws://127.0.0.1:7880", "--room", "panel", "--store", "s3://shows/2026"}, nats...)

	out := mustRun(t, append(submit, "--json")...)
	var res struct {
		ID      fleet.JobID  `json:"id"`
		Created bool         `json:"created"`
		Job     fleet.Status `json:"job"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("submit --json: %v\n%s", err, out)
	}
	if !res.Created || res.Job.State != fleet.Queued || !strings.HasPrefix(res.Job.Job.Record.Session, "s3://shows/2026/panel-") {
		t.Fatalf("submit --json: %+v", res)
	}
	// Again, with the URL from NATS_URL: the same job, nothing queued.
	t.Setenv("NATS_URL", s.URL)
	stdout, stderr, code := run(t, submit[:len(submit)-2]...)
	if code != 0 || strings.TrimSpace(stdout) != string(res.ID) || !strings.Contains(stderr, "has a job already") {
		t.Fatalf("second submit: exit %d, %q %q; want job %s again", code, stdout, stderr, res.ID)
	}

	// The independent view: one message on the stream, the room's entry in the bucket, the
	// LiveKit secret named (env:LIVEKIT_API_SECRET) and its value nowhere.
	js, err := jetstream.New(s.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, fleet.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream %s: %+v %v, want 1 message", fleet.Stream, info, err)
	}
	msg, err := st.GetLastMsgForSubject(ctx, fleet.SubjectRecord)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, fleet.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := kv.Get(ctx, fleet.RoomKey("livekit", "ws://127.0.0.1:7880", "panel"))
	if err != nil {
		t.Fatalf("the room's entry: %v", err)
	}
	for what, b := range map[string][]byte{"message": msg.Data, "bucket entry": entry.Value()} {
		if strings.Contains(string(b), "topsecret") {
			t.Errorf("the %s carries the API secret:\n%s", what, b)
		}
		if !strings.Contains(string(b), `"api_secret":"env:LIVEKIT_API_SECRET"`) || !strings.Contains(string(b), string(res.ID)) {
			t.Errorf("the %s does not name the job and its secret:\n%s", what, b)
		}
	}

	out = mustRun(t, "jobs", "--json")
	var list struct{ Jobs []fleet.Status }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Jobs) != 1 || list.Jobs[0].Job.ID != res.ID {
		t.Fatalf("jobs --json: %v\n%s", err, out)
	}
	if out := mustRun(t, "jobs"); !strings.Contains(out, string(res.ID)) || !strings.Contains(out, "queued") {
		t.Fatalf("jobs:\n%s", out)
	}
	if out := mustRun(t, "jobs", "show", string(res.ID)); !strings.Contains(out, "state:       queued") || !strings.Contains(out, "s3://shows/2026/panel-") {
		t.Fatalf("jobs show:\n%s", out)
	}
	if out := mustRun(t, "jobs", "cancel", string(res.ID), "--reason", "moved"); strings.TrimSpace(out) != "cancelled "+string(res.ID) {
		t.Fatalf("jobs cancel: %q", out)
	}
	out = mustRun(t, "jobs", "show", string(res.ID), "--json")
	var shown fleet.Status
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.State != fleet.Cancelled || shown.Reason != "moved" {
		t.Fatalf("jobs show --json after cancel: %v\n%s", err, out)
	}
	// A new submit for the room, its job cancelled: a new job.
	stdout, _, code = run(t, submit...)
	if code != 0 || strings.TrimSpace(stdout) == string(res.ID) {
		t.Fatalf("submit after cancel: exit %d, %q; want a new job", code, stdout)
	}

	// A worker (the library, as the worker will use it) takes the new job: jobs show names it
	// and its claim; once done, jobs --json has the session.
	q, err := fleet.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	c, err := q.Take(ctx, "worker-7")
	if err != nil || string(c.ID()) != strings.TrimSpace(stdout) {
		t.Fatalf("take: %v, want the new job %s", err, stdout)
	}
	out = mustRun(t, "jobs", "show", string(c.ID()))
	for _, want := range []string{"state:       running", "worker:      worker-7", fmt.Sprintf("claim:       %d (claims: 1)", c.Number)} {
		if !strings.Contains(out, want) {
			t.Errorf("jobs show of a running job lacks %q:\n%s", want, out)
		}
	}
	if err := c.Done(ctx, c.Job.Record.Session); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, "jobs", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Jobs) != 1 || list.Jobs[0].State != fleet.Done ||
		list.Jobs[0].Session != c.Job.Record.Session {
		t.Fatalf("jobs --json after done: %v\n%s", err, out)
	}

	cases := []struct {
		name   string
		args   []string
		code   int
		want   string
		secret string // must not be echoed
	}{
		{"cancelling a cancelled job is bad input", []string{"jobs", "cancel", string(res.ID)}, ExitBadInput, "is cancelled already", ""},
		{"an unknown job is bad input", []string{"jobs", "show", "0123456789abcdef-01234567"}, ExitBadInput, "no such job", ""},
		{"a malformed ID is a usage error", []string{"jobs", "show", "nope"}, ExitUsage, "is not a job ID", ""},
		{"a secret given in clear is refused without being repeated",
			append(submit, "--room", "other", "--api-secret-from", "hunter2-secret"), ExitUsage, "--api-secret-from is not a reference", "hunter2-secret"},
		{"a submit without --store is a usage error", []string{"submit", "record", "ws://127.0.0.1:7880", "--room", "x"}, ExitUsage, "--store", ""},
		{"a WHEP room under announced consent is refused", []string{"submit", "record", "https://h/whep", "--store", "s3://shows/x"}, ExitUsage, "--consent must be assume", ""},
		{"a NATS that does not answer is exit 5", []string{"jobs", "--nats", "nats://127.0.0.1:1", "--nats-timeout", "2s"}, ExitStore, "NATS is unavailable", ""},
		{"a credentials file that is not there is bad input", []string{"jobs", "--creds", t.TempDir() + "/none.creds"}, ExitBadInput, "--creds", ""},
	}
	for _, c := range cases {
		stdout, stderr, code := run(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, want %d with %q:\n%s", c.name, code, c.code, c.want, stderr)
		}
		if c.secret != "" && strings.Contains(stdout+stderr, c.secret) {
			t.Errorf("%s: the secret is printed:\n%s%s", c.name, stdout, stderr)
		}
	}
}

// jobTimes are the keys of a job's JSON that hold a time.
var jobTimes = regexp.MustCompile(`"(submitted|updated|since|heartbeat)": "[^"]*"`)

// TestJobsJSONGolden: the --json output of submit record, jobs, jobs show and jobs cancel against
// a real nats-server, with the job's random ID and its times replaced (run go test ./pkg/cli -run
// Golden -update, then review testdata/json/).
func TestJobsJSONGolden(t *testing.T) {
	s := natsserver.Start(t)
	t.Setenv("NATS_URL", s.URL)
	t.Setenv("NATS_CREDS", "")
	t.Setenv("LIVEKIT_API_KEY", "devkey")
	var id fleet.JobID // the job, whose ID is random
	assert := func(name string, args ...string) string {
		t.Helper()
		out := mustRun(t, append(args, "--json")...)
		if !json.Valid([]byte(out)) {
			t.Fatalf("spacecast %s printed no JSON:\n%s", strings.Join(args, " "), out)
		}
		if id == "" { // the first submit
			var v struct{ ID fleet.JobID }
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatal(err)
			}
			id = v.ID
		}
		norm := strings.ReplaceAll(out, string(id), "<job id>")
		norm = jobTimes.ReplaceAllString(norm, `"$1": "<time>"`)
		golden.Assert(t, []byte(norm), "json/"+name)
		return out
	}
	submit := []string{"submit", "record", "ws://127.0.0.1:7880", "--room", "panel", "--store", "s3://shows/2026",
		"--session-name", "panel-1", "--consent", "opt-in", "--allow", "host", "--stop-when-empty", "2m", "--sign-key-from", "file:/run/secrets/sign.key"}
	assert("submit_record", submit...)
	assert("submit_record_existing", submit...)
	assert("jobs", "jobs")
	js, err := jetstream.New(s.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q, err := fleet.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Take(ctx, "worker-1"); err != nil {
		t.Fatal(err)
	}
	assert("jobs_show", "jobs", "show", string(id))
	assert("jobs_cancel", "jobs", "cancel", string(id), "--reason", "the talk moved")
}
