package websafe

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
)

// Finding is one piece of active markup in HTML: where it is and what it is.
type Finding struct {
	Line int    // 1-based line of the tag in the HTML
	Msg  string // e.g. `<script> element`, `onerror attribute on <img>`
}

// String formats the finding as "line 3: <script> element".
func (f Finding) String() string { return fmt.Sprintf("line %d: %s", f.Line, f.Msg) }

// Options say what else a whole page (rather than a fragment of content) may hold.
type Options struct {
	// Document lets through what a page's head holds: <meta> with charset or name (or a
	// Content-Security-Policy), and <link> icons, feeds and stylesheets from the page's own site
	// (relative URLs; an empty data:, icon too).
	Document bool
	// Script, when set, lets through a <script> element with no code of its own whose src it
	// returns true for (the page's own player).
	Script func(src string) bool
}

// activeElements can run script, load a document or plugin, change where links go or submit
// what a listener types: none belongs in show notes, a description or a transcript.
var activeElements = map[string]string{
	"script": "runs script", "iframe": "loads another document", "frame": "loads another document",
	"frameset": "loads other documents", "object": "loads a plugin or document", "embed": "loads a plugin",
	"applet": "loads a plugin", "base": "changes where every link goes", "form": "submits what is typed",
	"svg": "can run script (SVG)", "math": "can carry links and script (MathML)", "style": "restyles the page",
	"meta": "can redirect the page", "link": "loads another resource", "portal": "loads another document",
	"isindex": "submits what is typed", "noembed": "hides markup from some parsers",
}

// urlAttrs hold a URL (or, for srcset and ping, several) that a browser follows or loads.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "data": true, "codebase": true,
	"cite": true, "background": true, "poster": true, "longdesc": true, "usemap": true,
	"lowsrc": true, "dynsrc": true, "profile": true, "manifest": true, "icon": true, "ping": true,
	"archive": true, "classid": true, "xlink:href": true, "xml:base": true, "srcset": true,
	"imagesrcset": true, "itemtype": true,
}

// Find returns the active markup in src: elements that can run script or load other documents,
// event handler attributes (on...), srcdoc, styles that load or run something, and attributes
// whose URL does not pass URL. src is tokenized as a browser does (golang.org/x/net/html), so a
// tag is seen however it is spelt.
func Find(src string, opts Options) []Finding {
	var out []Finding
	z := html.NewTokenizer(strings.NewReader(src))
	line := 1
	inOwnScript := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				out = append(out, Finding{Line: line, Msg: fmt.Sprintf("the HTML cannot be read (%v)", z.Err())})
			}
			return out
		}
		raw := z.Raw()
		at := line
		line += strings.Count(string(raw), "\n")
		switch tt {
		case html.TextToken:
			if inOwnScript && strings.TrimSpace(string(raw)) != "" {
				out = append(out, Finding{Line: at, Msg: "code inside <script>"})
			}
		case html.EndTagToken:
			inOwnScript = false
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			out = append(out, findInTag(tok, at, opts, &inOwnScript)...)
		}
	}
}

func findInTag(tok html.Token, line int, opts Options, ownScript *bool) []Finding {
	var out []Finding
	add := func(format string, a ...any) { out = append(out, Finding{Line: line, Msg: fmt.Sprintf(format, a...)}) }
	name := tok.Data
	if why, ok := activeElements[name]; ok && !allowedElement(tok, opts, ownScript) {
		add("<%s> element (it %s)", name, why)
	}
	for _, a := range tok.Attr {
		key := strings.ToLower(a.Key)
		if a.Namespace != "" {
			key = a.Namespace + ":" + key
		}
		switch {
		case strings.HasPrefix(key, "on"):
			add("%s attribute on <%s> (an event handler runs script)", key, name)
		case key == "srcdoc":
			add("srcdoc attribute on <%s> (it is a whole document)", name)
		case key == "style":
			if why := activeStyle(a.Val); why != "" {
				add("style attribute on <%s> %s", name, why)
			}
		case urlAttrs[key]:
			if name == "link" && opts.Document && key == "href" && a.Val == "data:," {
				continue // the page's empty icon
			}
			for _, u := range attrURLs(key, a.Val) {
				if err := URL(u); err != nil {
					add("%s on <%s>: %v", key, name, err)
				}
			}
		}
	}
	return out
}

// allowedElement reports whether an active element is one a page may have (Options).
func allowedElement(tok html.Token, opts Options, ownScript *bool) bool {
	attr := func(k string) (string, bool) {
		for _, a := range tok.Attr {
			if a.Namespace == "" && strings.EqualFold(a.Key, k) {
				return a.Val, true
			}
		}
		return "", false
	}
	switch tok.Data {
	case "script":
		src, ok := attr("src")
		if opts.Script != nil && ok && opts.Script(src) {
			*ownScript = tok.Type == html.StartTagToken
			return true
		}
	case "meta":
		if !opts.Document {
			return false
		}
		if eq, ok := attr("http-equiv"); ok {
			return strings.EqualFold(strings.TrimSpace(eq), "content-security-policy")
		}
		_, charset := attr("charset")
		_, named := attr("name")
		return charset || named
	case "link":
		// A page's icon, feed and stylesheet, from the page's own site (its href is judged as a
		// URL too).
		if !opts.Document {
			return false
		}
		rel, _ := attr("rel")
		switch strings.ToLower(strings.TrimSpace(rel)) {
		case "icon", "alternate", "stylesheet":
		default:
			return false
		}
		href, _ := attr("href")
		if href == "data:," {
			return true
		}
		scheme, err := Scheme(href)
		return err == nil && scheme == "" && !strings.HasPrefix(strings.TrimSpace(href), "//")
	}
	return false
}

// attrURLs splits an attribute into the URLs it holds: srcset's candidates, ping's list.
func attrURLs(key, val string) []string {
	switch key {
	case "srcset", "imagesrcset":
		var out []string
		for _, c := range strings.Split(val, ",") {
			if f := strings.Fields(c); len(f) > 0 {
				out = append(out, f[0])
			}
		}
		return out
	case "ping", "archive":
		return strings.Fields(val)
	}
	return []string{val}
}

// activeStyle says why an inline style can load or run something ("" when it cannot): url(),
// IE's expression() and behavior, Firefox's -moz-binding, script URLs. CSS escapes and comments
// are dropped first.
func activeStyle(css string) string {
	s := html.UnescapeString(css)
	for {
		i := strings.Index(s, "/*")
		if i < 0 {
			break
		}
		j := strings.Index(s[i+2:], "*/")
		if j < 0 {
			s = s[:i]
			break
		}
		s = s[:i] + s[i+2+j+2:]
	}
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if r == '\\' || r <= 0x20 || r == 0x7F {
			return -1
		}
		return r
	}, cssUnescape(s)))
	for _, bad := range []string{"url(", "expression", "javascript:", "vbscript:", "-moz-binding", "behavior", "@import", "image-set("} {
		if strings.Contains(s, bad) {
			return fmt.Sprintf("(%s can load or run something)", strings.TrimSuffix(bad, "("))
		}
	}
	return ""
}

// cssUnescape resolves CSS escapes (CSS Syntax Level 3 §4.3.7): a backslash and up to six hex
// digits (and one white space after them) is that code point; a backslash and another
// character is that character.
func cssUnescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		var r rune
		for j < len(s) && j < i+7 && isHex(s[j]) {
			r = r<<4 | rune(unhex(s[j]))
			j++
		}
		if j == i+1 { // not hex: the next character as it is
			continue
		}
		if j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
			j++
		}
		if r == 0 || r > 0x10FFFF || r >= 0xD800 && r <= 0xDFFF {
			r = 0xFFFD
		}
		b.WriteRune(r)
		i = j - 1
	}
	return b.String()
}
