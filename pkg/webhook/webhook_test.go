package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	lkp "github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/spacecast/spacecast/internal/testutil/lkserver"
)

const (
	testKey    = "APIwebhook"
	testSecret = "a-secret-of-at-least-32-characters-0123"
)

// recorder is an Enqueuer that remembers its calls, and fails its next failNext calls.
type recorder struct {
	mu       sync.Mutex
	started  []Room
	finished []Room
	failNext int       // the next failNext calls fail with errBusy
	calls    chan call // when not nil, every successful call is sent here too
}

// call is one successful call of the recorder, and when it came.
type call struct {
	kind string // EventRoomStarted or EventRoomFinished
	room Room
	at   time.Time
}

func (r *recorder) RoomStarted(_ context.Context, room Room) error {
	return r.add(&r.started, EventRoomStarted, room)
}

func (r *recorder) RoomFinished(_ context.Context, room Room) error {
	return r.add(&r.finished, EventRoomFinished, room)
}

func (r *recorder) add(to *[]Room, kind string, room Room) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNext > 0 {
		r.failNext--
		return errBusy
	}
	*to = append(*to, room)
	if r.calls != nil {
		r.calls <- call{kind: kind, room: room, at: time.Now()}
	}
	return nil
}

func (r *recorder) counts() (started, finished int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.started), len(r.finished)
}

var _ Enqueuer = (*recorder)(nil)

var errBusy = errors.New("queue: busy (a test's failure)")

// eventBody is a webhook body as LiveKit makes it: protojson of its own WebhookEvent.
func eventBody(t testing.TB, event, id, room, metadata string) []byte {
	t.Helper()
	ev := &lkp.WebhookEvent{Event: event, Id: id, CreatedAt: time.Now().Unix()}
	if room != "" {
		ev.Room = &lkp.Room{Sid: "RM_" + id, Name: room, Metadata: metadata, EmptyTimeout: 300, CreationTime: time.Now().Unix()}
	}
	b, err := protojson.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lkToken signs body as LiveKit's server does (livekit/protocol's AccessToken, 5 minutes).
func lkToken(t testing.TB, key, secret string, body []byte) string {
	t.Helper()
	return lkserver.WebhookToken(t, key, secret, body)
}

// craft signs any header and claims with HS256 (or leaves the signature empty for "none").
func craft(header, claims map[string]any, secret string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := b64url.EncodeToString(h) + "." + b64url.EncodeToString(c)
	if header["alg"] == "none" {
		return in + "."
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(in))
	return in + "." + b64url.EncodeToString(m.Sum(nil))
}

func bodySHA(body []byte) string {
	s := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(s[:])
}

func newHandler(t testing.TB, rec *recorder, rules Rules, now func() time.Time) *Handler {
	t.Helper()
	h, err := New(Config{Keys: map[string]string{testKey: testSecret}, Rules: rules, Enqueuer: rec, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func post(h http.Handler, method, ctype, token string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/webhook", bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

const lkType = "application/webhook+json"

func TestHandler(t *testing.T) {
	started := eventBody(t, EventRoomStarted, "EV_1", "standup-1", "")
	finished := eventBody(t, EventRoomFinished, "EV_2", "standup-1", "")
	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": testKey, "exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Unix(), "iat": now.Unix(), "sha256": bodySHA(started)}
		mod(c)
		return c
	}
	hs := map[string]any{"alg": "HS256", "typ": "JWT"}
	cases := []struct {
		name       string
		method     string
		ctype      string
		token      string
		body       []byte
		clock      time.Duration // added to the handler's now
		rules      *Rules        // nil: all rooms
		status     int
		why        error // for a 401: the reason Verify gives
		wantStart  int
		wantFinish int
	}{
		{name: "a room_started signed by LiveKit's own code is accepted and enqueued once",
			token: lkToken(t, testKey, testSecret, started), body: started, status: 200, wantStart: 1},
		{name: "a room_finished ends the room whatever the rules (here none)",
			token: lkToken(t, testKey, testSecret, finished), body: finished, rules: &Rules{}, status: 200, wantFinish: 1},
		{name: "a token issued by an API key not configured is refused",
			token: lkToken(t, "APIother", testSecret, started), body: started, status: 401, why: ErrUnknownKey},
		{name: "a token signed with another secret is refused",
			token: lkToken(t, testKey, testSecret+"x", started), body: started, status: 401, why: ErrBadSignature},
		{name: "a body changed after signing (room name swapped) is refused",
			token: lkToken(t, testKey, testSecret, started), body: bytes.Replace(started, []byte("standup-1"), []byte("standup-2"), 1), status: 401, why: ErrBodyHash},
		{name: "a token expired 5 minutes ago (beyond the 30 s leeway) is refused",
			token: lkToken(t, testKey, testSecret, started), body: started, clock: 10 * time.Minute, status: 401, why: ErrExpired},
		{name: "a token within the leeway after its expiry is accepted (clocks differ a little)",
			token: lkToken(t, testKey, testSecret, started), body: started, clock: 5*time.Minute + 20*time.Second, status: 200, wantStart: 1},
		{name: "a token not valid before a minute from now is refused",
			token: lkToken(t, testKey, testSecret, started), body: started, clock: -time.Minute, status: 401, why: ErrNotYetValid},
		{name: "a request without Authorization is refused",
			body: started, status: 401, why: ErrNoSignature},
		{name: "a token with alg none is refused",
			token: craft(map[string]any{"alg": "none"}, claims(func(map[string]any) {}), ""), body: started, status: 401, why: ErrBadSignature},
		{name: "a token with alg HS512 is refused (LiveKit signs HS256 only)",
			token: craft(map[string]any{"alg": "HS512"}, claims(func(map[string]any) {}), testSecret), body: started, status: 401, why: ErrBadSignature},
		{name: "a token without exp is refused (it would be valid forever)",
			token: craft(hs, claims(func(c map[string]any) { delete(c, "exp") }), testSecret), body: started, status: 401, why: ErrBadSignature},
		{name: "a token valid for a day is refused (a replay could outlive the memory of events)",
			token: craft(hs, claims(func(c map[string]any) { c["exp"] = now.Add(24 * time.Hour).Unix() }), testSecret), body: started, status: 401, why: ErrTooLong},
		{name: "a token without the sha256 claim is refused",
			token: craft(hs, claims(func(c map[string]any) { delete(c, "sha256") }), testSecret), body: started, status: 401, why: ErrBodyHash},
		{name: "a token with a critical header extension is refused",
			token: craft(map[string]any{"alg": "HS256", "crit": []string{"b64"}}, claims(func(map[string]any) {}), testSecret), body: started, status: 401, why: ErrBadSignature},
		{name: "a hand-made HS256 token with all claims right is accepted, with a Bearer prefix",
			token: "Bearer " + craft(hs, claims(func(map[string]any) {}), testSecret), body: started, status: 200, wantStart: 1},
		{name: "a GET is refused with 405",
			method: http.MethodGet, token: lkToken(t, testKey, testSecret, nil), status: 405},
		{name: "a body declared text/plain is refused with 415",
			ctype: "text/plain", token: lkToken(t, testKey, testSecret, started), body: started, status: 415},
		{name: "a body larger than 1 MiB is refused with 413 before it is verified",
			token: lkToken(t, testKey, testSecret, nil), body: bytes.Repeat([]byte(" "), DefaultMaxBody+1), status: 413},
		{name: "a signed body that is not JSON is refused with 400",
			token: lkToken(t, testKey, testSecret, []byte("room_started")), body: []byte("room_started"), status: 400},
		{name: "a signed room_started without an event id is refused with 400",
			token: lkToken(t, testKey, testSecret, []byte(`{"event":"room_started","room":{"name":"a"}}`)), body: []byte(`{"event":"room_started","room":{"name":"a"}}`), status: 400},
		{name: "a signed room name holding a control character is refused with 400",
			token: lkToken(t, testKey, testSecret, []byte(`{"event":"room_started","id":"EV_9","room":{"name":"a\u001b[2Jb"}}`)), body: []byte(`{"event":"room_started","id":"EV_9","room":{"name":"a\u001b[2Jb"}}`), status: 400},
		{name: "a signed participant_joined is answered 200 and ignored",
			token: lkToken(t, testKey, testSecret, eventBody(t, "participant_joined", "EV_3", "standup-1", "")), body: eventBody(t, "participant_joined", "EV_3", "standup-1", ""), status: 200},
		{name: "a room no rule selects is answered 200 and not recorded",
			token: lkToken(t, testKey, testSecret, started), body: started, rules: &Rules{Names: []string{"podcast-*"}}, status: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{}
			rules := Rules{All: true}
			if c.rules != nil {
				rules = *c.rules
			}
			h := newHandler(t, rec, rules, func() time.Time { return time.Now().Add(c.clock) })
			method, ctype := c.method, c.ctype
			if method == "" {
				method = http.MethodPost
			}
			if ctype == "" {
				ctype = lkType
			}
			w := post(h, method, ctype, c.token, c.body)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if c.why != nil {
				if _, err := h.verify.Verify(c.token, c.body, time.Now().Add(c.clock)); !errors.Is(err, c.why) {
					t.Errorf("Verify: %v, want %v", err, c.why)
				}
			}
			if c.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("405 without Allow: POST")
			}
			if s, f := rec.counts(); s != c.wantStart || f != c.wantFinish {
				t.Errorf("enqueued %d started, %d finished; want %d, %d", s, f, c.wantStart, c.wantFinish)
			}
			if c.wantStart == 1 && (rec.started[0].Name != "standup-1" || rec.started[0].SID != "RM_EV_1") {
				t.Errorf("enqueued %+v, want room standup-1 (RM_EV_1)", rec.started[0])
			}
		})
	}
}

// TestHandlerReplay: LiveKit retries a delivery with the same token and body; an attacker who saw
// one can send it again; LiveKit could sign the same event anew. Each enqueues once.
func TestHandlerReplay(t *testing.T) {
	rec := &recorder{}
	h := newHandler(t, rec, Rules{All: true}, nil)
	body := eventBody(t, EventRoomStarted, "EV_replay", "room-a", "")
	tok := lkToken(t, testKey, testSecret, body)
	for i := range 3 {
		if w := post(h, "POST", lkType, tok, body); w.Code != 200 {
			t.Fatalf("delivery %d: status %d: %s", i, w.Code, w.Body)
		}
	}
	// The same event id signed again (a new token: another signature).
	time.Sleep(1100 * time.Millisecond) // a new iat, so a new token
	tok2 := lkToken(t, testKey, testSecret, body)
	if tok2 == tok {
		t.Fatal("the second token is the first: the test proves nothing")
	}
	if w := post(h, "POST", lkType, tok2, body); w.Code != 200 || !strings.Contains(w.Body.String(), "duplicate") {
		t.Fatalf("re-signed event: status %d %q, want 200 duplicate", w.Code, w.Body)
	}
	startedOnce(t, rec)
}

// startedOnce fails the test unless exactly one room was started.
func startedOnce(t *testing.T, rec *recorder) {
	t.Helper()
	if s, _ := rec.counts(); s != 1 {
		t.Fatalf("enqueued %d times, want once", s)
	}
}

// TestHandlerConcurrentReplay: copies of one delivery arriving at once enqueue once.
func TestHandlerConcurrentReplay(t *testing.T) {
	rec := &recorder{}
	h := newHandler(t, rec, Rules{All: true}, nil)
	body := eventBody(t, EventRoomStarted, "EV_burst", "room-b", "")
	tok := lkToken(t, testKey, testSecret, body)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if w := post(h, "POST", lkType, tok, body); w.Code != 200 {
				t.Errorf("status %d", w.Code)
			}
		})
	}
	wg.Wait()
	startedOnce(t, rec)
}

// TestHandlerEnqueueFails: when the enqueuer fails the answer is 503, the delivery is not
// remembered, and LiveKit's retry enqueues.
func TestHandlerEnqueueFails(t *testing.T) {
	rec := &recorder{failNext: 1}
	h := newHandler(t, rec, Rules{All: true}, nil)
	body := eventBody(t, EventRoomStarted, "EV_retry", "room-c", "")
	tok := lkToken(t, testKey, testSecret, body)
	if w := post(h, "POST", lkType, tok, body); w.Code != 503 {
		t.Fatalf("status %d, want 503", w.Code)
	}
	if w := post(h, "POST", lkType, tok, body); w.Code != 200 || !strings.Contains(w.Body.String(), "accepted") {
		t.Fatalf("retry: status %d %q, want 200 accepted", w.Code, w.Body)
	}
	startedOnce(t, rec)
}

// TestHandlerChunkedTooLarge: a body without Content-Length is cut at the limit, not read whole.
func TestHandlerChunkedTooLarge(t *testing.T) {
	rec := &recorder{}
	h := newHandler(t, rec, Rules{All: true}, nil)
	req := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", DefaultMaxBody+10)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", lkType)
	req.Header.Set("Authorization", lkToken(t, testKey, testSecret, nil))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 413 {
		t.Fatalf("status %d, want 413", w.Code)
	}
}

func TestNewRefuses(t *testing.T) {
	rec := &recorder{}
	cases := []struct {
		name string
		c    Config
	}{
		{"no keys: nothing could be verified", Config{Enqueuer: rec}},
		{"an empty secret would accept tokens signed with the empty key", Config{Keys: map[string]string{"k": ""}, Enqueuer: rec}},
		{"no enqueuer", Config{Keys: map[string]string{"k": "s"}}},
		{"a name pattern that is not a glob", Config{Keys: map[string]string{"k": "s"}, Enqueuer: rec, Rules: Rules{Names: []string{"room-["}}}},
	}
	for _, c := range cases {
		if _, err := New(c.c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: error %v, want ErrConfig", c.name, err)
		}
	}
}

func TestRules(t *testing.T) {
	ask, refuse := `{"spacecast":{"record":true},"theme":"dark"}`, `{"spacecast":{"record":false}}`
	cases := []struct {
		name  string
		rules Rules
		room  Room
		want  bool
	}{
		{"the zero Rules record nothing", Rules{}, Room{Name: "a"}, false},
		{"All records any room", Rules{All: true}, Room{Name: "a"}, true},
		{"a glob matches a name", Rules{Names: []string{"standup-*"}}, Room{Name: "standup-42"}, true},
		{"a glob is anchored: no match inside a name", Rules{Names: []string{"standup-*"}}, Room{Name: "x-standup-42"}, false},
		{"* does not cross a slash, as in path.Match", Rules{Names: []string{"team/*"}}, Room{Name: "team/a/b"}, false},
		{"metadata asking records when the Metadata rule is on", Rules{Metadata: true}, Room{Name: "a", Metadata: ask}, true},
		{"metadata asking records nothing when the Metadata rule is off", Rules{}, Room{Name: "a", Metadata: ask}, false},
		{"metadata refusing wins over All", Rules{All: true}, Room{Name: "a", Metadata: refuse}, false},
		{"metadata refusing wins over a name match", Rules{Names: []string{"*"}}, Room{Name: "a", Metadata: refuse}, false},
		{"metadata that is not JSON says nothing", Rules{Metadata: true, All: true}, Room{Name: "a", Metadata: "record please"}, true},
		{"a record that is not a boolean says nothing", Rules{Metadata: true}, Room{Name: "a", Metadata: `{"spacecast":{"record":"yes"}}`}, false},
	}
	for _, c := range cases {
		if got, why := c.rules.Record(c.room); got != c.want {
			t.Errorf("%s: got %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}

func TestParseEvent(t *testing.T) {
	t.Run("LiveKit's protojson of a room_started gives its room", func(t *testing.T) {
		e, err := ParseEvent(eventBody(t, EventRoomStarted, "EV_x", "my room ünïcode", `{"spacecast":{"record":true}}`))
		if err != nil {
			t.Fatal(err)
		}
		if e.ID != "EV_x" || e.Name != EventRoomStarted || e.Room.Name != "my room ünïcode" || e.Room.SID != "RM_EV_x" ||
			e.Room.Metadata != `{"spacecast":{"record":true}}` || time.Since(e.CreatedAt) > time.Minute {
			t.Fatalf("parsed %+v", e)
		}
	})
	cases := []struct {
		name string
		body string
		ok   bool
	}{
		{"two objects are not one event", `{"event":"x","id":"a"}{}`, false},
		{"an array is not an event", `[]`, false},
		{"a room name of 257 bytes is too long", `{"event":"room_started","id":"a","room":{"name":"` + strings.Repeat("n", 257) + `"}}`, false},
		{"a room name in invalid UTF-8 is refused", "{\"event\":\"room_started\",\"id\":\"a\",\"room\":{\"name\":\"\xff\"}}", false},
		{"a room name with a bidi override is refused", `{"event":"room_started","id":"a","room":{"name":"a\u202eb"}}`, false},
		{"a room_finished without a room is refused", `{"event":"room_finished","id":"a"}`, false},
		{"an event name with a newline is refused", `{"event":"room_started\n","id":"a","room":{"name":"r"}}`, false},
		{"createdAt that is not a number is refused", `{"event":"x","id":"a","createdAt":"soon"}`, false},
		{"an unknown event without a room is fine", `{"event":"egress_ended","id":"a"}`, true},
		{"metadata with a control character is dropped, the room kept", `{"event":"room_started","id":"a","room":{"name":"r","metadata":"\u0007"}}`, true},
	}
	for _, c := range cases {
		e, err := ParseEvent([]byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s: error %v", c.name, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v is not ErrMalformed", c.name, err)
		}
		if err == nil && e.Room.Metadata != "" {
			t.Errorf("%s: metadata %q kept", c.name, e.Room.Metadata)
		}
	}
}

func TestSeen(t *testing.T) {
	t0 := time.Now()
	s := newSeen(time.Minute, 3)
	if !s.reserve(t0, "a") || s.reserve(t0, "a") {
		t.Fatal("a reserved key is reserved again")
	}
	s.release("a")
	if !s.reserve(t0, "a") {
		t.Fatal("a released key cannot be reserved")
	}
	s.done(t0, "a")
	if s.reserve(t0.Add(59*time.Second), "a") {
		t.Fatal("a done key is forgotten before its time")
	}
	if !s.reserve(t0.Add(61*time.Second), "a") {
		t.Fatal("a done key is remembered after its time")
	}
	s.done(t0.Add(61*time.Second), "a")
	for _, k := range []string{"b", "c", "d", "e"} {
		s.reserve(t0.Add(62*time.Second), k)
		s.done(t0.Add(62*time.Second), k)
	}
	if n := s.len(); n != 3 {
		t.Fatalf("%d keys remembered, bound 3", n)
	}
	if !s.reserve(t0.Add(62*time.Second), "a") {
		t.Fatal("the oldest key is not the one forgotten")
	}
}
