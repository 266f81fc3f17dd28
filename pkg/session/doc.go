// Package session reads and writes spacecast's on-disk session: a folder holding manifest.json
// and one Ogg Opus file per track, the contract between the recorder and the studio.
//
// The format is specified in docs/session-format.md; this package is its reference implementation.
package session
