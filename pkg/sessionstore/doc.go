// Package sessionstore moves finished sessions between a folder and an S3-compatible bucket
// unchanged: Push uploads every file of a session under s3://BUCKET/PREFIX/NAME/ and the manifest
// last, so a session whose push stopped half-way has no manifest in the bucket and is never taken
// for a complete one; Pull downloads one into a temporary folder beside the destination, checks
// it against its seal, and renames it into place, so a failed pull leaves nothing behind.
//
// The layout in the bucket is the session folder's, file for file (docs/session-format.md).
package sessionstore
