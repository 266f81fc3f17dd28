package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// DiskFull returns an empty directory on a tmpfs of sizeKB kibibytes (rounded up to whole pages),
// so writing more than that fails with ENOSPC. Inside Run the mount lives in the test's private
// mount namespace; outside it is mounted under t.TempDir. Either way it is unmounted when the test
// ends. Needs root; without it the test is skipped (fails under CI).
func DiskFull(t testing.TB, sizeKB int) string {
	t.Helper()
	if sizeKB <= 0 {
		t.Fatalf("netns: DiskFull size %d KiB is not positive", sizeKB)
	}
	dir := filepath.Join(t.TempDir(), "full")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("netns: %v", err)
	}
	opts := fmt.Sprintf("size=%dk,nr_inodes=1k,mode=0755", sizeKB)
	err := syscall.Mount("spacecast-full", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts)
	if errors.Is(err, syscall.EPERM) {
		Missing(t, "netns: cannot mount a tmpfs at %s (%v): run the tests as root (CAP_SYS_ADMIN)", dir, err)
	}
	if err != nil {
		t.Fatalf("netns: mount tmpfs (%s) at %s: %v", opts, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("netns: unmount %s: %v", dir, err)
		}
	})
	return dir
}
