package sitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/fsutil"
	"github.com/spacecast/spacecast/internal/testutil/s3server"
	"github.com/spacecast/spacecast/pkg/feed"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/site"
)

// bigSite makes a site of n episodes, each with its audio (a 64 kbit/s MP3 of 2 s, the same
// bytes for all), chapters and a WebVTT transcript: 3n + 4 served files. change(i) gives episode
// n/2 other audio and title (alternating between two versions), as publish --update would, and
// renders the feed and page again.
func bigSite(b *testing.B, n int) (dir string, change func(i int)) {
	b.Helper()
	ctx := context.Background()
	dir = filepath.Join(b.TempDir(), "site")
	show := testShow()
	if _, err := site.Init(ctx, dir, show, "", site.Options{}); err != nil {
		b.Fatal(err)
	}
	show, err := site.LoadShow(dir)
	if err != nil {
		b.Fatal(err)
	}
	tmp := b.TempDir()
	var audio [2]feed.Audio
	var mp3 [2]string
	for v := range audio {
		mp3[v] = filepath.Join(tmp, fmt.Sprintf("v%d.mp3", v))
		toneMP3(b, mp3[v], 2, 300+200*v)
		if audio[v], err = site.ProbeMP3(mp3[v]); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "episodes"), 0o755); err != nil {
		b.Fatal(err)
	}
	eps := make([]feed.Episode, n)
	for i := range eps {
		slug := fmt.Sprintf("episode-%04d", i)
		guid, err := site.EpisodeGUID(show.PodcastGUID(), slug)
		if err != nil {
			b.Fatal(err)
		}
		ep := feed.Episode{Slug: slug, GUID: guid, PubDate: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour),
			Title: fmt.Sprintf("Episode %d", i), Description: "An episode of the benchmark show.", Type: "full", Audio: audio[0],
			Chapters:     []feed.Chapter{{Start: 0, Title: "Opening"}, {Start: time.Second, Title: "The rest"}},
			ChaptersFile: slug + ".chapters.json", Transcript: &feed.Transcript{File: slug + ".vtt", Type: "text/vtt"}}
		ep.Audio.File = slug + ".mp3"
		eps[i] = ep
		if _, err := fsutil.CopyFile(mp3[0], filepath.Join(dir, "episodes", ep.Audio.File)); err != nil {
			b.Fatal(err)
		}
		ch, err := feed.ChaptersJSON(&ep)
		if err != nil {
			b.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "episodes", ep.ChaptersFile), ch, 0o644)
		os.WriteFile(filepath.Join(dir, "episodes", ep.Transcript.File), []byte(fmt.Sprintf("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nEpisode %d.\n", i)), 0o644)
	}
	write := func() {
		rec, err := json.MarshalIndent(map[string]any{"format": "spacecast-episodes", "version": 1, "episodes": eps}, "", "  ")
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, site.RecordName), rec, 0o644); err != nil {
			b.Fatal(err)
		}
		if _, err := site.Build(ctx, dir, site.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	write()
	return dir, func(i int) {
		v := i%2 + 1
		ep := &eps[n/2]
		ep.Audio = audio[v%2]
		ep.Audio.File = ep.Slug + ".mp3"
		ep.Title = fmt.Sprintf("Episode %d, take %d", n/2, i)
		os.Remove(filepath.Join(dir, "episodes", ep.Audio.File))
		if _, err := fsutil.CopyFile(mp3[v%2], filepath.Join(dir, "episodes", ep.Audio.File)); err != nil {
			b.Fatal(err)
		}
		write()
	}
}

// benchStore is a client of a versitygw started for the benchmark.
func benchStore(b *testing.B) (*s3server.Server, *objstore.Client) {
	srv := s3server.Start(b)
	for _, kv := range srv.Env(b.TempDir()) {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "AWS_") {
			b.Setenv(k, v)
		}
	}
	cl, err := objstore.New(context.Background(), objstore.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return srv, cl
}

// pushedBigSite is bigSite(1000) pushed once to a versitygw.
func pushedBigSite(b *testing.B) (*objstore.Client, string, objstore.URL, func(int)) {
	srv, cl := benchStore(b)
	dir, change := bigSite(b, 1000)
	dst := objstore.URL{Bucket: srv.Bucket, Prefix: "show"}
	if _, err := Push(context.Background(), cl, dir, dst, Options{}); err != nil {
		b.Fatal(err)
	}
	return cl, dir, dst, change
}

// BenchmarkSitePush1000OneChanged: a push of a 1,000-episode site (3,004 files) already in the
// bucket, after one episode's audio and title changed: only that audio, feed.xml and index.html
// go up.
func BenchmarkSitePush1000OneChanged(b *testing.B) {
	cl, dir, dst, change := pushedBigSite(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		change(i)
		b.StartTimer()
		rep, err := Push(ctx, cl, dir, dst, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if got := strings.Join(paths(rep.Uploaded), " "); got != "episodes/episode-0500.mp3 feed.xml index.html" || len(rep.Skipped) != 3001 {
			b.Fatalf("uploaded %s, skipped %d; want the changed audio, feed.xml and index.html, and 3001 skipped", got, len(rep.Skipped))
		}
	}
	b.ReportMetric(3, "uploads/op")
}

// BenchmarkSitePush1000Unchanged: the same push with nothing changed: a listing, the state,
// nothing uploaded.
func BenchmarkSitePush1000Unchanged(b *testing.B) {
	cl, dir, dst, _ := pushedBigSite(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Push(ctx, cl, dir, dst, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Uploaded) != 0 {
			b.Fatalf("uploaded %v", paths(rep.Uploaded))
		}
	}
}

// BenchmarkSitePush1000First: the first push of the 1,000-episode site into an empty place.
func BenchmarkSitePush1000First(b *testing.B) {
	srv, cl := benchStore(b)
	dir, _ := bigSite(b, 1000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Push(ctx, cl, dir, objstore.URL{Bucket: srv.Bucket, Prefix: fmt.Sprintf("show-%d", i)}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Uploaded) != 3004 {
			b.Fatalf("uploaded %d", len(rep.Uploaded))
		}
	}
}
