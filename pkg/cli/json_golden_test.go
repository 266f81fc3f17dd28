package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/golden"
	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/cli/ui"
	"github.com/spacecast/spacecast/pkg/session"
)

// jsonGolden runs one command line with --json in-process, checks its exit code and that it
// printed JSON, and compares what it printed, with the volatile values normalised (see
// normalizeJSON), with testdata/json/NAME.golden.
func jsonGolden(t *testing.T, tmp, name string, code int, args ...string) {
	t.Helper()
	args = append(args, "--json")
	out, errOut, got := run(t, args...)
	if got != code {
		t.Fatalf("spacecast %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, out, errOut)
	}
	if !json.Valid([]byte(out)) {
		t.Fatalf("spacecast %s printed no JSON:\n%s", strings.Join(args, " "), out)
	}
	golden.Assert(t, normalizeJSON(out, tmp), "json/"+name)
}

// volatileKeys are the keys whose values change from run to run (times, random keys, hashes
// over them) or from machine to machine (the user, the Go toolchain), with the placeholder each
// becomes. Every other value is kept, so that a golden file shows both the shape of the output
// and its stable values: names, paths under $TMP, counts, sizes, hashes of audio, measurements.
var volatileKeys = map[string]string{
	"go":                `"<go version>"`, // version: the toolchain that built the test
	"os":                `"<os>"`,
	"arch":              `"<arch>"`,
	"since":             `"<time>"`, // hold, release: when the hold was placed
	"by":                `"<user>"`, // hold, release: the user who placed it
	"public_key_base64": `"<ed25519 public key>"`,
	"signer_key":        `"<ed25519 public key>"`,
	"manifest_sha256":   `"<sha256>"`, // the manifest holds the times of its ledger entries
}

// jsonValue is one "key": value pair of JSON whose value is not an object or an array.
var jsonValue = regexp.MustCompile(`"([A-Za-z0-9_]+)":(\s*)("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)`)

// normalizeJSON replaces the temporary folder tmp with $TMP and the values of volatileKeys with
// their placeholders, and rounds fractional numbers to 6 decimals (a microsecond, a millionth of
// a dB): a duration that goes through time.Duration on its way to *_seconds may change in its
// last digits, which no script can rely on. The text is otherwise left as printed, keys in order.
func normalizeJSON(out, tmp string) []byte {
	out = strings.ReplaceAll(out, tmp, "$TMP")
	out = jsonValue.ReplaceAllStringFunc(out, func(kv string) string {
		m := jsonValue.FindStringSubmatch(kv)
		key, space, value := m[1], m[2], m[3]
		if p, ok := volatileKeys[key]; ok {
			return `"` + key + `":` + space + p
		}
		if strings.ContainsAny(value, ".eE") && !strings.HasPrefix(value, `"`) {
			if f, err := strconv.ParseFloat(value, 64); err == nil {
				return `"` + key + `":` + space + strconv.FormatFloat(math.Round(f*1e6)/1e6, 'f', -1, 64)
			}
		}
		return kv
	})
	return []byte(out)
}

// TestJSONGolden runs every command that has --json on fixtures and compares its output with a
// golden file: a renamed, removed or added key fails (run go test ./pkg/cli -run Golden
// -update, then review and commit testdata/json/). record's output is checked from its types in
// TestRecordJSONGolden: it needs a live room.
func TestJSONGolden(t *testing.T) {
	tmp := t.TempDir()
	if r, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = r
	}
	p := func(rel string) string { return filepath.Join(tmp, rel) }

	jsonGolden(t, tmp, "version", 0, "version")

	// The studio on the bundled demo session.
	sess := p("town-hall")
	if err := os.CopyFS(sess, os.DirFS(testutil.DemoSession(t))); err != nil {
		t.Fatal(err)
	}
	jsonGolden(t, tmp, "inspect_session", 0, "inspect", sess)
	jsonGolden(t, tmp, "mix", 0, "mix", sess, "-o", p("episode.mp3"), "--min-chapter", "15s")
	jsonGolden(t, tmp, "inspect_mp3", 0, "inspect", p("episode.mp3"))
	jsonGolden(t, tmp, "clip", 0, "clip", p("episode.mp3"), "--start", "1:05", "--duration", "10s", "-o", p("clip.mp3"))
	jsonGolden(t, tmp, "clip_copy", 0, "clip", p("episode.mp3"), "--start", "1:05", "--duration", "10s", "--copy", "-o", p("clip-copy.mp3"))
	jsonGolden(t, tmp, "trim", 0, "trim", p("episode.mp3"), "--cut", "0-12.5", "--cut", "60-65", "-o", p("trimmed.mp3"))

	// Integrity: keys, recover (of a recorder killed mid-page) and seal, verify, redact, export,
	// hold and release.
	key := p("sign.key")
	jsonGolden(t, tmp, "keygen", 0, "keygen", "-o", key)
	s, err := session.Open(sess)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.Finalized = false
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(sess, "tracks", "ada-1.opus")
	st, err := os.Stat(torn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(torn, st.Size()-1000); err != nil {
		t.Fatal(err)
	}
	jsonGolden(t, tmp, "recover", 0, "recover", sess, "--sign-key", key)
	jsonGolden(t, tmp, "recover_finalized", 0, "recover", sess)
	jsonGolden(t, tmp, "verify", 0, "verify", sess, "--key", key+".pub")
	jsonGolden(t, tmp, "export", 0, "export", sess, "-o", p("town-hall.tar"))
	jsonGolden(t, tmp, "hold", 0, "hold", sess, "--reason", "a moderation request")
	jsonGolden(t, tmp, "release", 0, "release", sess)
	jsonGolden(t, tmp, "release_not_held", 0, "release", sess)
	jsonGolden(t, tmp, "redact", 0, "redact", sess, "--speaker", "brook", "--from", "10", "--to", "20", "--sign-key", key)

	// Retention: sessions with fixed dates, so that the report's dates are stable.
	root := p("recordings")
	started := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	craftSession(t, root, "due", started, started.AddDate(0, 0, 30))
	craftSession(t, root, "kept", started, started.AddDate(100, 0, 0))
	jsonGolden(t, tmp, "prune_dry_run", 0, "prune", root, "--dry-run")
	jsonGolden(t, tmp, "prune", 0, "prune", root)

	// Publishing: a site, an episode, an update, a trailer, a check, a build, an unpublish.
	site := p("site")
	art := p("cover.png")
	testArtwork(t, art, 1400, 1400)
	jsonGolden(t, tmp, "feed_init", 0, initArgs(site, art)...)
	jsonGolden(t, tmp, "publish", 0, "publish", site, p("episode.mp3"), "--title", "Town hall, May",
		"--date", "2025-05-01T09:00:00Z", "--soundbite", "1:10+15s:The vote", "--person", "Ada Lovelace:host")
	jsonGolden(t, tmp, "publish_unchanged", 0, "publish", site, p("episode.mp3"), "--title", "Town hall, May",
		"--date", "2025-05-01T09:00:00Z", "--soundbite", "1:10+15s:The vote", "--person", "Ada Lovelace:host")
	jsonGolden(t, tmp, "publish_update", 0, "publish", site, "town-hall-may", "--update", "--description", "Unedited, with the vote.")
	jsonGolden(t, tmp, "publish_session", 0, "publish", site, sess, "--title", "Town hall, raw", "--type", "bonus", "--date", "2025-05-02T09:00:00Z")
	jsonGolden(t, tmp, "feed_check", 0, "feed", "check", site)
	jsonGolden(t, tmp, "feed_build", 0, "feed", "build", site)
	jsonGolden(t, tmp, "unpublish", 0, "unpublish", site, "town-hall-may")
	bare := p("bare-site")
	jsonGolden(t, tmp, "feed_init_no_image", 0, initArgs(bare, "")...)
	jsonGolden(t, tmp, "feed_check_problems", 3, "feed", "check", bare)

	// Last, as it damages the session: a changed, an added and a missing file.
	track := filepath.Join(sess, "tracks", "cyd-1.opus")
	b, err := os.ReadFile(track)
	if err != nil {
		t.Fatal(err)
	}
	b[100] ^= 0x80
	if err := os.WriteFile(track, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sess, "tracks", "extra.opus"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(sess, "tracks", "brook-2.opus")); err != nil {
		t.Fatal(err)
	}
	jsonGolden(t, tmp, "verify_changed", 1, "verify", sess)
}

// shapeJSON is the shape of a JSON document: its keys in the order printed, each value replaced
// by its type (<string>, <number>, <bool>, null), and each array by the shape of its first
// element ([] when empty). It is what a golden file holds for output whose values all change from
// run to run (a live room's), and for output golden from its types.
func shapeJSON(t *testing.T, out []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var b strings.Builder
	if err := writeShape(dec, &b, ""); err != nil {
		t.Fatalf("shape of %s: %v", out, err)
	}
	b.WriteString("\n")
	return []byte(b.String())
}

// writeShape writes the shape of the next JSON value of dec to b, indented by indent.
func writeShape(dec *json.Decoder, b *strings.Builder, indent string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			b.WriteString("{")
			n := 0
			for ; dec.More(); n++ {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				if n > 0 {
					b.WriteString(",")
				}
				k, _ := json.Marshal(key)
				fmt.Fprintf(b, "\n%s  %s: ", indent, k)
				if err := writeShape(dec, b, indent+"  "); err != nil {
					return err
				}
			}
			if n > 0 {
				b.WriteString("\n" + indent)
			}
			b.WriteString("}")
		} else { // '['
			if !dec.More() {
				b.WriteString("[]")
			} else {
				b.WriteString("[\n" + indent + "  ")
				if err := writeShape(dec, b, indent+"  "); err != nil {
					return err
				}
				for dec.More() {
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return err
					}
				}
				b.WriteString("\n" + indent + "]")
			}
		}
		_, err := dec.Token() // the closing '}' or ']'
		return err
	case string:
		b.WriteString(`"<string>"`)
	case json.Number:
		b.WriteString(`"<number>"`)
	case bool:
		b.WriteString(`"<bool>"`)
	case nil:
		b.WriteString("null")
	}
	return nil
}

// TestJSONGoldenDemo runs the demo for its shortest room (20 s, live, in this process, on
// loopback) with --json and compares the shape of its report with a golden file: every value of
// a live recording (packet counts, levels, times, IDs) changes from run to run.
func TestJSONGoldenDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out, errOut, code := run(t, "demo", "-o", dir, "--length", "20s", "--json")
	if code != 0 {
		t.Fatalf("demo --json: exit %d\n%s", code, errOut)
	}
	golden.Assert(t, shapeJSON(t, []byte(out)), "json/demo.shape")
}

// TestJSONGoldenRecord compares the shapes of record's --json lines, an event and the summary
// that ends the stream, with golden files. record needs a live room, so the shapes come from the
// types: every field filled (omitempty ones too), printed by record's own ui.WriteJSONLine.
func TestJSONGoldenRecord(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
	}{
		{"record_event", &capture.Event{}},
		{"record_summary", &ui.RecordSummary{}},
	} {
		fill(reflect.ValueOf(c.v).Elem())
		var b bytes.Buffer
		ui.WriteJSONLine(&b, c.v)
		golden.Assert(t, shapeJSON(t, b.Bytes()), "json/"+c.name+".shape")
	}
}

// fill sets every exported field of v, recursively, to a value that is not zero (slices and maps
// get one element), so that no omitempty key is left out of its JSON.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	}
}

func TestJSONGoldenNormalize(t *testing.T) {
	tests := []struct {
		why, in, want string
	}{
		{"the temporary folder becomes $TMP, the rest of the path stays",
			`{"output": "/tmp/x1/episode.mp3"}`, `{"output": "$TMP/episode.mp3"}`},
		{"a volatile key's value becomes its placeholder, in indented JSON",
			"{\n  \"since\": \"2026-12-07T17:39:01Z\",\n  \"reason\": \"r\"\n}", "{\n  \"since\": \"<time>\",\n  \"reason\": \"r\"\n}"},
		{"and in one-line JSON",
			`{"version":"test","go":"go1.26.8"}`, `{"version":"test","go":"<go version>"}`},
		{"a fraction is rounded to 6 decimals, an integer and a string of digits are kept",
			`{"duration_seconds": 109.65389583333334, "bytes": 878457, "id": "1.5"}`, `{"duration_seconds": 109.653896, "bytes": 878457, "id": "1.5"}`},
		{"an exponent is a fraction too",
			`{"share": 1.5e-07}`, `{"share": 0}`},
		{"a volatile key holding an object is left as it is",
			`{"since": {"a": 1}}`, `{"since": {"a": 1}}`},
	}
	for _, tt := range tests {
		if got := string(normalizeJSON(tt.in, "/tmp/x1")); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.why, got, tt.want)
		}
	}
}

func TestJSONGoldenShape(t *testing.T) {
	tests := []struct {
		why, in, want string
	}{
		{"scalars become their types, keys keep their order",
			`{"b":"x","a":1.5,"c":true,"d":null}`, "{\n  \"b\": \"<string>\",\n  \"a\": \"<number>\",\n  \"c\": \"<bool>\",\n  \"d\": null\n}\n"},
		{"an array is the shape of its first element; an empty one stays empty",
			`{"l":[{"x":1},{"y":2}],"e":[],"o":{}}`, "{\n  \"l\": [\n    {\n      \"x\": \"<number>\"\n    }\n  ],\n  \"e\": [],\n  \"o\": {}\n}\n"},
	}
	for _, tt := range tests {
		if got := string(shapeJSON(t, []byte(tt.in))); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.why, got, tt.want)
		}
	}
}

// jsonCoverage names, for every command, the golden files of its --json output, or why it has
// none. TestJSONGoldenCoverage fails for a command missing here, so that a new command's JSON
// gets a golden file (a line in TestJSONGolden) or a reason.
var jsonCoverage = map[string][]string{
	"spacecast":                       {"none: it runs no command of its own"},
	"spacecast help":                  {"none: it prints help"},
	"spacecast completion":            {"none: it prints a shell script"},
	"spacecast completion bash":       {"none: it prints a shell script"},
	"spacecast completion fish":       {"none: it prints a shell script"},
	"spacecast completion powershell": {"none: it prints a shell script"},
	"spacecast completion zsh":        {"none: it prints a shell script"},
	"spacecast feed":                  {"none: it only groups its subcommands"},
	"spacecast version":               {"version"},
	"spacecast inspect":               {"inspect_session", "inspect_mp3"},
	"spacecast mix":                   {"mix"},
	"spacecast clip":                  {"clip", "clip_copy"},
	"spacecast trim":                  {"trim"},
	"spacecast keygen":                {"keygen"},
	"spacecast recover":               {"recover", "recover_finalized"},
	"spacecast verify":                {"verify", "verify_changed"},
	"spacecast export":                {"export"},
	"spacecast hold":                  {"hold"},
	"spacecast release":               {"release", "release_not_held"},
	"spacecast redact":                {"redact"},
	"spacecast prune":                 {"prune", "prune_dry_run"},
	"spacecast feed init":             {"feed_init", "feed_init_no_image"},
	"spacecast feed check":            {"feed_check", "feed_check_problems"},
	"spacecast feed build":            {"feed_build"},
	"spacecast publish":               {"publish", "publish_unchanged", "publish_update", "publish_session"},
	"spacecast unpublish":             {"unpublish"},
	"spacecast push":                  {"push"}, // TestJSONGoldenStore
	"spacecast pull":                  {"pull"}, // TestJSONGoldenStore
	"spacecast site":                  {"none: it only groups its subcommands"},
	"spacecast site push":             {"site_push", "site_push_dry_run", "site_push_unchanged"}, // TestJSONGoldenStore
	"spacecast demo":                  {"demo.shape"},
	"spacecast record":                {"record_event.shape", "record_summary.shape"},
	"spacecast submit":                {"none: it only groups its subcommands"},
	"spacecast webhook":               {"none: it prints no result; --json makes its log lines on stderr JSON (log/slog), checked by TestWebhookE2E"},
	"spacecast submit record":         {"submit_record", "submit_record_existing", "submit_record_followups"}, // TestJobsJSONGolden, TestFollowupJobsJSONGolden
	"spacecast jobs":                  {"jobs"},                                                               // TestJobsJSONGolden
	"spacecast worker":                {"none: --json makes its log JSON lines (log/slog), no output of its own"},
	"spacecast jobs show":             {"jobs_show", "jobs_show_followup"}, // TestJobsJSONGolden, TestFollowupJobsJSONGolden
	"spacecast jobs cancel":           {"jobs_cancel"},                     // TestJobsJSONGolden
}

// TestJSONGoldenCoverage: every command in the tree has its --json golden files, or a reason
// for having none, in jsonCoverage.
func TestJSONGoldenCoverage(t *testing.T) {
	for _, path := range helpCommands() {
		name := strings.Join(append([]string{"spacecast"}, path...), " ")
		goldens, ok := jsonCoverage[name]
		if !ok {
			t.Errorf("%s: its --json output has no golden file: add it to TestJSONGolden and jsonCoverage (or say in jsonCoverage why it has none)", name)
			continue
		}
		for _, g := range goldens {
			if strings.HasPrefix(g, "none: ") {
				continue
			}
			if _, err := os.Stat(golden.Path("json/" + g)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	// And every golden file is some command's.
	listed := map[string]bool{}
	for _, goldens := range jsonCoverage {
		for _, g := range goldens {
			listed[filepath.Base(golden.Path("json/"+g))] = true
		}
	}
	files, err := filepath.Glob(filepath.Join(filepath.Dir(golden.Path("json/x")), "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is the golden file of no command in jsonCoverage: list it, or delete it", f)
		}
	}
}
