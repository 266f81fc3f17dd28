package janus

import (
	"encoding/json"
	"testing"
)

// FuzzParseMessages feeds the parser of what a Janus server answers (long polls, request answers,
// plugin data) arbitrary bytes: it must never panic, everything it accepts names its kind, and
// the ids it reads go back out in the form they came.
func FuzzParseMessages(f *testing.F) {
	for _, s := range sampleMessages {
		f.Add([]byte(s))
	}
	f.Add([]byte(`[{"janus":"event","plugindata":{"plugin":"p","data":{"videoroom":"event","publishers":[{"id":"x","streams":[{"type":"audio","mid":"1","disabled":true}]}],"leaving":"ok"}}}]`))
	f.Add([]byte(`{"janus":"event","plugindata":{"plugin":"p","data":{"room":1e3}}}`))
	f.Add([]byte(`{"janus":"event","plugindata":{"plugin":"p","data":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := parseMessages(b)
		if err != nil {
			return
		}
		for _, m := range msgs {
			if m.Janus == "" {
				t.Fatalf("accepted a message without a kind: %q", b)
			}
			if m.PluginData == nil {
				continue
			}
			ev, err := m.event()
			if ev == nil {
				if err == nil {
					t.Fatal("no event and no error")
				}
				continue
			}
			for _, id := range append([]jid{ev.Room, ev.ID, ev.Leaving, ev.Unpublished, ev.Kicked}, pubIDs(ev)...) {
				out, err := json.Marshal(id)
				if err != nil {
					t.Fatalf("id %+v does not marshal: %v", id, err)
				}
				var back jid
				if err := json.Unmarshal(out, &back); err != nil || back != id {
					t.Fatalf("id %+v came back as %+v (%s, %v)", id, back, out, err)
				}
			}
			for i := range ev.Publishers {
				ev.Publishers[i].audioMids()
			}
		}
	})
}

func pubIDs(ev *pluginEvent) []jid {
	var ids []jid
	for _, p := range ev.Publishers {
		ids = append(ids, p.ID)
	}
	for _, p := range ev.Participants {
		ids = append(ids, p.ID)
	}
	return ids
}
