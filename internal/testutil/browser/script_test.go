package browser

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "check.cjs")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A script finds playwright-core and Chromium, gets its config, and its stdout comes back.
func TestScriptDrivesChromium(t *testing.T) {
	script := writeScript(t, `
const { chromium } = require('playwright-core');
(async () => {
  const cfg = JSON.parse(process.env.SPACECAST_SCRIPT);
  const browser = await chromium.launch({ executablePath: process.env.SPACECAST_CHROMIUM, chromiumSandbox: false, args: ['--no-sandbox'] });
  const page = await browser.newPage();
  await page.setContent('<title>' + cfg.title + '</title><p>' + cfg.n * 2 + '</p>');
  const out = { title: await page.title(), text: await page.textContent('p') };
  await browser.close();
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`)
	out, err := Script(t, script, map[string]any{"title": "spacecast", "n": 21}, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Title, Text string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Title != "spacecast" || got.Text != "42" {
		t.Errorf("the page said %+v, want title spacecast and text 42", got)
	}
}

// A script that fails, or runs too long, is an error that shows its stderr.
func TestScriptFailures(t *testing.T) {
	tests := []struct {
		name, body string
		timeout    time.Duration
		want       []string
	}{
		{"An exit status other than 0 is an error with the script's stderr.",
			`console.error('the page had no <audio>'); process.exit(3);`, 30 * time.Second,
			[]string{"exit status 3", "the page had no <audio>"}},
		{"A script that outlives its timeout is killed and named.",
			`console.error('waiting forever'); setTimeout(() => {}, 600000);`, time.Second,
			[]string{"still running after 1s: killed", "waiting forever"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			_, err := Script(t, writeScript(t, tc.body), nil, tc.timeout)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if d := time.Since(began); d > tc.timeout+10*time.Second {
				t.Errorf("Script returned after %v", d)
			}
		})
	}
}
