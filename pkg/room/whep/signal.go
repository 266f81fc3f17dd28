package whep

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spacecast/spacecast/pkg/room"
)

// errTooManyTracks says the endpoint refused an offer of several audio m-lines (406): offer one.
var errTooManyTracks = errors.New("the endpoint refused several audio tracks")

// created is a 201 answer to the offer.
type created struct {
	answer  []byte
	session *url.URL // nil when the server gave no usable Location
	links   []Link
	warn    string // what was odd but not fatal
}

// retryAfter is an error the endpoint asked to be retried after a while (409, 503).
type retryAfter struct {
	err   error
	after time.Duration
}

func (r *retryAfter) Error() string { return r.err.Error() }
func (r *retryAfter) Unwrap() error { return r.err }

// post sends the offer to the endpoint (draft-ietf-wish-whep-02 §4.2) and maps the answer's status
// to the errors a user can act on.
func (c *Conn) post(ctx context.Context, offer string, tracks int) (*created, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint.String(), strings.NewReader(offer))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", room.ErrURL, shown(c.endpoint), err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Accept", "application/sdp")
	c.authorize(req)
	resp, err := c.hc.Do(req)
	if errors.Is(err, room.ErrCrossOrigin) {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%w: %s: %v; spacecast sends the bearer token only to the endpoint's origin: give the URL it redirects to if you trust it", room.ErrURL, shown(c.endpoint), err)
	}
	if err != nil {
		return nil, c.unreachable(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSDP+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading the answer: %v", room.ErrUnreachable, c.endpoint.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, c.statusErr(resp, body, tracks)
	}
	if len(body) > MaxSDP {
		return nil, fmt.Errorf("whep: %s: the answer is larger than %d bytes: is this a WHEP endpoint?", shown(c.endpoint), MaxSDP)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/sdp" {
		return nil, fmt.Errorf("%w: %s answered HTTP %d with %q, not an SDP answer: is this the WHEP endpoint URL?",
			room.ErrURL, shown(c.endpoint), resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := &created{answer: body}
	if resp.StatusCode != http.StatusCreated {
		out.warn = fmt.Sprintf("the endpoint answered HTTP %d instead of 201 Created", resp.StatusCode)
	}
	base := c.endpoint
	if resp.Request != nil && resp.Request.URL != nil {
		base = resp.Request.URL // Location is relative to the URL answered, after redirects
	}
	if u, err := resolveLocation(base, resp.Header.Get("Location")); err != nil {
		out.warn = strings.TrimPrefix(out.warn+"; ", "; ") + err.Error() + " (the session cannot be ended with DELETE)"
	} else {
		out.session = u
		if c.opts.BearerToken != "" && !sameOrigin(u, c.endpoint) {
			out.warn = strings.TrimPrefix(out.warn+"; ", "; ") + fmt.Sprintf("the session URL is on another origin (%s): requests to it go without the bearer token, so ending the session may be refused", room.Origin(u))
		}
	}
	out.links, _ = ParseLinks(resp.Header.Values("Link")) // unreadable links are ignored (§4.10)
	return out, nil
}

// statusErr turns a refused offer into an error that says what to do.
func (c *Conn) statusErr(resp *http.Response, body []byte, tracks int) error {
	detail := problem(resp, body)
	where := shown(c.endpoint)
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if c.opts.BearerToken == "" {
			return fmt.Errorf("%w (HTTP %d from %s%s): the endpoint needs a bearer token", room.ErrAuth, code, where, detail)
		}
		return fmt.Errorf("%w (HTTP %d from %s%s): the endpoint refused the bearer token", room.ErrAuth, code, where, detail)
	case code == http.StatusNotFound || code == http.StatusGone:
		return fmt.Errorf("%w: %s answered HTTP %d%s: no such endpoint, or its stream has not started", room.ErrNoRoom, where, code, detail)
	case code == http.StatusConflict:
		return &retryAfter{after: parseRetryAfter(resp.Header.Get("Retry-After")),
			err: fmt.Errorf("%w: %s has no live stream yet (HTTP 409%s)", room.ErrEmptyRoom, where, detail)}
	case code == http.StatusNotAcceptable && tracks > 1:
		return fmt.Errorf("%w (HTTP 406%s)", errTooManyTracks, detail)
	case code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests:
		return &retryAfter{after: parseRetryAfter(resp.Header.Get("Retry-After")),
			err: fmt.Errorf("%w: %s is overloaded or in maintenance (HTTP %d%s): try again later", room.ErrUnreachable, where, code, detail)}
	case code == http.StatusMethodNotAllowed:
		return fmt.Errorf("%w: %s does not take POST (HTTP 405): is this the WHEP endpoint URL, not a player page?", room.ErrURL, where)
	case code/100 == 4:
		return fmt.Errorf("%w: %s refused spacecast's offer of %d recvonly Opus track(s) (HTTP %d%s)", room.ErrNotSupported, where, tracks, code, detail)
	case code/100 == 3:
		return fmt.Errorf("%w: %s redirected with HTTP %d to %q: WHEP needs 307 or 308 (use the final URL)", room.ErrURL, where, code, resp.Header.Get("Location"))
	}
	return fmt.Errorf("%w: %s answered HTTP %d%s", room.ErrUnreachable, where, resp.StatusCode, detail)
}

// problem renders what the body says about an error: an RFC 9457 problem's title and detail, or
// the first line of text.
func problem(resp *http.Response, body []byte) string {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	text := string(bytes.TrimSpace(body))
	if mt == "application/problem+json" {
		var p struct{ Title, Detail string }
		if json.Unmarshal(body, &p) != nil {
			return ""
		}
		text = cmp.Or(p.Detail, p.Title)
	} else if mt != "" && !strings.HasPrefix(mt, "text/") {
		return ""
	}
	if text = room.Excerpt([]byte(text), 200); text == "" {
		return ""
	}
	return ": " + text
}

// authorize puts the bearer token on a request (draft-ietf-wish-whep-02 §4.9.1: on every request,
// and not at all without a token), but only on one to the endpoint's own origin: the session URL
// comes from the server's Location header, and a server (or whoever can set that header) must not
// be able to send the token to another host or port.
func (c *Conn) authorize(req *http.Request) {
	if c.opts.BearerToken != "" && sameOrigin(req.URL, c.endpoint) {
		req.Header.Set("Authorization", "Bearer "+c.opts.BearerToken)
	}
}

// sameOrigin reports whether a and b have one origin (room.Origin).
func sameOrigin(a, b *url.URL) bool { return room.SameOrigin(a, b) }

func (c *Conn) unreachable(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%w: %s: %v (is the server running, and the host and port right?)", room.ErrUnreachable, c.endpoint.Host, err)
}

// deleteSession ends a session on the server (§4.3). Errors are returned for the caller to report
// or ignore: a session the server already forgot is not an error.
func (c *Conn) deleteSession(session *url.URL) error {
	if session == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, session.String(), nil)
	if err != nil {
		return err
	}
	c.authorize(req)
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("whep: DELETE %s: %w", shown(session), err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusGone {
		return fmt.Errorf("whep: DELETE %s: HTTP %d", shown(session), resp.StatusCode)
	}
	return nil
}

// sessionGone asks the session URL whether the server still holds the session (§4.1: a GET on
// a session answers 2xx). It is true only on 404 or 410; anything else (no answer, 405 from an
// older server) leaves the question open.
func (c *Conn) sessionGone(session *url.URL) bool {
	if session == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, session.String(), nil)
	if err != nil {
		return false
	}
	c.authorize(req)
	resp, err := c.hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3); 0 when absent or bad.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, time.Hour)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), time.Hour)
	}
	return 0
}

// RetryAfter is how long the endpoint asked to wait before the next try (room.Supervisor honours it).
func (r *retryAfter) RetryAfter() time.Duration { return r.after }
