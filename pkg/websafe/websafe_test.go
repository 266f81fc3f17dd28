package websafe

import (
	"errors"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct {
		name, url string
		safe      bool
	}{
		{"an https link passes", "https://example.com/a?b=1&c=2#d", true},
		{"an http link passes", "http://example.com/", true},
		{"a mailto link passes", "mailto:ada@example.com", true},
		{"a relative path passes", "episodes/one.mp3", true},
		{"a path with a colon after a slash passes", "/a:b", true},
		{"a protocol-relative link passes (it takes the page's scheme)", "//example.com/x", true},
		{"a fragment passes", "#ep-one", true},
		{"a query with a colon passes", "?t=1:02", true},
		{"an encoded colon inside an https URL passes", "https://example.com/a%3Ab", true},
		{"javascript: is refused", "javascript:alert(1)", false},
		{"upper and mixed case are the same scheme", "JaVaScRiPt:alert(1)", false},
		{"a decimal character reference hides the j", "&#106;avascript:alert(1)", false},
		{"a decimal reference without its semicolon", "&#106avascript:alert(1)", false},
		{"a hex reference without its semicolon", "&#x6Aavascript:alert(1)", false},
		{"a padded hex reference", "&#x0000006A;avascript:alert(1)", false},
		{"a named reference for the colon", "javascript&colon;alert(1)", false},
		{"a named tab inside the scheme", "java&Tab;script:alert(1)", false},
		{"a raw tab inside the scheme (browsers drop it)", "java\tscript:alert(1)", false},
		{"a raw newline inside the scheme", "java\nscript:alert(1)", false},
		{"a NUL before the scheme", "\x00javascript:alert(1)", false},
		{"leading white space", "  javascript:alert(1)", false},
		{"a zero-width space inside the scheme", "java\u200bscript:alert(1)", false},
		{"a percent-encoded letter", "%6Aavascript:alert(1)", false},
		{"a reference that is itself escaped", "&amp;#106;avascript:alert(1)", false},
		{"vbscript: is refused", "vbscript:msgbox(1)", false},
		{"data: HTML is refused", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", false},
		{"data: images are refused too", "data:image/svg+xml,<svg onload=alert(1)>", false},
		{"file: is refused", "file:///etc/passwd", false},
		{"any other scheme is refused", "ftp://example.com/x", false},
		{"a colon first is refused", ":alert(1)", false},
		{"a non-scheme before the first colon is refused", "a b(c):d", false},
		{"endless encoding is refused", strings.Repeat("%25", 12) + "6Aavascript:x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := URL(tt.url)
			if tt.safe && err != nil {
				t.Fatalf("URL(%q) = %v, want it to pass", tt.url, err)
			}
			if !tt.safe {
				if err == nil {
					t.Fatalf("URL(%q) passed, want it refused", tt.url)
				}
				if !errors.Is(err, ErrUnsafeURL) {
					t.Fatalf("URL(%q) = %v, not ErrUnsafeURL", tt.url, err)
				}
			}
		})
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		name, html string
		want       string // part of the first finding; "" for none
	}{
		{"plain notes have nothing active", `<p>Hi <a href="https://e.com">there</a> <img src="a.png" alt="x"></p><table><tr><td style="text-align:left">1</td></tr></table>`, ""},
		{"a script element", `<p>x</p><script>alert(1)</script>`, "<script> element"},
		{"a script tag in odd case and spacing", "<ScRiPt\n>alert(1)</script>", "<script> element"},
		{"an event handler", `<img src=x onerror=alert(1)>`, "onerror attribute"},
		{"an event handler after a slash", `<img/onerror=alert(1)/src=x>`, "onerror attribute"},
		{"an entity-hidden javascript: link", `<a href="&#106;avascript:alert(1)">x</a>`, "javascript: URL"},
		{"a data: link", `<a href="data:text/html,<script>alert(1)</script>">x</a>`, "data: URL"},
		{"an iframe", `<iframe src="https://e.com"></iframe>`, "<iframe> element"},
		{"svg", `<svg><a xlink:href="javascript:alert(1)">x</a></svg>`, "<svg> element"},
		{"an xlink:href on its own", `<a xlink:href="javascript:alert(1)">x</a>`, "xlink:href"},
		{"a form action", `<button formaction="javascript:alert(1)">x</button>`, "formaction"},
		{"a srcset candidate", `<img srcset="a.png 1x, javascript:alert(1) 2x">`, "srcset"},
		{"a meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`, "<meta> element"},
		{"a base element", `<base href="https://evil.example/">`, "<base> element"},
		{"srcdoc", `<div srcdoc="&lt;script&gt;">`, "srcdoc"},
		{"a style that loads through an escape", `<p style="background:\75 rl(https://e.com)">x</p>`, "style attribute"},
		{"a style with expression", `<p style="width:expr/**/ession(alert(1))">x</p>`, "style attribute"},
		{"a tag inside noscript is still seen", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, "onerror attribute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Find(tt.html, Options{})
			if tt.want == "" {
				if len(f) > 0 {
					t.Fatalf("Find = %v, want nothing", f)
				}
				return
			}
			if len(f) == 0 || !strings.Contains(f[0].Msg, tt.want) {
				t.Fatalf("Find = %v, want a finding with %q", f, tt.want)
			}
		})
	}
}

func TestFindDocument(t *testing.T) {
	page := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"x\">\n" +
		`<link rel="icon" href="data:,"><link rel="stylesheet" href="assets/style.css?v=1">` +
		"<script src=\"assets/player.js?v=1\" defer></script></head><body><p>x</p></body></html>"
	own := func(src string) bool { return strings.HasPrefix(src, "assets/") }
	if f := Find(page, Options{Document: true, Script: own}); len(f) > 0 {
		t.Fatalf("the page's own head is flagged: %v", f)
	}
	if f := Find(page, Options{}); len(f) == 0 {
		t.Fatal("a fragment with a head's elements is not flagged")
	}
	inline := strings.Replace(page, "defer></script>", "defer>alert(1)</script>", 1)
	if f := Find(inline, Options{Document: true, Script: own}); len(f) != 1 || !strings.Contains(f[0].Msg, "code inside <script>") {
		t.Fatalf("code inside the page's own script: %v", f)
	}
	other := strings.Replace(page, "assets/player.js", "https://evil.example/x.js", 1)
	if f := Find(other, Options{Document: true, Script: own}); len(f) != 1 || f[0].Line != 4 {
		t.Fatalf("another script, on line 4: %v", f)
	}
	for _, link := range []string{`<link rel="icon" href="data:text/html,x">`, `<link rel="stylesheet" href="https://evil.example/x.css">`,
		`<link rel="stylesheet" href="//evil.example/x.css">`, `<link rel="import" href="x.html">`} {
		if f := Find(link, Options{Document: true}); len(f) == 0 {
			t.Errorf("%s in a page is not flagged", link)
		}
	}
}

func TestCleanNotes(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a javascript: link keeps its text", `<p><a href="javascript:alert(1)">x</a></p>`, `<p>x</p>`},
		{"a safe link stays", `<p><a href="https://e.com/?a=1&amp;b=2" title="t">x</a></p>`, `<p><a href="https://e.com/?a=1&amp;b=2" title="t">x</a></p>`},
		{"a tab-hidden scheme goes", `<a href="java&#x09;script:alert(1)">x</a>`, `x`},
		{"script and its code go", `<p>a</p><script>alert(1)</script>`, `<p>a</p>`},
		{"an event handler goes, the image stays", `<img src="a.png" alt="a" onerror="alert(1)">`, `<img src="a.png" alt="a">`},
		{"a data: image loses its src", `<img src="data:image/svg+xml,x" alt="a">`, `<img alt="a">`},
		{"goldmark's task list boxes, code language and table alignment stay", `<input checked="" disabled="" type="checkbox"><code class="language-go">x</code><table><tbody><tr><td style="text-align:right">1</td></tr></tbody></table>`, `<input checked="" disabled="" type="checkbox"><code class="language-go">x</code><table><tbody><tr><td style="text-align: right">1</td></tr></tbody></table>`},
		{"a text input goes", `<input type="text" value="x">`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanNotes(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("CleanNotes(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNotesKeepsCleanHTMLByteForByte(t *testing.T) {
	in := "<p>Notes with <a href=\"https://example.com\">a link</a> and ]]> inside &quot;q&quot;.</p>\n"
	got, err := Notes(in)
	if err != nil || got != in {
		t.Fatalf("Notes(%q) = %q, %v; want it unchanged", in, got, err)
	}
	got, err = Notes(in + `<a href="&#106;avascript:alert(1)">x</a>`)
	if err != nil || strings.Contains(got, "href=\"&#106;") || len(Find(got, Options{})) > 0 {
		t.Fatalf("Notes of hostile HTML = %q, %v", got, err)
	}
}

func TestCleanTranscript(t *testing.T) {
	in := `<html lang="de"><head><title>Folge 1</title><script>steal()</script><style>p{}</style>` +
		`<meta http-equiv="refresh" content="0;url=https://evil.example"></head><body onload="x()">` +
		`<cite>Ada:</cite> <time datetime="PT1S">0:01</time><p class="line" onclick="x()">Hallo <a href="javascript:x()">du</a> ` +
		`<a href="https://example.com/">Link</a></p><iframe src="https://evil.example"></iframe><form action="/x"><input name="p"></form></body></html>`
	out, err := CleanTranscript([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{`<html lang="de">`, `<meta charset="utf-8">`, `Content-Security-Policy`, `<title>Folge 1</title>`,
		`<cite>Ada:</cite>`, `<time datetime="PT1S">0:01</time>`, `<p class="line">Hallo du <a href="https://example.com/">Link</a></p>`} {
		if !strings.Contains(s, want) {
			t.Errorf("the cleaned transcript lacks %s:\n%s", want, s)
		}
	}
	for _, bad := range []string{"steal", "onload", "onclick", "javascript", "iframe", "<form", "refresh", "<style"} {
		if strings.Contains(s, bad) {
			t.Errorf("the cleaned transcript still has %s:\n%s", bad, s)
		}
	}
	if f := Find(s, Options{Document: true}); len(f) > 0 {
		t.Errorf("Find on the cleaned transcript: %v", f)
	}
}

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain text stays", "Ada & Brook on <recording> rooms", "Ada & Brook on <recording> rooms"},
		{"text with a script tag loses its tags", "Why <script>alert(1)</script> matters", "Why &lt;script>alert(1)&lt;/script> matters"},
		{"an image with a handler", "<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.in)
			if got != tt.want {
				t.Fatalf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if f := Find(got, Options{}); len(f) > 0 {
				t.Fatalf("Text(%q) = %q still has %v", tt.in, got, f)
			}
		})
	}
}

func TestCleanTranscriptRefusesWhatHasNoText(t *testing.T) {
	_, err := CleanTranscript([]byte(`<html><head><title>T</title></head><body><script>alert(1)</script><style>p{}</style><p> </p></body></html>`))
	if !errors.Is(err, ErrNoText) {
		t.Fatalf("CleanTranscript of only script and style = %v, want ErrNoText", err)
	}
}
