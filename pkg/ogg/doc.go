// Package ogg reads and writes Ogg Opus files: the Ogg page layer (RFC 3533) and the Opus
// mapping onto it (RFC 7845), with the packet-duration rules of RFC 6716 §3.1.
//
// It has no cgo and no decoder: it moves Opus packets and granule positions. The writer is built
// for live recording — packets arrive one at a time, pages are short when asked, and a crash
// loses at most the page being filled.
package ogg
