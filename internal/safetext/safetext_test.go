package safetext

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerm(t *testing.T) {
	long := strings.Repeat("a", MaxLine+10)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"a plain name is kept as it is", "Ada Lovelace", "Ada Lovelace"},
		{"non-Latin letters and emoji are kept", "Łucja 李 🎙", "Łucja 李 🎙"},
		{"a real U+FFFD in the input is kept", "a\ufffdb", "a\ufffdb"},
		{"OSC 0 (set window title) is escaped", "Ada\x1b]0;pwned\x07", `Ada\x1b]0;pwned\x07`},
		{"CSI 2J (clear screen) is escaped", "\x1b[2JAda", `\x1b[2JAda`},
		{"OSC 52 (write the clipboard) is escaped", "\x1b]52;c;cm0gLXJmIH4=\x07", `\x1b]52;c;cm0gLXJmIH4=\x07`},
		{"a C1 CSI (U+009B) is escaped", "a\u009b2Jb", `a\u009b2Jb`},
		{"a raw C1 byte (not UTF-8) is escaped", "a\x9bb", `a\x9bb`},
		{"DEL is escaped", "a\x7fb", `a\x7fb`},
		{"a right-to-left override is escaped", "evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"a bidi isolate is escaped", "a\u2066b\u2069", `a\u2066b\u2069`},
		{"line and paragraph separators are escaped", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"newline, tab and carriage return are escaped on one line", "a\nb\tc\rd", `a\x0ab\x09c\x0dd`},
		{"invalid UTF-8 is escaped byte by byte", "a\xff\xfeb", `a\xff\xfeb`},
		{"a long name is cut to MaxLine runes with an ellipsis", long, strings.Repeat("a", MaxLine-1) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Term(tc.in); got != tc.want {
				t.Errorf("Term(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTermText(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"newlines and tabs stay in a message", "line 1\n\tline 2", "line 1\n\tline 2"},
		{"escape sequences are escaped", "body: \x1b[31mred\x1b[0m\r", `body: \x1b[31mred\x1b[0m\x0d`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TermText(tc.in); got != tc.want {
				t.Errorf("TermText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPublish(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"a plain name is kept", "Ada (host)", "Ada (host)"},
		{"an OSC 0 (window title) is dropped whole", "Ada\x1b]0;pwned\x07 L", "Ada L"},
		{"an OSC 52 (clipboard) ended by ESC \\ is dropped whole", "Ada\x1b]52;c;cm0gLXJmIH4=\x1b\\", "Ada"},
		{"a CSI (clear screen) is dropped whole", "\x1b[2J\x1b[1;31mAda\x1b[0m", "Ada"},
		{"an 8-bit CSI is dropped whole", "\u009b2JAda", "Ada"},
		{"an unterminated OSC takes the rest", "Ada\x1b]0;pwned", "Ada"},
		{"ESC with one other character drops both", "A\x1bcda", "Ada"},
		{"a broken CSI keeps what follows", "\x1b[2\nAda", "Ada"},
		{"bidi overrides are dropped", "Ada\u202e\u2066Brook\u2069", "AdaBrook"},
		{"other C1 controls and DEL are dropped", "A\u0080d\x7fa\u0086", "Ada"},
		{"invalid UTF-8 is dropped", "A\xffda", "Ada"},
		{"line breaks and tabs become one space", "Ada\n\t \u2028Lovelace", "Ada Lovelace"},
		{"surrounding space is trimmed", "  Ada  ", "Ada"},
		{"only controls leaves nothing", "\x1b\x07\u202e", ""},
		{"a long name is cut with an ellipsis", strings.Repeat("é", MaxPublish+5), strings.Repeat("é", MaxPublish-1) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Publish(tc.in); got != tc.want {
				t.Errorf("Publish(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// checkSafe fails unless out is valid UTF-8 without an unsafe rune (newline and tab allowed when
// multiline) and at most maxRunes long.
func checkSafe(t *testing.T, fn, in, out string, maxRunes int, multiline bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s(%q) = %q is not UTF-8", fn, in, out)
	}
	for _, r := range out {
		if Unsafe(r) && !(multiline && (r == '\n' || r == '\t')) {
			t.Fatalf("%s(%q) = %q keeps %U", fn, in, out, r)
		}
	}
	if n := utf8.RuneCountInString(out); n > maxRunes {
		t.Fatalf("%s(%q) has %d runes, more than %d", fn, in, n, maxRunes)
	}
}

func FuzzSanitise(f *testing.F) {
	for _, s := range []string{"Ada", "\x1b]0;t\x07", "\x1b[2J", "\u009b", "\xff", "\u202e", "a\nb\tc", strings.Repeat("\x1b", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []struct {
			name      string
			fn        func(string) string
			max       int
			multiline bool
		}{{"Term", Term, MaxLine, false}, {"TermText", TermText, MaxText, true}, {"Publish", Publish, MaxPublish, false}} {
			out := c.fn(s)
			checkSafe(t, c.name, s, out, c.max, c.multiline)
			if again := c.fn(out); again != out {
				t.Fatalf("%s is not idempotent: %q -> %q -> %q", c.name, s, out, again)
			}
			if c.name != "Publish" && Clean(s) && utf8.RuneCountInString(s) <= c.max && (c.multiline || !strings.ContainsAny(s, "\n\t")) && out != s {
				t.Fatalf("%s changed a clean string: %q -> %q", c.name, s, out)
			}
		}
	})
}

func TestJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"C0 controls are escaped by encoding/json already", "a\x1b[2J", `"a\u001b[2J"`},
		{"a C1 CSI is escaped", "a\u009b2J", `"a\u009b2J"`},
		{"DEL is escaped", "a\x7f", `"a\u007f"`},
		{"a right-to-left override is escaped", "a\u202eb", `"a\u202eb"`},
		{"plain text is left alone", "Łucja", `"Łucja"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(tc.in)
			if got := string(JSON(b)); got != tc.want {
				t.Errorf("JSON(%s) = %s, want %s", b, got, tc.want)
			}
		})
	}
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{"Ada", "\x1b]0;t\x07", "\u009b", "\xff", "\u202e\x7f", "\ufeff\uffff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := json.MarshalIndent(map[string]any{"name": s, "list": []string{s, "x"}}, "", "  ")
		if err != nil {
			t.Skip()
		}
		out := JSON(b)
		var a, c any
		if err := json.Unmarshal(out, &c); err != nil {
			t.Fatalf("JSON(%s) = %s does not parse: %v", b, out, err)
		}
		json.Unmarshal(b, &a)
		if !reflect.DeepEqual(a, c) {
			t.Fatalf("JSON changed the value: %v -> %v", a, c)
		}
		if !utf8.Valid(out) {
			t.Fatalf("JSON(%s) is not UTF-8", b)
		}
		for _, r := range string(out) {
			if Unsafe(r) && r != '\n' {
				t.Fatalf("JSON(%s) = %s keeps %U", b, out, r)
			}
		}
	})
}
