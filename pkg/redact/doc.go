// Package redact removes a person, or a stretch of them, from a finalized session after the fact:
// their track files are dropped or their packets in the stretch replaced by Opus silence, the live
// mix is rebuilt from what remains, and the consent ledger records the redaction.
//
// It is its own package, not part of studio, because it is the one place that rewrites a session
// in place: studio only reads sessions and writes new files beside them. redact uses studio to
// rebuild the mix (session → studio → redact), and the CLI is its only caller.
package redact
