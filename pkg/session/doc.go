// Package session reads and writes spacecast's on-disk session: a folder holding manifest.json
// and one Ogg Opus file per track, the contract between the recorder and the studio.
//
// It also keeps sessions honest and bounded: Seal and Verify (SHA-256 digests of every file in
// the manifest, an optional ed25519 signature of the manifest), Export (a tar for a moderation
// request), and retention: DeleteAfter, Hold and Release (hold.json), and Prune.
//
// The format is specified in docs/session-format.md; this package is its reference implementation.
package session
