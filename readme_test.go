package spacecast

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// readmeCommands returns the README's first two shell blocks: the command that installs and
// runs the demo, and the test command.
func readmeCommands(t *testing.T) (demo, tests string) {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)\n```").FindAllStringSubmatch(string(b), 2)
	if len(blocks) < 2 {
		t.Fatalf("README.md: %d sh blocks, want the two commands first", len(blocks))
	}
	return blocks[0][1], blocks[1][1]
}

// TestReadmeCommands: the README starts with exactly the two commands of the brief, each one
// line; neither needs sudo (a fresh container is root without it); CI runs the second as it is.
func TestReadmeCommands(t *testing.T) {
	demo, tests := readmeCommands(t)
	for _, c := range []struct{ name, cmd, want string }{
		{"the first command runs the demo", demo, "go run ./cmd/spacecast demo"},
		{"the second command runs every test", tests, "go test -timeout 45m ./..."},
	} {
		if strings.Contains(c.cmd, "\n") {
			t.Errorf("%s: %q is more than one line", c.name, c.cmd)
		}
		if !strings.HasSuffix(c.cmd, c.want) {
			t.Errorf("%s: %q does not end in %q", c.name, c.cmd, c.want)
		}
		if regexp.MustCompile(`\bsudo\b`).MatchString(c.cmd) {
			t.Errorf("%s: %q calls sudo, which a root-only machine does not have (scripts/setup.sh decides)", c.name, c.cmd)
		}
	}
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "\n"+tests+"\n") {
		t.Errorf(".ci/run does not run the README's test command %q", tests)
	}
}

// TestSetupWithoutRoot: scripts/setup.sh, run by a user who is not root and has no sudo, says
// what it needs instead of failing with "sudo: command not found". (As root, and with sudo, it
// installs: CI and the README's first command run it that way.)
func TestSetupWithoutRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run the script as another user")
	}
	if _, err := exec.LookPath("sudo"); err == nil {
		t.Skip("sudo is installed: the unprivileged user would be asked for a password")
	}
	// as_root alone: the package list may be complete here, so nothing would need root. The
	// script is handed over as text: nobody may not be able to read the clone.
	script, err := os.ReadFile("scripts/setup.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", string(script)+"\nas_root true")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("as_root succeeded for nobody without sudo: %s", out)
	}
	if !strings.Contains(string(out), "needs root: run this script as root, or install sudo") {
		t.Errorf("as nobody without sudo: %v: %q, want it to say it needs root", err, out)
	}
}
