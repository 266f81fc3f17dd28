package id3

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/lame"
)

// TestReadFFmpegTags reads v2.3 and v2.4 tags written by ffmpeg, an independent writer, with
// non-ASCII text and chapters.
func TestReadFFmpegTags(t *testing.T) {
	testutil.Require(t, "ffmpeg")
	dir := t.TempDir()
	meta := filepath.Join(dir, "meta.txt")
	err := os.WriteFile(meta, []byte(";FFMETADATA1\ntitle=Tïtle 東京\nartist=Art\nalbum=Alb\ndate=2026-11-24\n"+
		"comment=Comm\ngenre=Podcast\n"+
		"[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=One\n"+
		"[CHAPTER]\nTIMEBASE=1/1000\nSTART=500\nEND=1000\ntitle=Twö\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"3", "4"} {
		t.Run("ID3v2."+version, func(t *testing.T) {
			path := filepath.Join(dir, "v"+version+".mp3")
			testutil.Run(t, "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=d=1", "-i", meta,
				"-map_metadata", "1", "-map_chapters", "1", "-c:a", "libmp3lame", "-id3v2_version", version, path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, n, err := Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if n >= int64(len(b)) || b[n] != 0xFF || b[n+1]&0xE0 != 0xE0 {
				t.Errorf("no MP3 frame sync right after the %d bytes Read consumed", n)
			}
			want := &Tag{
				Title: "Tïtle 東京", Artist: "Art", Album: "Alb", Date: "2026-11-24", Genre: "Podcast",
				Chapters: []Chapter{
					{ID: "ch0", Start: 0, End: 500 * time.Millisecond, Title: "One"},
					{ID: "ch1", Start: 500 * time.Millisecond, End: time.Second, Title: "Twö"},
				},
			}
			// ffmpeg stores "comment" as TXXX and names itself in TSSE; both land in Text.
			if got.Text["comment"] != "Comm" || got.Text["TSSE"] == "" {
				t.Errorf("Text = %q, want comment=Comm and an encoder name", got.Text)
			}
			got.Text = nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// ffprobeOutput is the part of `ffprobe -show_chapters -show_format -of json` we check.
type ffprobeOutput struct {
	Format struct {
		Tags map[string]string `json:"tags"`
	} `json:"format"`
	Chapters []struct {
		StartTime string            `json:"start_time"`
		EndTime   string            `json:"end_time"`
		Tags      map[string]string `json:"tags"`
	} `json:"chapters"`
}

// TestFFprobeReadsOurTag writes our tag in front of an MP3 from package lame and asks ffprobe,
// an independent reader, for the metadata and chapters; ffmpeg must still decode exactly the
// samples written (the LAME tag frame sits after our tag).
func TestFFprobeReadsOurTag(t *testing.T) {
	testutil.Require(t, "ffprobe")
	testutil.Require(t, "ffmpeg")
	tag := fullTag()
	prefix, err := tag.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f := audio.Format{SampleRate: 48000, Channels: 2}
	frames := 10*f.SampleRate + 77
	pcm := testutil.Sine(frames, f.SampleRate, f.Channels, 440, 0.3)
	path := filepath.Join(t.TempDir(), "tagged.mp3")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := lame.NewWriter(file, f, lame.Options{BitrateKbps: 64, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}

	out, stderr := testutil.Run(t, "ffprobe", "-v", "error", "-show_chapters", "-show_format", "-of", "json", path)
	if len(stderr) > 0 {
		t.Errorf("ffprobe warns: %s", stderr)
	}
	var probe ffprobeOutput
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatal(err)
	}
	wantTags := map[string]string{
		"title": tag.Title, "artist": tag.Artist, "album": tag.Album, "date": tag.Date,
		"comment": tag.Comment, "genre": tag.Genre, "composer": "A Composer", "publisher": "Spacecast",
		"spacecast:session": "2026-11-24T10:00:00Z",
	}
	for k, v := range wantTags {
		if got := probe.Format.Tags[k]; got != v {
			t.Errorf("ffprobe tag %s = %q, want %q", k, got, v)
		}
	}
	if len(probe.Chapters) != len(tag.Chapters) {
		t.Fatalf("ffprobe sees %d chapters, want %d", len(probe.Chapters), len(tag.Chapters))
	}
	for i, c := range tag.Chapters {
		p := probe.Chapters[i]
		if p.Tags["title"] != c.Title || !sameSeconds(p.StartTime, c.Start) || !sameSeconds(p.EndTime, c.End) {
			t.Errorf("chapter %d: ffprobe %s–%s %q, want %v–%v %q", i, p.StartTime, p.EndTime, p.Tags["title"],
				c.Start, c.End, c.Title)
		}
	}
	if dec := testutil.FFmpegDecode(t, path, 0, 0); len(dec) != len(pcm) {
		t.Errorf("ffmpeg decodes %d frames after our tag, want %d", len(dec)/2, frames)
	}
}

// sameSeconds compares ffprobe's decimal seconds with a duration to the millisecond.
func sameSeconds(s string, d time.Duration) bool {
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && time.Duration(v*1e6+0.5)*time.Microsecond/time.Millisecond == d/time.Millisecond
}
