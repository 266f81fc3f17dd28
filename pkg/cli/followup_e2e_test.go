package cli

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
	"github.com/spacecast/spacecast/pkg/fleet"
)

// TestFollowupE2E: one `spacecast worker` records three LiveKit rooms, each with a pion speaker
// playing a tone of its own, submitted with `spacecast submit record --publish-to ... --push ...`;
// then the worker runs their follow-ups (mix, publish, push; two at once), judged in the real S3
// server (versitygw) with the aws CLI and ffmpeg:
//   - the two rooms publishing into one site (two follow-ups may run at once; that they then take
//     turns through the site's lock is TestPublishIntoOneSiteAtOnce's, in pkg/worker): each
//     mix is beside its session (not inside it: the session still verifies), decodes with ffmpeg
//     with its tone where the session's live mix has it and no other room's; the site's folder
//     in the bucket and the pushed site's feed.xml list both episodes, titled from the template,
//     each enclosure an object of the enclosure's length served as audio/mpeg; their follow-ups
//     are done in `spacecast jobs --json`;
//   - the room whose --publish-to holds no site: its follow-up is tried 3 times and ends failed
//     with the reason of each attempt, and its record job stays done.
func TestFollowupE2E(t *testing.T) {
	netns.Run(t, func(t *testing.T, _ *netns.NS) {
		r := newFleetRig(t)
		site := newTestSite(t)
		bucket := "s3://" + r.s3.Bucket
		awsCLI(t, r.s3, "s3", "cp", "--recursive", "--quiet", "--exclude", ".*", site+"/", bucket+"/site/")
		w := r.startWorker("w1", "--max-followups", "2")

		freqs := map[string]float64{"fu-a": 440, "fu-b": 550, "fu-nosite": 660}
		sites := map[string]string{"fu-a": bucket + "/site", "fu-b": bucket + "/site", "fu-nosite": bucket + "/nosite"}
		good := []string{"fu-a", "fu-b"} // two follow-ups publishing into one site, run at once
		ids := map[string]fleet.JobID{}
		for room, f := range freqs {
			r.speak(room, f, 8*time.Second)
		}
		var recIDs []fleet.JobID
		for _, room := range []string{"fu-a", "fu-b", "fu-nosite"} {
			out := mustRun(t, "submit", "record", r.lk.URL, "--nats", r.nats.URL, "--room", room, "--store", r.store,
				"--session-name", room, "--consent", "assume", "--api-key", r.lk.APIKey, "--api-secret-from", "env:LK_WORKER_SECRET",
				"--stop-when-empty", "3s", "--publish-to", sites[room], "--push", bucket+"/public",
				"--title-template", "Live from {room} on {date}", "--json")
			var res struct{ ID fleet.JobID }
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			ids[room] = res.ID
			recIDs = append(recIDs, res.ID)
		}
		recs := r.awaitJobs(recIDs, fleet.Done, 40*time.Second)
		bad := fleet.FollowupID(ids["fu-nosite"])
		r.awaitJobs([]fleet.JobID{fleet.FollowupID(ids["fu-a"]), fleet.FollowupID(ids["fu-b"])}, fleet.Done, 60*time.Second)
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
		for _, room := range good {
			mixURL := r.store + "/" + room + ".mp3"
			if st := states[fleet.FollowupID(ids[room])]; st.State != fleet.Done || st.Job.Kind != fleet.KindFollowup || st.Session != mixURL || len(st.Errors) != 0 {
				t.Errorf("follow-up of %s: %s %s %q errors %q, want done with %s", room, st.Job.Kind, st.State, st.Session, st.Errors, mixURL)
			}
		}
		st := states[bad]
		if st.State != fleet.Failed || len(st.Errors) != fleet.MaxFollowupAttempts || !strings.Contains(st.Reason, "nosite holds no site (no podcast.yaml)") {
			t.Errorf("follow-up of fu-nosite: %s, reason %q, errors %q; want failed after %d attempts, no site", st.State, st.Reason, st.Errors, fleet.MaxFollowupAttempts)
		}
		if st := states[ids["fu-nosite"]]; st.State != fleet.Done || st.Session != recs[ids["fu-nosite"]].Session {
			t.Errorf("record job of fu-nosite is %s after its follow-up failed, want done", st.State)
		}
		if n := len(w.lines("follow-up queued")); n != 3 {
			t.Errorf("%d follow-ups queued, want 3", n)
		}
		// The worker counts each follow-up attempt: two done at once, the third failed every time.
		for name, want := range map[string]int{
			"spacecast_worker_followups_taken_total":  2 + fleet.MaxFollowupAttempts,
			"spacecast_worker_followups_done_total":   2,
			"spacecast_worker_followups_failed_total": fleet.MaxFollowupAttempts,
			"spacecast_worker_capacity_followups":     2,
		} {
			if got, want := metric(t, w.get, name), fmt.Sprintf("%s %d", name, want); got != want {
				t.Errorf("worker metrics: %q, want %q", got, want)
			}
		}
		// fu-nosite's attempts after the first take the mix the first uploaded, as it is.
		if n := len(w.lines("mix uploaded by an earlier attempt: taking it as it is")); n != fleet.MaxFollowupAttempts-1 {
			t.Errorf("%d attempts took an earlier attempt's mix, want %d", n, fleet.MaxFollowupAttempts-1)
		}
		t.Logf("a follow-up waited for the site's publish lock %d times", len(w.lines("waiting for the site's publish lock")))

		// The pushed site's feed, and the site's folder in the bucket.
		var rss struct {
			Items []feedItem `xml:"channel>item"`
		}
		if err := xml.Unmarshal([]byte(awsCLI(t, r.s3, "s3", "cp", bucket+"/public/feed.xml", "-")), &rss); err != nil {
			t.Fatal(err)
		}
		record := awsCLI(t, r.s3, "s3", "cp", bucket+"/site/episodes.json", "-")
		if len(rss.Items) != len(good) {
			t.Errorf("the pushed feed lists %d episodes, want %d: %+v", len(rss.Items), len(good), rss.Items)
		}
		for _, room := range good {
			// The mix: beside the session, the tone where the session has it, no other room's.
			j := r.judge(room) // verifies the session where it lies: the mix is not inside it
			liveOn, liveOff := toneSpan(j.mix, freqs[room])
			local := filepath.Join(t.TempDir(), room+".mp3")
			awsCLI(t, r.s3, "s3", "cp", "--quiet", r.store+"/"+room+".mp3", local)
			mix := testutil.FFmpegDecode(t, local, 48000, 1)
			on, off := toneSpan(mix, freqs[room])
			if liveOn < 0 || on < 0 || (on-liveOn).Abs() > 300*time.Millisecond || (off-liveOff).Abs() > 300*time.Millisecond {
				t.Errorf("%s: the mix has the tone at %v–%v, the session's live mix at %v–%v", room, on, off, liveOn, liveOff)
			}
			for other, f := range freqs {
				if at, _ := toneSpan(mix, f); other != room && at >= 0 {
					t.Errorf("the mix of %s holds %s's tone at %v", room, other, at)
				}
			}
			// The episode, in the site's record and in the pushed feed, its enclosure served.
			title := "Live from " + room + " on " + j.m.StartedAt.UTC().Format("2006-01-02")
			if !strings.Contains(record, title) {
				t.Errorf("the site's episodes.json in the bucket lacks %q:\n%s", title, record)
			}
			i := slices.IndexFunc(rss.Items, func(it feedItem) bool { return it.Title == title })
			if i < 0 {
				t.Errorf("the pushed feed lacks the episode %q: %+v", title, rss.Items)
				continue
			}
			enc := rss.Items[i].Enclosure
			rel, ok := strings.CutPrefix(enc.URL, "https://podcast.example.com/town-hall/")
			if !ok || enc.Type != "audio/mpeg" {
				t.Errorf("%s: enclosure %+v: not under the show's base URL, or not audio/mpeg", room, enc)
				continue
			}
			var head struct {
				ContentLength int64
				ContentType   string
			}
			if err := json.Unmarshal([]byte(awsCLI(t, r.s3, "s3api", "head-object", "--bucket", r.s3.Bucket, "--key", "public/"+rel)), &head); err != nil {
				t.Fatal(err)
			}
			if head.ContentLength != enc.Length || head.ContentType != "audio/mpeg" {
				t.Errorf("%s: the enclosure's object is %d bytes of %s, the feed says %d bytes of audio/mpeg", room, head.ContentLength, head.ContentType, enc.Length)
			}
		}
	})
}

// feedItem is an episode of a feed.xml, as the test reads it.
type feedItem struct {
	Title     string `xml:"title"`
	Enclosure struct {
		URL    string `xml:"url,attr"`
		Length int64  `xml:"length,attr"`
		Type   string `xml:"type,attr"`
	} `xml:"enclosure"`
}
