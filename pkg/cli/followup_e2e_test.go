package cli

import (
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/fleet"
)

// TestFollowupE2E: one `spacecast worker` records two LiveKit rooms, each with a pion speaker
// playing a tone, submitted with `spacecast submit record --publish-to ... --push ...`; then the
// worker runs their follow-ups (mix, publish, push), judged in the real S3 server (versitygw)
// with the aws CLI and ffmpeg:
//   - the room whose site exists: its mix is beside its session (not inside it: the session still
//     verifies), decodes with ffmpeg with the tone where the session's live mix has it; the site's
//     folder in the bucket and the pushed site's feed.xml list the episode, titled from the
//     template, whose enclosure is an object of the enclosure's length served as audio/mpeg; its
//     follow-up is done in `spacecast jobs --json`;
//   - the room whose --publish-to holds no site: its follow-up is tried 3 times and ends failed
//     with the reason of each attempt, and its record job stays done.
func TestFollowupE2E(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		r := newFleetRig(t)
		site := newTestSite(t)
		bucket := "s3://" + r.s3.Bucket
		awsCLI(t, r.s3, "s3", "cp", "--recursive", "--quiet", "--exclude", ".*", site+"/", bucket+"/site/")
		w := r.startWorker("w1", "--max-followups", "2")

		freqs := map[string]float64{"fu-good": 440, "fu-nosite": 660}
		sites := map[string]string{"fu-good": bucket + "/site", "fu-nosite": bucket + "/nosite"}
		ids := map[string]fleet.JobID{}
		for room, f := range freqs {
			r.speak(room, f, 8*time.Second)
		}
		for _, room := range []string{"fu-good", "fu-nosite"} {
			out := mustRun(t, "submit", "record", r.lk.URL, "--nats", r.nats.URL, "--room", room, "--store", r.store,
				"--session-name", room, "--consent", "assume", "--api-key", r.lk.APIKey, "--api-secret-from", "env:LK_WORKER_SECRET",
				"--stop-when-empty", "3s", "--publish-to", sites[room], "--push", bucket+"/public",
				"--title-template", "Live from {room} on {date}", "--json")
			var res struct{ ID fleet.JobID }
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			ids[room] = res.ID
		}
		recs := r.awaitJobs([]fleet.JobID{ids["fu-good"], ids["fu-nosite"]}, fleet.Done, 40*time.Second)
		good, bad := fleet.FollowupID(ids["fu-good"]), fleet.FollowupID(ids["fu-nosite"])
		r.awaitJobs([]fleet.JobID{good}, fleet.Done, 60*time.Second)
		r.awaitJobs([]fleet.JobID{bad}, fleet.Failed, 60*time.Second)

		// The jobs as `spacecast jobs --json` shows them.
		var list struct{ Jobs []fleet.Status }
		if err := json.Unmarshal([]byte(mustRun(t, "jobs", "--nats", r.nats.URL, "--json")), &list); err != nil {
			t.Fatal(err)
		}
		states := map[fleet.JobID]fleet.Status{}
		for _, st := range list.Jobs {
			states[st.Job.ID] = st
		}
		mixURL := r.store + "/fu-good.mp3"
		if st := states[good]; st.State != fleet.Done || st.Job.Kind != fleet.KindFollowup || st.Session != mixURL || len(st.Errors) != 0 {
			t.Errorf("follow-up of fu-good: %s %s %q errors %q, want done with %s", st.Job.Kind, st.State, st.Session, st.Errors, mixURL)
		}
		st := states[bad]
		if st.State != fleet.Failed || len(st.Errors) != fleet.MaxFollowupAttempts || !strings.Contains(st.Reason, "nosite holds no site (no podcast.yaml)") {
			t.Errorf("follow-up of fu-nosite: %s, reason %q, errors %q; want failed after %d attempts, no site", st.State, st.Reason, st.Errors, fleet.MaxFollowupAttempts)
		}
		if st := states[ids["fu-nosite"]]; st.State != fleet.Done || st.Session != recs[ids["fu-nosite"]].Session {
			t.Errorf("record job of fu-nosite is %s after its follow-up failed, want done", st.State)
		}
		if n := len(w.lines("follow-up queued")); n != 2 {
			t.Errorf("%d follow-ups queued, want 2", n)
		}

		// The mix: beside the session, the tone where the session has it.
		j := r.judge("fu-good") // verifies the session where it lies: the mix is not inside it
		liveOn, liveOff := toneSpan(j.mix, freqs["fu-good"])
		local := filepath.Join(t.TempDir(), "mix.mp3")
		awsCLI(t, r.s3, "s3", "cp", "--quiet", mixURL, local)
		mix := testutil.FFmpegDecode(t, local, 48000, 1)
		on, off := toneSpan(mix, freqs["fu-good"])
		if liveOn < 0 || on < 0 || (on-liveOn).Abs() > 300*time.Millisecond || (off-liveOff).Abs() > 300*time.Millisecond {
			t.Errorf("the mix has the tone at %v–%v, the session's live mix at %v–%v", on, off, liveOn, liveOff)
		}
		if other, _ := toneSpan(mix, freqs["fu-nosite"]); other >= 0 {
			t.Errorf("the mix of fu-good holds fu-nosite's tone at %v", other)
		}

		// The site: its folder in the bucket and the pushed site list the episode.
		title := "Live from fu-good on " + j.m.StartedAt.UTC().Format("2006-01-02")
		if rec := awsCLI(t, r.s3, "s3", "cp", bucket+"/site/episodes.json", "-"); !strings.Contains(rec, title) {
			t.Errorf("the site's episodes.json in the bucket lacks %q:\n%s", title, rec)
		}
		var rss struct {
			Items []struct {
				Title     string `xml:"title"`
				Enclosure struct {
					URL    string `xml:"url,attr"`
					Length int64  `xml:"length,attr"`
					Type   string `xml:"type,attr"`
				} `xml:"enclosure"`
			} `xml:"channel>item"`
		}
		if err := xml.Unmarshal([]byte(awsCLI(t, r.s3, "s3", "cp", bucket+"/public/feed.xml", "-")), &rss); err != nil {
			t.Fatal(err)
		}
		if len(rss.Items) != 1 || rss.Items[0].Title != title {
			t.Fatalf("the pushed feed lists %+v, want one episode %q", rss.Items, title)
		}
		enc := rss.Items[0].Enclosure
		rel, ok := strings.CutPrefix(enc.URL, "https://podcast.example.com/town-hall/")
		if !ok || enc.Type != "audio/mpeg" {
			t.Fatalf("enclosure %+v: not under the show's base URL, or not audio/mpeg", enc)
		}
		var head struct {
			ContentLength int64
			ContentType   string
		}
		if err := json.Unmarshal([]byte(awsCLI(t, r.s3, "s3api", "head-object", "--bucket", r.s3.Bucket, "--key", "public/"+rel)), &head); err != nil {
			t.Fatal(err)
		}
		if head.ContentLength != enc.Length || head.ContentType != "audio/mpeg" {
			t.Errorf("the enclosure's object is %d bytes of %s, the feed says %d bytes of audio/mpeg", head.ContentLength, head.ContentType, enc.Length)
		}
	})
}
