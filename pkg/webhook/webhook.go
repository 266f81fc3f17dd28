// Package webhook receives LiveKit's webhooks and turns the rooms that start and finish into
// record jobs: it verifies each request as LiveKit signs it, bounds and checks every field, applies
// the Rules of which rooms to record, and calls an Enqueuer once per event however often LiveKit
// retries a delivery.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Enqueuer takes the jobs (pkg/fleet satisfies it). It is called once per room event, and must
// itself be idempotent by room: the receiver's memory of events is bounded and per process, so a
// replay after it forgot, or one that reached another receiver, calls again. An error makes the
// receiver answer 503, and LiveKit retries the delivery.
type Enqueuer interface {
	// RoomStarted submits a record job for a room the Rules select.
	RoomStarted(ctx context.Context, room Room) error
	// RoomFinished ends the room's record job. It is called for every room that finishes, recorded
	// or not (its metadata may have changed since it started): without a job it does nothing.
	RoomFinished(ctx context.Context, room Room) error
}

// Defaults of Config.
const (
	DefaultMaxBody        = 1 << 20
	DefaultLeeway         = 30 * time.Second
	DefaultRemember       = 100_000
	DefaultEnqueueTimeout = 10 * time.Second
)

// Config configures a Handler.
type Config struct {
	// Keys maps API keys to their secrets: the keys LiveKit may sign webhooks with (its
	// webhook.api_key). Required; no secret may be empty.
	Keys map[string]string
	// Rules say which starting rooms are recorded.
	Rules Rules
	// Enqueuer takes the jobs. Required.
	Enqueuer Enqueuer
	// MaxBody bounds a request's body in bytes; longer ones get 413. Default DefaultMaxBody.
	MaxBody int64
	// Leeway is the clock difference allowed against the token's exp, nbf and iat. Default
	// DefaultLeeway.
	Leeway time.Duration
	// Remember bounds how many deliveries are remembered against replays (each for as long as a
	// token can be valid: 5 minutes plus twice the leeway). Default DefaultRemember.
	Remember int
	// EnqueueTimeout bounds one call of the Enqueuer. Default DefaultEnqueueTimeout.
	EnqueueTimeout time.Duration
	// Log receives a line per request refused or acted on. Default: none.
	Log *slog.Logger
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Handler is the http.Handler for LiveKit's webhooks. Its answers: 405 not a POST, 415 not JSON,
// 413 body too large, 401 signature missing or wrong (unknown key, bad signature, expired, body not
// the one signed), 400 not a well-formed event, 503 the Enqueuer failed (LiveKit retries), and 200
// for an event acted on, ignored (another kind, a room no rule selects) or already seen (a replay).
type Handler struct {
	c      Config
	verify *Verifier
	seen   *seen
}

var _ http.Handler = (*Handler)(nil)

// New checks the configuration and makes a Handler.
func New(c Config) (*Handler, error) {
	if len(c.Keys) == 0 {
		return nil, fmt.Errorf("%w: no API keys to verify webhooks with", ErrConfig)
	}
	for k, s := range c.Keys {
		if k == "" || s == "" {
			return nil, fmt.Errorf("%w: API key %q has an empty key or secret", ErrConfig, k)
		}
	}
	if c.Enqueuer == nil {
		return nil, fmt.Errorf("%w: no enqueuer", ErrConfig)
	}
	if err := c.Rules.Check(); err != nil {
		return nil, err
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.Leeway <= 0 {
		c.Leeway = DefaultLeeway
	}
	if c.Remember <= 0 {
		c.Remember = DefaultRemember
	}
	if c.EnqueueTimeout <= 0 {
		c.EnqueueTimeout = DefaultEnqueueTimeout
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	v := NewVerifier(c.Keys, c.Leeway)
	// A delivery is remembered for as long as its token can pass Verify: valid for at most
	// maxValid from now, plus the leeway after exp.
	// (Two keys per delivery: its event id and its token's signature.)
	return &Handler{c: c, verify: v, seen: newSeen(v.maxValid+c.Leeway, 2*c.Remember)}, nil
}

// NewVerifier makes a Verifier for the API keys (key → secret) with the clock leeway, refusing
// tokens valid for longer than LiveKit signs for (5 minutes) plus the leeway. A key with an empty
// secret is left out: it would accept tokens anyone can sign.
func NewVerifier(keys map[string]string, leeway time.Duration) *Verifier {
	leeway = max(leeway, 0)
	v := &Verifier{keys: make(map[string][]byte, len(keys)), leeway: leeway, maxValid: livekitValidFor + leeway}
	for k, s := range keys {
		if k != "" && s != "" {
			v.keys[k] = []byte(s)
		}
	}
	return v
}

// ServeHTTP answers one webhook delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	outcome, err := h.serve(r)
	status := statusOf(err)
	log := h.c.Log.With("remote", r.RemoteAddr, "status", status)
	if err != nil {
		log.Warn("webhook refused", "err", err)
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		msg := http.StatusText(status)
		if status == http.StatusBadRequest {
			msg = err.Error() // the request was signed by a known key: its sender may read why
		}
		http.Error(w, msg, status)
		return
	}
	log.Info("webhook", "outcome", outcome)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, outcome+"\n") // the answer is the status; a lost body is the client's loss
}

// serve checks a request and acts on it, saying what it did.
func (h *Handler) serve(r *http.Request) (string, error) {
	if r.Method != http.MethodPost {
		return "", fmt.Errorf("%w: %.16q", ErrMethod, r.Method)
	}
	if err := jsonContentType(r.Header.Get("Content-Type")); err != nil {
		return "", err
	}
	if r.ContentLength > h.c.MaxBody {
		return "", fmt.Errorf("%w: %d bytes (at most %d)", ErrTooLarge, r.ContentLength, h.c.MaxBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.c.MaxBody+1))
	if err != nil {
		return "", fmt.Errorf("%w: read body: %v", ErrMalformed, err)
	}
	if int64(len(body)) > h.c.MaxBody {
		return "", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, h.c.MaxBody)
	}
	now := h.c.Now()
	claims, err := h.verify.Verify(r.Header.Get("Authorization"), body, now)
	if err != nil {
		return "", err
	}
	ev, err := ParseEvent(body)
	if err != nil {
		return "", err
	}
	log := h.c.Log.With("event", ev.Name, "id", ev.ID, "room", ev.Room.Name, "sid", ev.Room.SID)
	call := h.c.Enqueuer.RoomFinished
	switch ev.Name {
	case EventRoomStarted:
		ok, why := h.c.Rules.Record(ev.Room)
		if !ok {
			return "ignored: " + why, nil
		}
		log.Info("room to record", "why", why)
		call = h.c.Enqueuer.RoomStarted
	case EventRoomFinished:
	default:
		return "ignored: event " + ev.Name, nil
	}
	keys := []string{"id:" + ev.ID, "sig:" + claims.Signature}
	if !h.seen.reserve(now, keys...) {
		return "duplicate: already seen", nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.c.EnqueueTimeout)
	defer cancel()
	if err := call(ctx, ev.Room); err != nil {
		h.seen.release(keys...)
		return "", fmt.Errorf("%w: %s of room %q: %w", ErrEnqueue, ev.Name, ev.Room.Name, err)
	}
	h.seen.done(now, keys...)
	return "accepted: " + ev.Name, nil
}

// jsonContentType accepts application/json and LiveKit's application/webhook+json (any
// application/*+json, RFC 6839 §3.1).
func jsonContentType(v string) error {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil || !(mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return fmt.Errorf("%w: %.64q (LiveKit sends application/webhook+json)", ErrContentType, v)
	}
	return nil
}

// statusOf maps an error of serve to its HTTP status.
func statusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrContentType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrNoSignature), errors.Is(err, ErrBadSignature), errors.Is(err, ErrUnknownKey),
		errors.Is(err, ErrExpired), errors.Is(err, ErrNotYetValid), errors.Is(err, ErrTooLong),
		errors.Is(err, ErrBodyHash):
		return http.StatusUnauthorized
	case errors.Is(err, ErrEnqueue):
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}
