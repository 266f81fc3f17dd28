package sessionstore_test

import (
	"strings"
	"testing"

	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/sessionstore"
)

var journalSession = objstore.URL{Bucket: "b", Prefix: "shows/town-hall"}

// FuzzJournals: a journal is outside input (anyone who may write to the bucket may write one):
// whatever the bytes, a journal that parses names only keys below its session, never the
// session's neighbour (shows/town-hall-2/…), a key leaving it (../) or the session's own prefix.
func FuzzJournals(f *testing.F) {
	f.Add([]byte(`{"manifest_sha256":"` + strings.Repeat("a", 64) + `","staged":["shows/town-hall/tracks/.a.r1.opus.tmp-redact"],"new":["shows/town-hall/tracks/a.r1.opus"],"old":["shows/town-hall/tracks/a.opus"]}`))
	f.Add([]byte(`{"id":"x","objects":[{"key":"shows/town-hall/manifest.json","version_id":"1"},{"key":"shows/town-hall/tracks/a.opus","etag":"\"e\""}]}`))
	f.Add([]byte(`{"objects":[{"key":"shows/town-hall-2/manifest.json"}]}`))
	f.Add([]byte(`{"objects":[{"key":"shows/town-hall/../other/manifest.json"}]}`))
	f.Add([]byte(`{"manifest_sha256":"` + strings.Repeat("a", 64) + `","new":["shows/town-hall"],"staged":["x"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for name, parse := range map[string]func([]byte, objstore.URL) ([]string, error){
			"redact": sessionstore.ParseRedactJournal, "prune": sessionstore.ParsePruneJournal} {
			keys, err := parse(b, journalSession)
			if err != nil {
				continue
			}
			for _, k := range keys {
				rel, ok := strings.CutPrefix(k, journalSession.Dir())
				if !ok || rel == "" || strings.Contains("/"+rel+"/", "/../") || strings.Contains("/"+rel+"/", "/./") || strings.Contains(rel, "//") || strings.HasSuffix(rel, "/") {
					t.Fatalf("%s journal %q accepted the key %q", name, b, k)
				}
			}
		}
	})
}
