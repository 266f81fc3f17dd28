package websafe

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// Cleaning is two passes: bluemonday's allow-list (elements, attributes, URL schemes), then our
// own URL judge on every URL attribute it kept, so that a URL passes only when both agree. Find
// then checks the result, and anything it still finds is an error, never published.

// basePolicy is what notes and transcripts share: links and images with safe URLs, nothing that
// runs or loads documents, no styles, no comments.
func basePolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes(Schemes...)
	p.AllowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li",
		"pre", "code", "em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "kbd", "small", "mark",
		"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "dl", "dt", "dd")
	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("src", "alt", "title").OnElements("img")
	p.AllowAttrs("width", "height").Matching(regexp.MustCompile(`^[0-9]{1,5}$`)).OnElements("img")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^-?[0-9]{1,9}$`)).OnElements("ol")
	p.AllowAttrs("cite").OnElements("blockquote", "q", "del", "ins")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(?i:left|right|center)$`)).OnElements("th", "td")
	p.AllowStyles("text-align").MatchingEnum("left", "right", "center").OnElements("th", "td")
	p.AllowAttrs("colspan", "rowspan").Matching(regexp.MustCompile(`^[0-9]{1,4}$`)).OnElements("th", "td")
	return p
}

// notesPolicy fits the HTML goldmark makes of Markdown with GitHub's extensions: code blocks
// with their language, tables with aligned cells, task list check boxes.
var notesPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := basePolicy()
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,40}$`)).OnElements("code")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^(|checked|disabled)$`)).OnElements("input")
	return p
})

// transcriptPolicy fits a Podcasting 2.0 HTML transcript (<cite>speaker</cite>, <time>,
// paragraphs) and the structure a word processor exports.
var transcriptPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := basePolicy()
	p.AllowElements("cite", "time", "q", "abbr", "span", "div", "section", "article", "header", "footer",
		"main", "aside", "figure", "figcaption")
	p.AllowAttrs("datetime").OnElements("time")
	p.AllowAttrs("class", "id", "lang", "dir", "title").Matching(regexp.MustCompile(`^[\p{L}\p{N} _.:,-]{0,200}$`)).Globally()
	return p
})

// CleanNotes keeps of src (HTML rendered from show notes) only the allow-listed markup:
// paragraphs, headings, lists, emphasis, code, tables, quotes, task list boxes, and links and
// images whose URL passes URL (a link that does not lose its href and stays as text). The error
// wraps ErrUnsafeHTML when the result would still hold active markup.
func CleanNotes(src string) (string, error) {
	return clean(notesPolicy(), src)
}

func clean(p *bluemonday.Policy, src string) (string, error) {
	out := dropUnsafeURLs(p.Sanitize(src))
	if f := Find(out, Options{}); len(f) > 0 {
		return "", fmt.Errorf("websafe: %w after cleaning: %s", ErrUnsafeHTML, f[0])
	}
	return out, nil
}

// dropUnsafeURLs removes every URL attribute that URL refuses (a srcset or ping with one bad
// URL goes whole), and a link left with no attributes at all keeps only its text; everything
// else is written back byte for byte.
func dropUnsafeURLs(src string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(src))
	droppedLinks := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return b.String()
		}
		if tt == html.EndTagToken && droppedLinks > 0 {
			if name, _ := z.TagName(); string(name) == "a" {
				droppedLinks--
				continue
			}
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			b.Write(z.Raw())
			continue
		}
		raw := string(z.Raw())
		tok := z.Token()
		kept := tok.Attr[:0]
		for _, a := range tok.Attr {
			if urlAttrs[strings.ToLower(a.Key)] && !allURLsSafe(strings.ToLower(a.Key), a.Val) {
				continue
			}
			kept = append(kept, a)
		}
		if len(kept) == len(tok.Attr) {
			b.WriteString(raw)
			continue
		}
		if tok.Data == "a" && len(kept) == 0 {
			if tt == html.StartTagToken {
				droppedLinks++
			}
			continue
		}
		tok.Attr = kept
		b.WriteString(tok.String())
	}
}

func allURLsSafe(key, val string) bool {
	for _, u := range attrURLs(key, val) {
		if URL(u) != nil {
			return false
		}
	}
	return true
}

// transcriptCSP is the Content-Security-Policy of a published HTML transcript: no script, no
// styles, no frames, images from the web only. A second wall behind the cleaning.
const transcriptCSP = "default-src 'none'; img-src https: http:; base-uri 'none'; form-action 'none'"

var langTag = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

// CleanTranscript makes a published page of an HTML transcript: the body of src cleaned to an
// allow-list that keeps what Podcasting 2.0 transcripts use (<cite> for the speaker, <time>,
// paragraphs, lists, tables, links with safe URLs) and drops scripts, styles, frames, forms,
// event handlers and unsafe URLs; around it a page of its own with the transcript's <title> and
// lang, a UTF-8 charset, and a Content-Security-Policy that allows no script. The error wraps
// ErrNoText when no text is left, and ErrUnsafeHTML when the result would still hold active
// markup.
func CleanTranscript(src []byte) ([]byte, error) {
	title, lang := documentTitleLang(src)
	body, err := clean(transcriptPolicy(), string(src))
	if err != nil {
		return nil, err
	}
	if !hasText(body) {
		return nil, fmt.Errorf("websafe: transcript: %w", ErrNoText)
	}
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html")
	if langTag.MatchString(lang) {
		b.WriteString(` lang="` + lang + `"`)
	}
	b.WriteString(">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString(`<meta http-equiv="Content-Security-Policy" content="` + transcriptCSP + "\">\n")
	b.WriteString("<title>" + html.EscapeString(title) + "</title>\n</head>\n<body>\n")
	b.WriteString(strings.TrimSpace(body))
	b.WriteString("\n</body>\n</html>\n")
	out := b.Bytes()
	if f := Find(string(out), Options{Document: true}); len(f) > 0 {
		return nil, fmt.Errorf("websafe: transcript: %w after cleaning: %s", ErrUnsafeHTML, f[0])
	}
	return out, nil
}

// documentTitleLang reads the text of a document's first <title> ("Transcript" when none) and
// its <html lang>.
func documentTitleLang(src []byte) (title, lang string) {
	title = "Transcript"
	z := html.NewTokenizer(bytes.NewReader(src))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return title, lang
		case html.StartTagToken:
			tok := z.Token()
			switch tok.Data {
			case "html":
				for _, a := range tok.Attr {
					if a.Key == "lang" {
						lang = strings.TrimSpace(a.Val)
					}
				}
			case "title":
				if z.Next() == html.TextToken {
					if t := strings.Join(strings.Fields(string(z.Text())), " "); t != "" {
						title = clip(t)
					}
				}
				return title, lang
			case "body":
				return title, lang
			}
		}
	}
}

// Text makes plain text safe where a podcast app may read it as HTML (an RSS description): text
// in which Find sees no active markup comes back as it is; otherwise every '<' becomes "&lt;",
// so that no tag is left and an app that reads HTML shows the text as written.
func Text(s string) string {
	if !strings.Contains(s, "<") || len(Find(s, Options{})) == 0 {
		return s
	}
	return strings.ReplaceAll(s, "<", "&lt;")
}

// Notes returns HTML of show notes as it may be published: src itself when Find sees nothing
// active in it (the common case, and byte for byte what was rendered), otherwise CleanNotes(src).
func Notes(src string) (string, error) {
	if len(Find(src, Options{})) == 0 {
		return src, nil
	}
	return CleanNotes(src)
}

// hasText reports whether HTML has any text that is not white space.
func hasText(src string) bool {
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.TextToken:
			if strings.TrimSpace(string(z.Text())) != "" {
				return true
			}
		}
	}
}
