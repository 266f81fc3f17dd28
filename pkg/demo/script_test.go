package demo

import (
	"io/fs"
	"testing"
	"time"

	"github.com/spacecast/spacecast"
)

func bundled(t testing.TB) fs.FS {
	t.Helper()
	sub, err := fs.Sub(spacecast.DemoSession, "testdata/demo/session")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// byWho groups stints by speaker.
func byWho(stints []Stint) map[string][]Stint {
	out := map[string][]Stint{}
	for _, s := range stints {
		out[s.Speaker] = append(out[s.Speaker], s)
	}
	return out
}

// TestScript: the bundled session makes the room the demo promises, at full length and shortened.
func TestScript(t *testing.T) {
	for _, length := range []time.Duration{0, 30 * time.Second} {
		stints, speakers, total, err := Script(bundled(t), length)
		if err != nil {
			t.Fatal(err)
		}
		if length > 0 && total != length || length == 0 && (total < 100*time.Second || total > 120*time.Second) {
			t.Errorf("length %v: the room lasts %v", length, total)
		}
		scale := float64(total) / float64(109*time.Second+900*time.Millisecond)
		if len(speakers) != 3 {
			t.Fatalf("%d speakers, want 3: %+v", len(speakers), speakers)
		}
		who := byWho(stints)
		if len(who) != 3 {
			t.Fatalf("%d speakers talk, want 3", len(who))
		}
		for id, ss := range who {
			for i, s := range ss {
				if end := s.At + s.Duration(); end > total {
					t.Errorf("length %v: %s's stint %d ends at %v, after the room (%v)", length, id, i, end, total)
				}
				if i > 0 && s.At < ss[i-1].At+ss[i-1].Duration() {
					t.Errorf("length %v: %s talks twice at once at %v", length, id, s.At)
				}
			}
		}
		if first := who["cyd"][0].At; first < time.Duration(float64(20*time.Second)*scale) {
			t.Errorf("length %v: cyd joins at %v: not late", length, first)
		}
		b := who["brook"]
		if len(b) != 2 {
			t.Fatalf("length %v: brook talks in %d stints, want 2 (leaves and comes back)", length, len(b))
		}
		if away := b[1].At - (b[0].At + b[0].Duration()); away < time.Duration(float64(10*time.Second)*scale) {
			t.Errorf("length %v: brook is away %v", length, away)
		}
		if len(who["ada"]) != 2 {
			t.Errorf("length %v: ada talks in %d stints, want 2 (she mutes once)", length, len(who["ada"]))
		}
		overlap := false
		for _, x := range stints {
			for _, y := range stints {
				if x.Speaker != y.Speaker && x.At < y.At && y.At < x.At+x.Duration() {
					overlap = true
				}
			}
		}
		if !overlap {
			t.Errorf("length %v: no two speakers overlap", length)
		}
		t.Logf("length %v (room %v):", length, total)
		for _, s := range stints {
			t.Logf("  %-6s %7.2f s → %7.2f s  %s from %.2f s", s.Speaker, s.At.Seconds(), (s.At + s.Duration()).Seconds(), s.File, float64(s.FromSample)/48000)
		}
	}
}

// TestScriptErrors: a session folder without a manifest is named in the error.
func TestScriptErrors(t *testing.T) {
	if _, _, _, err := Script(fstestEmpty{}, 0); err == nil {
		t.Fatal("no error for a folder without manifest.json")
	} else {
		t.Log(err)
	}
}

type fstestEmpty struct{}

func (fstestEmpty) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
