package janus

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spacecast/spacecast/pkg/room"
)

const (
	// requestTimeout bounds one request and the plugin's answer to it.
	requestTimeout = 10 * time.Second
	// connectTimeout bounds opening a TCP connection: an unreachable server fails within it.
	connectTimeout = 3 * time.Second
	// pollTimeout bounds a long poll: Janus answers an idle one after 30 s with a keepalive.
	pollTimeout = 65 * time.Second
	// pollFailures is how many long polls in a row may fail on the network before the session
	// is taken for lost.
	pollFailures = 3
)

// intervals are the recorder's periodic requests to Janus. Options carries them so that this
// package's tests can shorten them for one connection; a zero field takes its default
// (withDefaults).
type intervals struct {
	// keepalive keeps the session alive (Janus drops a session after session_timeout, 60 s by
	// default, without a request) and finds a dead network: a keepalive that gets no answer
	// within keepaliveTimeout is tried again a second later, and a second miss loses the session.
	keepalive, keepaliveTimeout time.Duration
	// announceRepeat is how often the latest announcement's JSON is sent again, for participants
	// who subscribed to the recorder's feed after it was said (Janus keeps nothing for them).
	announceRepeat time.Duration
}

func (iv intervals) withDefaults() intervals {
	if iv.keepalive <= 0 {
		iv.keepalive = 15 * time.Second
	}
	if iv.keepaliveTimeout <= 0 {
		iv.keepaliveTimeout = 5 * time.Second
	}
	if iv.announceRepeat <= 0 {
		iv.announceRepeat = 5 * time.Second
	}
	return iv
}

// client talks to one Janus HTTP API endpoint (Janus API over HTTP: POST to /janus,
// /janus/SESSION and /janus/SESSION/HANDLE; GET /janus/SESSION for the long poll).
type client struct {
	base   string // the endpoint, e.g. http://10.0.0.1:8088/janus
	secret string // api_secret
	token  string
	hc     *http.Client
	poll   *http.Client
	txn    atomic.Uint64
	prefix string
	iv     intervals
}

func newClient(base, secret, token string, iv intervals) *client {
	tr := &http.Transport{
		Proxy:                 nil, // a room server is reached directly, never through a proxy
		DialContext:           (&net.Dialer{Timeout: connectTimeout}).DialContext,
		ResponseHeaderTimeout: pollTimeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	carries := func(*http.Request) bool { return secret != "" || token != "" }
	var b [4]byte
	rand.Read(b[:])
	return &client{
		base:   base,
		secret: secret,
		token:  token,
		// Every request carries the API secret or token when one is set (in the POST body, in the
		// long poll's query): a redirect must not take it to another origin.
		hc:     room.SameOriginRedirects(&http.Client{Transport: tr, Timeout: requestTimeout}, carries),
		poll:   room.SameOriginRedirects(&http.Client{Transport: tr, Timeout: pollTimeout}, carries),
		prefix: "sc" + hex.EncodeToString(b[:]) + "-",
		iv:     iv.withDefaults(),
	}
}

func (c *client) transaction() string {
	return c.prefix + strconv.FormatUint(c.txn.Add(1), 10)
}

// post sends one request to path (relative to the endpoint) and returns Janus's answer. A
// janus:"error" answer is returned as an error (*apiError, wrapped with room.ErrAuth where the
// server refused the credentials).
func (c *client) post(ctx context.Context, path string, req map[string]any) (*message, error) {
	if _, ok := req["transaction"]; !ok {
		req["transaction"] = c.transaction()
	}
	if c.secret != "" {
		req["apisecret"] = c.secret
	}
	if c.token != "" {
		req["token"] = c.token
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", c.base, room.ErrURL, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	return c.do(c.hc, hreq)
}

func (c *client) do(hc *http.Client, hreq *http.Request) (*message, error) {
	resp, err := hc.Do(hreq)
	if err != nil {
		if ctxErr := hreq.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if errors.Is(err, room.ErrCrossOrigin) {
			return nil, fmt.Errorf("%s: %w: %w (spacecast sends the API secret and token only to the URL given: give the URL it redirects to if you trust it)", c.base, room.ErrURL, unwrapURLError(err))
		}
		return nil, fmt.Errorf("%s: %w: %w (is Janus running there with its HTTP transport enabled? check the host and port)",
			c.base, room.ErrUnreachable, unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: reading the answer: %v", c.base, room.ErrUnreachable, err)
	}
	msgs, perr := parseMessages(b)
	if perr != nil || len(msgs) != 1 {
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %w: the server answered HTTP %d, not the Janus API (its HTTP API is usually at http://HOST:8088/janus)",
				c.base, room.ErrURL, resp.StatusCode)
		}
		return nil, fmt.Errorf("%s: %w: the answer is not the Janus API's (%v); give the Janus HTTP API URL, usually http://HOST:8088/janus",
			c.base, room.ErrURL, perr)
	}
	m := &msgs[0]
	if m.Janus == "error" {
		e := m.Error
		if e == nil {
			e = &apiError{Reason: "error without details"}
		}
		if e.Code == codeUnauthorized || e.Code == codeUnauthorizedPlugin {
			return m, fmt.Errorf("%s: %w: %w", c.base, room.ErrAuth, e)
		}
		return m, e
	}
	return m, nil
}

func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// apiSession is one Janus session: it long-polls for events, keeps itself alive, and hands each
// event either to the request waiting for it (by transaction) or to the events queue.
type apiSession struct {
	cl *client
	id uint64

	mu      sync.Mutex
	waiters map[string]chan *message

	events *queue[*message]
	lost   chan struct{} // closed when the session is lost (Janus restarted, timed out, unreachable)
	lostMu sync.Mutex
	why    error
	gone   bool // the server said it no longer has the session

	check chan struct{} // asks the keepalive loop to ask the server now

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// createSession opens a session and starts its long poll and keepalive.
func (c *client) createSession(ctx context.Context) (*apiSession, error) {
	m, err := c.post(ctx, "", map[string]any{"janus": "create"})
	if err != nil {
		return nil, err
	}
	if m.Janus != "success" || m.Data == nil || m.Data.ID == 0 {
		return nil, fmt.Errorf("%s: %w: create answered %q without a session id", c.base, room.ErrURL, m.Janus)
	}
	pctx, cancel := context.WithCancel(context.Background())
	s := &apiSession{
		cl:      c,
		id:      m.Data.ID,
		waiters: map[string]chan *message{},
		events:  newQueue[*message](),
		lost:    make(chan struct{}),
		check:   make(chan struct{}, 1),
		cancel:  cancel,
	}
	s.wg.Add(2)
	go s.pollLoop(pctx)
	go s.keepaliveLoop(pctx)
	return s, nil
}

func (s *apiSession) path() string { return "/" + strconv.FormatUint(s.id, 10) }

// setLost marks the session lost, once; gone says the server no longer has it.
func (s *apiSession) setLost(err error, gone bool) {
	s.lostMu.Lock()
	defer s.lostMu.Unlock()
	select {
	case <-s.lost:
	default:
		s.why, s.gone = err, gone
		close(s.lost)
	}
}

// lostErr is why the session was lost.
func (s *apiSession) lostErr() error {
	s.lostMu.Lock()
	defer s.lostMu.Unlock()
	return s.why
}

func (s *apiSession) pollLoop(ctx context.Context) {
	defer s.wg.Done()
	failures := 0
	for ctx.Err() == nil {
		msgs, err := s.pollOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Code == codeSessionNotFound {
				s.setLost(fmt.Errorf("the server no longer knows session %d (Janus restarted?)", s.id), true)
				return
			}
			if failures++; failures >= pollFailures || errors.Is(err, syscall.ECONNREFUSED) {
				// Refused: nothing listens any more, so the session went with the server.
				s.setLost(err, false)
				return
			}
			// Ask again at once (a server that died refuses the next connection), then slower.
			wait := 300 * time.Millisecond
			if failures == 1 {
				wait = 10 * time.Millisecond
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		failures = 0
		for _, m := range msgs {
			switch m.Janus {
			case "keepalive":
				continue
			case "timeout":
				s.setLost(fmt.Errorf("the server timed session %d out", s.id), true)
				return
			case "event":
				if s.deliver(m) {
					continue
				}
			}
			s.events.push(m)
		}
	}
}

// pollOnce is one long poll: GET /janus/SESSION?maxev=N. Janus answers with an array of up to N
// events, or a keepalive after 30 s without one.
func (s *apiSession) pollOnce(ctx context.Context) ([]*message, error) {
	u := s.cl.base + s.path() + "?maxev=16&rid=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	if s.cl.secret != "" {
		u += "&apisecret=" + url.QueryEscape(s.cl.secret)
	}
	if s.cl.token != "" {
		u += "&token=" + url.QueryEscape(s.cl.token)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.cl.poll.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", s.cl.base, room.ErrUnreachable, unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", s.cl.base, room.ErrUnreachable, err)
	}
	msgs, err := parseMessages(b)
	if err != nil {
		return nil, fmt.Errorf("%s: long poll (HTTP %d): %w", s.cl.base, resp.StatusCode, err)
	}
	out := make([]*message, len(msgs))
	for i := range msgs {
		out[i] = &msgs[i]
		if msgs[i].Janus == "error" && msgs[i].Error != nil {
			return nil, msgs[i].Error
		}
	}
	return out, nil
}

// deliver hands an event to the request waiting for its transaction.
func (s *apiSession) deliver(m *message) bool {
	if m.Transaction == "" {
		return false
	}
	s.mu.Lock()
	ch := s.waiters[m.Transaction]
	delete(s.waiters, m.Transaction)
	s.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- m // buffered, one event per transaction
	return true
}

func (s *apiSession) keepaliveLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTimer(s.cl.iv.keepalive)
	defer t.Stop()
	misses := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.check:
		}
		rctx, cancel := context.WithTimeout(ctx, s.cl.iv.keepaliveTimeout)
		_, err := s.cl.post(rctx, s.path(), map[string]any{"janus": "keepalive"})
		cancel()
		if ctx.Err() != nil {
			return
		}
		var ae *apiError
		switch {
		case errors.As(err, &ae) && ae.Code == codeSessionNotFound:
			s.setLost(fmt.Errorf("the server no longer knows session %d (Janus restarted?)", s.id), true)
			return
		case err != nil && ae == nil:
			if misses++; misses >= 2 {
				s.setLost(fmt.Errorf("no answer to two keepalives: %w", err), false)
				return
			}
			t.Reset(time.Second)
		default:
			misses = 0
			t.Reset(s.cl.iv.keepalive)
		}
	}
}

// checkNow asks the server at once whether the session is alive (a PeerConnection lost touch:
// the network may be dead).
func (s *apiSession) checkNow() {
	select {
	case s.check <- struct{}{}:
	default:
	}
}

// attach attaches a handle to a plugin ("janus.plugin.videoroom").
func (s *apiSession) attach(ctx context.Context, plugin string) (uint64, error) {
	m, err := s.cl.post(ctx, s.path(), map[string]any{"janus": "attach", "plugin": plugin})
	if err != nil {
		return 0, err
	}
	if m.Data == nil || m.Data.ID == 0 {
		return 0, fmt.Errorf("attach %s: answer %q without a handle id", plugin, m.Janus)
	}
	return m.Data.ID, nil
}

// detach releases a handle (best effort: the session may be gone).
func (s *apiSession) detach(ctx context.Context, handle uint64) {
	_, _ = s.cl.post(ctx, s.path()+"/"+strconv.FormatUint(handle, 10), map[string]any{"janus": "detach"})
}

// request sends a plugin message and returns the plugin's answer: the synchronous "success" for
// requests such as exists and listparticipants, else the event that follows the "ack". A plugin
// error comes back as *pluginError.
func (s *apiSession) request(ctx context.Context, handle uint64, body map[string]any, offer *jsep) (*pluginEvent, *jsep, error) {
	txn := s.cl.transaction()
	ch := make(chan *message, 1)
	s.mu.Lock()
	s.waiters[txn] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiters, txn)
		s.mu.Unlock()
	}()
	req := map[string]any{"janus": "message", "transaction": txn, "body": body}
	if offer != nil {
		req["jsep"] = offer
	}
	m, err := s.cl.post(ctx, s.path()+"/"+strconv.FormatUint(handle, 10), req)
	if err != nil {
		return nil, nil, err
	}
	switch m.Janus {
	case "success":
	case "ack":
		select {
		case m = <-ch:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("no answer to %v: %w", body["request"], ctx.Err())
		case <-s.lost:
			return nil, nil, fmt.Errorf("no answer to %v: session lost: %w", body["request"], s.lostErr())
		}
	default:
		return nil, nil, fmt.Errorf("unexpected answer %q to %v", m.Janus, body["request"])
	}
	ev, err := m.event()
	return ev, m.JSEP, err
}

// close stops the long poll and keepalive and, with destroy, destroys the session on the server
// (best effort, bounded by ctx): the room then sees the recorder leave. A session lost on a dead
// network may still exist there; one the server said it no longer has is not asked for.
func (s *apiSession) close(ctx context.Context, destroy bool) {
	s.cancel()
	s.wg.Wait()
	s.lostMu.Lock()
	gone := s.gone
	s.lostMu.Unlock()
	if destroy && !gone {
		_, _ = s.cl.post(ctx, s.path(), map[string]any{"janus": "destroy"})
	}
}

// queue is an unbounded FIFO whose ready channel is signalled after each push: the long poll
// never blocks on a slow reader.
type queue[T any] struct {
	mu    sync.Mutex
	items []T
	ready chan struct{}
}

func newQueue[T any]() *queue[T] { return &queue[T]{ready: make(chan struct{}, 1)} }

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes everything queued.
func (q *queue[T]) pop() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}
