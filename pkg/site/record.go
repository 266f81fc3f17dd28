package site

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spacecast/spacecast/pkg/feed"
)

// File names in a site folder.
const (
	ShowName    = "podcast.yaml"
	RecordName  = "episodes.json"
	FeedName    = "feed.xml"
	PageName    = "index.html"
	EpisodesDir = "episodes"
)

// recordFormat names the document in episodes.json.
const recordFormat = "spacecast-episodes"

// recordVersion is the episodes.json version this package writes and reads.
const recordVersion = 1

// recordDoc is episodes.json: every episode ever published, unpublished ones as tombstones.
type recordDoc struct {
	Format   string         `json:"format"`
	Version  int            `json:"version"`
	Episodes []feed.Episode `json:"episodes"`
}

// sortEpisodes orders the record: oldest first, then by slug, so the file is a pure function of
// its episodes.
func sortEpisodes(eps []feed.Episode) {
	slices.SortStableFunc(eps, func(a, b feed.Episode) int {
		if c := a.PubDate.Compare(b.PubDate); c != 0 {
			return c
		}
		return strings.Compare(a.Slug, b.Slug)
	})
}

// encodeRecord renders episodes.json; the same episodes give the same bytes.
func encodeRecord(eps []feed.Episode) ([]byte, error) {
	eps = slices.Clone(eps)
	sortEpisodes(eps)
	if eps == nil {
		eps = []feed.Episode{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(recordDoc{Format: recordFormat, Version: recordVersion, Episodes: eps}); err != nil {
		return nil, errorf("encode %s: %w", RecordName, err)
	}
	return b.Bytes(), nil
}

// parseRecord reads episodes.json and checks what the site relies on: known format and version,
// valid and unique slugs, present and unique GUIDs, files in episodes/.
func parseRecord(name string, data []byte) ([]feed.Episode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc recordDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, errorf("%s: %w: %s", name, ErrBadRecord, jsonErrorAt(data, err))
	}
	if dec.More() {
		return nil, errorf("%s: %w: text after the document", name, ErrBadRecord)
	}
	if doc.Format != recordFormat || doc.Version != recordVersion {
		return nil, errorf("%s: %w: format %q version %d (this spacecast reads %q version %d)", name, ErrBadRecord, doc.Format, doc.Version, recordFormat, recordVersion)
	}
	slugs := map[string]bool{}
	guids := map[string]bool{}
	for i, ep := range doc.Episodes {
		where := fmt.Sprintf("episode %d (%q)", i+1, ep.Slug)
		switch {
		case !ValidSlug(ep.Slug):
			return nil, errorf("%s: %w: %s: slug is not lowercase ASCII letters, digits and hyphens", name, ErrBadRecord, where)
		case slugs[ep.Slug]:
			return nil, errorf("%s: %w: %s: slug appears twice", name, ErrBadRecord, where)
		case ep.GUID == "" || guids[ep.GUID]:
			return nil, errorf("%s: %w: %s: GUID is empty or appears twice", name, ErrBadRecord, where)
		case ep.PubDate.IsZero():
			return nil, errorf("%s: %w: %s: no pub_date", name, ErrBadRecord, where)
		}
		for _, f := range episodeFiles(&ep) {
			if f != filepath.Base(f) || f == "." || f == ".." || strings.ContainsAny(f, `/\`) {
				return nil, errorf("%s: %w: %s: file %q is not a plain name in %s/", name, ErrBadRecord, where, f, EpisodesDir)
			}
		}
		slugs[ep.Slug], guids[ep.GUID] = true, true
	}
	return doc.Episodes, nil
}

// jsonErrorAt says where in data a JSON error is, as line:column.
func jsonErrorAt(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	line := bytes.Count(data[:off], []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// loadRecord reads SITE/episodes.json; a missing file is an empty record.
func loadRecord(dir string) ([]feed.Episode, error) {
	path := filepath.Join(dir, RecordName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errorf("%w", err)
	}
	eps, err := parseRecord(path, data)
	if err != nil {
		return nil, fmt.Errorf("%w (spacecast writes this file: restore it from the uploaded copy or a backup)", err)
	}
	return eps, nil
}

// episodeFiles lists the files in episodes/ that belong to ep.
func episodeFiles(ep *feed.Episode) []string {
	var files []string
	if ep.Audio.File != "" {
		files = append(files, ep.Audio.File)
	}
	if ep.ChaptersFile != "" {
		files = append(files, ep.ChaptersFile)
	}
	if ep.Transcript != nil && ep.Transcript.File != "" {
		files = append(files, ep.Transcript.File)
	}
	return files
}

// find returns the index of the episode with slug, or -1.
func find(eps []feed.Episode, slug string) int {
	return slices.IndexFunc(eps, func(e feed.Episode) bool { return e.Slug == slug })
}
