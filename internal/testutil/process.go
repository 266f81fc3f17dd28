package testutil

import (
	"os/exec"
	"testing"
)

// DeadPID is the process ID of a process that has exited: a lock's holder that died.
func DeadPID(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
