package capture

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/spacecast/spacecast/pkg/session"
)

// TestManifestRoomURLHasNoCredentials records nothing into a session created with a room URL that
// carries credentials in its query, userinfo and fragment: manifest.json, as the recorder writes
// it, holds none of them, and keeps the display name of a participant exactly as the room gave it.
func TestManifestRoomURLHasNoCredentials(t *testing.T) {
	const rawName = "Eve\x1b]0;pwned\x07\u202e"
	for _, tc := range []struct {
		why, url, want string
		secrets        []string
	}{
		{"key, password and jwt lose their values", "https://w.example/whep?key=K1&password=P2&jwt=J3", "https://w.example/whep?key=REDACTED&password=REDACTED&jwt=REDACTED", []string{"K1", "P2", "J3"}},
		{"an S3 presigned URL loses its signature and credential", "https://s3.example/x?X-Amz-Credential=AKIAQQ&X-Amz-Signature=SIGSIG", "https://s3.example/x?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED", []string{"AKIAQQ", "SIGSIG"}},
		{"access_token and sig lose their values", "wss://lk.example/rtc?access_token=TT.TT&sig=SS", "wss://lk.example/rtc?access_token=REDACTED&sig=REDACTED", []string{"TT.TT", "SS"}},
		{"an unknown name loses its value", "https://w.example/?room=R00M", "https://w.example/?room=REDACTED", []string{"R00M"}},
		{"userinfo and fragment are dropped", "https://alice:HUNTER2@w.example/whep#FRAG", "https://w.example/whep", []string{"alice", "HUNTER2", "FRAG"}},
	} {
		t.Run(tc.why, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s")
			rec, err := Create(Options{Dir: dir, Room: session.Room{Name: "unit", Protocol: "whep", URL: tc.url}})
			if err != nil {
				t.Fatal(err)
			}
			rec.Join(Participant{Identity: "eve", Name: rawName})
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, session.ManifestName))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("manifest.json holds %q:\n%s", s, b)
				}
			}
			var m session.Manifest
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m.Room.URL != tc.want {
				t.Errorf("room URL %q, want %q", m.Room.URL, tc.want)
			}
			if len(m.Participants) != 1 || m.Participants[0].Name != rawName {
				t.Errorf("participants %+v: want the raw name %q", m.Participants, rawName)
			}
		})
	}
}
