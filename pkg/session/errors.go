package session

import "errors"

var (
	// ErrNotSession is returned for a folder that holds no spacecast manifest.
	ErrNotSession = errors.New("not a spacecast session (no manifest.json)")
	// ErrVersion is returned for a manifest written by a newer spacecast.
	ErrVersion = errors.New("session format version not supported")
	// ErrInvalid is returned for a manifest whose content contradicts itself.
	ErrInvalid = errors.New("invalid session manifest")
)
