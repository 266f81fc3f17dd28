package site

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spacecast/spacecast/pkg/websafe"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// MaxDescription is the longest plain-text description, in bytes: Apple reads up to 4000.
const MaxDescription = 4000

// markdown renders show notes: CommonMark with GitHub's tables, strikethrough, autolinks and task
// lists. Raw HTML in the notes is left out (goldmark's default, not WithUnsafe). goldmark's own
// check of link schemes is not enough (it judges a destination before resolving its character
// references: [x](&#106;avascript:…) passes it), so RenderNotes cleans what it makes with
// websafe.CleanNotes: an allow-list of elements, and links and images only with http, https,
// mailto or relative URLs, judged after every decoding.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// errNotUTF8 is the problem with notes that are not text.
var errNotUTF8 = errors.New("not UTF-8 text (save the file as UTF-8)")

// Notes are an episode's show notes: the HTML rendered from the publisher's Markdown and the plain
// text derived from the same tree (the description podcast apps show without HTML).
type Notes struct {
	HTML string
	Text string
}

// RenderNotes renders Markdown show notes. The input must be UTF-8.
func RenderNotes(md []byte) (Notes, error) {
	if !utf8.Valid(md) {
		return Notes{}, badInput("notes: %w", errNotUTF8)
	}
	doc := markdown.Parser().Parse(text.NewReader(md))
	var h bytes.Buffer
	if err := markdown.Renderer().Render(&h, md, doc); err != nil {
		return Notes{}, errorf("notes: %w", err)
	}
	clean, err := websafe.CleanNotes(h.String())
	if err != nil {
		return Notes{}, errorf("notes: %w", err)
	}
	var t plain
	t.blocks(doc, md, "")
	return Notes{HTML: clean, Text: strings.TrimSpace(t.b.String())}, nil
}

// plain writes a Markdown tree as plain text: blocks separated by a blank line, list items as
// "- " lines, links as their text with the URL in brackets when it differs, raw HTML left out.
type plain struct{ b strings.Builder }

func (p *plain) sep() {
	if p.b.Len() > 0 {
		p.b.WriteString("\n\n")
	}
}

func (p *plain) blocks(n ast.Node, src []byte, prefix string) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		p.block(c, src, prefix)
	}
}

func (p *plain) block(n ast.Node, src []byte, prefix string) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.Heading, *ast.TextBlock:
		s := strings.TrimSpace(inline(n, src))
		if s == "" {
			return
		}
		if _, ok := n.(*ast.TextBlock); ok && prefix != "" && strings.HasSuffix(p.b.String(), prefix) {
			p.b.WriteString(s)
			return
		}
		p.sep()
		p.b.WriteString(prefix + s)
	case *ast.List:
		num := n.Start
		for it := n.FirstChild(); it != nil; it = it.NextSibling() {
			mark := "- "
			if n.IsOrdered() {
				mark = strconv.Itoa(num) + ". "
				num++
			}
			p.sep()
			p.b.WriteString(mark)
			// The item's first block continues the marker's line.
			first := true
			for c := it.FirstChild(); c != nil; c = c.NextSibling() {
				if first {
					s := strings.TrimSpace(inline(c, src))
					if _, ok := c.(*ast.List); !ok {
						p.b.WriteString(s)
						first = false
						continue
					}
				}
				first = false
				p.block(c, src, "")
			}
		}
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		lines := n.Lines()
		var s strings.Builder
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			s.Write(seg.Value(src))
		}
		if t := strings.TrimRight(s.String(), "\n"); t != "" {
			p.sep()
			p.b.WriteString(t)
		}
	case *east.Table:
		for row := n.FirstChild(); row != nil; row = row.NextSibling() {
			var cells []string
			for c := row.FirstChild(); c != nil; c = c.NextSibling() {
				cells = append(cells, strings.TrimSpace(inline(c, src)))
			}
			p.sep()
			p.b.WriteString(strings.Join(cells, " | "))
		}
	case *ast.HTMLBlock, *ast.ThematicBreak:
	default:
		p.blocks(n, src, prefix)
	}
}

// inline is the text of a block's inline content.
func inline(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				b.Write(c.Value(src))
				switch {
				case c.HardLineBreak():
					b.WriteByte('\n')
				case c.SoftLineBreak():
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.AutoLink:
				b.Write(c.Label(src))
			case *ast.Link:
				start := b.Len()
				walk(c)
				label := b.String()[start:]
				u := string(c.Destination)
				web := strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
				if web && u != label {
					b.WriteString(" (" + u + ")")
				}
			case *ast.RawHTML:
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// Summary cuts text to at most max bytes, at a word boundary when there is one, marking the cut
// with an ellipsis.
func Summary(text string, max int) string {
	if len(text) <= max {
		return text
	}
	const ell = "…"
	cut := max - len(ell)
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	s := text[:cut]
	if i := strings.LastIndexAny(s, " \n\t"); i > cut/2 {
		s = s[:i]
	}
	return strings.TrimRight(s, " \n\t.,;:") + ell
}

func utf8Valid(b []byte) bool { return utf8.Valid(b) }
