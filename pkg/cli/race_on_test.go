//go:build race

package cli

// raceEnabled: this test binary runs under the race detector, and so does the spacecast binary
// the end-to-end tests build (spacecastBinary), so `go test -race` covers the recorder they run.
const raceEnabled = true
