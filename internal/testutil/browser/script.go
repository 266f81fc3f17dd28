package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/spacecast/spacecast/internal/testutil"
	"github.com/spacecast/spacecast/internal/testutil/netns"
)

// Script runs a node program of the caller's that drives headless Chromium with the pinned
// playwright-core, for a test other than the speaker's (a web page's, say). The program loads
// playwright with require('playwright-core') (NODE_PATH names testdata/browser/node_modules; an ES
// module uses createRequire), launches the binary named by the environment variable
// SPACECAST_CHROMIUM and reads config, as JSON, from SPACECAST_SCRIPT.
//
// Script returns what the program wrote to stdout. An exit status other than 0, or a program
// still running after timeout (it is then killed, and Chromium with it), is an error that carries
// the program's stderr. Like Speaker, it skips the test when node, Chromium or the npm packages
// are missing, and fails it instead when the CI environment variable is set.
func Script(t testing.TB, script string, config any, timeout time.Duration) ([]byte, error) {
	t.Helper()
	node := testutil.Require(t, "node")
	chromium, err := findChromium(t, "")
	if err != nil {
		return nil, err
	}
	dir, err := findDir(t, "")
	if err != nil {
		return nil, err
	}
	if script, err = filepath.Abs(script); err != nil {
		return nil, fmt.Errorf("browser: script: %w", err)
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("browser: %s: config: %w", script, err)
	}
	cmd := exec.Command(node, script)
	cmd.Env = append(os.Environ(),
		"NODE_PATH="+filepath.Join(dir, "node_modules"),
		"SPACECAST_CHROMIUM="+chromium,
		"SPACECAST_SCRIPT="+string(cfg),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Tied: node dies with the test binary, and Chromium exits when its DevTools pipe closes.
	if err := netns.StartTied(cmd); err != nil {
		return nil, fmt.Errorf("browser: start node %s: %w", script, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		cmd.Process.Kill()
		<-done
		return stdout.Bytes(), fmt.Errorf("browser: %s still running after %v: killed; its stderr:\n%s", filepath.Base(script), timeout, stderr.Bytes())
	}
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("browser: %s: %w; its stderr:\n%s", filepath.Base(script), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}
