// Package spacecast holds what the whole module shares at its root: the bundled demo session,
// embedded so `spacecast demo` works from any folder.
package spacecast

import "embed"

// DemoSession is testdata/demo/session: three speakers, overlapping turns, one joining late and
// one leaving and coming back (made by testdata/demo/make.py).
//
//go:embed testdata/demo/session
var DemoSession embed.FS
