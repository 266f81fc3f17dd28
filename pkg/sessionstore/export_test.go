package sessionstore

import (
	"slices"

	"github.com/spacecast/spacecast/pkg/objstore"
)

// NextName is nextName, for its table test.
var NextName = nextName

// ParseRedactJournal and ParsePruneJournal decode journals, for their fuzz targets; Inside is
// the check both make of every key.
func ParseRedactJournal(b []byte, u objstore.URL) ([]string, error) {
	j, err := parseRedactJournal(b, u)
	return slices.Concat(j.New, j.Old, j.Staged), err
}

func ParsePruneJournal(b []byte, u objstore.URL) ([]string, error) {
	j, err := parsePruneJournal(b, u)
	var keys []string
	for _, it := range j.Objects {
		keys = append(keys, it.Key)
	}
	return keys, err
}
