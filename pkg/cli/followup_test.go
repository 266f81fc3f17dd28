package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/spacecast/spacecast/internal/testutil/golden"
	"github.com/spacecast/spacecast/internal/testutil/natsserver"
	"github.com/spacecast/spacecast/pkg/fleet"
)

// TestFollowupJobsJSONGolden pins the --json of a record job with follow-ups (submit record) and
// of a follow-up job that failed an attempt (jobs show), and checks the mistakes of the
// follow-up flags.
func TestFollowupJobsJSONGolden(t *testing.T) {
	s := natsserver.Start(t)
	t.Setenv("NATS_URL", s.URL)
	t.Setenv("NATS_CREDS", "")
	t.Setenv("LIVEKIT_API_KEY", "devkey")
	submit := []string{"submit", "record", "ws://127.0.0.1:7880", "--room", "panel", "--store", "s3://shows/2026",
		"--session-name", "panel-1", "--publish-to", "s3://sites/show", "--push", "s3://podcast.example.com",
		"--title-template", "Panel: {room}, {date}"}
	out := mustRun(t, append(submit, "--json")...)
	var res struct{ ID fleet.JobID }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	norm := func(out string, ids ...fleet.JobID) []byte {
		for i, id := range ids {
			out = strings.ReplaceAll(out, string(id), []string{"<job id>", "<follow-up id>"}[i])
		}
		return []byte(jobTimes.ReplaceAllString(out, `"$1": "<time>"`))
	}
	golden.Assert(t, norm(out, res.ID), "json/submit_record_followups")

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
	c, err := q.Take(ctx, "worker-1")
	if err != nil {
		t.Fatal(err)
	}
	fid, _, err := q.Enqueue(ctx, *fleet.Followup(c.Job, c.Job.Record.Session))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Done(ctx, c.Job.Record.Session); err != nil {
		t.Fatal(err)
	}
	fc, err := q.TakeFollowup(ctx, "worker-2")
	if err != nil {
		t.Fatal(err)
	}
	if err := fc.Fail(ctx, "worker: follow-up publish (s3://sites/show): worker: s3://sites/show holds no site (no podcast.yaml)"); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, norm(mustRun(t, "jobs", "show", string(fid), "--json"), res.ID, fid), "json/jobs_show_followup")
	text := mustRun(t, "jobs")
	if !strings.Contains(text, string(fid)+"  queued  followup: mix, publish") {
		t.Errorf("jobs lists no queued follow-up %s:\n%s", fid, text)
	}
	shown := mustRun(t, "jobs", "show", string(fid))
	for _, want := range []string{"record job:  " + string(res.ID), "mix:         s3://shows/2026/panel-1.mp3", "attempt 1:   worker: follow-up publish"} {
		if !strings.Contains(shown, want) {
			t.Errorf("jobs show lacks %q:\n%s", want, shown)
		}
	}

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"a push without a site is refused", []string{"--push", "s3://p"}, "--push and --title-template go with --publish-to"},
		{"a loudness without a mix is refused", []string{"--loudness", "-20"}, "go with --mix-to"},
		{"a mix inside the session is refused", []string{"--mix-to", "s3://shows/2026/panel-2"}, "--mix-to s3://shows/2026/panel-2 puts the mix inside the session"},
		{"publishing an Opus mix is refused", []string{"--mix-to", "s3://mixes", "--mix-format", "opus", "--publish-to", "s3://sites"}, "--publish-to publishes an MP3"},
		{"an unknown mix format is refused", []string{"--mix-to", "s3://mixes", "--mix-format", "flac"}, "--mix-format is \"flac\""},
		{"a title placeholder that is none is refused", []string{"--publish-to", "s3://sites", "--title-template", "{host}"}, "--title-template holds a placeholder"},
	} {
		args := append([]string{"submit", "record", "ws://127.0.0.1:7880", "--room", "panel", "--store", "s3://shows/2026", "--session-name", "panel-2"}, c.args...)
		_, stderr, code := run(t, args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, code, stderr, ExitUsage, c.want)
		}
	}
}
