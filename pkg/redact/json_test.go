package redact

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestResultJSON pins the JSON of a redaction (keys, order, times in seconds, what is left out
// when empty) and reads it back into the same Result.
func TestResultJSON(t *testing.T) {
	r := &Result{Session: "s", Identity: "brook", Name: "Brook", From: 10012291666, To: 30500 * time.Millisecond,
		Tracks: []TrackChange{{ID: "b1", File: "tracks/b1.opus", Action: "silenced", Packets: 1025, Silenced: 20500 * time.Millisecond},
			{ID: "b2", File: "tracks/b2.opus", Action: "deleted"}},
		Mix: "rebuilt", MixFile: "mix.opus", Sealed: true}
	const want = `{"session":"s","identity":"brook","name":"Brook","whole":false,"from_seconds":10.012291666,"to_seconds":30.5,` +
		`"tracks":[{"id":"b1","file":"tracks/b1.opus","action":"silenced","packets":1025,"silenced_seconds":20.5},` +
		`{"id":"b2","file":"tracks/b2.opus","action":"deleted"}],"mix":"rebuilt","mix_file":"mix.opus",` +
		`"sealed":true,"unsealed":false,"signed":false,"signature_removed":false}`
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, r) {
		t.Errorf("read back as %+v (%v), want %+v", back, err, r)
	}
}
