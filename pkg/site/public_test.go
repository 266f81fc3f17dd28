package site

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestPublicFiles: a site's served files are its feed, page, assets, artwork and the files of
// its published episodes, each with its kind; nothing else in the folder (the settings, the
// record, an unpublished episode, dot files, a stray file). Audio named by the record that is
// missing or of another size is an error naming it.
func TestPublicFiles(t *testing.T) {
	ctx := context.Background()
	dir := newSite(t)
	tmp := t.TempDir()
	for _, slug := range []string{"kept", "gone"} {
		mp3 := filepath.Join(tmp, slug+".mp3")
		writeTone(t, mp3, 1, nil)
		if _, err := Publish(ctx, dir, EpisodeInput{Audio: mp3, Slug: slug, Title: slug}, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Unpublish(ctx, dir, "gone", Options{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("private"), 0o644)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("SECRET=1"), 0o644)
	files, err := PublicFiles(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Rel+" "+string(f.Kind))
		if (f.Kind == KindAudio) != (f.Data == nil) || len(f.SHA256) != 64 {
			t.Errorf("%s: data %d bytes, digest %q", f.Rel, len(f.Data), f.SHA256)
		}
	}
	want := []string{"artwork.png artwork", "assets/player.js asset", "assets/style.css asset", "episodes/kept.mp3 audio", "feed.xml feed", "index.html page"}
	if !slices.Equal(got, want) {
		t.Fatalf("PublicFiles = %v\nwant %v", got, want)
	}

	audio := filepath.Join(dir, "episodes", "kept.mp3")
	b, _ := os.ReadFile(audio)
	cases := []struct {
		name, want string
		damage     func()
	}{
		{"audio of another size than the record's is named", "episodes/kept.mp3 is " + strconv.Itoa(len(b)+1) + " bytes", func() { os.WriteFile(audio, append(b, 0), 0o644) }},
		{"missing audio is named", "episodes/kept.mp3 is missing", func() { os.Remove(audio) }},
		{"a missing feed says how to make it", "feed.xml is missing ('spacecast feed build", func() { os.Remove(filepath.Join(dir, FeedName)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(audio, b, 0o644)
			c.damage()
			_, err := PublicFiles(ctx, dir, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("PublicFiles: %v, want %q", err, c.want)
			}
		})
	}
}
