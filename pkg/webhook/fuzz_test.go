package webhook

import (
	"crypto/sha256"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzVerify: any Authorization header and body. Verify never panics, and what it accepts was
// issued by the configured key for exactly this body.
func FuzzVerify(f *testing.F) {
	body := eventBody(f, EventRoomStarted, "EV_f", "room", "")
	now := time.Now()
	f.Add(lkToken(f, testKey, testSecret, body), body)
	f.Add("Bearer "+lkToken(f, testKey, testSecret, body), body)
	f.Add(craft(map[string]any{"alg": "none"}, map[string]any{"iss": testKey}, ""), body)
	f.Add(craft(map[string]any{"alg": "HS256"}, map[string]any{"iss": testKey, "exp": 1e300, "sha256": bodySHA(body)}, testSecret), body)
	f.Add(craft(map[string]any{"alg": "HS256"}, map[string]any{"iss": testKey, "exp": "12.5e2", "nbf": -1, "sha256": bodySHA(body)}, testSecret), body)
	f.Add(craft(map[string]any{"alg": "HS256"}, map[string]any{"iss": "APIempty", "exp": now.Unix() + 60, "sha256": bodySHA(body)}, ""), body)
	f.Add("a.b.c", []byte{})
	f.Add("....", []byte("{}"))
	v := NewVerifier(map[string]string{testKey: testSecret, "APIempty": ""}, DefaultLeeway)
	f.Fuzz(func(t *testing.T, token string, body []byte) {
		c, err := v.Verify(token, body, now)
		if err != nil {
			return
		}
		if c.APIKey != testKey || c.BodySHA != sha256.Sum256(body) {
			t.Fatalf("accepted claims %+v for another key or body", c)
		}
	})
}

// FuzzHandler: any signed body under any content type reaches the event parser. The handler never
// panics and never answers 5xx (the enqueuer does not fail), and a room it enqueues has a bounded,
// printable name.
func FuzzHandler(f *testing.F) {
	f.Add(eventBody(f, EventRoomStarted, "EV_1", "room", `{"spacecast":{"record":true}}`), lkType)
	f.Add(eventBody(f, EventRoomFinished, "EV_2", "room", ""), "application/json; charset=utf-8")
	f.Add(eventBody(f, "participant_joined", "EV_3", "room", ""), lkType)
	f.Add([]byte(`{"event":"room_started","id":"x","room":{"name":"\u0000"}}`), lkType)
	f.Add([]byte(`{"event":"room_started","id":"x","createdAt":1e999,"room":{"name":"a"}}`), lkType)
	f.Add([]byte(`null`), "application/x+json")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		rec := &recorder{}
		h := newHandler(t, rec, Rules{Metadata: true, Names: []string{"r*"}}, nil)
		now := time.Now()
		tok := craft(map[string]any{"alg": "HS256", "typ": "JWT"},
			map[string]any{"iss": testKey, "exp": now.Add(time.Minute).Unix(), "sha256": bodySHA(body)}, testSecret)
		w := post(h, http.MethodPost, ctype, tok, body)
		switch w.Code {
		case 200, 400, 413, 415:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		for _, r := range append(rec.started, rec.finished...) {
			if r.Name == "" || len(r.Name) > MaxRoomName || !utf8.ValidString(r.Name) || field("room name", r.Name, MaxRoomName, false) != nil {
				t.Fatalf("enqueued room name %q", r.Name)
			}
		}
	})
}
