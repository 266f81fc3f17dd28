package site

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/studio"
)

// TestPublishUpdateUnpublish walks one episode through its life: published with notes, a
// transcript and chapters; published again unchanged; updated; unpublished, its slug retired.
func TestPublishUpdateUnpublish(t *testing.T) {
	ctx := context.Background()
	dir := newSite(t)
	src := t.TempDir()
	mp3 := filepath.Join(src, "ep1.mp3")
	writeTone(t, mp3, 30, nil)
	notes := []byte("# Notes\n\nWe talk about **rooms** and [recording](https://example.com/rec).\n\n<script>alert(1)</script>\n")
	vtt := filepath.Join(src, "ep1.vtt")
	os.WriteFile(vtt, []byte("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nHello.\n"), 0o644)
	when := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	in := EpisodeInput{
		Set:   FieldDate | FieldSeason | FieldNumber | FieldTranscript | FieldChapters | FieldSoundbites | FieldPersons,
		Audio: mp3, Title: "Épisode 1: Ça commence", Notes: notes, NotesName: "notes.md", Date: when,
		Season: 1, Number: 1, Transcript: vtt,
		Chapters:   []feed.Chapter{{Start: 0, Title: "Intro"}, {Start: 10 * time.Second, Title: "Main"}},
		Soundbites: []feed.Soundbite{{Start: 5 * time.Second, Duration: 20 * time.Second, Title: "Best bit"}},
		Persons:    []feed.Person{{Name: "Brook", Role: "guest"}},
	}
	res, err := Publish(ctx, dir, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ep := *res.Episode
	if res.Status != "published" || ep.Slug != "episode-1-ca-commence" {
		t.Fatalf("status %q slug %q", res.Status, ep.Slug)
	}
	wantGUID, _ := EpisodeGUID(res.Show.GUID, ep.Slug)
	if ep.GUID != wantGUID || !ep.PubDate.Equal(when) {
		t.Errorf("guid %s pubDate %s; want %s and %s", ep.GUID, ep.PubDate, wantGUID, when)
	}
	if ep.Audio.Duration != 30*time.Second {
		t.Errorf("duration %v, want exactly 30s (the LAME tag's delay and padding taken off)", ep.Audio.Duration)
	}
	if st, _ := os.Stat(filepath.Join(dir, EpisodesDir, ep.Audio.File)); st == nil || st.Size() != ep.Audio.Bytes {
		t.Errorf("episodes/%s is missing or not %d bytes", ep.Audio.File, ep.Audio.Bytes)
	}
	if strings.Contains(ep.NotesHTML, "<script") || !strings.Contains(ep.NotesHTML, `<a href="https://example.com/rec">recording</a>`) {
		t.Errorf("notes HTML: %s", ep.NotesHTML)
	}
	if ep.Description != "Notes\n\nWe talk about rooms and recording (https://example.com/rec)." {
		t.Errorf("description %q", ep.Description)
	}
	for _, f := range []string{ep.ChaptersFile, ep.Transcript.File} {
		if _, err := os.Stat(filepath.Join(dir, EpisodesDir, f)); err != nil {
			t.Errorf("episode file: %v", err)
		}
	}
	// The show's host is not in this episode's audio, so only the given person is listed.
	if len(ep.Persons) != 1 || ep.Persons[0] != (feed.Person{Name: "Brook", Role: "guest", Group: "cast"}) {
		t.Errorf("persons %+v", ep.Persons)
	}
	feed1 := checkFeed(t, dir)

	// The same inputs again: nothing changes, not even a file's time.
	before := testutil.TreeHash(t, dir, nil)
	res, err = Publish(ctx, dir, in, Options{})
	if err != nil || res.Status != "unchanged" || len(res.Written) != 0 {
		t.Fatalf("republish: %v, status %v, wrote %v", err, res.Status, res.Written)
	}
	testutil.SameTree(t, "republish", before, testutil.TreeHash(t, dir, nil))

	// Without --date the recorded date stands: still the same episode.
	in2 := in
	in2.Set &^= FieldDate
	if res, err := Publish(ctx, dir, in2, Options{Now: fixedClock(when.Add(48 * time.Hour))}); err != nil || res.Status != "unchanged" {
		t.Fatalf("republish without --date: %v %v", err, res)
	}
	// Another date, or other audio, is another episode.
	in3 := in
	in3.Date = when.Add(time.Hour)
	var taken *SlugTakenError
	if _, err := Publish(ctx, dir, in3, Options{}); !errors.Is(err, ErrSlugTaken) || !errors.As(err, &taken) || taken.Dir != dir || taken.Slug != ep.Slug || taken.Title != ep.Title {
		t.Errorf("another date under the slug: %v; want a SlugTakenError naming the site, the slug and the episode that has it", err)
	}
	other := filepath.Join(src, "other.mp3")
	writeTone(t, other, 31, nil)
	in4 := in
	in4.Audio = other
	if _, err := Publish(ctx, dir, in4, Options{}); !errors.Is(err, ErrSlugTaken) {
		t.Errorf("other audio under the slug: %v; want ErrSlugTaken", err)
	}
	testutil.SameTree(t, "refused republish", before, testutil.TreeHash(t, dir, nil))

	// Update: a new title and no transcript; GUID and pubDate stay.
	res, err = Update(ctx, dir, ep.Slug, EpisodeInput{Set: FieldTitle | FieldTranscript, Title: "Episode 1, renamed"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	up := *res.Episode
	if res.Status != "updated" || up.Title != "Episode 1, renamed" || up.GUID != ep.GUID || !up.PubDate.Equal(ep.PubDate) || up.Transcript != nil {
		t.Errorf("update: status %s, %+v", res.Status, up)
	}
	if _, err := os.Stat(filepath.Join(dir, EpisodesDir, ep.Transcript.File)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the removed transcript's file is still there: %v", err)
	}
	feed2 := checkFeed(t, dir)
	if bytes.Equal(feed1, feed2) || !bytes.Contains(feed2, []byte("Episode 1, renamed")) {
		t.Errorf("feed.xml did not change with the title")
	}
	if _, err := Update(ctx, dir, ep.Slug, EpisodeInput{Set: FieldDate, Date: when}, Options{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("update with a date: %v; want an error", err)
	}
	if _, err := Update(ctx, dir, "nope", EpisodeInput{Set: FieldTitle, Title: "x"}, Options{}); !errors.Is(err, ErrNoEpisode) || !strings.Contains(err.Error(), ep.Slug) {
		t.Errorf("update of an unknown slug: %v; want ErrNoEpisode listing the slugs", err)
	}

	// Update with new audio: the file and its length change, the identity does not.
	res, err = Update(ctx, dir, ep.Slug, EpisodeInput{Set: FieldAudio, Audio: other}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a := res.Episode.Audio; a.Duration != 31*time.Second || a.File != ep.Audio.File || res.Episode.GUID != ep.GUID {
		t.Errorf("update --audio: %+v", res.Episode)
	}
	checkFeed(t, dir)

	// Unpublish: out of the feed, files gone, the record kept.
	res, err = Unpublish(ctx, dir, ep.Slug, Options{})
	if err != nil || res.Status != "unpublished" {
		t.Fatalf("unpublish: %v %v", err, res)
	}
	fx := checkFeed(t, dir)
	if bytes.Contains(fx, []byte(ep.GUID)) {
		t.Errorf("the feed still has the unpublished episode")
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, EpisodesDir)); len(ents) != 0 {
		t.Errorf("episodes/ still holds %d files", len(ents))
	}
	eps, err := Episodes(dir)
	if err != nil || len(eps) != 1 || !eps[0].Unpublished || eps[0].GUID != ep.GUID {
		t.Errorf("record after unpublish: %v %+v", err, eps)
	}
	if _, err := Publish(ctx, dir, in, Options{}); !errors.Is(err, ErrSlugRetired) || !strings.Contains(err.Error(), "never reused") {
		t.Errorf("publish under a retired slug: %v; want ErrSlugRetired saying slugs are never reused", err)
	}
	if _, err := Update(ctx, dir, ep.Slug, EpisodeInput{Set: FieldTitle, Title: "x"}, Options{}); !errors.Is(err, ErrSlugRetired) {
		t.Errorf("update of an unpublished episode: %v", err)
	}
	if res, err := Unpublish(ctx, dir, ep.Slug, Options{}); err != nil || res.Status != "unchanged" {
		t.Errorf("unpublish twice: %v %v", err, res)
	}
}

// TestPublishMeta publishes one of spacecast's own MP3s: its speakers become persons, its
// chapters and soundbites come along, and the given ones win or add as documented.
func TestPublishMeta(t *testing.T) {
	ctx := context.Background()
	dir := newSite(t)
	mp3 := filepath.Join(t.TempDir(), "mix.mp3")
	writeTone(t, mp3, 40, &studio.Meta{
		Version:  studio.MetaVersion,
		Speakers: []studio.MetaSpeaker{{Identity: "ada", Name: "Ada Lovelace"}, {Identity: "brook", Name: "Brook"}, {Identity: "cyd"}},
		Chapters: []studio.ChapterInfo{{Start: 0, End: 20 * time.Second, Title: "Ada Lovelace"}, {Start: 20 * time.Second, End: 40 * time.Second, Title: "Brook"}},
		Soundbites: []studio.SoundbiteInfo{
			{Start: 2500 * time.Millisecond, Duration: 15 * time.Second, Title: "From the room"},
			{Start: 20 * time.Second, Duration: 15 * time.Second, Title: "Replaced"},
		},
		TimeMap: []studio.MapEntry{{OldStart: 3 * time.Second, OldEnd: 43 * time.Second, NewStart: 0}},
	})
	in := EpisodeInput{
		Set: FieldSoundbites | FieldPersons, Audio: mp3, Title: "With speakers",
		Soundbites: []feed.Soundbite{{Start: 20 * time.Second, Duration: 18 * time.Second, Title: "Given"}},
		Persons:    []feed.Person{{Name: "brook", Role: "co-host"}, {Name: "Dee", Role: "producer"}},
	}
	res, err := Publish(ctx, dir, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ep := res.Episode
	want := []feed.Person{
		{Name: "Ada Lovelace", Role: "host", Href: "https://example.com/ada", Group: "cast"}, // the show's host
		{Name: "Brook", Role: "co-host", Group: "cast"},                                      // --person gives the role
		{Name: "cyd", Role: "guest", Group: "cast"},                                          // only an identity
		{Name: "Dee", Role: "producer", Group: "creative direction"},                         // given, not a speaker
	}
	if got, _ := json.Marshal(ep.Persons); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("persons\n got %s\nwant %s", got, must(json.Marshal(want)))
	}
	wantSB := []feed.Soundbite{{Start: 2500 * time.Millisecond, Duration: 15 * time.Second, Title: "From the room"}, {Start: 20 * time.Second, Duration: 18 * time.Second, Title: "Given"}}
	if got, _ := json.Marshal(ep.Soundbites); string(got) != string(must(json.Marshal(wantSB))) {
		t.Errorf("soundbites %s", got)
	}
	if len(ep.Chapters) != 2 || ep.Chapters[1].Start != 20*time.Second || ep.ChaptersFile == "" {
		t.Errorf("chapters %+v (file %q)", ep.Chapters, ep.ChaptersFile)
	}
	checkFeed(t, dir)

	// --chapters replaces the file's chapters.
	res, err = Update(ctx, dir, ep.Slug, EpisodeInput{Set: FieldChapters, Chapters: []feed.Chapter{{Start: time.Second, Title: "Only"}}}, Options{})
	if err != nil || len(res.Episode.Chapters) != 1 || res.Episode.Chapters[0].Title != "Only" {
		t.Errorf("update --chapters: %v %+v", err, res)
	}
	b, _ := os.ReadFile(filepath.Join(dir, EpisodesDir, res.Episode.ChaptersFile))
	if !bytes.Contains(b, []byte(`"Only"`)) || bytes.Contains(b, []byte("Brook")) {
		t.Errorf("chapters file not rewritten: %s", b)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestBadEpisodes: each wrong input is refused with a message that says what is wrong, and the
// site is byte-identical afterwards.
func TestBadEpisodes(t *testing.T) {
	ctx := context.Background()
	dir := newSite(t)
	src := t.TempDir()
	mp3 := filepath.Join(src, "ep.mp3")
	writeTone(t, mp3, 20, nil)
	wav := filepath.Join(src, "ep.wav")
	os.WriteFile(wav, append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 40)...), 0o644)
	txt := filepath.Join(src, "notes.txt")
	os.WriteFile(txt, bytes.Repeat([]byte("not audio "), 100), 0o644)
	b, _ := os.ReadFile(mp3)
	cut := filepath.Join(src, "cut.mp3")
	os.WriteFile(cut, b[:len(b)/2], 0o644)
	badVTT := filepath.Join(src, "bad.vtt")
	os.WriteFile(badVTT, []byte("00:01 hello"), 0o644)
	if _, err := Publish(ctx, dir, EpisodeInput{Audio: mp3, Title: "Taken"}, Options{}); err != nil {
		t.Fatal(err)
	}
	before := testutil.TreeHash(t, dir, nil)
	tests := []struct {
		why  string
		in   EpisodeInput
		is   error
		want string
	}{
		{"a WAV file", EpisodeInput{Audio: wav, Title: "x"}, ErrNotMP3, "WAV"},
		{"a text file", EpisodeInput{Audio: txt, Title: "x"}, ErrNotMP3, "not audio"},
		{"a missing file", EpisodeInput{Audio: filepath.Join(src, "nope.mp3"), Title: "x"}, ErrBadInput, "no such file"},
		{"an MP3 cut short", EpisodeInput{Audio: cut, Title: "x"}, ErrBadInput, "cut short"},
		{"a soundbite past the end", EpisodeInput{Set: FieldSoundbites, Audio: mp3, Title: "x", Soundbites: []feed.Soundbite{{Start: 10 * time.Second, Duration: 15 * time.Second}}}, ErrBadInput, "past the end"},
		{"a chapter past the end", EpisodeInput{Set: FieldChapters, Audio: mp3, Title: "x", Chapters: []feed.Chapter{{Start: 25 * time.Second, Title: "Late"}}}, ErrBadInput, "past the end"},
		{"an unknown person role", EpisodeInput{Set: FieldPersons, Audio: mp3, Title: "x", Persons: []feed.Person{{Name: "Ed", Role: "juggler"}}}, ErrBadInput, "juggler"},
		{"a transcript that is not WebVTT", EpisodeInput{Set: FieldTranscript, Audio: mp3, Title: "x", Transcript: badVTT}, ErrBadInput, "WEBVTT"},
		{"a description too long", EpisodeInput{Audio: mp3, Title: "x", Description: strings.Repeat("a", 4001)}, ErrBadInput, "4000"},
		{"a title with no ASCII", EpisodeInput{Audio: mp3, Title: "日本語"}, ErrNoSlug, "日本語"},
		{"a bad slug", EpisodeInput{Audio: mp3, Title: "x", Slug: "Bad Slug"}, ErrBadInput, "lowercase"},
		{"a slug in use by other audio", EpisodeInput{Audio: mp3, Title: "Taken", Set: FieldDescription, Description: "other"}, ErrSlugTaken, `belongs to the episode "Taken"`},
		{"notes that are not UTF-8", EpisodeInput{Audio: mp3, Title: "x", Notes: []byte{0xff, 0xfe}}, ErrBadInput, "UTF-8"},
	}
	for _, tt := range tests {
		_, err := Publish(ctx, dir, tt.in, Options{})
		t.Logf("%s: %v", tt.why, err)
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want %v mentioning %q", tt.why, err, tt.is, tt.want)
		}
		testutil.SameTree(t, tt.why, before, testutil.TreeHash(t, dir, nil))
	}
	if _, err := Publish(ctx, filepath.Join(src, "nosite"), EpisodeInput{Audio: mp3, Title: "x"}, Options{}); !errors.Is(err, ErrNoSite) {
		t.Errorf("publish to a folder that is no site: %v", err)
	}
}

// TestCommitRollback: when a rename fails half-way through a commit, the files already renamed
// are put back and the site is as it was.
func TestCommitRollback(t *testing.T) {
	ctx := context.Background()
	dir := newSite(t)
	mp3 := filepath.Join(t.TempDir(), "ep.mp3")
	writeTone(t, mp3, 20, nil)
	// index.html is renamed last; a folder in its place makes that rename fail.
	os.Remove(filepath.Join(dir, PageName))
	os.MkdirAll(filepath.Join(dir, PageName, "blocker"), 0o755)
	before := testutil.TreeHash(t, dir, nil)
	if _, err := Publish(ctx, dir, EpisodeInput{Audio: mp3, Title: "Rolled back"}, Options{}); err == nil {
		t.Fatal("publish succeeded with a folder in place of index.html")
	}
	testutil.SameTree(t, "after a failed commit", before, testutil.TreeHash(t, dir, nil))
}

// TestInit checks what feed init writes and what it refuses.
func TestInit(t *testing.T) {
	ctx := context.Background()
	dir := newSite(t)
	show, err := LoadShow(dir)
	if err != nil {
		t.Fatal(err)
	}
	if show.GUID != feed.ShowGUID("https://podcast.example.com/feed.xml") || show.Image != "artwork.png" {
		t.Errorf("guid %s image %s", show.GUID, show.Image)
	}
	checkFeed(t, dir)
	before := testutil.TreeHash(t, dir, nil)
	if _, err := Init(ctx, dir, testShow(), "", Options{}); !errors.Is(err, ErrSiteExists) || !strings.Contains(err.Error(), "edit") {
		t.Errorf("init of a site: %v; want ErrSiteExists telling to edit podcast.yaml", err)
	}
	testutil.SameTree(t, "init of a site", before, testutil.TreeHash(t, dir, nil))

	small := filepath.Join(t.TempDir(), "small.png")
	writeArtwork(t, small, 1000, 1000)
	other := filepath.Join(t.TempDir(), "other")
	if _, err := Init(ctx, other, testShow(), small, Options{}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "1000x1000") {
		t.Errorf("init with small artwork: %v", err)
	}
	bad := testShow()
	bad.Language = "english please"
	if _, err := Init(ctx, other, bad, "", Options{}); !errors.Is(err, feed.ErrConfig) {
		t.Errorf("init with a bad language: %v", err)
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused init left %s behind", other)
	}
	// Build rewrites nothing on a site that is up to date.
	res, err := Build(ctx, dir, Options{})
	if err != nil || res.Status != "unchanged" || len(res.Written) != 0 {
		t.Errorf("build: %v %+v", err, res)
	}
}
