package studio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/edit"
)

const sec = time.Second

// seg is a map segment in whole or fractional seconds: source [a, b) plays from at.
func seg(a, b, at float64) edit.Segment {
	return edit.Segment{Old: edit.Range{Start: edit.Seconds(a), End: edit.Seconds(b)}, New: edit.Seconds(at)}
}

func tmap(segs ...edit.Segment) edit.TimeMap { return edit.TimeMap{Segments: segs} }

// sb is a soundbite in whole or fractional seconds.
func sb(start, length float64, title string) SoundbiteInfo {
	return SoundbiteInfo{Start: edit.Seconds(start), Duration: edit.Seconds(length), Title: title}
}

func TestComposeMaps(t *testing.T) {
	tests := []struct {
		first, then, want edit.TimeMap
		why               string
	}{
		{tmap(seg(0, 100, 0)), tmap(seg(20, 50, 0)), tmap(seg(20, 50, 0)),
			"a clip of an unedited file takes the same stretch of the source"},
		{tmap(seg(0, 100, 0)), tmap(seg(10, 40, 0), seg(50, 100, 30)), tmap(seg(10, 40, 0), seg(50, 100, 30)),
			"a trim of an unedited file is the trim's own map"},
		{tmap(seg(0, 30, 0), seg(32, 100, 30)), tmap(seg(10, 98, 0)), tmap(seg(10, 30, 0), seg(32, 100, 20)),
			"a clip across a silence cut of the mix plays two stretches of the session"},
		{tmap(seg(5, 50, 0), seg(62, 110, 45)), tmap(seg(0, 40, 0), seg(50, 93, 40)),
			tmap(seg(5, 45, 0), seg(67, 110, 40)),
			"a trim of a trimmed file: the second trim's cut (40-50) falls in the first file's second stretch"},
		{tmap(seg(0, 10, 0), seg(20, 30, 10), seg(40, 50, 20)), tmap(seg(0, 10, 0), seg(20, 30, 10)),
			tmap(seg(0, 10, 0), seg(40, 50, 10)),
			"a stretch of the first map wholly inside a cut disappears"},
		{tmap(seg(0, 10, 0), seg(10, 20, 10)), tmap(seg(0, 20, 0)), tmap(seg(0, 20, 0)),
			"stretches contiguous in the source and in the file merge"},
		{tmap(seg(0, 10, 0), seg(15, 25, 10)), tmap(seg(5, 10, 0), seg(10, 15, 5)), tmap(seg(5, 10, 0), seg(15, 20, 5)),
			"an edit with a join exactly where the first map jumps keeps the jump, and nothing else moves"},
		{tmap(seg(100, 200, 0)), tmap(seg(0, 50, 0), seg(60, 100, 49.995)),
			tmap(seg(100, 150, 0), seg(160, 200, 49.995)),
			"a time map on the session clock that does not start at 0 (a clip of the live mix) keeps its offset"},
		{tmap(seg(0, 100, 0)), tmap(), tmap(),
			"an edit that keeps nothing leaves an empty map"},
	}
	for _, tt := range tests {
		got := composeMaps(tt.first, tt.then)
		if !reflect.DeepEqual(got.Segments, tt.want.Segments) && !(len(got.Segments) == 0 && len(tt.want.Segments) == 0) {
			t.Errorf("%s:\n got %v\nwant %v", tt.why, got.Segments, tt.want.Segments)
		}
	}
}

// Composition is associative: editing A→B→C step by step relates C to the source exactly as
// composing the two edits first and applying that to A's map does.
func TestComposeMapsAssociative(t *testing.T) {
	a := tmap(seg(0, 23.5, 0), seg(23.6, 30.2, 23.5), seg(30.4, 74.7, 30.1), seg(76.5, 109.6, 74.4))
	b := tmap(seg(5, 50, 0), seg(62, 107.5, 45))
	c := tmap(seg(20, 60, 0))
	left := composeMaps(composeMaps(a, b), c)
	right := composeMaps(a, composeMaps(b, c))
	if !reflect.DeepEqual(left, right) {
		t.Errorf("(a∘b)∘c = %v\na∘(b∘c) = %v", left.Segments, right.Segments)
	}
}

func TestFromSource(t *testing.T) {
	m := &Meta{Version: MetaVersion, TimeMap: mapEntries(tmap(seg(10, 30, 0), seg(40, 50, 20)))}
	tests := []struct {
		in   time.Duration
		want time.Duration
		kept bool
		why  string
	}{
		{10 * sec, 0, true, "the first kept instant of the source is the file's start"},
		{25 * sec, 15 * sec, true, "inside the first stretch"},
		{45 * sec, 25 * sec, true, "inside the second stretch, after the cut"},
		{5 * sec, 0, false, "before the clip: cut, the audio resumes at the start"},
		{35 * sec, 20 * sec, false, "inside the cut: the audio resumes where the second stretch plays"},
		{30 * sec, 20 * sec, false, "a stretch's end is not in it"},
		{60 * sec, 30 * sec, false, "after the last stretch: the file's end"},
	}
	for _, tt := range tests {
		got, kept := m.FromSource(tt.in)
		if got != tt.want || kept != tt.kept {
			t.Errorf("%s: FromSource(%v) = %v, %v; want %v, %v", tt.why, tt.in, got, kept, tt.want, tt.kept)
		}
	}
	if d := m.Duration(); d != 30*sec {
		t.Errorf("Duration = %v, want 30s", d)
	}
}

func TestMoveSoundbites(t *testing.T) {
	// A trim that keeps 0-50 and 60-100 (a cut of 50-60); the second part lands 12 ms late, as a
	// frame-accurate join may.
	e := tmap(seg(0, 50, 0), seg(60.012, 100, 50))
	tests := []struct {
		in   SoundbiteInfo
		want []SoundbiteInfo
		why  string
	}{
		{sb(10, 20, "a"), []SoundbiteInfo{sb(10, 20, "a")}, "a soundbite before the cut stays put"},
		{sb(70, 15, "b"), []SoundbiteInfo{sb(70-10.012, 15, "b")}, "after the cut it moves by what was removed"},
		{sb(52, 5, "c"), nil, "wholly inside the cut it is dropped"},
		{sb(40, 20, "d"), nil, "with the cut inside it, it is dropped, not shortened"},
		{sb(45, 10, "e"), nil, "half cut, it is dropped"},
		{sb(60, 10, "f"), []SoundbiteInfo{sb(50, 9.988, "f")},
			"starting where the cut ends, it loses the 12 ms the join snapped over and is kept"},
		{sb(95, 10, "g"), nil, "reaching past the end it is dropped"},
		{sb(30, 20.02, "h"), []SoundbiteInfo{sb(30, 20, "h")}, "20 ms over a cut's start is within the slack"},
	}
	for _, tt := range tests {
		got := moveSoundbites([]SoundbiteInfo{tt.in}, e)
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.why, got, tt.want)
			continue
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			if g != w {
				t.Errorf("%s: got %+v, want %+v", tt.why, g, w)
			}
		}
	}
}

// An exact trim's map agrees with audio.Join: the parts overlap by the crossfade, and each
// crossfade is split in its middle.
func TestExactMap(t *testing.T) {
	f := audio.Format{SampleRate: 48000, Channels: 1}
	keep := []edit.Range{{Start: 0, End: 10 * sec}, {Start: 20 * sec, End: 30 * sec}, {Start: 40 * sec, End: 45 * sec}}
	const xf = 480 // 10 ms
	got := exactMap(keep, f, xf)
	want := tmap(
		edit.Segment{Old: edit.Range{Start: 0, End: 10*sec - 5*time.Millisecond}, New: 0},
		edit.Segment{Old: edit.Range{Start: 20*sec + 5*time.Millisecond, End: 30*sec - 5*time.Millisecond}, New: 10*sec - 5*time.Millisecond},
		edit.Segment{Old: edit.Range{Start: 40*sec + 5*time.Millisecond, End: 45 * sec}, New: 20*sec - 15*time.Millisecond},
	)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("exactMap:\n got %v\nwant %v", got.Segments, want.Segments)
	}
	// Join's output length is sum(len) - 2 crossfades: 25 s - 20 ms.
	if got.Len() != 25*sec-20*time.Millisecond {
		t.Errorf("the map ends at %v, Join's output at %v", got.Len(), 25*sec-20*time.Millisecond)
	}
	if one := exactMap(keep[:1], f, xf); one.Len() != 10*sec {
		t.Errorf("one kept part has no join and no crossfade: the map ends at %v, want 10s", one.Len())
	}
}

func TestParseMeta(t *testing.T) {
	tests := []struct {
		in      string
		wantErr error
		why     string
	}{
		{`{"version":1,"time_map":[{"old_start_seconds":0,"old_end_seconds":5,"new_start_seconds":0}]}`, nil,
			"the smallest valid metadata: a version and a map"},
		{`{"version":1,"future_field":[1,2],"time_map":[{"old_start_seconds":0,"old_end_seconds":5,"new_start_seconds":0,"x":1}]}`, nil,
			"fields a later version 1 adds are ignored"},
		{`{"version":2,"time_map":"anything"}`, ErrMetaVersion, "a newer version is refused with its own error, whatever it holds"},
		{`{"time_map":[{"old_start_seconds":0,"old_end_seconds":5,"new_start_seconds":0}]}`, ErrBadMeta, "no version"},
		{`{"version":0,"time_map":[]}`, ErrBadMeta, "version 0 does not exist"},
		{`{"version":1`, ErrBadMeta, "truncated JSON"},
		{`[1]`, ErrBadMeta, "not an object"},
		{`{"version":1,"time_map":[]}`, ErrBadMeta, "an empty map describes no audio"},
		{`{"version":1,"time_map":[{"old_start_seconds":5,"old_end_seconds":5,"new_start_seconds":0}]}`, ErrBadMeta, "an empty stretch"},
		{`{"version":1,"time_map":[{"old_start_seconds":-1,"old_end_seconds":5,"new_start_seconds":0}]}`, ErrBadMeta, "a negative time"},
		{`{"version":1,"time_map":[{"old_start_seconds":0,"old_end_seconds":1e300,"new_start_seconds":0}]}`, ErrBadMeta, "a time beyond a month"},
		{`{"version":1,"time_map":[{"old_start_seconds":0,"old_end_seconds":10,"new_start_seconds":0},{"old_start_seconds":20,"old_end_seconds":30,"new_start_seconds":5}]}`,
			ErrBadMeta, "stretches overlapping in the file"},
		{`{"version":1,"time_map":[{"old_start_seconds":0,"old_end_seconds":10,"new_start_seconds":0}],"chapters":[{"start_seconds":5,"end_seconds":4,"title":"x"}]}`,
			ErrBadMeta, "a chapter ending before it starts"},
		{`{"version":1,"time_map":[{"old_start_seconds":0,"old_end_seconds":10,"new_start_seconds":0}],"soundbites":[{"start_seconds":5,"duration_seconds":0}]}`,
			ErrBadMeta, "a soundbite of no length"},
		{`{"version":1,"time_map":[{"old_start_seconds":0,"old_end_seconds":10,"new_start_seconds":0}],"speakers":[{"name":"Ada"}]}`,
			ErrBadMeta, "a speaker without an identity"},
		{`{"version":1,"time_map":[{"old_start_seconds":"0","old_end_seconds":10,"new_start_seconds":0}]}`, ErrBadMeta, "a time as a string"},
	}
	for _, tt := range tests {
		_, err := ParseMeta([]byte(tt.in))
		if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: ParseMeta(%s) = %v, want %v", tt.why, tt.in, err, tt.wantErr)
		}
	}
}

func sampleMeta() *Meta {
	return &Meta{
		Version:    MetaVersion,
		Session:    &MetaSession{ID: "6f1f3f5e", Room: "Sálon", StartedAt: time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)},
		Speakers:   []MetaSpeaker{{Identity: "ada", Name: "Ada (host)"}, {Identity: "zoë", Name: "Zoë"}},
		Chapters:   []ChapterInfo{{0, edit.Seconds(29.9222708333), "Ada (host)"}, {edit.Seconds(29.9222708333), edit.Seconds(56.7), "Zoë"}},
		Soundbites: []SoundbiteInfo{sb(39.765604, 20, "Clips must be exact")},
		TimeMap:    mapEntries(tmap(seg(0, 23.476875, 0), seg(23.554604, 56.7777, 23.476875))),
	}
}

// The metadata goes into a tag, out through Marshal, and back through ReadMeta unchanged but for
// the rounding to the microsecond; the tag's chapters are the metadata's.
func TestMetaTagRoundTrip(t *testing.T) {
	m := sampleMeta()
	tag, err := metaTag(m, &id3.Tag{Title: "Episode 1", Text: map[string]string{"TXXX:": "kept"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tag.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.mp3")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMeta(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := m.rounded(); !reflect.DeepEqual(got, want) {
		t.Errorf("ReadMeta after Marshal:\n got %+v\nwant %+v", got, want)
	}
	if len(tag.Chapters) != 2 || tag.Chapters[1].Title != "Zoë" || tag.Title != "Episode 1" || tag.Text["TXXX:"] != "kept" {
		t.Errorf("the tag lost its own fields or chapters: %+v", tag)
	}
	if m.Chapters[0].End != edit.Seconds(29.9222708333) {
		t.Errorf("Marshal rounded the caller's Meta in place")
	}
}

func TestReadMetaFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tagged := func(text map[string]string) []byte {
		b, err := (&id3.Tag{Title: "t", Text: text}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return append(b, 0xFF, 0xFB, 0x90, 0x64)
	}
	tests := []struct {
		name    string
		data    []byte
		wantNil bool
		wantErr error
		why     string
	}{
		{"plain.mp3", []byte{0xFF, 0xFB, 0x90, 0x64, 0, 0}, true, nil, "an MP3 without an ID3 tag has no metadata"},
		{"other.mp3", tagged(map[string]string{"comment": "x"}), true, nil, "a tag without the frame has none either"},
		{"bad.mp3", tagged(map[string]string{MetaFrame: `{"version":1,"time_map":[]}`}), false, ErrBadMeta, "an empty map is malformed"},
		{"newer.mp3", tagged(map[string]string{MetaFrame: `{"version":7}`}), false, ErrMetaVersion, "a newer version asks for an upgrade"},
		{"torn.mp3", tagged(map[string]string{MetaFrame: `{"version":1,"time_map":[`}), false, ErrBadMeta, "torn JSON"},
		{"short.mp3", []byte("ID3\x03\x00\x00\x00\x00\x10\x00TXXX"), false, id3.ErrTruncated, "a tag cut short is an ID3 error"},
	}
	for _, tt := range tests {
		p := write(tt.name, tt.data)
		m, err := ReadMeta(p)
		switch {
		case tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), p)):
			t.Errorf("%s: ReadMeta = %v, want %v naming %s", tt.why, err, tt.wantErr, p)
		case tt.wantErr == nil && (err != nil || (m == nil) != tt.wantNil):
			t.Errorf("%s: ReadMeta = %+v, %v", tt.why, m, err)
		}
	}
	if _, err := ReadMeta(filepath.Join(dir, "missing.mp3")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v, want os.ErrNotExist", err)
	}
}

// FuzzParseMeta feeds ParseMeta arbitrary JSON. It must not panic; what it accepts must survive
// Marshal → ParseMeta → Marshal byte for byte, and FromSource must stay inside the file.
// go test -run XXX -fuzz FuzzParseMeta -fuzztime 30s ./pkg/studio
func FuzzParseMeta(f *testing.F) {
	js, err := sampleMeta().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(js)
	f.Add([]byte(`{"version":1,"time_map":[{"old_start_seconds":0,"old_end_seconds":5,"new_start_seconds":0}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"session":null,"speakers":[{"identity":"a"}],"time_map":[{"old_start_seconds":1e-7,"old_end_seconds":2678400,"new_start_seconds":0}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseMeta(in)
		if err != nil {
			if !errors.Is(err, ErrBadMeta) && !errors.Is(err, ErrMetaVersion) {
				t.Fatalf("error %v wraps neither ErrBadMeta nor ErrMetaVersion", err)
			}
			return
		}
		if d, _ := m.FromSource(m.TimeMap[0].OldStart); d < 0 || d > m.Duration() {
			t.Fatalf("FromSource left the file: %v of %v", d, m.Duration())
		}
		b, err := m.Marshal()
		if err != nil {
			// Rounding to the microsecond may touch two stretches that were apart; nothing else.
			if !errors.Is(err, ErrBadMeta) {
				t.Fatalf("Marshal of accepted metadata: %v", err)
			}
			return
		}
		again, err := ParseMeta(b)
		if err != nil {
			t.Fatalf("ParseMeta(Marshal(m)) = %v\n%s", err, b)
		}
		b2, err := again.Marshal()
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("Marshal → ParseMeta → Marshal changed the bytes (%v):\n%s\n%s", err, b, b2)
		}
	})
}

// FuzzReadMeta feeds the tag reader damaged real tags (edits of a tag holding the frame, see
// testutil.ApplyEdits) and short arbitrary bytes (which 255, the edits as the input): it must not
// panic, and an error must say which file. Whole tags as input stalled the fuzzer minimizing them
// (8 executions in 10 s).
// go test -run XXX -fuzz FuzzReadMeta -fuzztime 30s ./pkg/studio
func FuzzReadMeta(f *testing.F) {
	tag, err := metaTag(sampleMeta(), &id3.Tag{Title: "Episode"})
	if err != nil {
		f.Fatal(err)
	}
	b, err := tag.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	tags := [][]byte{b, b[:len(b)/2]}
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), []byte{})
	f.Add(uint8(0), []byte{testutil.EditSet, 20, 0, '{', testutil.EditDelete, 40, 0, 0})
	f.Add(uint8(255), []byte("ID3\x04\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, which uint8, edits []byte) {
		if len(edits) > testutil.MaxEdits {
			return
		}
		in := edits
		if which != 255 {
			in = testutil.ApplyEdits(tags[int(which)%len(tags)], edits)
		}
		m, err := readMeta(bytes.NewReader(in), "fuzz.mp3")
		if err != nil && !strings.Contains(err.Error(), "fuzz.mp3") {
			t.Fatalf("error does not name the file: %v", err)
		}
		if err == nil && m != nil && len(m.TimeMap) == 0 {
			t.Fatalf("accepted metadata without a map")
		}
	})
}
