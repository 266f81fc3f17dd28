package site

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spacecast/spacecast/internal/fsutil"
)

// Kind is what a served file of a site is; it decides how a host should serve it.
type Kind string

// The kinds of PublicFile.
const (
	KindFeed       Kind = "feed"       // feed.xml
	KindPage       Kind = "page"       // index.html
	KindAsset      Kind = "asset"      // assets/*: the page's style and script
	KindArtwork    Kind = "artwork"    // the show's artwork, as podcast.yaml names it
	KindAudio      Kind = "audio"      // episodes/SLUG.mp3
	KindChapters   Kind = "chapters"   // episodes/SLUG.chapters.json
	KindTranscript Kind = "transcript" // episodes/SLUG.<vtt|srt|json|html|txt>
)

// PublicFile is a file of a site that a web host serves.
type PublicFile struct {
	Rel  string // slash path in the site: "feed.xml", "episodes/town-hall.mp3"
	Kind Kind
	// Type is the MIME type the feed gives the file (audio, transcript); "" for the others.
	Type   string
	Bytes  int64
	SHA256 string // lowercase hex
	// Data is the file's content, read under the site's lock, for every kind but audio. Audio
	// stays on disk at Path; its SHA256 is the one episodes.json holds (measured when it was
	// published), so a reader of Path must check that the bytes still hash to it.
	Data []byte
	Path string
}

// PublicFiles lists the files of the site at dir that a web host serves, and only those:
// feed.xml, index.html, the page's assets, the artwork podcast.yaml names, and the audio,
// chapters and transcript of every published episode episodes.json holds. podcast.yaml,
// episodes.json (its tombstones name unpublished episodes), dot files and anything else in the
// folder are never among them. They are read under the site's lock, so they are one consistent
// state of the site; a file the record names that is missing, or audio whose size is not the
// record's, is an error naming it.
func PublicFiles(ctx context.Context, dir string, opts Options) ([]PublicFile, error) {
	if _, err := LoadShow(dir); err != nil {
		return nil, err
	}
	l, err := opts.lock(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer l.unlock()
	show, err := LoadShow(dir)
	if err != nil {
		return nil, err
	}
	eps, err := loadRecord(dir)
	if err != nil {
		return nil, err
	}
	var out []PublicFile
	read := func(rel string, kind Kind, typ string) error {
		if !servable(rel) {
			return errorf("%s: %q is not a file a site serves", dir, rel)
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return errorf("%s: %s is missing (%s)", dir, rel, missingHint(kind, dir))
		}
		if err != nil {
			return errorf("%w", err)
		}
		sum := sha256.Sum256(b)
		out = append(out, PublicFile{Rel: rel, Kind: kind, Type: typ, Bytes: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), Data: b, Path: p})
		return nil
	}
	var assets []string
	err = fs.WalkDir(Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			assets = append(assets, p)
		}
		return err
	})
	if err != nil {
		return nil, errorf("page assets: %w", err)
	}
	for _, a := range assets {
		if err := read(a, KindAsset, ""); err != nil {
			return nil, err
		}
	}
	if show.Image != "" {
		if err := read(path.Clean(show.Image), KindArtwork, ""); err != nil {
			return nil, err
		}
	}
	sortEpisodes(eps)
	for i := range eps {
		ep := &eps[i]
		if ep.Unpublished {
			continue
		}
		if ep.Audio.File != "" {
			f, err := audioFile(dir, ep.Audio.File, ep.Audio.Bytes, ep.Audio.SHA256, ep.Audio.Type)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		if ep.ChaptersFile != "" {
			if err := read(EpisodesDir+"/"+ep.ChaptersFile, KindChapters, ""); err != nil {
				return nil, err
			}
		}
		if ep.Transcript != nil && ep.Transcript.File != "" {
			if err := read(EpisodesDir+"/"+ep.Transcript.File, KindTranscript, ep.Transcript.Type); err != nil {
				return nil, err
			}
		}
	}
	if err := read(FeedName, KindFeed, ""); err != nil {
		return nil, err
	}
	if err := read(PageName, KindPage, ""); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b PublicFile) int { return strings.Compare(a.Rel, b.Rel) })
	return out, nil
}

// servable reports whether rel is a clean path inside the site that is no dot file.
func servable(rel string) bool {
	return fs.ValidPath(rel) && rel != "." && !strings.HasPrefix(rel, ".") && !strings.Contains(rel, "/.")
}

// audioFile describes an episode's audio from the record, checking the file's size against it.
func audioFile(dir, name string, bytes int64, sum, typ string) (PublicFile, error) {
	rel := EpisodesDir + "/" + name
	if !servable(rel) {
		return PublicFile{}, errorf("%s: %q is not a file a site serves", dir, rel)
	}
	p := filepath.Join(dir, EpisodesDir, filepath.FromSlash(name))
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return PublicFile{}, errorf("%s: %s is missing (%s)", dir, rel, missingHint(KindAudio, dir))
	}
	if err != nil {
		return PublicFile{}, errorf("%w", err)
	}
	if st.Size() != bytes {
		return PublicFile{}, errorf("%s: %s is %d bytes, %s says %d: it was changed outside spacecast (publish the episode's audio again to put it right)", dir, rel, st.Size(), RecordName, bytes)
	}
	if sum == "" { // a record of an older spacecast without the audio's digest
		if sum, _, err = fsutil.SHA256File(p); err != nil {
			return PublicFile{}, errorf("%w", err)
		}
	}
	return PublicFile{Rel: rel, Kind: KindAudio, Type: typ, Bytes: bytes, SHA256: sum, Path: p}, nil
}

func missingHint(k Kind, dir string) string {
	switch k {
	case KindFeed, KindPage, KindAsset:
		return "'spacecast feed build " + dir + "' makes it again"
	case KindArtwork:
		return "podcast.yaml's image names it: put the artwork back"
	}
	return RecordName + " names it: publish the episode's files again"
}
