package janus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

func TestEndpoint(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		err            error
	}{
		{"a full API URL is kept", "http://10.0.0.1:8088/janus", "http://10.0.0.1:8088/janus", nil},
		{"no path means /janus", "http://10.0.0.1:8088", "http://10.0.0.1:8088/janus", nil},
		{"a bare slash means /janus", "https://janus.example/", "https://janus.example/janus", nil},
		{"a trailing slash is dropped", "http://h:8088/janus/", "http://h:8088/janus", nil},
		{"a custom base path is kept", "http://h/gw/janus", "http://h/gw/janus", nil},
		{"query, fragment and user are dropped", "http://u:p@h:8088/janus?x=1#y", "http://h:8088/janus", nil},
		{"WebSocket URLs are refused with a hint", "ws://h:8188/", "", room.ErrURL},
		{"other schemes are refused", "livekit://h", "", room.ErrURL},
		{"no host is refused", "http:///janus", "", room.ErrURL},
		{"garbage is refused", "http://[::1", "", room.ErrURL},
		{"credentials are not repeated in an error", "ws://u:PW@h:8188/?apisecret=S3", "", room.ErrURL},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := endpoint(c.in)
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("endpoint(%q) error %v, want %v", c.in, err, c.err)
			}
			if got != c.want {
				t.Errorf("endpoint(%q) = %q, want %q", c.in, got, c.want)
			}
			if err != nil && (strings.Contains(err.Error(), "PW") || strings.Contains(err.Error(), "S3")) {
				t.Errorf("the error %q repeats a credential", err)
			}
			if err != nil && !strings.Contains(c.name, "garbage") && !strings.Contains(c.name, "credentials") && !strings.Contains(err.Error(), c.in) {
				t.Errorf("the error %q does not name the input %q", err, c.in)
			}
		})
	}
}

// fakeJanus answers every request with body and status: what a server that is not Janus, or a
// Janus refusing the secret, says. The real Janus is in e2e_test.go.
func fakeJanus(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/janus"
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/janus"
}

func TestDialErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		url  func(t *testing.T) string
		opts Options
		want error
		says string // the message must contain this
	}{
		{"a web page is not the Janus API", func(t *testing.T) string { return fakeJanus(t, 200, "<html>hello</html>") },
			Options{Room: "1"}, room.ErrURL, "not the Janus API"},
		{"a 404 is not the Janus API", func(t *testing.T) string { return fakeJanus(t, 404, "not found") },
			Options{Room: "1"}, room.ErrURL, "HTTP 404"},
		{"JSON that is not Janus is not the Janus API", func(t *testing.T) string { return fakeJanus(t, 200, `{"hello":"world"}`) },
			Options{Room: "1"}, room.ErrURL, "no \"janus\" field"},
		{"a refused secret is ErrAuth", func(t *testing.T) string {
			return fakeJanus(t, 200, `{"janus":"error","transaction":"x","error":{"code":403,"reason":"Unauthorized request (wrong or missing secret/token)"}}`)
		}, Options{Room: "1", APISecret: "wrong"}, room.ErrAuth, "wrong or missing secret"},
		{"nothing listening is ErrUnreachable", closedPort, Options{Room: "1"}, room.ErrUnreachable, "connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := c.url(t)
			c.opts.RTC = rtc.Options{Loopback: true}
			begin := time.Now()
			conn, err := Dial(context.Background(), u, c.opts)
			if conn != nil {
				conn.Close()
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Dial(%s): %v, want %v", u, err, c.want)
			}
			if !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), strings.TrimSuffix(u, "/janus")) {
				t.Errorf("the error %q does not name the URL or say %q", err, c.says)
			}
			if took := time.Since(begin); took > time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
	t.Run("no room is refused before anything is sent", func(t *testing.T) {
		_, err := Dial(context.Background(), closedPort(t), Options{})
		if !errors.Is(err, room.ErrNoRoomName) {
			t.Errorf("Dial without a room: %v", err)
		}
	})
	t.Run("an unknown plugin is refused", func(t *testing.T) {
		_, err := Dial(context.Background(), closedPort(t), Options{Room: "1", Plugin: "textroom"})
		if err == nil || !strings.Contains(err.Error(), "textroom") {
			t.Errorf("Dial with plugin textroom: %v", err)
		}
	})
}

func TestRoster(t *testing.T) {
	type step struct {
		up       bool   // up or down
		id, name string // Janus id and display name
		want     string // identity reported ("" for a down that reports no one)
	}
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"a publisher is known by their Janus id", []step{
			{true, "11", "Ann", "11"}, {true, "22", "Ben", "22"}, {false, "11", "", "11"},
		}},
		{"publishing again under the same id is the same person", []step{
			{true, "11", "Ann", "11"}, {false, "11", "", "11"}, {true, "11", "Ann", "11"},
		}},
		{"rejoining under a new id with the same name is the same person", []step{
			{true, "11", "Ann", "11"}, {false, "11", "", "11"}, {true, "33", "Ann", "11"},
		}},
		{"two present people with one name stay apart", []step{
			{true, "11", "Guest", "11"}, {true, "22", "Guest", "22"},
		}},
		{"a nameless newcomer is not matched to anyone", []step{
			{true, "11", "", "11"}, {false, "11", "", "11"}, {true, "22", "", "22"},
		}},
		{"an id taken by an earlier identity gets a suffix", []step{
			{true, "11", "Ann", "11"}, {false, "11", "", "11"}, {true, "33", "Ann", "11"}, {true, "11", "Cy", "11-2"},
		}},
		{"a down for an unknown id reports no one", []step{
			{false, "99", "", ""},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRoster()
			for i, s := range c.steps {
				var got string
				if s.up {
					p, _ := r.up(s.id, s.name)
					got = p.identity
				} else if p := r.down(s.id); p != nil {
					got = p.identity
				}
				if got != s.want {
					t.Fatalf("step %d (%+v): identity %q, want %q", i, s, got, s.want)
				}
			}
		})
	}
	t.Run("after a new session, present people are claimed by name and the rest swept", func(t *testing.T) {
		r := newRoster()
		r.up("11", "Ann")
		r.up("22", "Ben")
		r.forget()
		if p, joined := r.up("77", "Ann"); p.identity != "11" || joined {
			t.Errorf("Ann after the restart: %q (joined again: %v), want 11 still present", p.identity, joined)
		}
		gone := r.sweep()
		if len(gone) != 1 || gone[0].identity != "22" {
			t.Errorf("swept %+v, want Ben (22) only", gone)
		}
		if p, _ := r.up("88", "Ben"); p.identity != "22" {
			t.Errorf("Ben back later: %q, want 22", p.identity)
		}
	})
}

func TestJIDKeepsItsForm(t *testing.T) {
	for _, in := range []string{`1234`, `"1234"`, `"room-a"`, `18446744073709551615`, `null`} {
		var i jid
		if err := json.Unmarshal([]byte(in), &i); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, err := json.Marshal(i)
		if err != nil || string(out) != in {
			t.Errorf("%s came back as %s (%v)", in, out, err)
		}
	}
	for _, in := range []string{`-1`, `1.5`, `1e3`, `true`, `{}`, `[]`, `18446744073709551616`} {
		var i jid
		if err := json.Unmarshal([]byte(in), &i); err == nil {
			t.Errorf("%s was accepted as an id (%q)", in, i.s)
		}
	}
	if parseRoomID("1234").str || !parseRoomID("lobby").str || !parseRoomID("12a").str {
		t.Error("parseRoomID: digits must be numeric ids, anything else a string id")
	}
}

// Messages as Janus 1.1.2 sent them in the end-to-end tests.
var sampleMessages = []string{
	`{"janus": "success", "transaction": "a", "data": {"id": 8621322112042121}}`,
	`{"janus": "ack", "session_id": 2701041295174406, "transaction": "c"}`,
	`{"janus": "error", "session_id": 123, "transaction": "k", "error": {"code": 458, "reason": "No such session 123"}}`,
	`{"janus": "success", "session_id": 2701041295174406, "transaction": "c", "sender": 1439286332289673, "plugindata": {"plugin": "janus.plugin.videoroom", "data": {"videoroom": "success", "room": 1234, "exists": true}}}`,
	`{"janus": "success", "session_id": 2701041295174406, "transaction": "c", "sender": 1439286332289673, "plugindata": {"plugin": "janus.plugin.videoroom", "data": {"videoroom": "event", "error_code": 426, "error": "No such room (99)"}}}`,
	`[{"janus": "event", "session_id": 2701041295174406, "transaction": "c", "sender": 1439286332289673, "plugindata": {"plugin": "janus.plugin.videoroom", "data": {"videoroom": "joined", "room": 1234, "description": "Test room", "id": 2197547041590748, "private_id": 2284108291, "publishers": [{"id": 5, "display": "Ann", "streams": [{"type": "audio", "mindex": 0, "mid": "0", "codec": "opus"}]}], "attendees": []}}}]`,
	`[{"janus": "event", "session_id": 1, "sender": 2, "plugindata": {"plugin": "janus.plugin.videoroom", "data": {"videoroom": "event", "room": 1234, "unpublished": 5}}}, {"janus": "keepalive"}]`,
	`{"janus": "success", "session_id": 1, "transaction": "c", "sender": 6, "plugindata": {"plugin": "janus.plugin.audiobridge", "data": {"audiobridge": "participants", "room": 1234, "participants": [{"id": 7, "display": "Ben", "setup": true, "muted": false}]}}}`,
	`[{"janus": "event", "session_id": 1, "sender": 6, "plugindata": {"plugin": "janus.plugin.audiobridge", "data": {"audiobridge": "event", "room": "lobby", "leaving": "ben"}}}]`,
	`[{"janus": "hangup", "session_id": 1, "sender": 6, "reason": "DTLS alert"}, {"janus": "timeout", "session_id": 1}]`,
	`{"janus": "event", "session_id": 1, "transaction": "t", "sender": 9, "plugindata": {"plugin": "janus.plugin.videoroom", "data": {"videoroom": "attached", "room": 1234, "streams": []}}, "jsep": {"type": "offer", "sdp": "v=0\r\n"}}`,
}

func TestParseMessages(t *testing.T) {
	for _, in := range sampleMessages {
		msgs, err := parseMessages([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		for _, m := range msgs {
			if m.PluginData != nil {
				if _, err := m.event(); err != nil && !strings.Contains(in, "error_code") {
					t.Errorf("%s: plugin data: %v", in, err)
				}
			}
		}
	}
	msgs, _ := parseMessages([]byte(sampleMessages[5]))
	ev, err := msgs[0].event()
	if err != nil || ev.VideoRoom != "joined" || ev.ID.String() != "2197547041590748" || ev.PrivateID != 2284108291 ||
		len(ev.Publishers) != 1 || ev.Publishers[0].Display != "Ann" || fmt.Sprint(ev.Publishers[0].audioMids()) != "[0]" {
		t.Errorf("joined: %+v, %v", ev, err)
	}
	msgs, _ = parseMessages([]byte(sampleMessages[4]))
	var pe *pluginError
	if _, err := msgs[0].event(); !errors.As(err, &pe) || pe.Code != vrNoSuchRoom {
		t.Errorf("plugin error: %v", err)
	}
	msgs, _ = parseMessages([]byte(sampleMessages[8]))
	if ev, _ := msgs[0].event(); ev.Room != stringID("lobby") || ev.Leaving != stringID("ben") {
		t.Errorf("string ids: %+v", ev)
	}
	for _, bad := range []string{``, `[]x`, `{"id": 1}`, `[{"janus": "ack"}, {}]`, `"janus"`, `<html>`} {
		if _, err := parseMessages([]byte(bad)); !errors.Is(err, errNotJanus) {
			t.Errorf("%q: %v, want errNotJanus", bad, err)
		}
	}
}

func TestPublisherDataOnly(t *testing.T) {
	for _, tt := range []struct {
		why     string
		streams []stream
		want    bool
	}{
		{"a recorder publishing its announcements' data channel is not a speaker", []stream{{Type: "data", Mid: "0"}}, true},
		{"audio with data is a speaker", []stream{{Type: "audio", Mid: "0", Codec: "opus"}, {Type: "data", Mid: "1"}}, false},
		{"video alone is listed as before", []stream{{Type: "video", Mid: "0"}}, false},
		{"no streams (VideoRoom 0.x) is not data-only", nil, false},
	} {
		p := publisher{ID: numericID("1"), Streams: tt.streams}
		if got := p.dataOnly(); got != tt.want {
			t.Errorf("%s: dataOnly %v", tt.why, got)
		}
	}
}
