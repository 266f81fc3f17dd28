package testutil

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
)

// ActiveMarkup tokenizes HTML as a browser does (golang.org/x/net/html) and describes the first
// thing in it that could run script or load another document ("" when there is none): a
// script (other than a page's own assets/player.js with no code of its own), iframe, frame,
// object, embed, applet, base, form, svg, math or meta http-equiv element, an event handler or
// srcdoc attribute, or a URL attribute whose value, as the browser reads it (character
// references resolved by the tokenizer, tabs and newlines dropped, leading control characters
// and spaces trimmed, any case), is a javascript:, vbscript: or data: URL. It is the tests'
// own judge, written apart from pkg/websafe, so that the code under test does not judge itself.
func ActiveMarkup(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	ownScript := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return fmt.Sprintf("unreadable HTML (%v)", z.Err())
			}
			return ""
		case html.TextToken:
			if ownScript && strings.TrimSpace(string(z.Text())) != "" {
				return "code inside the page's own script element"
			}
		case html.EndTagToken:
			ownScript = false
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if bad := activeTag(tok, &ownScript); bad != "" {
				return bad
			}
		}
	}
}

func activeTag(tok html.Token, ownScript *bool) string {
	get := func(k string) (string, bool) {
		for _, a := range tok.Attr {
			if a.Key == k {
				return a.Val, true
			}
		}
		return "", false
	}
	switch tok.Data {
	case "script":
		src, _ := get("src")
		if strings.HasPrefix(src, "assets/player.js") {
			*ownScript = tok.Type == html.StartTagToken
			break
		}
		return "a <script> element"
	case "iframe", "frame", "object", "embed", "applet", "base", "form", "svg", "math":
		return "a <" + tok.Data + "> element"
	case "meta":
		if _, ok := get("http-equiv"); ok {
			if v, _ := get("http-equiv"); !strings.EqualFold(v, "content-security-policy") {
				return "a <meta http-equiv> element"
			}
		}
	}
	for _, a := range tok.Attr {
		k := strings.ToLower(a.Key)
		if strings.HasPrefix(k, "on") || k == "srcdoc" {
			return fmt.Sprintf("a %s attribute on <%s>", k, tok.Data)
		}
		switch k {
		case "href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "cite", "srcset", "ping":
		default:
			continue
		}
		v := strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, a.Val)
		v = strings.ToLower(strings.TrimLeft(v, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
		if tok.Data == "link" && v == "data:," {
			continue // a page's empty icon
		}
		for _, bad := range []string{"javascript:", "vbscript:", "data:"} {
			if strings.HasPrefix(v, bad) || k == "srcset" && strings.Contains(v, bad) {
				return fmt.Sprintf("a %s URL in %s on <%s>: %q", bad, k, tok.Data, a.Val)
			}
		}
	}
	return ""
}
