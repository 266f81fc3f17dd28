package bucketlock_test

import (
	"bytes"
	"testing"

	"github.com/spacecast/spacecast/pkg/bucketlock"
)

// FuzzParse: a lock object read from a bucket is refused or read, never a panic; what is read
// has an owner and a lease of at most a day, and what is refused names at most a short owner.
func FuzzParse(f *testing.F) {
	const format = "spacecast-site-push-lock"
	f.Add([]byte(`{"format":"spacecast-site-push-lock","owner":"x","host_id":"h","pid":12,"since":"2026-01-01T00:00:00Z","renewals":3,"lease_seconds":60}`))
	f.Add([]byte(`{"format":"spacecast-site-push-lock","owner":"","pid":-1}`))
	f.Add([]byte(`{"owner":"dead host pid 1"}`))
	f.Add(bytes.Repeat([]byte("["), 100))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := bucketlock.Parse(b, format)
		_ = h.String()
		if err != nil {
			if h.PID != 0 || len(h.Owner) > 100 {
				t.Fatalf("refused, yet read %+v", h)
			}
			return
		}
		if h.Format != format || h.Owner == "" || h.PID < 0 || h.LeaseSeconds < 0 || h.LeaseSeconds > 86400 {
			t.Fatalf("accepted %+v", h)
		}
	})
}
