package site

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/feed"
)

// BenchmarkUpdate1000 changes one episode's title on a site of 1,000 episodes: lock, read the
// record, render episodes.json, feed.xml and index.html, compare, rename what changed, unlock.
func BenchmarkUpdate1000(b *testing.B) {
	dir := newSite(b)
	show, err := LoadShow(dir)
	if err != nil {
		b.Fatal(err)
	}
	mp3 := filepath.Join(b.TempDir(), "ep.mp3")
	writeTone(b, mp3, 60, nil)
	audio, err := ProbeMP3(mp3)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2020, 1, 1, 9, 0, 0, 0, time.UTC)
	var eps []feed.Episode
	for i := range 1000 {
		slug := fmt.Sprintf("episode-%d", i+1)
		guid, _ := EpisodeGUID(show.GUID, slug)
		a := audio
		a.File = slug + ".mp3"
		eps = append(eps, feed.Episode{
			Slug: slug, GUID: guid, PubDate: t0.Add(time.Duration(i) * 24 * time.Hour), Title: fmt.Sprintf("Episode %d", i+1),
			Description: "Show notes of a typical length, a sentence or two about who spoke and what about.", Type: "full", Audio: a,
			Soundbites: []feed.Soundbite{{Start: 10 * time.Second, Duration: 30 * time.Second, Title: "Best bit"}},
			Persons:    []feed.Person{{Name: "Ada Lovelace", Role: "host", Group: "cast"}, {Name: "Guest", Role: "guest", Group: "cast"}},
		})
	}
	rec, err := encodeRecord(eps)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, RecordName), rec, 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		in := EpisodeInput{Set: FieldTitle, Title: fmt.Sprintf("Renamed %d", i%2)}
		if _, err := Update(ctx, dir, "episode-500", in, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
