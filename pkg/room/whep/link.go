package whep

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// AudioTracksRel is the relation type of spacecast's audio-tracks extension: a WHEP endpoint that
// serves a room of several speakers advertises, in the 201 response, how many audio tracks a viewer
// may ask for (`Link: <endpoint>; rel="…"; count=3`). WHEP itself allows one audio track per
// session (draft-ietf-wish-whep-02 §4.6.2, "Single MediaStream"); other players ignore the link
// (§4.10: unknown relation types MUST be ignored). It is an extension relation type in the sense of
// RFC 8288 §2.1.2 (a URI), not a registered urn:ietf:params:whep:ext name.
const AudioTracksRel = "https://github.com/spacecast/spacecast/blob/main/docs/whep.md#audio-tracks"

// MaxTracks bounds how many audio m-lines Dial offers, whatever an endpoint advertises.
const MaxTracks = 16

// Link is one link-value of an HTTP Link header field (RFC 8288 §3).
type Link struct {
	URI    string            // the target as written between < and >
	Rel    []string          // relation types, lower-cased unless they are URIs
	Params map[string]string // other parameters, names lower-cased; the first occurrence wins
}

// ParseLinks parses the values of every Link header field of a response (RFC 8288 §3). It is
// lenient where RFC 8288 lets it be (unknown parameters, extra whitespace) and returns an error
// naming the offending text where a value cannot be read; the links before it are returned too.
func ParseLinks(fields []string) ([]Link, error) {
	var out []Link
	for _, f := range fields {
		s := f
		for {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			l, rest, err := parseLinkValue(s)
			if err != nil {
				return out, fmt.Errorf("whep: Link header %q: %w", clip(f, 200), err)
			}
			out = append(out, l)
			s = rest
		}
	}
	return out, nil
}

// parseLinkValue reads `<URI-Reference> *( OWS ";" OWS link-param )` and returns what follows it.
func parseLinkValue(s string) (Link, string, error) {
	if s[0] != '<' {
		return Link{}, "", fmt.Errorf("a link must start with <URI>, found %q", clip(s, 40))
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return Link{}, "", fmt.Errorf("unterminated <URI> in %q", clip(s, 40))
	}
	l := Link{URI: strings.TrimSpace(s[1:end]), Params: map[string]string{}}
	s = s[end+1:]
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" || s[0] == ',' {
			return l, s, nil
		}
		if s[0] != ';' {
			return Link{}, "", fmt.Errorf("expected ; or , after a link, found %q", clip(s, 40))
		}
		s = strings.TrimLeft(s[1:], " \t")
		if s == "" || s[0] == ',' || s[0] == ';' {
			continue // empty parameter: tolerated
		}
		name, rest := token(s)
		if name == "" {
			return Link{}, "", fmt.Errorf("expected a parameter name, found %q", clip(s, 40))
		}
		name = strings.ToLower(name)
		s = strings.TrimLeft(rest, " \t")
		var val string
		if s != "" && s[0] == '=' {
			s = strings.TrimLeft(s[1:], " \t")
			var err error
			if val, s, err = paramValue(s); err != nil {
				return Link{}, "", err
			}
		}
		if name == "rel" {
			if l.Rel == nil { // RFC 8288 §3.3: occurrences after the first MUST be ignored
				for _, r := range strings.Fields(val) {
					if !strings.Contains(r, ":") {
						r = strings.ToLower(r)
					}
					l.Rel = append(l.Rel, r)
				}
				if l.Rel == nil {
					l.Rel = []string{}
				}
			}
			continue
		}
		if _, dup := l.Params[name]; !dup {
			l.Params[name] = val
		}
	}
}

// paramValue reads a token or a quoted-string (RFC 9110 §5.6.4).
func paramValue(s string) (string, string, error) {
	if s == "" || s[0] != '"' {
		v, rest := token(s)
		return v, rest, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) {
				return "", "", fmt.Errorf("unterminated quoted string %q", clip(s, 40))
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated quoted string %q", clip(s, 40))
}

// token reads RFC 9110 tchar characters.
func token(s string) (string, string) {
	i := 0
	for i < len(s) && isTchar(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// HasRel reports whether the link has relation type rel.
func (l Link) HasRel(rel string) bool {
	for _, r := range l.Rel {
		if r == rel || strings.EqualFold(r, rel) && !strings.Contains(rel, ":") {
			return true
		}
	}
	return false
}

// advertisedTracks is the track count of the audio-tracks extension among links, or 0.
func advertisedTracks(links []Link) int {
	for _, l := range links {
		if !l.HasRel(AudioTracksRel) {
			continue
		}
		n, err := strconv.Atoi(l.Params["count"])
		if err != nil || n < 1 {
			return 0
		}
		return min(n, MaxTracks)
	}
	return 0
}

// resolveLocation resolves a Location header field against the URL of the request that was
// answered (after redirects): the WHEP session URL (draft-ietf-wish-whep-02 §4.2). The result must
// be an http(s) URL; a relative reference is the usual form.
func resolveLocation(base *url.URL, loc string) (*url.URL, error) {
	loc = strings.TrimSpace(loc)
	if loc == "" {
		return nil, fmt.Errorf("no Location header: the server did not say where the session lives")
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("Location %q is not a URL: %v", clip(loc, 100), err)
	}
	u := base.ResolveReference(ref)
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("Location %q is not an http(s) URL", clip(loc, 100))
	}
	u.Fragment = ""
	return u, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
