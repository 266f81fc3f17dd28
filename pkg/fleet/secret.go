package fleet

import (
	"fmt"
	"os"
	"strings"
)

// maxSecretBytes bounds a secret read from a file.
const maxSecretBytes = 64 << 10

// Resolve reads the secret the reference names: the environment variable (env:NAME), or the file
// (file:/PATH) without its trailing line break. An unset or empty variable, an empty or unreadable
// file is an error that names the reference, never the secret (nor text that is no reference).
func (r SecretRef) Resolve() (string, error) {
	if r == "" {
		return "", fmt.Errorf("fleet: secret reference is empty")
	}
	if reason := r.check(); reason != "" {
		// Not repeated: what was given may be the secret itself.
		return "", fmt.Errorf("fleet: secret reference %s", reason)
	}
	kind, name, _ := strings.Cut(string(r), ":")
	var v string
	if kind == "env" {
		v = os.Getenv(name)
		if v == "" {
			return "", fmt.Errorf("fleet: secret %s: the environment variable %s is unset or empty", r, name)
		}
		return v, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("fleet: secret %s: %w", r, err)
	}
	if len(b) > maxSecretBytes {
		return "", fmt.Errorf("fleet: secret %s: the file is %d bytes, more than %d", r, len(b), maxSecretBytes)
	}
	v = strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("fleet: secret %s: the file is empty", r)
	}
	return v, nil
}

// Connected reports whether the queue's NATS connection (from Connect) is up now; a queue from
// Open has none and reports true.
func (q *Queue) Connected() bool {
	return q.nc == nil || q.nc.IsConnected()
}
