package ui

import "testing"

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
