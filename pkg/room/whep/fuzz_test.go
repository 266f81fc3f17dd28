package whep

import (
	"bytes"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestParseLinks: RFC 8288 §3 link values as servers write them.
func TestParseLinks(t *testing.T) {
	for _, c := range []struct {
		name   string
		fields []string
		want   []Link
		bad    bool
	}{
		{"the WHIP ice-server form with quoted parameters", []string{`<stun:stun.example.net>; rel="ice-server"`, `<turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="my;pass,word"; credential-type="password"`},
			[]Link{{URI: "stun:stun.example.net", Rel: []string{"ice-server"}}, {URI: "turn:turn.example.net?transport=udp", Rel: []string{"ice-server"}, Params: map[string]string{"username": "user", "credential": "my;pass,word", "credential-type": "password"}}}, false},
		{"several links in one field, rel token unquoted and upper case", []string{`</a>; rel=NEXT, </b>;rel="prev start"`},
			[]Link{{URI: "/a", Rel: []string{"next"}}, {URI: "/b", Rel: []string{"prev", "start"}}}, false},
		{"a comma inside the URI does not split links", []string{`</a,b>; rel=x`}, []Link{{URI: "/a,b", Rel: []string{"x"}}}, false},
		{"spacecast's audio-tracks extension", []string{`</whep/demo>; rel="` + AudioTracksRel + `"; count=3`},
			[]Link{{URI: "/whep/demo", Rel: []string{AudioTracksRel}, Params: map[string]string{"count": "3"}}}, false},
		{"only the first rel counts (RFC 8288 §3.3)", []string{`</x>; rel=a; rel=b`}, []Link{{URI: "/x", Rel: []string{"a"}}}, false},
		{"escaped quote in a quoted string", []string{`</x>; title="say \"hi\""`}, []Link{{URI: "/x", Params: map[string]string{"title": `say "hi"`}}}, false},
		{"no angle brackets is an error", []string{`/x; rel=a`}, nil, true},
		{"an unterminated quoted string is an error", []string{`</x>; rel="a`}, nil, true},
		{"an unterminated URI is an error", []string{`</x; rel=a`}, nil, true},
	} {
		got, err := ParseLinks(c.fields)
		if (err != nil) != c.bad {
			t.Errorf("%s: error %v", c.name, err)
			continue
		}
		if c.bad {
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %d links %+v, want %d", c.name, len(got), got, len(c.want))
			continue
		}
		for i := range got {
			g, w := got[i], c.want[i]
			if g.URI != w.URI || strings.Join(g.Rel, " ") != strings.Join(w.Rel, " ") || len(g.Params) != len(w.Params) {
				t.Errorf("%s: link %d = %+v, want %+v", c.name, i, g, w)
			}
			for k, v := range w.Params {
				if g.Params[k] != v {
					t.Errorf("%s: link %d param %s = %q, want %q", c.name, i, k, g.Params[k], v)
				}
			}
		}
	}
	if n := advertisedTracks([]Link{{Rel: []string{AudioTracksRel}, Params: map[string]string{"count": "999"}}}); n != MaxTracks {
		t.Errorf("a huge count gives %d tracks, want the cap %d", n, MaxTracks)
	}
}

// TestIdentities: speakers are named by their msid stream ids, and keep their names across a
// reconnect to a server that makes up new ones.
func TestIdentities(t *testing.T) {
	byMid, known := map[string]string{}, map[string]bool{}
	send := func(mid, stream string) MediaLine {
		return MediaLine{Mid: mid, Direction: "sendonly", StreamID: stream, Opus: true}
	}
	got := identities([]MediaLine{send("0", "ada"), send("1", "brook"), send("2", "-"), {Mid: "3", Direction: "inactive"}}, byMid, known)
	if got["0"] != "ada" || got["1"] != "brook" || got["2"] != "whep-2" || got["3"] != "" {
		t.Errorf("stream ids: %v", got)
	}
	got = identities([]MediaLine{send("0", "x"), send("1", "x")}, map[string]string{}, map[string]bool{})
	if got["0"] != "whep-0" || got["1"] != "whep-1" {
		t.Errorf("a stream id shared by two tracks names neither: %v", got)
	}
	// Reconnect: the one-track server now calls its stream by another random id.
	byMid, known = map[string]string{}, map[string]bool{}
	identities([]MediaLine{send("0", "4f1c")}, byMid, known)
	if got := identities([]MediaLine{send("0", "9a7e")}, byMid, known); got["0"] != "4f1c" {
		t.Errorf("after a reconnect with a new stream id: %v, want the first name", got)
	}
	// A multi-speaker server that reorders its tracks keeps each name with its stream id.
	byMid, known = map[string]string{}, map[string]bool{}
	identities([]MediaLine{send("0", "ada"), send("1", "brook")}, byMid, known)
	if got := identities([]MediaLine{send("0", "brook"), send("1", "ada")}, byMid, known); got["0"] != "brook" || got["1"] != "ada" {
		t.Errorf("reordered: %v", got)
	}
}

func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{
		`<stun:stun.example.net>; rel="ice-server"`,
		`<turn:t.example.net?transport=udp>; rel="ice-server"; username="u"; credential="p"; credential-type="password"`,
		`</whep/demo>; rel="` + AudioTracksRel + `"; count=3`,
		`<https://whep.ietf.org/resource/213786HF/sse>; rel="urn:ietf:params:whep:ext:core:server-sent-events"; events="active,inactive,layers"`,
		`</a>; rel=next, </b>; rel="prev start"; title*=UTF-8'de'n%c3%a4chstes`,
		`</x>; title="say \"hi\""`, `<`, `</x>;`, `</x>; =`, `</x>; a="`, `,,,`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		links, err := ParseLinks([]string{s})
		for _, l := range links {
			if strings.ContainsRune(l.URI, '>') {
				t.Fatalf("URI %q holds >", l.URI)
			}
		}
		if err == nil && len(links) == 0 && strings.Trim(s, " \t,") != "" {
			t.Fatalf("%q: no links and no error", s)
		}
		if n := advertisedTracks(links); n < 0 || n > MaxTracks {
			t.Fatalf("%q advertises %d tracks", s, n)
		}
	})
}

func FuzzResolveLocation(f *testing.F) {
	for _, s := range []string{"/whep/demo/sessions/abc", "sessions/abc", "https://other.example/s/1", "//host/s", "", " ", "ftp://x/y", "http://[::1", "?q=1", "#f", "../../..", "http:opaque"} {
		f.Add(s)
	}
	base, _ := url.Parse("http://127.0.0.1:8080/whep/demo")
	f.Fuzz(func(t *testing.T, loc string) {
		u, err := resolveLocation(base, loc)
		if err != nil {
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Fragment != "" {
			t.Fatalf("%q resolved to %q", loc, u)
		}
	})
}

// FuzzAudioLines feeds SDP answers to the parser and the speaker naming.
func FuzzAudioLines(f *testing.F) {
	offer, err := os.ReadFile("testdata/draft-offer.sdp") // draft-ietf-wish-whep-02 §4.2's example
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.ReplaceAll(offer, []byte("\n"), []byte("\r\n")))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=sendonly\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ssrc:1 msid:ada ada-mic\r\na=rtpmap:111 opus/48000/2\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=msid:\r\na=mid:\r\n"))
	f.Add([]byte("hello"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := AudioLines(b)
		if err != nil {
			return
		}
		ids := identities(lines, map[string]string{}, map[string]bool{})
		seen := map[string]bool{}
		for mid, id := range ids {
			if id == "" || seen[id] {
				t.Fatalf("mid %q: identity %q (all %v)", mid, id, ids)
			}
			seen[id] = true
			if !validIdentity(id) && !strings.HasPrefix(id, "whep-") {
				t.Fatalf("identity %q taken from the SDP unchecked", id)
			}
		}
	})
}
