package sessionstore

import "time"

// SetLeaseTTL shortens the prune lock's lease for a test; the returned function restores it.
func SetLeaseTTL(d time.Duration) func() {
	old := LeaseTTL
	LeaseTTL = d
	return func() { LeaseTTL = old }
}

// NextName is nextName, for its table test.
var NextName = nextName
