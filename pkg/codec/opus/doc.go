// Package opus decodes and encodes Opus (RFC 6716) with libopus through cgo, and maps Ogg Opus
// files (RFC 7845, via package ogg) onto audio.Stream with the timing rules that make a file play
// exactly as long, and exactly as aligned, as the reference decoders play it.
//
// Build with the tag nolibopusfile (gopkg.in/hraban/opus.v2 is used for its codec only).
package opus
