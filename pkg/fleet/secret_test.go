package fleet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretRefResolve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SC_TEST_SECRET", "from-the-env")
	t.Setenv("SC_TEST_EMPTY", "")
	for _, c := range []struct {
		why, ref, want, err string
	}{
		{"an environment variable is read", "env:SC_TEST_SECRET", "from-the-env", ""},
		{"a file is read without its line break", "file:" + file, "from-a-file", ""},
		{"an empty variable is no secret", "env:SC_TEST_EMPTY", "", "unset or empty"},
		{"an empty file is no secret", "file:" + empty, "", "is empty"},
		{"a missing file says so", "file:" + dir + "/nope", "", "no such file"},
		{"text that is no reference is not repeated (it may be the secret)", "s3cr3t-value", "", "not a reference"},
		{"an empty reference", "", "", "is empty"},
	} {
		got, err := SecretRef(c.ref).Resolve()
		if got != c.want || (err == nil) != (c.err == "") || err != nil && (!strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "s3cr3t")) {
			t.Errorf("%s: Resolve(%q) = %q, %v; want %q, error with %q", c.why, c.ref, got, err, c.want, c.err)
		}
	}
}
