package janusserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A minimal Janus HTTP API client for the test speakers (Janus API over HTTP: POST to /janus,
// /janus/SESSION and /janus/SESSION/HANDLE; GET /janus/SESSION for the long poll).

type apiMessage struct {
	Janus       string `json:"janus"`
	Transaction string `json:"transaction,omitempty"`
	Data        *struct {
		ID uint64 `json:"id"`
	} `json:"data,omitempty"`
	Error *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"error,omitempty"`
	PluginData *struct {
		Plugin string          `json:"plugin"`
		Data   json.RawMessage `json:"data"`
	} `json:"plugindata,omitempty"`
	JSEP *jsep `json:"jsep,omitempty"`
}

type jsep struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// errSessionGone: Janus answered that it no longer has the session (error 458).
var errSessionGone = errors.New("janusserver: the session is gone")

type apiSession struct {
	base string
	id   uint64
	hc   *http.Client
	poll *http.Client
	txn  atomic.Uint64

	mu      sync.Mutex
	waiters map[string]chan *apiMessage

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

func createSession(ctx context.Context, base string) (*apiSession, error) {
	s := &apiSession{
		base:    base,
		hc:      &http.Client{Timeout: 10 * time.Second},
		poll:    &http.Client{Timeout: 45 * time.Second}, // Janus answers an idle poll after 30 s
		waiters: map[string]chan *apiMessage{},
	}
	m, err := s.post(ctx, "", map[string]any{"janus": "create"})
	if err != nil {
		return nil, err
	}
	if m.Data == nil || m.Data.ID == 0 {
		return nil, fmt.Errorf("janusserver: create answered %q without a session id", m.Janus)
	}
	s.id = m.Data.ID
	pctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(2)
	go s.pollLoop(pctx)
	go s.keepalive(pctx)
	return s, nil
}

// keepalive keeps the session within Janus's session_timeout (60 s here) in long tests.
func (s *apiSession) keepalive(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(20 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			s.post(rctx, s.path(), map[string]any{"janus": "keepalive"})
			cancel()
		}
	}
}

func (s *apiSession) path() string { return "/" + strconv.FormatUint(s.id, 10) }

func (s *apiSession) post(ctx context.Context, path string, req map[string]any) (*apiMessage, error) {
	if _, ok := req["transaction"]; !ok {
		req["transaction"] = "jt-" + strconv.FormatUint(s.txn.Add(1), 10)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("janusserver: %v: %w", req["janus"], err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("janusserver: %v: %w", req["janus"], err)
	}
	var m apiMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("janusserver: %v: HTTP %d %.200s: %w", req["janus"], resp.StatusCode, b, err)
	}
	if m.Janus == "error" && m.Error != nil {
		return &m, fmt.Errorf("janusserver: %v: janus error %d: %s", req["janus"], m.Error.Code, m.Error.Reason)
	}
	return &m, nil
}

// pollLoop long-polls for events and hands each to the request waiting for its transaction. A
// failed poll (a dead network, a restarting server) is tried again until the session is closed
// or Janus says it is gone.
func (s *apiSession) pollLoop(ctx context.Context) {
	defer s.wg.Done()
	for ctx.Err() == nil {
		msgs, err := s.pollOnce(ctx)
		if errors.Is(err, errSessionGone) {
			return
		}
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		for _, m := range msgs {
			if m.Transaction == "" {
				continue
			}
			s.mu.Lock()
			ch := s.waiters[m.Transaction]
			delete(s.waiters, m.Transaction)
			s.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		}
	}
}

func (s *apiSession) pollOnce(ctx context.Context) ([]*apiMessage, error) {
	u := s.base + s.path() + "?maxev=8&rid=" + strconv.FormatInt(time.Now().UnixNano(), 10)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.poll.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	var msgs []*apiMessage
	if len(b) > 0 && b[0] == '[' {
		err = json.Unmarshal(b, &msgs)
	} else {
		var m apiMessage
		err = json.Unmarshal(b, &m)
		msgs = []*apiMessage{&m}
	}
	if err != nil {
		return nil, fmt.Errorf("janusserver: long poll: %.200s: %w", b, err)
	}
	for _, m := range msgs {
		if m.Janus == "error" && m.Error != nil && m.Error.Code == 458 {
			return nil, errSessionGone
		}
	}
	return msgs, nil
}

func (s *apiSession) attach(ctx context.Context, plugin string) (uint64, error) {
	m, err := s.post(ctx, s.path(), map[string]any{"janus": "attach", "plugin": "janus.plugin." + plugin})
	if err != nil {
		return 0, err
	}
	if m.Data == nil || m.Data.ID == 0 {
		return 0, fmt.Errorf("janusserver: attach %s: answer %q without a handle id", plugin, m.Janus)
	}
	return m.Data.ID, nil
}

// request sends a plugin message and returns the plugin's data: the synchronous "success", or
// the event that follows the "ack". A plugin's error_code is returned as an error, with the data.
func (s *apiSession) request(ctx context.Context, handle uint64, body map[string]any, offer *jsep) (json.RawMessage, *jsep, error) {
	txn := "jt-" + strconv.FormatUint(s.txn.Add(1), 10)
	ch := make(chan *apiMessage, 1)
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
	m, err := s.post(ctx, s.path()+"/"+strconv.FormatUint(handle, 10), req)
	if err != nil {
		return nil, nil, err
	}
	switch m.Janus {
	case "success":
	case "ack":
		select {
		case m = <-ch:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("janusserver: no answer to %v: %w", body["request"], ctx.Err())
		}
	default:
		return nil, nil, fmt.Errorf("janusserver: unexpected answer %q to %v", m.Janus, body["request"])
	}
	if m.PluginData == nil {
		return nil, m.JSEP, fmt.Errorf("janusserver: %q answer to %v without plugin data", m.Janus, body["request"])
	}
	var e struct {
		Code  int    `json:"error_code"`
		Error string `json:"error"`
	}
	if json.Unmarshal(m.PluginData.Data, &e) == nil && (e.Code != 0 || e.Error != "") {
		return m.PluginData.Data, m.JSEP, fmt.Errorf("janusserver: %v: %s error %d: %s", body["request"], m.PluginData.Plugin, e.Code, e.Error)
	}
	return m.PluginData.Data, m.JSEP, nil
}

// close stops the long poll and destroys the session on the server (best effort). Idempotent.
func (s *apiSession) close(ctx context.Context) {
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
		_, _ = s.post(ctx, s.path(), map[string]any{"janus": "destroy"})
	})
}
