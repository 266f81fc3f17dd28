package ui

import (
	"bytes"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/capture"
)

// TestFitStatus: the status line's parts are fitted to the terminal's width.
func TestFitStatus(t *testing.T) {
	sp := func(names ...string) []statusSpeaker {
		var out []statusSpeaker
		for _, n := range names {
			out = append(out, statusSpeaker{name: n, meter: "▮▮▯▯▯"})
		}
		return out
	}
	const head, tail = "⏺ REC [00:01:02]", "  loss 0.0%  1.2 MiB"
	for _, c := range []struct {
		name     string
		speakers []statusSpeaker
		width    int
		want     string
	}{
		{"everyone fits: names in full", sp("alice", "bob"), 79,
			head + "  alice ▮▮▯▯▯  bob ▮▮▯▯▯" + tail},
		{"a long name is shortened to 12 columns when the line would not fit", sp("alice", "dave-from-the-accounts-department"), 79,
			head + "  alice ▮▮▯▯▯  dave-from-t~ ▮▮▯▯▯" + tail},
		{"speakers that still do not fit are counted", sp("alice", "bob", "carol", "dave", "erin", "frank"), 79,
			head + "  alice ▮▮▯▯▯  bob ▮▮▯▯▯  carol ▮▮▯▯▯  +3" + tail},
		{"wide runes take two columns", sp("佐藤花子さんです", "bob"), 60,
			head + "  佐藤花子さ~ ▮▮▯▯▯  +1" + tail},
		{"on a narrow terminal only the counts are left", sp("alice", "bob"), 42,
			head + "  +2" + tail},
		{"a terminal too narrow for that cuts the line", sp("alice"), 20,
			"⏺ REC [00:01:02]  +1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := fitStatus(head, c.speakers, tail, c.width)
			if got != c.want {
				t.Errorf("fitStatus(width %d)\n got %q\nwant %q", c.width, got, c.want)
			}
			if w := displayWidth(got); w > c.width {
				t.Errorf("%d columns, more than %d", w, c.width)
			}
		})
	}
}

// TestPrinters: each printer's output for the same recording: text lines on stderr and the
// summary on stdout; JSON lines on stdout with the documented keys; nothing from Quiet.
func TestPrinters(t *testing.T) {
	ev := capture.Event{Type: capture.EventSpeakerJoined, Identity: "ada", Name: "Ada", Track: "T1", At: 61.5}
	sum := RecordSummary{Session: "s", Reason: "duration reached", Duration: 62.25, Bytes: 1000, Elapsed: 62250 * time.Millisecond,
		Tracks: []RecordTrack{{ID: "T1", Identity: "ada", Packets: 3100, Lost: 2}}, NeverSeen: []NeverSeen{{Flag: "--allow", Identity: "bob"}}, Finalized: true}
	var out, errOut bytes.Buffer
	for _, c := range []struct {
		name           string
		p              RecordPrinter
		stdout, stderr string
	}{
		{"text on a pipe: event lines on stderr, the summary on stdout", NewText(&out, &errOut, false),
			"recorded 1m2s into s (duration reached): 1 track(s)\n" +
				"  T1   ada                         3100 packets, 2 lost\n" +
				"  note: --allow bob never appeared in the room (check the spelling of the identity)\n" +
				"next: spacecast mix s -o episode.mp3\n",
			"[00:01:01] Ada (ada) started speaking (T1)\n"},
		{"JSON: one line per event and the summary, on stdout", NewJSON(&out),
			`{"time":"2026-12-07T10:00:00Z","type":"speaker-joined","identity":"ada","name":"Ada","track":"T1","at":61.5}` + "\n" +
				`{"session":"s","reason":"duration reached","duration":62.25,"bytes":1000,"tracks":[{"id":"T1","identity":"ada","packets":3100,"lost":2}],"never_seen":[{"flag":"--allow","identity":"bob"}]}` + "\n", ""},
		{"quiet: nothing", Quiet{}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			out.Reset()
			errOut.Reset()
			e := ev
			e.Time = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
			c.p.Event(e)
			c.p.Update(capture.Stats{Elapsed: time.Second}, t.TempDir())
			c.p.Clear()
			c.p.Summary(sum)
			if out.String() != c.stdout {
				t.Errorf("stdout\n got %q\nwant %q", out.String(), c.stdout)
			}
			if errOut.String() != c.stderr {
				t.Errorf("stderr\n got %q\nwant %q", errOut.String(), c.stderr)
			}
		})
	}
}

// TestStatusLine: on a terminal, Update draws the status line (elapsed, the speakers on, loss,
// bytes) over itself, an event line erases it first, and Clear erases the line.
func TestStatusLine(t *testing.T) {
	var out, errOut bytes.Buffer
	p := NewText(&out, &errOut, true)
	p.Update(capture.Stats{Elapsed: 62 * time.Second, Tracks: []capture.TrackStats{
		{ID: "T1", Identity: "ada", Active: true, Level: -12, Received: 99, Lost: 1},
		{ID: "T2", Identity: "bob", Active: false, Received: 10}}}, t.TempDir())
	p.Event(capture.Event{Type: capture.EventError, Message: "boom", At: 62})
	p.Clear()
	want := "\r\033[K⏺ REC [00:01:02]  ada ▮▮▮▮▯  loss 0.9%  0.0 MiB" + "\r\033[K[00:01:02] error: boom\n" + "\r\033[K"
	if got := errOut.String(); got != want {
		t.Errorf("the terminal got\n %q\nwant %q", got, want)
	}
}

// TestStatusUploadBehind: while uploads to the bucket fail, the status line says for how long;
// once they caught up it says nothing of it.
func TestStatusUploadBehind(t *testing.T) {
	var out, errOut bytes.Buffer
	p := NewText(&out, &errOut, true)
	p.Event(capture.Event{Time: time.Now().Add(-12 * time.Second), Type: EventUploadBehind, Cause: "s3://b/x", Message: "record: put: the store does not answer"})
	p.Update(capture.Stats{}, t.TempDir())
	if line := errOut.String(); !bytes.Contains([]byte(line), []byte("upload behind 12s")) || !bytes.Contains([]byte(line), []byte("upload to s3://b/x is behind")) {
		t.Errorf("behind: %q", line)
	}
	p.Event(capture.Event{Type: EventUploadCaughtUp, Cause: "s3://b/x", Duration: 12.3})
	errOut.Reset()
	p.Update(capture.Stats{}, t.TempDir())
	if line := errOut.String(); bytes.Contains([]byte(line), []byte("behind")) {
		t.Errorf("caught up: %q", line)
	}
}
